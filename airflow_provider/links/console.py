"""Operator extra links to the cloud console page of a tuning job.

The launch operator pushes ``{"backend": ..., "url": ..., "label": ...}`` under the XCom
key :data:`XCOM_KEY`; the URL and the label come from the backend
(:meth:`~pipetune.backends.base.Backend.console_url`, ``console_label``), and each link
shows the URL when the job's backend has that label.

Example:
    >>> from pipetune.job import JobRef
    >>> console_url(JobRef(backend="sagemaker", name="churn-1a2b",
    ...     id="arn:aws:sagemaker:eu-west-1:123456789012:hyper-parameter-tuning-job/churn-1a2b"))
    'https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/hyper-tuning-jobs/churn-1a2b'
    >>> console_url(JobRef(backend="vertex", name="churn",
    ...     id="projects/p1/locations/us-central1/hyperparameterTuningJobs/42"))
    'https://console.cloud.google.com/vertex-ai/locations/us-central1/training/42/cpu?project=p1'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperatorLink

from pipetune.job import JobRef

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

XCOM_KEY = "pipetune_console"


def console_url(ref: JobRef) -> str | None:
    """The console page of the job, from its backend; ``None`` when it has none."""
    from pipetune.backends import backend_class

    return backend_class(ref.backend).console_url(ref)


def console_link(ref: JobRef) -> dict[str, Any]:
    """What the launch operator pushes under :data:`XCOM_KEY` for the links."""
    from pipetune.backends import backend_class

    cls = backend_class(ref.backend)
    return {"backend": ref.backend, "url": cls.console_url(ref), "label": cls.console_label}


class _ConsoleLink(BaseOperatorLink):
    name: ClassVar[str]

    def get_link(self, operator: "BaseOperator", *, ti_key: "TaskInstanceKey") -> str:
        from airflow.sdk.execution_time.xcom import XCom

        value = XCom.get_value(key=XCOM_KEY, ti_key=ti_key)
        if isinstance(value, dict) and value.get("label") == self.name:
            return value.get("url") or ""
        return ""


class SageMakerTuningJobLink(_ConsoleLink):
    """Link to the SageMaker console page of the hyperparameter tuning job."""

    name = "SageMaker Tuning Job"


class VertexTuningJobLink(_ConsoleLink):
    """Link to the Vertex AI console page of the hyperparameter tuning job."""

    name = "Vertex AI Tuning Job"
