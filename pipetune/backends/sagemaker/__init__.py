"""The SageMaker AMT backend. ``SageMakerBackend`` needs ``pipetune[aws]`` (boto3); the
spec translation, checks, IAM policy and cost helpers need nothing beyond the core."""

from __future__ import annotations

from typing import Any

__all__ = ["SageMakerBackend"]


def __getattr__(name: str) -> Any:
    # Lazy, so `pipetune iam-policy` and `pipetune lint` work without boto3 installed.
    if name == "SageMakerBackend":
        from pipetune.backends.sagemaker.backend import SageMakerBackend

        return SageMakerBackend
    raise AttributeError(name)
