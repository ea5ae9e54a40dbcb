"""Missing or unloadable cloud credentials are one line naming the fix, exit 2, no
traceback, on every CLI command and in the Python API (async waits included).

Real parts: botocore's own credential chain with empty credential and config files, no
environment keys and the instance metadata service disabled; google-auth's Application
Default Credentials with no key file, an empty gcloud configuration and no metadata server.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
import yaml
from pkg_helpers import REPO, assert_one_line_error, run_cli

from pipetune.errors import CredentialsError
from pipetune.job import JobRef
from pipetune.spec import load_spec

AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
            "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER")
SAGEMAKER_SPEC = REPO / "examples" / "sagemaker" / "spec.yaml"
VERTEX_SPEC = REPO / "examples" / "vertex" / "spec.yaml"
COMMANDS = ("status", "stop", "best", "trials", "report")


# ---- AWS ---------------------------------------------------------------------------------
@pytest.fixture
def no_aws(tmp_path, monkeypatch) -> Path:
    """botocore finds no credentials anywhere (and asks no metadata service); the region is
    set so the error is about credentials only. Returns the (empty) config file."""
    for var in AWS_VARS:
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "aws").mkdir()
    credentials, config = tmp_path / "aws" / "credentials", tmp_path / "aws" / "config"
    credentials.write_text("")
    config.write_text("")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("PIPETUNE_HOME", str(tmp_path / ".pipetune"))
    return config


def sagemaker_ref() -> JobRef:
    return JobRef(backend="sagemaker", id="nightly-abc", name="nightly",
                  extra={"region": "us-east-1", "spec": load_spec(SAGEMAKER_SPEC).to_dict()})


def test_sagemaker_without_credentials_every_command(no_aws, tmp_path):
    handle = sagemaker_ref().to_json()
    runs = {"tune": run_cli(["tune", str(SAGEMAKER_SPEC), "--name", "nightly"], cwd=tmp_path),
            "launch": run_cli(["launch", str(SAGEMAKER_SPEC), "--name", "nightly"], cwd=tmp_path),
            "wait": run_cli(["wait", "--no-progress", handle], cwd=tmp_path)}
    runs.update({cmd: run_cli([cmd, handle], cwd=tmp_path) for cmd in COMMANDS})
    for command, run in runs.items():
        line = assert_one_line_error(run, "no AWS credentials found", "aws configure",
                                     "AWS_ACCESS_KEY_ID")
        assert line == runs["tune"].stderr.strip(), command
    assert not (tmp_path / ".pipetune" / "refs").exists()  # nothing recorded for a failed launch


def test_sagemaker_iam_policy_needs_no_credentials(no_aws, tmp_path):
    run = run_cli(["iam-policy", str(SAGEMAKER_SPEC)], cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["Statement"]


def test_sagemaker_unknown_profile(no_aws, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    run = run_cli(["status", sagemaker_ref().to_json()], cwd=tmp_path)
    assert_one_line_error(run, "AWS credentials could not be loaded", "no-such-profile",
                          "aws configure")


def _credential_process(tmp_path: Path, config: Path) -> Path:
    """A `credential_process` profile whose process hands out credentials that expire in
    five minutes (so botocore refreshes them on every use), and fails once ``fail`` exists.
    Returns the path of that switch."""
    switch = tmp_path / "fail"
    script = tmp_path / "creds.py"
    script.write_text(
        "import datetime as dt, json, pathlib, sys\n"
        f"if pathlib.Path({str(switch)!r}).exists():\n"
        "    sys.exit('the token has expired; run aws sso login')\n"
        "expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)\n"
        "print(json.dumps({'Version': 1, 'AccessKeyId': 'AKIDEXAMPLE', 'SecretAccessKey': 's',\n"
        "                  'SessionToken': 't', 'Expiration': expires.isoformat()}))\n")
    config.write_text(f"[default]\ncredential_process = {sys.executable} {script}\n")
    return switch


def test_sagemaker_credential_process_failing(no_aws, tmp_path):
    switch = _credential_process(tmp_path, no_aws)
    switch.touch()
    run = run_cli(["status", sagemaker_ref().to_json()], cwd=tmp_path)
    assert_one_line_error(run, "AWS credentials could not be loaded", "custom-process",
                          "aws sso login")


def test_sagemaker_credentials_expiring_mid_job(no_aws, tmp_path):
    """Credentials that were there when the client was built and fail to refresh later
    (an SSO session ending during a long wait) are the same one-line error, from the
    request's signing, before anything is sent (the endpoint would refuse the connection)."""
    from pipetune.backends.sagemaker import SageMakerBackend

    switch = _credential_process(tmp_path, no_aws)
    backend = SageMakerBackend(region="us-east-1", endpoint_url="http://127.0.0.1:1")
    client = backend.client("us-east-1")
    assert client.meta.region_name == "us-east-1"
    switch.touch()
    with pytest.raises(CredentialsError, match="could not be loaded .*custom-process") as info:
        backend.status(sagemaker_ref())
    assert info.value.exit_code == 2


def test_sagemaker_api_and_async_wait_without_credentials(no_aws):
    from pipetune.backends import get_backend

    backend = get_backend("sagemaker")
    with pytest.raises(CredentialsError, match="no AWS credentials found") as info:
        backend.trials(sagemaker_ref())
    assert info.value.exit_code == 2
    with pytest.raises(CredentialsError, match="no AWS credentials found"):
        asyncio.run(backend.astatus(sagemaker_ref()))


