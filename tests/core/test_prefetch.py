"""Issue 17 item 9: asking a trial ahead (``local.prefetch``, on by default) never changes a
job's outcome. Guards are decided before the trial asked ahead starts, so no guard runs one
trial more than needed; a trial that never ran leaves no directory and is not counted; and
`status` counts only trials that really run."""

from __future__ import annotations

import re
import time

from pipetune import get_backend, load_spec
from pipetune.backends.local.jobstore import ATTR_STARTED, JobDir
from pipetune.job import JobState
from pipetune.observability.cost import local_cost
from pipetune.trials.process import read_pidfile

from .conftest import script_spec


def _spec(monkeypatch, nap: float = 0.2, **budget):
    monkeypatch.setenv("NAP_SECONDS", str(nap))
    return load_spec(script_spec("nap.py", strategy="random", seed=3,
                                 budget={"max_trials": 30, "max_parallel": 1, **budget}))


def _only_counted_trials_have_dirs(name: str) -> list:
    records = sorted(get_backend("local").trials(name), key=lambda r: r.number)
    dirs = sorted(int(p.name) for p in (JobDir(name).path / "trials").iterdir())
    assert dirs == [r.number for r in records]  # the trial asked ahead left nothing behind
    assert all(r.state == "complete" for r in records)
    return records


def test_target_value_runs_no_trial_after_the_one_that_reached_it(home, monkeypatch):
    be = get_backend("local")
    be.launch(_spec(monkeypatch, target_value=100.0), "target", detach=False)  # trial 0 reaches it
    records = _only_counted_trials_have_dirs("target")
    assert [r.number for r in records] == [0]
    assert be.status("target").reason.startswith("target value 100 reached")


def test_no_improvement_stops_exactly_n_trials_after_the_best(home, monkeypatch):
    be = get_backend("local")
    be.launch(_spec(monkeypatch, nap=0.05, no_improvement_trials=2), "flat", detach=False)
    records = _only_counted_trials_have_dirs("flat")
    values = [r.metrics["loss"] for r in records]
    best_at = values.index(min(values))
    assert len(records) < 30 and len(records) - 1 - best_at == 2, values
    assert be.status("flat").reason.startswith("no improvement in 2 trials")


def test_cost_stop_reports_the_real_cost_and_starts_no_trial_past_the_budget(home, monkeypatch):
    be = get_backend("local")
    body = script_spec("nap.py", strategy="random", seed=3,
                       budget={"max_trials": 30, "max_parallel": 1, "max_cost_usd": 0.6},
                       cost={"cpu_hour_usd": 3600.0})  # $1 per CPU-second
    monkeypatch.setenv("NAP_SECONDS", "0.2")
    spec = load_spec(body)
    be.launch(spec, "priced", detach=False)
    st = be.status("priced")
    assert st.state == JobState.STOPPED, st.reason
    records = _only_counted_trials_have_dirs("priced")
    said = float(re.search(r"estimated cost \$([0-9.]+) passed", st.reason).group(1))
    real = local_cost(spec, records).usd
    assert said <= real + 1e-3, (said, real)  # no projection over a trial that never ran
    # every trial started while the cost was within the budget: none ran past it
    assert sum(r.duration_seconds for r in records[:-1]) <= 0.6
    assert sum(r.duration_seconds for r in records) > 0.6


def test_timeout_starts_no_trial_after_it_and_status_counts_only_running_trials(home, monkeypatch):
    be = get_backend("local")
    be.launch(_spec(monkeypatch, nap=0.4, max_trials=50, timeout=1.5), "timed")
    job = JobDir("timed")
    running_seen = set()
    deadline = time.monotonic() + 60
    while not (st := be.status("timed")).state.terminal:
        running_seen.add(st.trials.running)
        assert time.monotonic() < deadline
        time.sleep(0.03)
    assert running_seen <= {0, 1}, running_seen  # max_parallel 1: never 2 (the one ahead)
    assert st.reason.startswith("job timeout of 1.5s reached")
    records = _only_counted_trials_have_dirs("timed")
    started = job.load_study().user_attrs[ATTR_STARTED]
    for r in records:
        spawned = read_pidfile(job.trial_dir(r.number) / "trial.pid")[1]
        assert spawned <= started + 1.5 + 0.05, (r.number, spawned - started)
