"""Budget stop and convergence flag driven by real local jobs (real trial processes)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from obs_helpers import script_spec
from prometheus_client.parser import text_string_to_metric_families

from pipetune import get_backend, load_spec
from pipetune.errors import JobStopped
from pipetune.job import JobState
from pipetune.observability.convergence import parse_time
from pipetune.observability.cost import estimate_cost
from pipetune.observability.exporter import render
from pipetune.observability.snapshot import NotConverging, enforce_convergence, observe

PIPETUNE = str(Path(sys.executable).parent / "pipetune")


def cli(*args, home):
    env = dict(os.environ, PIPETUNE_HOME=str(home / ".pipetune"), COLUMNS="200")
    return subprocess.run([PIPETUNE, *args], cwd=home, env=env, capture_output=True, text=True,
                          timeout=120)


def flag_of(text: str, job: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "pipetune_not_converging" and s.labels["pipetune_job"] == job:
                return s.value
    raise AssertionError(f"no pipetune_not_converging for {job}")


def test_max_cost_usd_stops_a_local_job_with_the_reason(home):
    price, limit = 36.0, 0.02  # $0.01 per CPU-second; each trial runs ~0.7 s
    be = get_backend("local")
    spec = load_spec(script_spec("obs_sleepy.py", static={"sleep": 0.6},
                                 budget={"max_trials": 12, "max_parallel": 1,
                                         "max_cost_usd": limit},
                                 cost={"cpu_hour_usd": price}))
    ref = be.launch(spec, "capped", detach=False)
    st = be.status(ref)
    assert st.state == JobState.STOPPED
    assert "budget.max_cost_usd $0.02" in st.reason and "CPU-seconds" in st.reason
    spent = float(re.search(r"estimated cost \$([0-9.]+)", st.reason).group(1))
    assert spent > limit
    with pytest.raises(JobStopped, match="max_cost_usd"):
        be.wait(ref)
    records = be.trials(ref)
    assert 1 <= sum(r.state == "complete" for r in records) < 12
    # no trial started once the trials finished before it had spent the budget
    for t in records:
        started = parse_time(t.started_at)
        before = sum(r.duration_seconds for r in records
                     if r.finished_at and parse_time(r.finished_at) < started)
        assert before * price / 3600 <= limit, f"trial {t.number} started over budget"
    assert estimate_cost(ref).usd == pytest.approx(
        sum(r.duration_seconds for r in records) * price / 3600, abs=1e-5)


def test_a_lucky_first_trial_then_nothing_close_is_flagged_not_converging(home, caplog):
    be = get_backend("local")
    spec = load_spec(script_spec("obs_lucky.py", metric="score", goal="maximize",
                                 budget={"max_trials": 8, "max_parallel": 2},
                                 convergence={"window": 3, "min_trials": 6}))
    ref = be.launch(spec, "stuck", detach=False)
    snap = observe(ref)
    assert snap.convergence.converging is False
    assert snap.convergence.best == 10.0 and snap.convergence.recent_best <= 1.0
    assert snap.convergence.progress < 0.5
    assert snap.status.converging is False and "not converging" in snap.status.convergence_reason
    assert snap.improvement.trial_number == 0  # nothing improved after the lucky trial
    assert flag_of(render([ref]), "stuck") == 1

    with caplog.at_level(logging.WARNING, logger="pipetune.observability"):
        enforce_convergence(snap, "warn")
    assert "stuck" in caplog.text and "not converging" in caplog.text
    with pytest.raises(NotConverging, match="stuck"):
        enforce_convergence(snap, "fail")
    assert enforce_convergence(snap, "ignore").converging is False

    from pipetune.report import render_markdown

    report = render_markdown(spec, be.best(ref), be.trials(ref))
    assert "Convergence: **not converging** (the best of the last 3 trials" in report
    cpu_seconds = sum(t.duration_seconds for t in be.trials(ref))
    assert f"Estimated cost: ${snap.cost.usd:,.2f} ({cpu_seconds / 3600:,.2f} CPU-hours" in report

    shown = cli("status", "stuck", home=home)
    assert shown.returncode == 0, shown.stderr
    assert "NOT converging" in shown.stdout and "cost ≈ $" in shown.stdout
    as_json = json.loads(cli("status", "stuck", "--json", home=home).stdout)
    assert as_json["converging"] is False and as_json["cost_usd"] > 0


def test_an_improving_job_is_converging(home):
    be = get_backend("local")
    spec = load_spec(script_spec("obs_improving.py", metric="score", goal="maximize",
                                 budget={"max_trials": 7, "max_parallel": 1},
                                 convergence={"window": 3, "min_trials": 6}))
    ref = be.launch(spec, "climbing", detach=False)
    snap = observe(ref)
    assert snap.convergence.converging is True and snap.convergence.progress == 1.0
    assert snap.improvement.trial_number == 6  # every trial improved on the last
    assert flag_of(render([ref]), "climbing") == 0
    assert "· converging" in cli("status", "climbing", home=home).stdout
    from pipetune.report import render_markdown

    assert "Convergence: converging (" in render_markdown(spec, be.best(ref), be.trials(ref))
