"""SageMaker through an Airflow `aws` connection against moto's server on loopback:
the real boto3 (launch) and aiobotocore (deferrable trigger) stacks, HTTP included."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3
import pytest

from af_helpers import TEST_DAGS, load_dag, task_states, xcom


@pytest.fixture
def aws_conn(moto_endpoint, monkeypatch):
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_AWS_MOTO", json.dumps({
        "conn_type": "aws", "login": "testing", "password": "moto-secret-key",
        "extra": {"region_name": "us-east-1", "endpoint_url": moto_endpoint},
    }))
    return boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _jobs(client):
    return [j["HyperParameterTuningJobName"] for j in
            client.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]]


def test_sagemaker_launch_deferrable_wait_and_clear_attaches(pipetune_home, aws_conn, caplog):
    dag = load_dag(TEST_DAGS / "pt_sagemaker.py", "pt_sagemaker")
    when = datetime(2026, 4, 1, tzinfo=timezone.utc)
    dr = dag.test(logical_date=when, run_after=when)
    assert task_states(dr) == {"launch": "success"}
    handle = xcom(dr, "launch")
    assert handle["backend"] == "sagemaker" and handle["extra"]["region"] == "us-east-1"
    assert _jobs(aws_conn) == [handle["id"]]
    desc = aws_conn.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=handle["id"])
    static = desc["TrainingJobDefinition"]["StaticHyperParameters"]
    assert static.get("train_data") == "s3://ml-bucket/train"  # the rendered template
    link = xcom(dr, "launch", key="pipetune_console")
    assert link["url"] == ("https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1"
                           f"#/hyper-tuning-jobs/{handle['id']}")
    # a cleared task attaches: still one job
    dr2 = dag.test(logical_date=when, run_after=when)
    assert task_states(dr2) == {"launch": "success"}
    assert _jobs(aws_conn) == [handle["id"]]
    assert xcom(dr2, "launch")["id"] == handle["id"]
    assert "moto-secret-key" not in caplog.text  # the connection's secret is never logged


def test_trigger_polls_sagemaker_through_aiobotocore(pipetune_home, aws_conn):
    """moto completes a job at once, so the task above never needs to defer; the trigger
    itself is run here on the connection-built backend (aiobotocore to moto's server)."""
    import asyncio

    from pipetune.airflow.hooks.pipetune import PipetuneHook
    from pipetune.airflow.triggers.tuning import PipetuneJobTrigger
    from pipetune.spec import load_spec

    import sys

    sys.path.insert(0, str(TEST_DAGS))
    from pt_sagemaker import SPEC

    hook = PipetuneHook(backend="sagemaker", conn_id="aws_moto")
    ref = hook.launch(load_spec(SPEC), "sm-trigger")

    async def events():
        t = PipetuneJobTrigger(job=ref.model_dump(mode="json"), conn_id="aws_moto", poll_interval=0.2)
        return [e async for e in t.run()]

    (event,) = asyncio.run(events())
    assert event.payload["status"] == "completed" and event.payload["job"]["id"] == ref.id
    missing = ref.model_copy(update={"id": "never-launched"})

    async def missing_events():
        t = PipetuneJobTrigger(job=missing.model_dump(mode="json"), conn_id="aws_moto",
                               poll_interval=0.05, max_consecutive_errors=2)
        return [e async for e in t.run()]

    (err,) = asyncio.run(missing_events())
    assert err.payload["status"] == "error" and "never-launched" in err.payload["reason"]