# ---- Google Cloud ----------------------------------------------------------------------------
@pytest.fixture
def no_gcp(tmp_path, monkeypatch) -> None:
    """google-auth finds no Application Default Credentials: no key file variable, an empty
    gcloud configuration folder, and (NO_GCE_CHECK) not on Google Cloud."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    (tmp_path / "gcloud").mkdir()
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("PIPETUNE_HOME", str(tmp_path / ".pipetune"))


@pytest.fixture
def vizier_spec(tmp_path) -> Path:
    body = {
        "name": "vz", "backend": "vertex",
        "parameters": [{"name": "x", "type": "continuous", "min": -2.0, "max": 2.0}],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "metrics": [{"name": "loss", "regex": r"loss=([-+0-9.eE]+)"}],
        "trial": {"command": [sys.executable, str(REPO / "tests" / "core" / "scripts" /
                                                  "quadratic.py")]},
        "budget": {"max_trials": 4},
        "vertex": {"mode": "vizier", "project": "my-gcp-project", "location": "us-central1"},
    }
    path = tmp_path / "vizier.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def vertex_ref(spec_path: Path, mode: str) -> JobRef:
    name = ("projects/my-gcp-project/locations/us-central1/studies/1" if mode == "vizier" else
            "projects/my-gcp-project/locations/us-central1/hyperparameterTuningJobs/1")
    return JobRef(backend="vertex", id=name, name="vz",
                  extra={"location": "us-central1", "mode": mode,
                         "spec": load_spec(spec_path).to_dict()})


def test_vertex_without_credentials_every_command(no_gcp, tmp_path, vizier_spec):
    handle = vertex_ref(vizier_spec, "vizier").to_json()
    runs = {
        "tune": run_cli(["tune", str(VERTEX_SPEC), "--backend", "vertex", "--name", "v"],
                        cwd=tmp_path),
        "launch": run_cli(["launch", str(vizier_spec), "--name", "vz"], cwd=tmp_path),
        "vertex-worker": run_cli(["vertex-worker", str(vizier_spec), "--name", "vz"],
                                 cwd=tmp_path),
        "wait": run_cli(["wait", "--no-progress", handle], cwd=tmp_path),
    }
    runs.update({cmd: run_cli([cmd, handle], cwd=tmp_path) for cmd in COMMANDS})
    for command, run in runs.items():
        line = assert_one_line_error(run, "no Google Cloud credentials found",
                                     "gcloud auth application-default login",
                                     "GOOGLE_APPLICATION_CREDENTIALS")
        assert line == runs["tune"].stderr.strip(), command
    assert not (tmp_path / "vertex-trials").exists()


def test_vertex_key_file_missing(no_gcp, tmp_path, vizier_spec, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "nowhere" / "key.json"))
    run = run_cli(["launch", str(vizier_spec), "--name", "vz"], cwd=tmp_path)
    assert_one_line_error(run, "no Google Cloud credentials found",
                          f"{tmp_path / 'nowhere' / 'key.json'} was not found")


def test_vertex_without_metadata_server(no_gcp, tmp_path, vizier_spec, monkeypatch):
    """Off Google Cloud, google-auth probes the metadata server; one that does not answer
    ends in the same line (the probe is pointed at a closed local port, so it fails fast)."""
    monkeypatch.delenv("NO_GCE_CHECK")
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:1")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:1")
    run = run_cli(["status", vertex_ref(vizier_spec, "vizier").to_json()], cwd=tmp_path)
    assert_one_line_error(run, "no Google Cloud credentials found",
                          "gcloud auth application-default login")


def test_vertex_api_and_async_wait_without_credentials(no_gcp, vizier_spec):
    from pipetune.backends import get_backend

    backend = get_backend("vertex")
    with pytest.raises(CredentialsError, match="no Google Cloud credentials") as info:
        backend.trials(vertex_ref(vizier_spec, "vizier"))
    assert info.value.exit_code == 2
    with pytest.raises(CredentialsError, match="no Google Cloud credentials"):
        asyncio.run(backend.astatus(vertex_ref(vizier_spec, "hyperparameter_tuning_job")))


def test_vertex_credentials_that_cannot_refresh(fake_vertex, httpserver, vizier_spec):
    """A user's gcloud login whose refresh token was revoked: Google's token endpoint
    answers ``invalid_grant`` (here a local one), the gRPC call fails in its auth plugin,
    and that is the one-line credentials error, not a Vertex API error."""
    from fake_vertex import LOCATION, PROJECT
    from google.oauth2.credentials import Credentials

    from pipetune.backends.vertex import VertexBackend

    httpserver.expect_request("/token", method="POST").respond_with_json(
        {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
        status=400)
    creds = Credentials(token=None, refresh_token="revoked", client_id="cid",
                        client_secret="secret", token_uri=httpserver.url_for("/token"))
    backend = VertexBackend(project=PROJECT, location=LOCATION, credentials=creds,
                            api_endpoint=fake_vertex.endpoint)
    ref = vertex_ref(vizier_spec, "vizier")
    ref.extra["location"] = LOCATION
    with pytest.raises(CredentialsError, match="could not be refreshed .*expired or revoked") as info:
        backend.trials(ref)
    assert "gcloud auth application-default login" in str(info.value)
    assert len(httpserver.log) >= 1  # the refresh was really attempted
