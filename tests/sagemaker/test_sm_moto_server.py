"""Create, describe, list and the async (aiobotocore) status path against moto's server
on loopback: the real boto3/aiobotocore stacks, HTTP included."""

from __future__ import annotations

import asyncio

import boto3
import pytest

from pipetune.backends.sagemaker.backend import SageMakerBackend
from pipetune.errors import JobConflict, JobNotFound
from pipetune.job import JobRef, JobState
from pipetune.spec import load_spec


@pytest.fixture
def backend(moto_endpoint):
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                            region_name="us-east-1")
    return SageMakerBackend(session=session, endpoint_url=moto_endpoint)


def test_launch_describe_list_and_attach(backend, minimal, moto_endpoint):
    spec = load_spec(minimal)
    ref = backend.launch(spec, "moto_launch")
    assert ref.id.startswith("moto-launch-") and len(ref.id) <= 32
    client = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_endpoint)
    names = [j["HyperParameterTuningJobName"]
             for j in client.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]]
    assert ref.id in names
    stored = client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=ref.id)
    assert stored["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 12
    assert stored["TrainingJobDefinition"]["RoleArn"] == minimal["sagemaker"]["role_arn"]
    # a retried pipeline step attaches to the same job
    again = SageMakerBackend(session=backend._session, endpoint_url=moto_endpoint).launch(spec, "moto_launch")
    assert again.id == ref.id and again.extra["arn"] == ref.extra["arn"]
    assert len(client.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]) == len(names)


def test_relaunch_with_changed_spec_conflicts(backend, minimal):
    backend.launch(load_spec(minimal), "moto-conflict")
    minimal["budget"]["max_parallel"] = 1
    with pytest.raises(JobConflict):
        backend.launch(load_spec(minimal), "moto-conflict")


def test_status_sync_and_async_agree(backend, minimal):
    ref = backend.launch(load_spec(minimal), "moto-status")
    sync = backend.status(ref)
    # from JSON, as a deferrable trigger gets it
    async_ = asyncio.run(backend.astatus(JobRef.from_json(ref.to_json())))
    assert sync.state == async_.state == JobState.COMPLETED  # moto completes at once
    assert async_.best_value == sync.best_value
    assert async_.ref.id == ref.id


def test_async_status_of_missing_job(backend):
    with pytest.raises(JobNotFound):
        asyncio.run(backend.astatus(backend.ref("never-launched", region="us-east-1")))
