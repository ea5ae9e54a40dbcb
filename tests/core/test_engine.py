"""The local engine end to end, with real trial processes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipetune import get_backend, load_spec
from pipetune.errors import JobConflict, JobFailed, JobStopped, SpecError
from pipetune.job import JobState

from .conftest import SCRIPTS, script_spec


def test_job_runs_to_completion_with_typed_best(home):
    be = get_backend("local")
    spec = load_spec(script_spec("quadratic.py"))
    ref = be.launch(spec, "quad", detach=False)
    st = be.status(ref)
    assert st.state == JobState.COMPLETED
    assert st.trials.complete == 6
    best = be.best(ref)
    assert isinstance(best.params["n"], int) and isinstance(best.params["x"], float)
    assert best.params["kind"] in ("a", "b")
    records = be.trials(ref)
    expected = min((r.params["x"] - 0.5) ** 2 + r.params["n"] / 10 + (r.params["kind"] == "b")
                   for r in records)
    assert best.value == pytest.approx(expected, abs=1e-5)
    # the regex's earlier matches are intermediate values, the last is final
    assert len(records[0].intermediate) == 4
    assert (home / ".pipetune/jobs/quad/trials/00000/stdout.log").is_file()


def test_faults_are_recorded_with_reasons_and_the_job_goes_on(home):
    be = get_backend("local")
    spec = load_spec(script_spec("faulty.py", budget={"max_trials": 8, "max_parallel": 2,
                                                      "trial_timeout": 2, "max_failed": 7}))
    ref = be.launch(spec, "faulty", detach=False)
    by_number = {r.number: r for r in be.trials(ref)}
    assert by_number[0].state == "failed" and "exit code 3" in by_number[0].reason
    assert "about to fail" in by_number[0].reason
    assert by_number[1].state == "failed" and "timed out" in by_number[1].reason
    assert by_number[2].state == "infeasible" and "nan" in by_number[2].reason
    assert by_number[3].state == "failed" and "no value for objective" in by_number[3].reason
    assert by_number[4].state == "failed"
    assert by_number[5].state == "complete" and by_number[5].metrics["loss"] == 1.5
    assert by_number[6].state == "failed" and "SIGKILL" in by_number[6].reason
    assert by_number[7].state == "complete"
    assert be.best(ref).value == 0.25
    assert be.status(ref).state == JobState.COMPLETED


def test_too_many_failures_fail_the_job_with_the_reason(home):
    be = get_backend("local")
    spec = load_spec(script_spec("faulty.py", budget={"max_trials": 8, "max_parallel": 1,
                                                      "trial_timeout": 1, "max_failed": 1}))
    ref = be.launch(spec, "failing", detach=False)
    st = be.status(ref)
    assert st.state == JobState.FAILED
    failed = [r for r in be.trials(ref) if r.state in ("failed", "infeasible")]
    assert st.reason.startswith(f"{len(failed)} trials failed, more than max_failed=1; ")
    assert any("timed out" in r.reason for r in failed)
    with pytest.raises(JobFailed, match="max_failed"):
        be.wait(ref)


def test_detached_launch_returns_at_once_and_attaches_on_relaunch(home):
    be = get_backend("local")
    spec = load_spec(script_spec("slow_curve.py", budget={"max_trials": 4, "max_parallel": 2}))
    t0 = time.monotonic()
    ref = be.launch(spec, "bg")
    assert time.monotonic() - t0 < 5
    again = be.launch(spec, "bg")  # a retried pipeline step attaches
    assert again == ref
    st = be.wait(ref, poll_seconds=0.3, timeout=120)
    assert st.state == JobState.COMPLETED and st.trials.complete == 4
    assert len(be.trials(ref)) == 4  # no second job, no extra trials
    changed = load_spec(script_spec("slow_curve.py", budget={"max_trials": 5, "max_parallel": 2}))
    with pytest.raises(JobConflict, match="different spec"):
        be.launch(changed, "bg")


def test_stop_terminates_running_trials_and_reports_stopped(home):
    be = get_backend("local")
    spec = load_spec(script_spec("slow_curve.py", budget={"max_trials": 50, "max_parallel": 2}))
    ref = be.launch(spec, "stopme")
    deadline = time.monotonic() + 60
    while be.status(ref).trials.complete < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    be.stop(ref)
    with pytest.raises(JobStopped):
        be.wait(ref, poll_seconds=0.2, timeout=60)
    st = be.status(ref)
    assert st.state == JobState.STOPPED
    assert st.trials.finished < 50


def test_coordinator_killed_then_resumed_loses_and_double_counts_nothing(home):
    be = get_backend("local")
    spec = load_spec(script_spec("slow_curve.py", budget={"max_trials": 8, "max_parallel": 2}))
    ref = be.launch(spec, "crashy")
    job = be._job(ref)
    deadline = time.monotonic() + 60
    while be.status(ref).trials.complete < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    completed_before = {r.number: r.metrics for r in be.trials(ref) if r.state == "complete"}
    os.kill(job.coordinator()["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while be.status(ref).state != JobState.INTERRUPTED and time.monotonic() < deadline:
        time.sleep(0.1)
    assert be.status(ref).state == JobState.INTERRUPTED
    be.resume(ref, detach=False)
    st = be.status(ref)
    assert st.state == JobState.COMPLETED
    records = be.trials(ref)
    assert len(records) == 8 and all(r.state == "complete" for r in records)
    for number, metrics in completed_before.items():  # nothing completed was lost
        assert {r.number: r.metrics for r in records}[number] == metrics


def _wait_for(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_resume_adopts_the_trial_a_killed_coordinator_left_running(home, tmp_path):
    """Issue 18: the trial process outlives its SIGKILLed coordinator; the resumed one adopts
    it (waits for it) and records its result; the trial asked ahead, never started, is no
    attempt: asked again, its directory gone."""
    from pipetune.backends.local.jobstore import T_EXCLUDED, T_RETRY_OF
    from pipetune.trials.process import start_time

    hold = tmp_path / "hold"
    hold.write_text("")
    be = get_backend("local")
    spec = load_spec(script_spec("hold.py", budget={"max_trials": 2, "max_parallel": 1},
                                 trial={"command": [sys.executable, str(SCRIPTS / "hold.py"),
                                                    str(hold)], "grace_period": 1.0}))
    ref = be.launch(spec, "orphan")
    job = be._job(ref)
    pidfile = job.trial_dir(0) / "trial.pid"
    _wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), "trial 0 never started")
    _wait_for(lambda: job.trial_dir(1).is_dir(), "trial 1 was never asked ahead")
    assert be.status(ref).trials.running == 1  # the trial asked ahead is not running
    trial_pid = int(pidfile.read_text().split()[0])
    os.kill(job.coordinator()["pid"], signal.SIGKILL)
    time.sleep(0.5)
    assert start_time(trial_pid) is not None  # its own session: it outlived the coordinator

    be.resume(ref)  # detached: the new coordinator finds trial 0 left behind, still running
    _wait_for(lambda: not job.trial_dir(1).exists(), "the never-started trial 1 kept its dir")
    assert start_time(trial_pid) is not None, "the adopted trial process was killed"
    hold.unlink()
    be.wait(ref, poll_seconds=0.2, timeout=60)
    records = be.trials(ref)
    assert len(records) == 2 and all(r.state == "complete" for r in records)
    study = job.load_study()
    first = study.trials[0]
    assert first.state.name == "COMPLETE" and first.values == [1.0]  # the adopted run's result
    assert not any(T_RETRY_OF in t.user_attrs for t in study.trials)  # nothing was retried
    skipped = study.trials[1]
    assert skipped.user_attrs.get(T_EXCLUDED) and not job.trial_dir(1).exists()
    assert study.trials[2].params == skipped.params  # asked again: it was no attempt


_DIE_BEFORE_SET_UP = """
import os, sys, time
from pipetune import get_backend, load_spec
from pipetune.backends.local import engine

