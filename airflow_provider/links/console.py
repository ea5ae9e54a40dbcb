"""Operator extra links to the cloud console page of a tuning job.

The launch operator pushes ``{"backend": ..., "url": ...}`` under the XCom key
:data:`XCOM_KEY`; each link shows the URL when the job ran on its backend.

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

import re
from typing import TYPE_CHECKING, ClassVar

from airflow.sdk import BaseOperatorLink

from pipetune.job import JobRef

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

XCOM_KEY = "pipetune_console"

SAGEMAKER_URL = ("https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
                 "#/hyper-tuning-jobs/{name}")
VERTEX_URL = ("https://console.cloud.google.com/vertex-ai/locations/{location}/training/"
              "{job_id}/cpu?project={project}")
_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):\d*:hyper-parameter-tuning-job/(?P<name>.+)$")
_VERTEX = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/"
                     r"hyperparameterTuningJobs/(?P<job_id>[^/]+)$")


def _get(ref: JobRef, key: str) -> str | None:
    value = ref.extra.get(key)
    if value is None and ref.model_extra:
        value = ref.model_extra.get(key)
    return str(value) if value else None


def console_url(ref: JobRef) -> str | None:
    """The console page of a SageMaker or Vertex job; ``None`` for the local backend."""
    if ref.backend == "sagemaker":
        m = _ARN.match(ref.id) or _ARN.match(_get(ref, "arn") or "")
        region = (m and m["region"]) or _get(ref, "region")
        if not region:
            return None
        return SAGEMAKER_URL.format(region=region, name=(m and m["name"]) or ref.name)
    if ref.backend == "vertex":
        m = _VERTEX.match(ref.id) or _VERTEX.match(_get(ref, "resource_name") or "")
        if m:
            return VERTEX_URL.format(**m.groupdict())
        project, location = _get(ref, "project"), _get(ref, "location")
        if project and location:
            return VERTEX_URL.format(project=project, location=location, job_id=ref.id)
    return None


class _ConsoleLink(BaseOperatorLink):
    name: ClassVar[str]
    backend: ClassVar[str]

    def get_link(self, operator: "BaseOperator", *, ti_key: "TaskInstanceKey") -> str:
        from airflow.sdk.execution_time.xcom import XCom

        value = XCom.get_value(key=XCOM_KEY, ti_key=ti_key)
        if isinstance(value, dict) and value.get("backend") == self.backend:
            return value.get("url") or ""
        return ""


class SageMakerTuningJobLink(_ConsoleLink):
    """Link to the SageMaker console page of the hyperparameter tuning job."""

    name = "SageMaker Tuning Job"
    backend = "sagemaker"


class VertexTuningJobLink(_ConsoleLink):
    """Link to the Vertex AI console page of the hyperparameter tuning job."""

    name = "Vertex AI Tuning Job"
    backend = "vertex"
