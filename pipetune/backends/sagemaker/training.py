"""One SageMaker training job with fixed hyperparameters: the tuning job's training
definition, run alone (how the proxy workflow verifies its candidates on the full data).

The ``CreateTrainingJob`` request is the tuning job's ``TrainingJobDefinition``
(:func:`pipetune.backends.sagemaker.translate.training_definition`: image, role, channels,
metric definitions, resources, stopping condition, VPC, KMS, spot, ``raw_training``...)
without the fields only a tuning job has, with ``HyperParameters`` = the configuration's
values plus the static ones, and pipetune's tags. Nothing else: the caller needs
``sagemaker:CreateTrainingJob`` / ``DescribeTrainingJob`` (and ``AddTags``) on its
training jobs, and passes the same role the tuning job passes.

Runs are idempotent by name: :func:`run` describes first and attaches to a training job
that already exists (also after losing a create race, ``ResourceInUse``), provided it has
the same hyperparameters and image; it never creates a second one.

Example (no AWS call):
    >>> from pipetune.spec import load_spec
    >>> spec = load_spec({"backend": "sagemaker",
    ...     "parameters": [{"name": "eta", "type": "continuous", "min": 0.01, "max": 0.3}],
    ...     "static": {"data": "s3://b/full.csv"},
    ...     "objectives": [{"metric": "auc", "goal": "maximize"}],
    ...     "metrics": [{"name": "auc", "regex": "auc=([0-9.]+)"}],
    ...     "trial": {"command": ["python", "train.py"]},
    ...     "sagemaker": {"role_arn": "arn:aws:iam::123456789012:role/R", "image": "img",
    ...                   "output_path": "s3://b/out"}})
    >>> body = request(spec, check(spec), {"eta": 0.1}, "nightly-v1-0123abcd")
    >>> body["HyperParameters"]
    {'eta': '0.1', 'data': 's3://b/full.csv'}
    >>> "StaticHyperParameters" in body, body["AlgorithmSpecification"]["TrainingImage"]
    (False, 'img')
"""

from __future__ import annotations

import logging
from typing import Any

from pipetune.backends.base import TrainingOutcome
from pipetune.backends.sagemaker import translate
from pipetune.backends.sagemaker.checks import validated_options
from pipetune.backends.sagemaker.options import SageMakerOptions
from pipetune.backends.sagemaker.polling import NOT_FOUND, error_code, polled
from pipetune.errors import JobConflict, JobNotFound, SpecError
from pipetune.spec import TuningSpec
from pipetune.trials.contracts import render_value

log = logging.getLogger(__name__)

#: fields of a HyperParameterTrainingJobDefinition that CreateTrainingJob does not have
DEFINITION_ONLY = ("DefinitionName", "TuningObjective", "HyperParameterRanges",
                   "StaticHyperParameters", "HyperParameterTuningResourceConfig")
TERMINAL = {"Completed", "Failed", "Stopped"}
MAX_HYPERPARAMETERS = 100  # CreateTrainingJob.HyperParameters
MISSING_AFTER_CREATE = 5  # describes answering "not found" right after a create, tolerated


def check(spec: TuningSpec) -> SageMakerOptions:
    """The spec's options, when one training job can run it; SpecError naming the field
    otherwise. No AWS call."""
    opts = validated_options(spec)
    problems: list[tuple[str, str]] = []
    if opts.definitions:
        problems.append(("sagemaker.definitions", "verification as a single SageMaker training "
                         "job needs one training definition; this spec has "
                         f"{len(opts.definitions) + 1}. Drop sagemaker.definitions to verify "
                         "on SageMaker"))
    static = translate.training_definition(spec, opts).get("StaticHyperParameters") or {}
    count = len(set(static) | {p.name for p in spec.parameters})
    if count > MAX_HYPERPARAMETERS:
        problems.append(("static", f"a SageMaker training job takes at most {MAX_HYPERPARAMETERS} "
                         f"hyperparameters; tuned plus static (plus script mode's two) make "
                         f"{count}"))
    if problems:
        raise SpecError(problems)
    return opts


def hyperparameters(definition: dict[str, Any], params: dict[str, Any]) -> dict[str, str]:
    """The configuration's values, rendered as AMT renders them, plus the definition's static
    hyperparameters (static wins, as for a local trial)."""
    static = definition.get("StaticHyperParameters") or {}
    return {**{k: render_value(v) for k, v in params.items()}, **static}


def request(spec: TuningSpec, opts: SageMakerOptions, params: dict[str, Any], job_name: str,
            user_name: str | None = None) -> dict[str, Any]:
    """The ``CreateTrainingJob`` keyword arguments (run :func:`check` first)."""
    definition = translate.training_definition(spec, opts)
    body = {k: v for k, v in definition.items() if k not in DEFINITION_ONLY}
    return {"TrainingJobName": job_name, "HyperParameters": hyperparameters(definition, params),
            **body, "Tags": translate.tags(spec, opts, user_name or job_name)}