real_set_up = engine.set_up
def set_up(spec, params, number, trial_dir):
    if number == 1:  # the trial asked ahead: its parameters are drawn, its files not laid out
        pidfile = trial_dir.parent / "00000" / "trial.pid"
        deadline = time.monotonic() + 30
        while not (pidfile.exists() and pidfile.read_text().strip()):  # trial 0 has started
            if time.monotonic() > deadline:
                os._exit(8)
            time.sleep(0.01)
        os._exit(9)
    return real_set_up(spec, params, number, trial_dir)
engine.set_up = set_up
get_backend("local").launch(load_spec(sys.argv[1]), "ahead", detach=False)
"""


def _die_laying_out_the_trial_asked_ahead(tmp_path: Path) -> Path:
    """Job ``ahead`` (2 trials of hold.py, one at a time), its coordinator killed after it
    drew trial 1's parameters (asked ahead), before laying out its files. Returns the file
    whose removal lets trial 0 end."""
    hold = tmp_path / "hold"
    hold.write_text("")
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(script_spec(
        "hold.py", budget={"max_trials": 2, "max_parallel": 1},
        trial={"command": [sys.executable, str(SCRIPTS / "hold.py"), str(hold)],
               "grace_period": 1.0})))
    died = subprocess.run([sys.executable, "-c", _DIE_BEFORE_SET_UP, str(spec_file)],
                          capture_output=True, text=True, timeout=60)
    assert died.returncode == 9, died.stderr
    return hold


def test_coordinator_killed_between_drawing_and_laying_out_a_trial_is_no_attempt(home, tmp_path):
    """CI found this window: a coordinator that dies after drawing the parameters of the trial
    it asks ahead, before it lays out that trial's directory, left a trial the next one took
    for "ran on another machine", so it was retried and charged as an interruption. The
    directory is now made before any parameter is drawn: the trial is no attempt, asked again."""
    from pipetune.backends.local.jobstore import JobDir, T_EXCLUDED, T_RETRY_OF

    hold = _die_laying_out_the_trial_asked_ahead(tmp_path)
    job = JobDir("ahead")
    asked_ahead = job.load_study().trials[1]
    assert asked_ahead.params and asked_ahead.state.name == "RUNNING"  # drawn, then the death
    assert job.trial_dir(1).is_dir()

    be = get_backend("local")
    be.resume("ahead")
    _wait_for(lambda: not job.trial_dir(1).exists(), "the never-started trial 1 kept its dir")
    hold.unlink()
    assert be.wait("ahead", poll_seconds=0.2, timeout=60).state == JobState.COMPLETED
    study = job.load_study()
    assert not any(T_RETRY_OF in t.user_attrs for t in study.trials)  # nothing was retried
    assert study.trials[1].user_attrs.get(T_EXCLUDED)
    assert study.trials[2].params == asked_ahead.params  # asked again: it was no attempt
    records = be.trials("ahead")
    assert len(records) == 2 and all(r.state == "complete" for r in records)


_DIE_BEFORE_REMOVING_A_DIRECTORY = """
import os, sys, types
from pipetune import get_backend
from pipetune.backends.local import engine

