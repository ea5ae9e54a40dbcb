"""Every Vertex CLI command reaches the endpoint PIPETUNE_VERTEX_ENDPOINT names, as the
SageMaker ones follow AWS_ENDPOINT_URL (the real CLI in a subprocess, the fake Vertex)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

SPEC = {
    "parameters": [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0}],
    "objectives": [{"metric": "score", "goal": "maximize"}],
    "trial": {"command": ["python", "train.py"], "contract": "vertex"},
    "backend": "vertex",
    "budget": {"max_trials": 2},
    "vertex": {"project": "demo-proj", "location": "us-central1",
               "container": {"image_uri": "us-docker.pkg.dev/demo-proj/train:1"}},
}


def _cli(*args, env):
    exe = str(Path(sys.executable).parent / "pipetune")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120, env=env)


def test_launch_and_status_follow_the_endpoint_variable(fake_vertex, adc_env, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    env = {**adc_env, "PIPETUNE_HOME": str(tmp_path / "home"),
           "PIPETUNE_VERTEX_ENDPOINT": fake_vertex.endpoint}
    launched = _cli("launch", str(spec), "--name", "via-env", env=env)
    assert launched.returncode == 0, launched.stderr[-2000:]
    assert json.loads(launched.stdout)["backend"] == "vertex"
    assert len(fake_vertex.calls("CreateHyperparameterTuningJob")) == 1
    status = _cli("status", "via-env", "--json", env=env)
    assert status.returncode == 0, status.stderr[-2000:]
    assert json.loads(status.stdout)["state"] in ("pending", "running", "completed")
    assert len(fake_vertex.calls("GetHyperparameterTuningJob")) >= 1


def test_vertex_worker_records_its_handle(fake_vertex, adc_env, tmp_path):
    spec = tmp_path / "spec.yaml"
    body = {**SPEC, "budget": {"max_trials": 1},
            "trial": {"command": [sys.executable, str(Path(__file__).parent / "vertex_trial.py")],
                      "contract": "vertex"},
            "vertex": {"mode": "vizier", "project": "demo-proj", "location": "us-central1"},
            "parameters": [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0},
                           {"name": "n", "type": "integer", "min": 1, "max": 2}],
            "static": {"hold": 0.0}}
    spec.write_text(yaml.safe_dump(body))
    env = {**adc_env, "PIPETUNE_HOME": str(tmp_path / "home")}
    worker = _cli("vertex-worker", str(spec), "--name", "study-w", "--endpoint",
                  fake_vertex.endpoint, "--trial-dir", str(tmp_path / "trials"), env=env)
    assert worker.returncode == 0, worker.stderr[-2000:]
    status = _cli("status", "study-w", "--json", env={**env, "PIPETUNE_VERTEX_ENDPOINT":
                                                       fake_vertex.endpoint})
    assert status.returncode == 0, status.stderr[-2000:]
    assert json.loads(status.stdout)["state"] == "completed"
