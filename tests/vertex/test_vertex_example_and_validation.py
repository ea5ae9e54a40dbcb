"""The Vertex example runs unchanged on the local engine; bad input is refused before any
call to Vertex, naming the field."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from pipetune.backends.local import LocalBackend
from pipetune.backends.vertex import hp_job
from pipetune.backends.vertex.options import parse_options
from pipetune.errors import SpecError
from pipetune.spec import load_spec

EXAMPLE = Path(__file__).parents[2] / "examples" / "vertex"


def test_vertex_example_runs_on_the_local_engine(monkeypatch, tmp_path):
    monkeypatch.setenv("PIPETUNE_HOME", str(tmp_path / "home"))
    spec = load_spec(EXAMPLE / "spec.yaml").with_overrides(
        budget={"max_trials": 4, "max_parallel": 2},
        trial={"command": [sys.executable, "train.py"], "workdir": str(EXAMPLE),
               "contract": "vertex"})
    backend = LocalBackend()
    ref = backend.launch(spec, "vertex-example", detach=False)
    best = backend.best(ref)
    assert best.trials_complete + best.trials_pruned == 4
    assert isinstance(best.params["alpha"], float) and 1e-6 <= best.params["alpha"] <= 1e-1
    assert best.params["penalty"] in ("l2", "l1", "elasticnet")
    assert ("l1_ratio" in best.params) == (best.params["penalty"] == "elasticnet")
    assert 0.5 < best.value <= 1.0 and best.static == {"epochs": 5}
    assert (Path(best.artifacts) / "model.pkl").is_file()  # written to AIP_MODEL_DIR
    # and it is what mode 1 would submit: the same command, on Vertex's contract
    vertex_spec = load_spec(EXAMPLE / "spec.yaml")
    opts = parse_options(vertex_spec.vertex)
    hp_job.check(vertex_spec, opts)
    pool = hp_job.build_hp_job(vertex_spec, opts, "x").trial_job_spec.worker_pool_specs[0]
    assert list(pool.container_spec.command) == ["python", "train.py"]
    assert list(pool.container_spec.args) == ["--epochs=5"]


def _spec(**changes):
    body = {
        "parameters": [{"name": "lr", "type": "continuous", "min": 0.001, "max": 0.1},
                       {"name": "depth", "type": "integer", "min": 2, "max": 8}],
        "objectives": [{"metric": "auc"}],
        "trial": {"command": ["python", "train.py"], "contract": "vertex"},
        "vertex": {"project": "demo-proj", "location": "us-central1",
                   "container": {"image_uri": "img"}},
    }
    body.update(changes)
    return load_spec(body)


def _vertex(**changes):
    return {"project": "demo-proj", "location": "us-central1", "container": {"image_uri": "img"},
            **changes}


@pytest.mark.parametrize("changes, field, words", [
    ({"vertex": {"container": {"image_uri": "img"}}}, "vertex.project", "is required"),
    ({"vertex": {"project": "demo-proj", "container": {"image_uri": "img"}}},
     "vertex.location", "is required"),
    ({"vertex": _vertex(project="Demo_Proj")}, "vertex.project", "not a project ID"),
    ({"vertex": _vertex(location="us central")}, "vertex.location", "us-central1"),
    ({"vertex": _vertex(labels={"Team": "ml"})}, "vertex.labels", "lowercase"),
    ({"vertex": _vertex(labels={"team": "ML Ops"})}, "vertex.labels", "value"),
    ({"vertex": _vertex(labels={"pipetune-fingerprint": "x"})}, "vertex.labels", "set by pipetune"),
    ({"vertex": _vertex(machine_typ="n1")}, "vertex.machine_typ", "machine_type"),
    ({"vertex": _vertex(mode="batch")}, "vertex.mode", "vizier"),
    ({"vertex": _vertex(accelerator_type="NVIDIA_TESLA_T4")}, "vertex", "accelerator_count"),
    ({"vertex": _vertex(encryption_key="my-key")}, "vertex.encryption_key", "keyRings"),
    ({"vertex": {"project": "demo-proj", "location": "us-central1"}}, "vertex.container", "image_uri"),
    ({"strategy": "tpe"}, "strategy", "random, grid"),
    ({"early_stopping": {"type": "hyperband"}}, "early_stopping.type", "median"),
    ({"metrics": [{"name": "auc", "regex": "auc=([0-9.]+)"}], "trial": {
        "command": ["python", "t.py"], "contract": "vertex", "metric_source": "regex"}},
     "trial.metric_source", "hypertune"),
    ({"trial": {"command": ["python", "t.py"], "contract": "env", "metric_source": "hypertune"}},
     "trial.contract", "--name=value"),
    ({"budget": {"max_trials": 5, "target_value": 0.9}}, "budget.target_value", "vizier"),
    ({"warm_start": {"parents": ["old"]}}, "warm_start", "vizier"),
    ({"parameters": [{"name": "a", "type": "continuous", "min": 0, "max": 1},
                     {"name": "b", "type": "integer", "min": 1, "max": 3,
                      "condition": {"parent": "a", "values": [0.5]}}]},
     "parameters[1].condition.parent", "continuous"),
])
def test_bad_input_is_refused_before_any_call(changes, field, words, fake_vertex):
    from google.auth.credentials import AnonymousCredentials

    from pipetune.backends.vertex import VertexBackend

    backend = VertexBackend(credentials=AnonymousCredentials(), api_endpoint=fake_vertex.endpoint)
    spec = _spec(**changes)
    with pytest.raises(SpecError) as info:
        backend.launch(spec, "bad")
    fields = [f for f, _ in info.value.problems]
    assert any(f.startswith(field) for f in fields), info.value
    assert words in str(info.value)
    assert fake_vertex.requests == []


def test_grid_over_a_continuous_parameter_without_step_is_refused():
    with pytest.raises(SpecError, match=r"parameters\[0\]\.step"):
        _spec(strategy="grid")


def test_display_name_and_vizier_only_choices(fake_vertex, backend):
    with pytest.raises(SpecError, match="name: .*128"):
        backend.launch(_spec(), "x" * 129)
    # vizier accepts what only a tuning job refuses
    backend.validate(_spec(vertex={**_vertex(mode="vizier"), "container": None},
                           budget={"max_trials": 5, "target_value": 0.9}))
    with pytest.raises(SpecError, match="decay_curve|single objective"):
        backend.validate(_spec(objectives=[{"metric": "a"}, {"metric": "b", "goal": "minimize"}],
                               vertex=_vertex(automated_stopping="decay_curve")))
    assert fake_vertex.requests == []


def test_cli_worker_reports_spec_errors_with_exit_code_2(tmp_path):
    import subprocess

    spec = tmp_path / "spec.yaml"
    spec.write_text("parameters: [{name: x, type: continuous, min: 0, max: 1}]\n"
                    "objectives: [{metric: s}]\ntrial: {command: [python, t.py], contract: vertex}\n"
                    "vertex: {mode: vizier, location: us-central1}\n")
    exe = shutil.which("pipetune", path=str(Path(sys.executable).parent))
    proc = subprocess.run([exe, "vertex-worker", str(spec), "--name", "n"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert "vertex.project" in proc.stderr and "Traceback" not in proc.stderr
