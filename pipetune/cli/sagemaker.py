"""``pipetune iam-policy SPEC``: the least-privilege IAM policy a SageMaker spec needs."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from pipetune.cli._common import handle_errors, print_json


class PolicyFor(str, Enum):
    """Whose IAM policy ``iam-policy --for`` prints: the caller who launches the job, or the
    execution role its training jobs run as."""

    caller = "caller"
    execution_role = "execution-role"


def register(app: typer.Typer) -> None:
    """Add the ``iam-policy`` command to ``app``."""
    @app.command("iam-policy")
    @handle_errors
    def iam_policy(
        spec: Path = typer.Argument(..., help="the tuning spec (YAML or JSON) with a sagemaker: section"),
        for_: PolicyFor = typer.Option(PolicyFor.caller, "--for",
                                       help="caller: who launches the job; execution-role: the "
                                       "role the training jobs run as"),
        name: str = typer.Option(None, "--name", help="job name the policy is scoped to "
                                 "(default: the spec's name)"),
    ) -> None:
        """Print the IAM policy (JSON) needed for SPEC on SageMaker, scoped to the job name.

        Offline, except for a KMS key given as an alias: a policy must name the key's ARN,
        so the alias is resolved with kms:DescribeKey (AWS credentials needed)."""
        from pipetune.backends.sagemaker.iam import caller_policy, execution_role_policy, kms_aliases
        from pipetune.spec import load_spec

        loaded = load_spec(spec)
        kms = _kms_client(loaded) if kms_aliases(loaded) else None
        if for_ is PolicyFor.caller:
            print_json(caller_policy(loaded, name, kms_client=kms))
        else:
            print_json(execution_role_policy(loaded, kms_client=kms))


def _kms_client(spec):  # type: ignore[no-untyped-def]
    """A KMS client for the spec's region, or None when boto3 is missing (the policy
    functions then say that the key ARN is needed)."""
    from pipetune.backends.sagemaker.checks import validated_options

    try:
        import boto3
    except ImportError:
        return None
    return boto3.client("kms", region_name=validated_options(spec).region)
