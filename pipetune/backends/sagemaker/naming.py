"""Deterministic SageMaker job names.

A tuning job name must match ``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}`` (at most 32 characters).
pipetune derives it from the user's name so that a retried pipeline step finds the same
job again: a valid name is kept as is; any other name is cleaned (runs of other characters
become one ``-``) and cut, and a short hash of the *original* name is appended, so that
``a_b`` and ``a.b`` never collide.

Example:
    >>> tuning_job_name("nightly-xgb")
    'nightly-xgb'
    >>> tuning_job_name("nightly_xgb.v2")
    'nightly-xgb-v2-f72709'
    >>> tuning_job_name("a-very-long-name-for-the-nightly-retraining-of-the-model")
    'a-very-long-name-for-the-71b7ce'
"""

from __future__ import annotations

import hashlib
import re

from pipetune.errors import SpecError

MAX_LEN = 32
VALID_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
_HASH_LEN = 6
MAX_TRAINING_LEN = 63  # CreateTrainingJob: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
TRAINING_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_KEY_HASH_LEN = 8


def is_valid(name: str) -> bool:
    """True when SageMaker accepts ``name`` as a tuning job name unchanged."""
    return bool(VALID_RE.match(name))


def _hash(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:_HASH_LEN]


def tuning_job_name(name: str, *, field: str = "name") -> str:
    """The tuning job name for the user's ``name`` (deterministic, at most 32 characters)."""
    if is_valid(name):
        return name
    cleaned = re.sub(r"[^a-zA-Z0-9]+", "-", name).strip("-")
    if not cleaned:
        raise SpecError(
            f"{name!r} has no letter or digit to build a SageMaker job name from; "
            "use letters, digits and '-'", field=field)
    suffix = "-" + _hash(name)
    return cleaned[: MAX_LEN - len(suffix)].rstrip("-") + suffix


def verification_job_name(tuning_job: str, rank: int, key: str) -> str:
    """The training job name verifying the proxy's ``rank``-th configuration.

    ``<tuning job>-v<rank>-<8 hex of key>``, where ``key`` says what runs (the spec's
    fingerprint and the hyperparameters): the same run retried gets the same name, and
    another configuration or spec another one. AMT names its own training jobs
    ``<tuning job>-<3 digits>-<8 hex>``, so the two never collide.

    Example:
        >>> verification_job_name("nightly-xgb", 1, "k")
        'nightly-xgb-v1-8254c329'
    """
    if rank < 1:
        raise ValueError(f"rank starts at 1, got {rank}")
    suffix = f"-v{rank}-{_hash_n(key, _KEY_HASH_LEN)}"
    stem = re.sub(r"[^a-zA-Z0-9]+", "-", tuning_job).strip("-") or "pipetune"
    name = stem[: MAX_TRAINING_LEN - len(suffix)].rstrip("-") + suffix
    assert TRAINING_RE.match(name), name
    return name


def _hash_n(text: str, n: int) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def check_exact_name(name: str, field: str) -> None:
    """Refuse an explicitly given job name SageMaker would refuse."""
    if len(name) > MAX_LEN:
        raise SpecError(f"{name!r} has {len(name)} characters; SageMaker allows at most "
                        f"{MAX_LEN}", field=field)
    if not is_valid(name):
        raise SpecError(f"{name!r} is not a valid SageMaker job name: use letters, digits and "
                        "'-', starting and ending with a letter or digit", field=field)


def arn_prefix_name(name: str) -> str:
    """SageMaker lower-cases resource names inside ARNs; IAM matches ARNs case-sensitively."""
    return name.lower()
