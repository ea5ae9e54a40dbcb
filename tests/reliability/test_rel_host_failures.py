"""Issue 18: a trial the host failed (its directory could not be laid out) is marked as such,
not charged to the budget, and retried after `pipetune resume` once the host is fixed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from optuna.trial import TrialState
from scaleout_fixtures import callable_spec

from pipetune import get_backend, load_spec
from pipetune.backends.local.jobstore import T_EXCLUDED, T_INFO, JobDir
from pipetune.job import JobState

HERE = Path(__file__).parent
PIPETUNE = str(Path(sys.executable).parent / "pipetune")


def test_host_failure_is_not_charged_and_the_trial_is_retried_after_resume(home, monkeypatch):
    monkeypatch.setenv("DRILL_LEDGER", str(home / "ledger.jsonl"))
    monkeypatch.setenv("DRILL_SLEEP", "0.01")
    body = callable_spec("quick", max_trials=4, max_failed=0)  # one charged failure ends it
    body["trial"] = {"command": [sys.executable, str(HERE / "drill_trial.py")]}
    body["metrics"] = [{"name": "loss", "regex": r"loss=([-+0-9.eE]+)"}]
    spec = load_spec(body)
    be = get_backend("local")
    be.prepare(spec, "hosted")
    trials = JobDir("hosted").path / "trials"
    trials.rmdir()
    trials.write_text("a file where the trial directories go: the host cannot lay them out")

    be.launch(spec, "hosted", detach=False)
    st = be.status("hosted")
    assert st.state == JobState.INTERRUPTED, (st.state, st.reason)
    assert "host failure" in st.reason and str(trials) in st.reason
    assert "pipetune resume hosted" in st.reason
    assert (st.trials.failed, st.trials.complete, st.trials.running) == (0, 0, 0)
    assert be.trials("hosted") == []  # not a trial of the job: nothing charged
    first = JobDir("hosted").load_study().trials[0]
    assert first.user_attrs[T_EXCLUDED] and first.user_attrs[T_INFO]["state"] == "host_error"

    trials.unlink()  # the host is fixed
    trials.mkdir()
    resumed = subprocess.run([PIPETUNE, "resume", "hosted", "--foreground"], capture_output=True,
                             text=True, timeout=120, env=dict(os.environ))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    st = be.status("hosted")
    assert st.state == JobState.COMPLETED and st.trials.complete == 4 and st.trials.failed == 0
    study = JobDir("hosted").load_study()
    retry = next(t for t in study.trials if t.number > 0 and t.params == first.params)
    assert retry.state == TrialState.COMPLETE  # the same parameters, asked again, ran