def not_found(exc: Exception) -> bool:
    """Whether ``exc`` is SageMaker's answer for a training job that does not exist (a
    not-found error code, or a ``ValidationException`` saying "not found")."""
    # DescribeTrainingJob answers a missing job with ValidationException "Requested resource
    # not found." (moto: "Could not find training job ...").
    message = str(exc).lower()
    return error_code(exc) in NOT_FOUND or (
        error_code(exc) == "ValidationException" and
        ("not found" in message or "could not find" in message))


def describe_or_none(client: Any, name: str) -> dict[str, Any] | None:
    """``DescribeTrainingJob`` of training job ``name``; None when there is no such job.

    Raises:
        Exception: any other error of the client, unchanged.
    """
    try:
        return client.describe_training_job(TrainingJobName=name)
    except Exception as exc:
        if not_found(exc):
            return None
        raise


def _check_same(desc: dict[str, Any], body: dict[str, Any]) -> None:
    """An existing job of that name must be this very run (same hyperparameters and image)."""
    name = body["TrainingJobName"]
    theirs = desc.get("HyperParameters") or {}
    if theirs != body["HyperParameters"]:
        changed = sorted(k for k in set(theirs) | set(body["HyperParameters"])
                         if theirs.get(k) != body["HyperParameters"].get(k))
        raise JobConflict(f"a SageMaker training job named {name!r} exists with other "
                          f"hyperparameters ({changed}); it was not started by this run")
    image = (desc.get("AlgorithmSpecification") or {}).get("TrainingImage")
    wanted = body["AlgorithmSpecification"].get("TrainingImage")
    if image is not None and wanted is not None and image != wanted:
        raise JobConflict(f"a SageMaker training job named {name!r} exists with another image "
                          f"({image!r}, this run {wanted!r})")


def outcome(spec: TuningSpec, desc: dict[str, Any]) -> TrainingOutcome:
    """A finished ``DescribeTrainingJob`` answer as a :class:`TrainingOutcome`: the objective
    from ``FinalMetricDataList``, the state, the reason, the training seconds."""
    status = desc["TrainingJobStatus"]
    metric = spec.primary.metric
    metrics = {m["MetricName"]: float(m["Value"]) for m in desc.get("FinalMetricDataList") or []
               if m.get("MetricName") is not None and m.get("Value") is not None}
    reason = desc.get("FailureReason")
    if status == "Completed":
        if metric in metrics:
            state = "complete"
        else:
            state = "failed"
            reason = (f"the training job completed without a final value for {metric!r} "
                      f"(FinalMetricDataList has {sorted(metrics) or 'nothing'}); check the "
                      "metric's regex against the training log")
    elif status == "Stopped":
        state, reason = "stopped", reason or "the training job was stopped"
    else:
        state, reason = "failed", reason or f"the training job ended {status}"
    duration = desc.get("TrainingTimeInSeconds")
    if duration is None:
        start, end = desc.get("TrainingStartTime"), desc.get("TrainingEndTime")
        duration = (end - start).total_seconds() if start and end else None
    return TrainingOutcome(state=state, metrics=metrics, reason=reason,
                           duration=float(duration) if duration is not None else None,
                           where=desc.get("TrainingJobArn"))


def run(client: Any, spec: TuningSpec, body: dict[str, Any], *, poll_seconds: float = 30.0,
        timeout: float | None = None) -> TrainingOutcome:
    """Create the training job ``body`` describes (or attach to it) and wait for its end."""
    name = body["TrainingJobName"]
    desc = describe_or_none(client, name)
    if desc is None:
        try:
            client.create_training_job(**body)
            log.info("started SageMaker training job %s", name)
        except Exception as exc:
            if error_code(exc) != "ResourceInUse":
                raise
            desc = describe_or_none(client, name)  # lost a race: attach
            if desc is None:
                raise
    if desc is not None:
        _check_same(desc, body)
        log.info("attached to SageMaker training job %s (%s)", name, desc["TrainingJobStatus"])
        if desc["TrainingJobStatus"] in TERMINAL:
            return outcome(spec, desc)
    missing = 0
    for desc in polled(lambda: describe_or_none(client, name), poll_seconds=poll_seconds,
                       timeout=timeout, still=lambda d: f"training job {name!r} still "
                       f"{(d or {}).get('TrainingJobStatus', 'not visible')}"):
        if desc is None:  # not visible yet right after the create
            missing += 1
            if missing > MISSING_AFTER_CREATE:
                raise JobNotFound(f"SageMaker does not know the training job {name!r} it "
                                  "accepted")
            continue
        if desc["TrainingJobStatus"] in TERMINAL:
            return outcome(spec, desc)
    raise AssertionError("unreachable: polled() never ends by itself")
