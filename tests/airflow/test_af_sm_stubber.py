"""SageMaker job lifecycles through the Airflow sensor (dag.test), DescribeHyperParameterTuningJob
answered by botocore's Stubber: InProgress -> Failed and InProgress -> Stopped fail the task."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from af_helpers import TEST_DAGS, load_dag, task_states

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sagemaker"))
from sm_fixtures import describe_answer  # noqa: E402

NAME = "nightly-xgb"
DESCRIBE = {"HyperParameterTuningJobName": NAME}


@pytest.fixture
def stubbed(fake_aws_credentials):
    from pipetune.backends.sagemaker.backend import SageMakerBackend

    client = boto3.client("sagemaker", region_name="us-east-1")
    stub = Stubber(client)
    registry = sys.modules.setdefault("pt_sm_stubber_registry", type(sys)("pt_sm_stubber_registry"))
    backends = registry.__dict__.setdefault("backends", {})
    with stub:
        backends["sagemaker"] = SageMakerBackend(client=client)
        yield stub
    backends.clear()


def _failure(home) -> str:
    return (home / "failures" / "wait.txt").read_text()


def _running():
    return describe_answer(NAME, "InProgress", counters={
        "Completed": 1, "InProgress": 2, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0})


def test_sensor_in_progress_then_failed_fails_with_failure_reason(pipetune_home, stubbed):
    stubbed.add_response("describe_hyper_parameter_tuning_job", _running(), DESCRIBE)
    stubbed.add_response("describe_hyper_parameter_tuning_job", _running(), DESCRIBE)
    stubbed.add_response("describe_hyper_parameter_tuning_job",
                         describe_answer(NAME, "Failed", reason="All training jobs failed: OOM in algo-1"),
                         DESCRIBE)
    dr = load_dag(TEST_DAGS / "pt_sm_stubber.py", "pt_sm_stubber").test()
    assert task_states(dr) == {"wait": "failed"}
    text = _failure(pipetune_home)
    assert text.startswith(f"AirflowFailException: tuning job '{NAME}'"), text  # no retry
    assert "All training jobs failed: OOM in algo-1" in text
    stubbed.assert_no_pending_responses()  # every poll was made, none more


def test_sensor_in_progress_then_stopped_is_not_success(pipetune_home, stubbed):
    stubbed.add_response("describe_hyper_parameter_tuning_job", _running(), DESCRIBE)
    stubbed.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "Stopping"), DESCRIBE)
    stubbed.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "Stopped"), DESCRIBE)
    dr = load_dag(TEST_DAGS / "pt_sm_stubber.py", "pt_sm_stubber").test()
    assert task_states(dr) == {"wait": "failed"}
    text = _failure(pipetune_home)
    assert text.startswith(f"AirflowFailException: tuning job '{NAME}' was stopped"), text
    stubbed.assert_no_pending_responses()
