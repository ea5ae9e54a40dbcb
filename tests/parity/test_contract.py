"""The Backend contract's defaults: what a backend cannot do is refused with one clear line
naming the field, from the core and from the CLI (exit code 2), never a crash."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from parity_helpers import REPO, cli_env, job_name, spec_body

sys.path.insert(0, str(REPO / "tests" / "sagemaker"))
from sm_fixtures import MINIMAL  # noqa: E402


@pytest.fixture
def sagemaker_ref(fake_aws_credentials):
    from pipetune import load_spec
    from pipetune.backends.sagemaker import SageMakerBackend

    be = SageMakerBackend(client=boto3.client("sagemaker", region_name="us-east-1"))
    return be, be.ref("nightly-xgb", region="us-east-1", spec=load_spec(copy.deepcopy(MINIMAL)))


def test_a_cloud_backend_refuses_resume_and_shared_workers(sagemaker_ref):
    from pipetune import load_spec
    from pipetune.errors import UsageError

    be, ref = sagemaker_ref
    with pytest.raises(UsageError, match=r"^job: 'nightly-xgb' is a sagemaker job; its service "
                                         r"runs it to its end, so there is nothing to resume"):
        be.resume(ref)
    with pytest.raises(UsageError, match=r"^backend: the sagemaker backend has no shared-study "
                                         r"workers"):
        be.prepare_shared(load_spec(copy.deepcopy(MINIMAL)), "shared")


def test_pipetune_resume_of_a_cloud_job_exits_2_with_one_line(sagemaker_ref, tmp_path):
    _, ref = sagemaker_ref
    exe = str(Path(sys.executable).parent / "pipetune")
    done = subprocess.run([exe, "resume", ref.to_json()], env=cli_env(tmp_path / "home"),
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: job: 'nightly-xgb' is a sagemaker job")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_local_engine_needs_no_console_no_run_settings_and_finds_jobs_by_name(home):
    from pipetune import load_spec
    from pipetune.backends.local import LocalBackend

    spec = load_spec(spec_body("completed"))
    assert LocalBackend.with_run_settings(spec, identity="sa@p.iam", output_location="gs://b") \
        == spec
    be = LocalBackend(home)
    assert be.find(job_name("completed")) is None
    ref = be.prepare_shared(spec, job_name("completed"))
    assert be.find(job_name("completed")) == ref and be.console_url(ref) is None
    assert json.loads(ref.to_json())["extra"]["root"] == str(home)
