"""Mode 2 against the fake Vizier: our workers run real trial processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from google.cloud.aiplatform_v1 import types as t

from pipetune.errors import JobConflict, JobStopped
from pipetune.job import JobState
from pipetune.spec import load_spec

HERE = Path(__file__).parent


def vizier_spec(**changes):
    body = {
        "parameters": [
            {"name": "x", "type": "continuous", "min": 0.0, "max": 1.0},
            {"name": "n", "type": "integer", "min": 1, "max": 4},
        ],
        "objectives": [{"metric": "score", "goal": "maximize"}],
        "budget": {"max_trials": 6, "max_parallel": 2, "max_failed": 2},
        "early_stopping": {"type": "median"},
        "trial": {"command": [sys.executable, str(HERE / "vertex_trial.py")], "contract": "vertex"},
        "vertex": {"mode": "vizier"},
    }
    body.update(changes)
    return load_spec(body)


def trials_of(fake, ref):
    return fake.trials[ref.id]


def test_worker_runs_trials_with_measurements_early_stopping_and_failures(backend, fake_vertex, tmp_path):
    spec = vizier_spec()
    ref = backend.launch(spec, "in-process", detach=False, trial_root=tmp_path)
    (created,) = fake_vertex.calls("CreateStudy")
    assert created.study.display_name == "in-process"
    assert "median_automated_stopping_spec" in created.study.study_spec
    trials = {tr.id: tr for tr in trials_of(fake_vertex, ref)}
    assert sorted(trials, key=int) == ["1", "2", "3", "4", "5", "6"]
    assert trials["3"].state == t.Trial.State.INFEASIBLE
    assert trials["3"].infeasible_reason.startswith("failed: exit code 1")
    assert trials["5"].infeasible_reason.startswith("infeasible: objective 'score' is nan")
    stopped = [c.trial_name.rsplit("/", 1)[1] for c in fake_vertex.calls("CheckTrialEarlyStoppingState")
               if trials[c.trial_name.rsplit("/", 1)[1]].final_measurement.metrics
               and trials[c.trial_name.rsplit("/", 1)[1]].final_measurement.metrics[0].value < -5]
    assert set(stopped) == {"4", "6"}  # the bad trials were asked about, and stopped
    for bad in ("4", "6"):
        assert len(trials[bad].measurements) == 1  # stopped after the first step
        assert trials[bad].state == t.Trial.State.SUCCEEDED
    assert [m.step_count for m in trials["1"].measurements] == [1, 2]
    assert all(a.trial_name.endswith(("/1", "/2", "/4", "/6"))
               for a in fake_vertex.calls("AddTrialMeasurement"))
    st = backend.status(ref)
    assert st.state == JobState.COMPLETED
    assert (st.trials.complete, st.trials.failed, st.trials.infeasible) == (4, 1, 1)
    best = backend.best(ref)
    good = [trials[i] for i in ("1", "2")]
    winner = max(good, key=lambda tr: tr.final_measurement.metrics[0].value)
    assert best.trial == winner.id
    assert best.value == pytest.approx(winner.final_measurement.metrics[0].value)
    assert isinstance(best.params["n"], int)
    assert best.params == {"x": pytest.approx(winner.parameters[0].value), "n": int(winner.parameters[1].value)}
    assert best.trials_infeasible == 1 and best.trials_failed == 1
    assert best.cost_usd == pytest.approx(6.0)  # six Vizier trials at the default $1
    assert (tmp_path / "trial-1" / "model").is_dir()  # the Vertex contract laid out


def test_two_worker_processes_share_one_study(backend, fake_vertex, tmp_path, adc_env):
    spec = vizier_spec(early_stopping={"type": "none"},
                       vertex={"mode": "vizier", "project": "demo-proj", "location": "us-central1"})
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(spec.to_dict()))
    cmd = [str(Path(sys.executable).parent / "pipetune"), "vertex-worker", str(spec_file), "--name", "shared",
           "--api-endpoint", fake_vertex.endpoint, "--trial-dir", str(tmp_path / "trials")]
    procs = [subprocess.Popen([*cmd, "--worker-id", f"w{i}"], env=dict(adc_env), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    summaries = [json.loads(o[0]) for o in outs]
    # one study: the second worker found it, or lost the race to create it (ALREADY_EXISTS)
    # and attached; which of the two happens depends on timing
    assert len(fake_vertex.studies) == 1
    assert 1 <= len(fake_vertex.calls("CreateStudy")) <= 2
    study = next(iter(fake_vertex.studies))
    trials = fake_vertex.trials[study]
    assert len(trials) == 6 and all(tr.state != t.Trial.State.ACTIVE for tr in trials)
    by_client = {tr.client_id for tr in trials}
    assert by_client == {"w0", "w1"}
    ran = sorted(int(i) for s in summaries for i in s["trials"])
    assert ran == [1, 2, 3, 4, 5, 6]  # each trial ran exactly once
    assert fake_vertex.authorization and all(adc_env.verify(a) for a in fake_vertex.authorization)
    ref = backend.launch(spec, "shared")
    assert backend.status(ref).state == JobState.COMPLETED
    assert backend.best(ref).trials_total == 6


def test_stop_reaches_a_running_worker(backend, fake_vertex, tmp_path, adc_env):
    spec = vizier_spec(static={"hold": 30.0}, early_stopping={"type": "none"},
                       vertex={"mode": "vizier", "project": "demo-proj", "location": "us-central1"})
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(spec.to_dict()))
    ref = backend.launch(spec, "to-stop")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "pipetune"), "vertex-worker", str(spec_file), "--name", "to-stop",
         "--api-endpoint", fake_vertex.endpoint, "--trial-dir", str(tmp_path / "trials")],
        env=dict(adc_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not fake_vertex.trials[ref.id] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert backend.status(ref).state == JobState.RUNNING
    backend.stop(ref)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    first = fake_vertex.trials[ref.id][0]
    assert first.infeasible_reason.startswith("stopped")
    assert json.loads(out)["ended_because"] == "stopped on request"
    assert backend.status(ref).state == JobState.STOPPED
    with pytest.raises(JobStopped):
        backend.wait(ref, poll_seconds=0.01)
    assert [r.id for r in backend.trials(ref)] == ["1"]  # the stop marker is not a trial


def test_study_launch_is_idempotent_and_conflicts_on_a_new_space(backend, fake_vertex):
    spec = vizier_spec()
    a = backend.launch(spec, "study-a")
    b = backend.launch(spec, "study-a")
    assert a.id == b.id and len(fake_vertex.calls("CreateStudy")) == 1
    other = vizier_spec(parameters=[{"name": "x", "type": "continuous", "min": 0.0, "max": 2.0},
                                    {"name": "n", "type": "integer", "min": 1, "max": 4}])
    with pytest.raises(JobConflict, match="different search space"):
        backend.launch(other, "study-a")


def test_warm_start_seeds_the_new_study_with_completed_parent_trials(backend, fake_vertex, tmp_path):
    parent = vizier_spec(budget={"max_trials": 3, "max_parallel": 1}, early_stopping={"type": "none"})
    pref = backend.launch(parent, "parent", detach=False, trial_root=tmp_path)
    done = [tr for tr in fake_vertex.trials[pref.id] if tr.state == t.Trial.State.SUCCEEDED
            and not tr.infeasible_reason]
    child = vizier_spec(warm_start={"parents": ["parent"]}, budget={"max_trials": 4})
    cref = backend.launch(child, "child")
    seeded = fake_vertex.calls("CreateTrial")
    assert [list(s.trial.parameters) for s in seeded] == [list(tr.parameters) for tr in done]
    assert [s.parent for s in seeded] == [cref.id] * len(done)
    assert backend.status(cref).trials.complete == len(done) == 2  # trial 3 crashed


def test_several_objectives_use_vizier_optimal_trials(backend, fake_vertex, tmp_path):
    script = tmp_path / "two.py"
    script.write_text(
        "import argparse, hypertune\np = argparse.ArgumentParser()\n"
        "p.add_argument('--x', type=float)\np.add_argument('--n', type=int)\n"
        "a = p.parse_args()\nh = hypertune.HyperTune()\n"
        "h.report_hyperparameter_tuning_metric('acc', a.x, global_step=1)\n"
        "h.report_hyperparameter_tuning_metric('latency', a.n + a.x, global_step=1)\n")
    spec = vizier_spec(objectives=[{"metric": "acc", "goal": "maximize"},
                                   {"metric": "latency", "goal": "minimize"}],
                       early_stopping={"type": "none"}, budget={"max_trials": 5, "max_parallel": 1},
                       trial={"command": [sys.executable, str(script)], "contract": "vertex"})
    ref = backend.launch(spec, "pareto", detach=False, trial_root=tmp_path / "t")
    best = backend.best(ref)
    assert fake_vertex.calls("ListOptimalTrials")[0].parent == ref.id
    front = {r.id for r in best.pareto_front}
    from pipetune.results import pareto_front
    assert front == {r.id for r in pareto_front(backend.trials(ref), ["maximize", "minimize"])}
    assert front and all(set(r.metrics) == {"acc", "latency"} for r in best.pareto_front)


@pytest.mark.parametrize("measurement", ["final", "best"])
def test_a_150_step_stream_reaches_vizier_step_by_step(backend, fake_vertex, tmp_path, measurement):
    """cloudml-hypertune keeps its last 100 entries: every step still becomes a measurement,
    and the final measurement carries the step that scored (by the spec's measurement)."""
    curve = HERE.parent / "core" / "scripts" / "hypertune_curve.py"
    spec = vizier_spec(parameters=[{"name": "x", "type": "continuous", "min": 0.5, "max": 0.6}],
                       static={"steps": 150, "shape": "peak", "pace": 0.001},
                       budget={"max_trials": 1}, measurement=measurement,
                       trial={"command": [sys.executable, str(curve)], "contract": "vertex"})
    ref = backend.launch(spec, f"long-{measurement}", detach=False, trial_root=tmp_path)
    (trial,) = trials_of(fake_vertex, ref)
    assert [m.step_count for m in trial.measurements] == list(range(150))
    x = trial.parameters[0].value
    final = trial.final_measurement
    if measurement == "final":
        assert final.step_count == 149
        assert final.metrics[0].value == pytest.approx(x - abs(149 - 75) / 150)
    else:
        assert final.step_count == 75 and final.metrics[0].value == pytest.approx(x)
    created = fake_vertex.calls("CreateStudy")[-1]
    assert created.study.study_spec.measurement_selection_type == (
        t.StudySpec.MeasurementSelectionType.BEST_MEASUREMENT if measurement == "best"
        else t.StudySpec.MeasurementSelectionType.LAST_MEASUREMENT)
