"""The Vertex AI path through Airflow (dag.test) against the fake Vertex AI of tests/vertex
(TLS gRPC on loopback, the unchanged google-cloud-aiplatform clients): a
`google_cloud_platform` connection carrying a service-account key and the project, a
HyperparameterTuningJob launched, waited for by the deferrable sensor, best typed params."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from af_helpers import TEST_DAGS, load_dag, task_states, xcom
from fake_vertex import LOCATION, PROJECT, JobPlan, score, values_of

DAGS = TEST_DAGS / "pt_vertex.py"


@pytest.fixture
def gcp_conn(adc_env, monkeypatch):
    """AIRFLOW_CONN_GCP_FAKE: the key itself in the extras (keyfile_dict) and the project."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    key = json.loads(Path(adc_env["GOOGLE_APPLICATION_CREDENTIALS"]).read_text())
    monkeypatch.setenv("AIRFLOW_CONN_GCP_FAKE", json.dumps({
        "conn_type": "google_cloud_platform",
        "extra": {"keyfile_dict": json.dumps(key), "project": PROJECT},
    }))
    return key


def _signed_by(key: dict, header: str) -> bool:
    """The bearer is a JWT google-auth signed with the connection's key (scoped, so no
    audience) or the token the key was traded for at the fake token endpoint."""
    from cryptography.hazmat.primitives import serialization
    from google.auth import jwt

    token = header.removeprefix("Bearer ")
    if token == "fake-token":
        return True
    public = serialization.load_pem_private_key(key["private_key"].encode(), None).public_key()
    pem = public.public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = jwt.decode(token, certs={key["private_key_id"]: pem}, verify=True)
    return claims["iss"] == key["client_email"]


def _secret_lines(key: dict) -> list[str]:
    body = [line for line in key["private_key"].splitlines() if line and "-----" not in line]
    return body[1:4]


def test_vertex_launch_deferrable_sensor_and_typed_best(pipetune_home, fake_vertex, adc_env,
                                                        gcp_conn, caplog, capsys):
    from google.cloud.aiplatform_v1 import types as t

    dag = load_dag(DAGS, "pt_vertex")
    dr = dag.test(run_conf={"api_endpoint": fake_vertex.endpoint})
    assert task_states(dr) == {"launch": "success", "wait": "success", "best": "success"}

    handle = xcom(dr, "launch")
    assert handle["backend"] == "vertex"
    assert handle["id"] in fake_vertex.jobs
    assert handle["id"].startswith(f"projects/{PROJECT}/locations/{LOCATION}/hyperparameterTuningJobs/")
    (create,) = fake_vertex.calls("CreateHyperparameterTuningJob")
    assert create.parent == f"projects/{PROJECT}/locations/{LOCATION}"  # the connection's project
    # every call carried a bearer made from the connection's key
    assert fake_vertex.authorization
    assert all(_signed_by(gcp_conn, h) for h in fake_vertex.authorization)

    job = fake_vertex.jobs[handle["id"]].job
    assert job.state == t.JobState.JOB_STATE_SUCCEEDED
    ok = [tr for tr in job.trials if tr.state == t.Trial.State.SUCCEEDED]
    winner = max(ok, key=lambda tr: score(job.study_spec, values_of(tr))["auc"])
    best = xcom(dr, "best")
    assert best["trial"] == winner.id
    assert best["value"] == pytest.approx(score(job.study_spec, values_of(winner))["auc"])
    held = values_of(winner)
    params = best["params"]
    assert type(params["depth"]) is int and params["depth"] == int(held["depth"])
    assert type(params["batch"]) is int and params["batch"] == int(held["batch"])
    assert type(params["lr"]) is float and params["lr"] == pytest.approx(held["lr"])
    assert params["booster"] == held["booster"]
    assert best["static"] == {"epochs": 3}
    assert best["artifacts"] == f"gs://demo-bucket/tuning/{winner.id}/model"

    job_id = handle["id"].rsplit("/", 1)[1]
    url = (f"https://console.cloud.google.com/vertex-ai/locations/{LOCATION}/training/"
           f"{job_id}/cpu?project={PROJECT}")
    link = xcom(dr, "launch", key="pipetune_console")  # what VertexTuningJobLink shows
    assert (link["backend"], link["url"]) == ("vertex", url)

    logs = caplog.text + "".join(capsys.readouterr())
    assert "Best of vx-" in logs  # the task logs were captured
    assert "Pausing task as DEFERRED" in logs  # the sensor waited in the trigger
    for line in _secret_lines(gcp_conn):
        assert line not in logs


def test_vertex_failed_job_fails_sensor_with_vertex_error(pipetune_home, fake_vertex, gcp_conn):
    fake_vertex.plans["vx-broken"] = JobPlan(fail_after_polls=2)
    dr = load_dag(DAGS, "pt_vertex_failed").test(run_conf={"api_endpoint": fake_vertex.endpoint})
    assert task_states(dr) == {"launch": "success", "wait": "failed", "best": "upstream_failed"}
    text = (pipetune_home / "failures" / "wait.txt").read_text()
    assert text.startswith("AirflowFailException: tuning job 'vx-broken'"), text
    assert ("Trial job failed: the replica workerpool0-0 exited with a non-zero status of 1."
            in text), text
