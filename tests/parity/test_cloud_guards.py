"""Guards on every poll of a cloud job, whoever polls: the blocking wait, the Airflow
sensor's poke and the deferrable trigger stop a SageMaker job whose cost estimate passes
``budget.max_cost_usd`` (or that runs past ``budget.timeout``), and report it stopped with
the same reason. SageMaker is answered by botocore's Stubber (requests and answers checked
against the service model); the sensor, trigger, hook, runtime and backend are pipetune's."""

from __future__ import annotations

import asyncio
import copy
import sys

import boto3
import pytest
from botocore.stub import Stubber
from parity_helpers import REPO

sys.path.insert(0, str(REPO / "tests" / "sagemaker"))
from sm_fixtures import MINIMAL, T0, describe_answer, summary  # noqa: E402

NAME = "nightly-xgb"
DESCRIBE = {"HyperParameterTuningJobName": NAME}
COST_REASON = ("stopped by pipetune: estimated cost $2.0000 passed budget.max_cost_usd $1 "
               "(3600.0 instance-seconds, billable instance-hours of ml.m5.large)")


def _training_job(name: str, seconds: int) -> dict:
    return {"TrainingJobName": name,
            "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
            "ModelArtifacts": {"S3ModelArtifacts": f"s3://ml-bucket/out/{name}/model.tar.gz"},
            "TrainingJobStatus": "Completed", "SecondaryStatus": "Completed",
            "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1,
                               "VolumeSizeInGB": 30},
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
            "CreationTime": T0, "BillableTimeInSeconds": seconds}


@pytest.fixture
def sagemaker(fake_aws_credentials):
    """(backend, stubber, handle of a running job with max_cost_usd $1 at $2 an hour)."""
    from pipetune import load_spec
    from pipetune.backends.sagemaker import SageMakerBackend

    client = boto3.client("sagemaker", region_name="us-east-1")
    stub = Stubber(client)
    body = copy.deepcopy(MINIMAL)
    body["budget"]["max_cost_usd"] = 1.0
    body["sagemaker"]["prices"] = {"ml.m5.large": 2.0}
    with stub:
        be = SageMakerBackend(client=client)
        yield be, stub, be.ref(NAME, region="us-east-1", spec=load_spec(body))
        stub.assert_no_pending_responses()  # every call was made: the job was stopped


def _over_budget(stub) -> None:
    """One poll: the job runs, one training job billed an hour ($2), then the stop."""
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "InProgress"),
                      DESCRIBE)
    one = summary(f"{NAME}-001-aa", "Completed", {"eta": "0.05", "max_depth": "4"}, 0.9)
    stub.add_response("list_training_jobs_for_hyper_parameter_tuning_job",
                      {"TrainingJobSummaries": [one]})
    stub.add_response("describe_training_job", _training_job(one["TrainingJobName"], 3600))
    stub.add_response("stop_hyper_parameter_tuning_job", {}, DESCRIBE)


def _stubbed_hook(be):
    from pipetune.airflow.hooks.pipetune import PipetuneHook

    class StubbedHook(PipetuneHook):
        def get_conn(self):
            return be

    return StubbedHook(backend="sagemaker")


def test_the_deferrable_trigger_stops_an_over_budget_job(sagemaker):
    from pipetune.airflow.triggers.tuning import PipetuneJobTrigger

    be, stub, ref = sagemaker
    _over_budget(stub)

    class Trigger(PipetuneJobTrigger):
        def _hook(self):
            return _stubbed_hook(be)

    async def first_event():
        async for event in Trigger(job=ref.model_dump(mode="json"), poll_interval=0.01).run():
            return event.payload

    event = asyncio.run(first_event())
    assert (event["status"], event["reason"]) == ("stopped", COST_REASON)


def test_the_sensor_poke_stops_an_over_budget_job(sagemaker):
    from pipetune.airflow.sensors.tuning import PipetuneTuningSensor
    from pipetune.errors import JobStopped

    be, stub, ref = sagemaker
    _over_budget(stub)

    class Sensor(PipetuneTuningSensor):
        def make_hook(self, backend):
            return _stubbed_hook(be)

    sensor = Sensor(task_id="wait", job=ref.model_dump(mode="json"), poll_interval=0.01)
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException) as caught:  # a retry cannot help a stopped job
        sensor.poke({})
    assert COST_REASON in str(caught.value)


def test_the_blocking_wait_stops_an_over_budget_job(sagemaker):
    from pipetune import runtime
    from pipetune.errors import JobStopped

    be, stub, ref = sagemaker
    _over_budget(stub)
    with pytest.raises(JobStopped) as caught:
        runtime.wait(ref, using=be, poll_seconds=0.01)
    assert caught.value.reason == COST_REASON


def test_a_guard_the_service_enforces_is_left_to_it(sagemaker):
    from pipetune import load_spec, runtime

    be, stub, ref = sagemaker
    body = copy.deepcopy(MINIMAL)
    body["budget"]["timeout"] = 600  # MaxRuntimeInSeconds: SageMaker ends the job itself
    ref = be.ref(NAME, region="us-east-1", spec=load_spec(body))
    assert "timeout" in be.enforced_guards
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "InProgress"),
                      DESCRIBE)  # created at T0, long ago: past 600 s, still no stop call
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "Completed"),
                      DESCRIBE)
    assert runtime.wait(ref, using=be, poll_seconds=0.01).state.value == "completed"


def test_more_failures_than_max_failed_fail_the_job_as_on_the_local_engine(sagemaker):
    from pipetune import load_spec, runtime
    from pipetune.errors import JobFailed

    be, stub, ref = sagemaker
    body = copy.deepcopy(MINIMAL)
    body["budget"]["max_failed"] = 1  # AMT has no such rule: the poller applies it
    ref = be.ref(NAME, region="us-east-1", spec=load_spec(body))
    failing = describe_answer(NAME, "InProgress", counters={
        "Completed": 0, "InProgress": 1, "RetryableError": 0, "NonRetryableError": 2, "Stopped": 0})
    stub.add_response("describe_hyper_parameter_tuning_job", failing, DESCRIBE)
    jobs = [summary(f"{NAME}-00{i}-aa", "Failed", {"eta": "0.05", "max_depth": str(i + 2)}, None,
                    reason=f"AlgorithmError: boom {i}") for i in (1, 2)]
    stub.add_response("list_training_jobs_for_hyper_parameter_tuning_job",
                      {"TrainingJobSummaries": jobs})
    stub.add_response("stop_hyper_parameter_tuning_job", {}, DESCRIBE)
    with pytest.raises(JobFailed) as caught:
        runtime.wait(ref, using=be, poll_seconds=0.01)
    assert caught.value.reason == ("2 trials failed, more than max_failed=1; last failure: "
                                   "AlgorithmError: boom 2")


def test_a_job_within_its_guards_is_left_alone(sagemaker):
    from pipetune import runtime

    be, stub, ref = sagemaker
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "InProgress"),
                      DESCRIBE)
    one = summary(f"{NAME}-001-aa", "Completed", {"eta": "0.05", "max_depth": "4"}, 0.9)
    stub.add_response("list_training_jobs_for_hyper_parameter_tuning_job",
                      {"TrainingJobSummaries": [one]})
    stub.add_response("describe_training_job", _training_job(one["TrainingJobName"], 600))
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "Completed"),
                      DESCRIBE)  # $0.33 spent: not stopped, and it completes
    assert runtime.wait(ref, using=be, poll_seconds=0.01).state.value == "completed"
