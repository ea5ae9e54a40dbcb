"""What a resumed engine finds in a trial directory its dead predecessor left (issue 18):
a kept outcome, a live process (by pid, or only by the pidfile's lock when the engine died
between the spawn and writing the pid), a process that ended unwatched, or nothing started."""

from __future__ import annotations

import sys
import threading
import time

from pipetune import load_spec
from pipetune.trials.process import run_process
from pipetune.trials.recovery import adopt, left_behind
from pipetune.trials.runner import PIDFILE, TrialOutcome, set_up, write_outcome

from .conftest import SCRIPTS, script_spec

PARAMS = {"x": 0.5, "n": 1, "kind": "a"}


def _hold_spec(hold):
    return load_spec(script_spec("hold.py", trial={
        "command": [sys.executable, str(SCRIPTS / "hold.py"), str(hold)], "grace_period": 1.0}))


def test_a_trial_asked_but_never_started_and_one_with_a_kept_outcome(tmp_path):
    spec = _hold_spec(tmp_path / "hold")
    trial_dir = tmp_path / "t0"
    set_up(spec, PARAMS, 0, trial_dir)
    assert left_behind(spec, PARAMS, 0, trial_dir).kind == "not_started"
    kept = TrialOutcome("complete", {"loss": 0.25}, duration=1.5, intermediate=[(0, 1.0)])
    write_outcome(trial_dir, kept)
    found = left_behind(spec, PARAMS, 0, trial_dir)
    assert found.kind == "finished" and found.outcome == kept
    assert left_behind(spec, PARAMS, 0, tmp_path / "elsewhere").kind == "unknown"


def test_a_live_trial_is_found_by_its_lock_even_without_its_pid_and_adopted(tmp_path):
    hold = tmp_path / "hold"
    hold.write_text("")
    spec = _hold_spec(hold)
    trial_dir = tmp_path / "t1"
    prepared = set_up(spec, PARAMS, 1, trial_dir)
    runner = threading.Thread(target=run_process, args=(prepared.argv,), kwargs=dict(
        cwd=prepared.cwd, env=prepared.env, stdout=trial_dir / "stdout.log",
        stderr=trial_dir / "stderr.log", pidfile=trial_dir / PIDFILE), daemon=True)
    runner.start()
    deadline = time.monotonic() + 30
    while not (trial_dir / PIDFILE).read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert left_behind(spec, PARAMS, 1, trial_dir).kind == "running"
    (trial_dir / PIDFILE).write_text("")  # as if its engine died before writing the pid
    found = left_behind(spec, PARAMS, 1, trial_dir)
    assert found.kind == "running" and found.pid is None  # the inherited lock tells

    outcome: list[TrialOutcome] = []
    waiter = threading.Thread(target=lambda: outcome.append(
        adopt(spec, PARAMS, 1, trial_dir, found.pid)), daemon=True)
    waiter.start()
    time.sleep(0.5)
    assert not outcome  # still waiting for the trial
    hold.unlink()
    waiter.join(30)
    runner.join(30)
    assert outcome and outcome[0].state == "complete" and outcome[0].metrics == {"loss": 1.0}
    assert left_behind(spec, PARAMS, 1, trial_dir).outcome == outcome[0]  # kept on disk


def test_a_trial_that_ended_unwatched_is_judged_from_its_logs(tmp_path):
    spec = _hold_spec(tmp_path / "no-hold")  # hold.py prints at once
    trial_dir = tmp_path / "t2"
    prepared = set_up(spec, PARAMS, 2, trial_dir)
    run_process(prepared.argv, cwd=prepared.cwd, env=prepared.env,
                stdout=trial_dir / "stdout.log", stderr=trial_dir / "stderr.log",
                pidfile=trial_dir / PIDFILE)  # no outcome kept: its engine "died"
    found = left_behind(spec, PARAMS, 2, trial_dir)
    assert found.kind == "finished" and found.outcome.state == "complete"
    assert found.outcome.metrics == {"loss": 1.0}
    (trial_dir / "stdout.log").write_text("")  # printed nothing: no value
    found = left_behind(spec, PARAMS, 2, trial_dir)
    assert found.outcome.state == "failed" and "exit code is not known" in found.outcome.reason
