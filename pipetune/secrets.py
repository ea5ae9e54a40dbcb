"""Secret values of ``trial.env``: given to the trial, never stored with the job.

A variable of ``trial.env`` is secret when its name contains ``TOKEN``, ``SECRET``,
``PASSWORD``, ``PASSWD``, ``KEY`` or ``CREDENTIAL`` (any case), or when the spec lists it in
``trial.secret_env``. Its value never reaches the job's stored spec (``job.json``, the
Optuna study's attributes in the journal file or the database, a cloud job handle), nor a
log or report: there it is replaced by :data:`REDACTED`, and the job's fingerprint is
computed on that form (rotating a token does not make another job).

Where a trial gets the value at run time:

- the local engine keeps it in ``secrets.json`` in the job's folder, readable by the owner
  only (file 0600, folder 0700) and outside the study: a detached or resumed coordinator
  reads it from there;
- a worker on another machine (``pipetune worker JOB --storage URL``) has only the study,
  so the trial inherits the variable from the worker's own environment: set it there (a
  secret of the orchestrator, e.g. an Airflow connection or a Kubernetes secret).

Example:
    >>> stored = redact_spec_dict({"trial": {"env": {"API_TOKEN": "t0k", "MODE": "fast"},
    ...                                       "secret_env": ["MODE"]}})
    >>> stored["trial"]["env"]
    {'API_TOKEN': '<redacted>', 'MODE': '<redacted>'}
    >>> is_secret_name("db_password"), is_secret_name("BATCH")
    (True, False)
"""

from __future__ import annotations

import copy
import re
from typing import Any, Iterable, Mapping

REDACTED = "<redacted>"
_SECRET_NAME_RE = re.compile(r"(?i)TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL")


def is_secret_name(name: str, listed: Iterable[str] = ()) -> bool:
    """Whether the variable ``name`` holds a secret (by its name, or listed explicitly)."""
    return name in set(listed) or bool(_SECRET_NAME_RE.search(name))


def _trial(body: Mapping[str, Any]) -> Mapping[str, Any]:
    trial = body.get("trial")
    return trial if isinstance(trial, Mapping) else {}


def secret_values(body: Mapping[str, Any]) -> dict[str, str]:
    """The secret variables of a spec's ``trial.env`` (a spec dict), with their values."""
    trial = _trial(body)
    listed = trial.get("secret_env") or []
    return {k: v for k, v in (trial.get("env") or {}).items()
            if is_secret_name(k, listed) and v != REDACTED}


def redact_spec_dict(body: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a spec dict fit for storage: secret ``trial.env`` values replaced."""
    out = copy.deepcopy(dict(body))
    trial = out.get("trial")
    if isinstance(trial, dict) and isinstance(trial.get("env"), dict):
        listed = trial.get("secret_env") or []
        trial["env"] = {k: (REDACTED if is_secret_name(k, listed) else v)
                        for k, v in trial["env"].items()}
    return out


def restore_spec_dict(body: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    """A stored spec dict with its secrets put back from ``secrets``. A secret not there is
    left out of ``trial.env``, so the trial inherits it from the process environment."""
    out = copy.deepcopy(dict(body))
    trial = out.get("trial")
    if isinstance(trial, dict) and isinstance(trial.get("env"), dict):
        env = {}
        for k, v in trial["env"].items():
            if v != REDACTED:
                env[k] = v
            elif k in secrets:
                env[k] = secrets[k]
        trial["env"] = env
    return out


__all__ = ["REDACTED", "is_secret_name", "redact_spec_dict", "restore_spec_dict",
           "secret_values"]


def described_secrets(spec: Any, service: str, store: str) -> list[tuple[str, str]]:
    """Problems, as ``(field, message)``, for secret ``trial.env`` variables of a spec whose
    backend would put them in the job's description (SageMaker's ``Environment``, a Vertex
    container's env), where anyone allowed to describe the job reads them.

    Example:
        >>> from pipetune.spec import load_spec
        >>> spec = load_spec({"parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
        ...                   "objectives": [{"metric": "m", "goal": "minimize"}],
        ...                   "metrics": [{"name": "m", "regex": "m=([0-9.]+)"}],
        ...                   "trial": {"command": ["train"], "env": {"API_TOKEN": "t"}}})
        >>> [field for field, _ in described_secrets(spec, "SageMaker", "AWS Secrets Manager")]
        ['trial.env.API_TOKEN']
    """
    listed = spec.trial.secret_env or []
    return [("trial.secret_env" if name in listed else f"trial.env.{name}",
             f"{name!r} holds a secret, and {service} would show its value to anyone who can "
             f"describe the job: read it in the script from {store} instead")
            for name in spec.trial.env if is_secret_name(name, listed)]