engine.shutil = types.SimpleNamespace(rmtree=lambda *args, **kwargs: os._exit(9))
get_backend("local").resume("ahead", detach=False)
"""


def test_a_never_started_trials_directory_left_by_a_death_is_removed_at_the_next_start(
        home, tmp_path):
    """CI found this window: a coordinator that recorded an asked-ahead trial as no attempt
    and died before removing its directory left that directory for good. The next start
    removes the directories of all trials that never ran."""
    from pipetune.backends.local.jobstore import JobDir, T_EXCLUDED, T_INFO

    hold = _die_laying_out_the_trial_asked_ahead(tmp_path)
    died = subprocess.run([sys.executable, "-c", _DIE_BEFORE_REMOVING_A_DIRECTORY],
                          capture_output=True, text=True, timeout=60)
    assert died.returncode == 9, died.stderr
    job = JobDir("ahead")
    asked_ahead = job.load_study().trials[1]
    assert asked_ahead.user_attrs[T_INFO]["state"] == "discarded"  # recorded, then the death
    assert asked_ahead.user_attrs.get(T_EXCLUDED) and job.trial_dir(1).is_dir()

    be = get_backend("local")
    be.resume("ahead")
    _wait_for(lambda: not job.trial_dir(1).exists(), "the discarded trial 1 kept its dir")
    hold.unlink()
    assert be.wait("ahead", poll_seconds=0.2, timeout=60).state == JobState.COMPLETED
    records = be.trials("ahead")
    assert len(records) == 2 and all(r.state == "complete" for r in records)


@pytest.mark.parametrize("early_stopping", [
    {"type": "median", "startup_trials": 2, "warmup_steps": 2},
    {"type": "successive_halving", "min_resource": 1, "reduction_factor": 3},
], ids=["median", "successive_halving"])
def test_early_stopping_prunes_bad_trials_mid_curve(home, early_stopping):
    be = get_backend("local")
    spec = load_spec(script_spec(
        "slow_curve.py", parameters=[{"name": "x", "type": "continuous", "min": 0.0, "max": 3.0}],
        budget={"max_trials": 10, "max_parallel": 2}, early_stopping=early_stopping,
        strategy="random", seed=11))
    ref = be.launch(spec, "pruned", detach=False)
    records = be.trials(ref)
    pruned = [r for r in records if r.state == "pruned"]
    assert pruned, [(r.params, r.state) for r in records]
    for r in pruned:  # stopped mid-curve: fewer than the 12 steps the script prints
        assert len(r.intermediate) < 12
    assert any(r.state == "complete" for r in records)


def test_in_process_callable_multi_objective_pareto(home, tmp_path):
    (tmp_path / "objectives.py").write_text(
        "def two(params, ctx):\n"
        "    x = params['x']\n"
        "    return {'err': x * x, 'cost': (x - 1) ** 2}\n")
    sys.path.insert(0, str(tmp_path))
    try:
        spec = load_spec({
            "parameters": [{"name": "x", "type": "continuous", "min": -1, "max": 2}],
            "objectives": [{"metric": "err", "goal": "minimize"}, {"metric": "cost", "goal": "minimize"}],
            "trial": {"callable": "objectives:two"}, "budget": {"max_trials": 12}, "seed": 1})
        be = get_backend("local")
        ref = be.launch(spec, "mo", detach=False)
        best = be.best(ref)
        front = best.pareto_front
        done = [r for r in be.trials(ref) if r.state == "complete"]

        def dominates(a, b):
            return (a.metrics["err"] <= b.metrics["err"] and a.metrics["cost"] <= b.metrics["cost"]
                    and a.metrics != b.metrics)

        front_ids = {t.id for t in front}
        assert front_ids and len(done) == 12
        for t in done:
            dominated = any(dominates(o, t) for o in done)
            assert dominated == (t.id not in front_ids)
        for t in front:
            assert t.metrics["err"] == pytest.approx(t.params["x"] ** 2)
    finally:
        sys.path.remove(str(tmp_path))


def test_conditional_reverse_log_and_discrete_parameters(home):
    spec = load_spec(script_spec(
        "echo_contract.py",
        parameters=[
            {"name": "opt", "type": "categorical", "values": ["sgd", "adam"]},
            {"name": "momentum", "type": "continuous", "min": 0.9, "max": 0.999,
             "scaling": "reverse_log", "condition": {"parent": "opt", "values": ["sgd"]}},
            {"name": "batch", "type": "discrete", "values": [16, 32, 64]},
        ], strategy="random", budget={"max_trials": 8, "max_parallel": 2}))
    be = get_backend("local")
    ref = be.launch(spec, "cond", detach=False)
    for r in be.trials(ref):
        assert ("momentum" in r.params) == (r.params["opt"] == "sgd")
        if "momentum" in r.params:
            assert 0.9 <= r.params["momentum"] <= 0.999
        assert r.params["batch"] in (16, 32, 64) and isinstance(r.params["batch"], int)
        seen = json.loads((be._job(ref).trial_dir(r.number) / "seen.json").read_text())
        assert f"--batch={r.params['batch']}" in seen["argv"]


def test_warm_start_seeds_from_parent_and_rejects_mismatch(home):
    be = get_backend("local")
    parent = load_spec(script_spec("quadratic.py"))
    be.launch(parent, "parent", detach=False)
    child = load_spec(script_spec("quadratic.py", warm_start={"parents": ["parent"]},
                                  budget={"max_trials": 9, "max_parallel": 1}))
    ref = be.launch(child, "child", detach=False)
    records = be.trials(ref)
    seeded = [r for r in records if r.warm_start_from]
    own = [r for r in records if not r.warm_start_from]
    assert len(seeded) == 6 and {r.warm_start_from for r in seeded} == {f"parent#{i}" for i in range(6)}
    assert len(own) == 9 and all(r.state == "complete" for r in own)  # the budget is the child's own
    best = be.best(ref)
    assert best.trial in {r.id for r in own} and best.trials_total == 9
    with pytest.raises(SpecError, match="warm_start.parents"):
        be.launch(load_spec(script_spec("quadratic.py", warm_start={"parents": ["nope"]})), "c2")
    other = script_spec("quadratic.py", warm_start={"parents": ["parent"]})
    other["parameters"] = other["parameters"][:2]
    with pytest.raises(SpecError, match="only in the parent \\['kind'\\]"):
        be.launch(load_spec(other), "c3")
    assert not (home / ".pipetune/jobs/c2").exists() and not (home / ".pipetune/jobs/c3").exists()


def test_target_value_completes_early(home):
    be = get_backend("local")
    spec = load_spec(script_spec("quadratic.py", budget={"max_trials": 30, "max_parallel": 1,
                                                         "target_value": 5.0}))
    ref = be.launch(spec, "target", detach=False)
    st = be.status(ref)
    assert st.state == JobState.COMPLETED and "target value" in st.reason
    assert st.trials.complete < 30


def test_command_not_found_is_refused_before_anything_is_created(home):
    spec = load_spec(script_spec("quadratic.py", trial={"command": ["no-such-binary-xyz"]}))
    with pytest.raises(SpecError, match="trial.command"):
        get_backend("local").launch(spec, "nocmd")
    assert not (home / ".pipetune/jobs/nocmd").exists()


def test_hyperparameter_values_reach_the_trial_literally(home):
    nasty = ["a b", "$(touch pwned)", "x;rm -rf /", "quote'\"", "new\nline", "`id`"]
    spec = load_spec(script_spec(
        "echo_contract.py", parameters=[{"name": "s", "type": "categorical", "values": nasty}],
        strategy="grid", budget={"max_trials": 6, "max_parallel": 2}))
    be = get_backend("local")
    ref = be.launch(spec, "nasty", detach=False)
    got = set()
    for r in be.trials(ref):
        seen = json.loads((be._job(ref).trial_dir(r.number) / "seen.json").read_text())
        got.add(seen["argv"][0].split("=", 1)[1])
    assert got == set(nasty)
    assert not (home / "pwned").exists()


def test_trials_are_recorded_alike_with_optunas_tell_or_its_fallback(home, monkeypatch):
    """The engine records a trial through Optuna's ``_tell_with_warning`` (``study.tell``
    without the deep copy it returns); an Optuna without it gets ``study.tell``: the same
    trials, values and states either way."""
    from pipetune.backends.local import engine

    from .conftest import inprocess_spec

    assert engine._tell_with_warning is not None  # the pinned Optuna has it
    be = get_backend("local")
    spec = inprocess_spec(12).with_overrides(strategy="tpe", seed=3)
    fast = be.trials(be.launch(spec, "fast", detach=False))
    monkeypatch.setattr(engine, "_tell_with_warning", None)
    plain = be.trials(be.launch(spec, "plain", detach=False))
    assert [(r.params, r.state, r.metrics) for r in fast] == \
        [(r.params, r.state, r.metrics) for r in plain]
    assert len(fast) == 12 and all(r.state == "complete" for r in fast)
