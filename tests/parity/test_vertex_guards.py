"""Guards on every poll of a Vertex Vizier study: a worker (``pipetune vertex-worker``, a
real process) runs the trials against the fake Vertex AI of tests/vertex; the step
runtime's wait stops the study once its cost (Vizier's per-trial fee) passes
``budget.max_cost_usd``, with the reason worded as on every other backend, and the worker
obeys the stop."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from parity_helpers import REPO

VERTEX_TESTS = REPO / "tests" / "vertex"


def test_the_runtime_stops_a_vizier_study_over_budget(vertex_backend, fake_vertex, tmp_path,
                                                      adc_env):
    from pipetune import load_spec, runtime
    from pipetune.errors import JobStopped
    from pipetune.job import JobState

    spec = load_spec({
        "parameters": [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0},
                       {"name": "n", "type": "integer", "min": 1, "max": 4}],
        "objectives": [{"metric": "score", "goal": "maximize"}],
        "static": {"hold": 0.3},
        "budget": {"max_trials": 10, "max_parallel": 1, "max_cost_usd": 2.5},
        "trial": {"command": [sys.executable, str(VERTEX_TESTS / "vertex_trial.py")],
                  "contract": "vertex"},
        "vertex": {"mode": "vizier", "project": "demo-proj", "location": "us-central1",
                   "prices": {"trial_fee_usd": 1.0}},
    })
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(spec.to_dict()))
    ref = runtime.launch(spec, job_name="capped", using=vertex_backend)
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "pipetune"), "vertex-worker", str(spec_file),
         "--name", "capped", "--api-endpoint", fake_vertex.endpoint,
         "--trial-dir", str(tmp_path / "trials")],
        env=dict(adc_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with pytest.raises(JobStopped) as caught:
            runtime.wait(ref, using=vertex_backend, poll_seconds=0.1, timeout=120)
        out, err = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert re.fullmatch(r"stopped by pipetune: estimated cost \$[0-9.]+ passed "
                        r"budget\.max_cost_usd \$2\.5 \(0\.0 machine-seconds, Vizier per-trial "
                        r"fees \(trials run on your workers\)\)", caught.value.reason), \
        caught.value.reason
    spent = float(re.search(r"estimated cost \$([0-9.]+)", caught.value.reason).group(1))
    assert spent > 2.5
    assert worker.returncode == 0, err[-2000:]
    assert json.loads(out)["ended_because"] == "stopped on request"  # the worker obeyed
    assert vertex_backend.status(ref).state == JobState.STOPPED
    assert len(vertex_backend.trials(ref)) < 10  # it did not run the whole budget
