"""SIGKILL at >= 20 random points of a job, of the coordinator and separately of workers,
then resume: no completed trial lost, none counted twice, exactly max_trials, and the best
is the best of the records."""

from __future__ import annotations

import json
import os
import random
import signal
import time

from optuna.trial import TrialState
from scaleout_fixtures import callable_spec, check_exact_budget, start_worker

from pipetune import get_backend, load_spec
from pipetune.backends.local.jobstore import JobDir

KILLS = 20


def _completed(study) -> dict[int, float]:
    return {t.number: t.values[0] for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}


def _check_against_records(name: str, max_trials: int, seen: dict[int, float], ledger) -> None:
    study = JobDir(name).load_study()
    counted = check_exact_budget(study, max_trials)
    final = _completed(study)
    for number, value in seen.items():  # a result once stored is never lost nor changed
        assert final.get(number) == value, number
    computed = {(r["number"], r["value"]) for r in map(json.loads, ledger.read_text().splitlines())}
    assert set(final.items()) <= computed  # every stored result was computed by a trial
    records = get_backend("local").trials(name)
    assert len(records) == max_trials and len({r.number for r in records}) == max_trials
    best = get_backend("local").best(name)
    assert best.value == min(r.metrics["loss"] for r in records if r.state == "complete")
    assert best.value == min(t.values[0] for t in counted if t.state == TrialState.COMPLETE)


def test_coordinator_killed_at_20_random_points_then_resumed(home, monkeypatch):
    rng = random.Random(20261130)
    ledger = home / "ledger.jsonl"
    monkeypatch.setenv("PIPETUNE_TEST_LEDGER", str(ledger))
    monkeypatch.setenv("PIPETUNE_TEST_SLEEP", "0.2")
    be = get_backend("local")
    spec = load_spec(callable_spec("quick", max_trials=90, strategy="tpe"))
    be.launch(spec, "crashy")  # detached coordinator
    job = JobDir("crashy")
    seen: dict[int, float] = {}
    for kill in range(KILLS):
        time.sleep(rng.uniform(0.4, 1.6))
        pid = job.coordinator()["pid"]
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _reap(pid)
        study = job.load_study()
        assert not be.status("crashy").state.terminal, f"the job ended after {kill} kills, {len(seen)} trials"
        seen.update(_completed(study))
        be.resume("crashy")
    st = be.wait("crashy", poll_seconds=0.2, timeout=120)
    assert st.state.value == "completed"
    _check_against_records("crashy", 90, seen, ledger)
    interrupted = [t for t in job.load_study().trials if "pipetune.retry_of" in t.user_attrs]
    assert interrupted, "no kill landed inside a trial: the test proved nothing"


def test_workers_killed_at_20_random_points_then_replaced(home, monkeypatch):
    from pipetune.worker import prepare_shared_job

    rng = random.Random(9)
    ledger = home / "ledger.jsonl"
    env = {"PIPETUNE_TEST_LEDGER": str(ledger), "PIPETUNE_TEST_SLEEP": "0.3"}
    prepare_shared_job(load_spec(callable_spec("quick", max_trials=150)), "herd")
    where = home / "home"
    workers = [start_worker("herd", home=where, **env) for _ in range(2)]
    job = JobDir("herd")
    seen: dict[int, float] = {}
    for _ in range(KILLS):
        time.sleep(rng.uniform(0.4, 1.6))
        victim = workers.pop(rng.randrange(len(workers)))
        try:
            os.killpg(victim.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        victim.wait()
        seen.update(_completed(job.load_study()))
        assert len(seen) < 150, "the job ended before 20 kills"
        workers.append(start_worker("herd", home=where, **env))
    for w in workers:
        assert w.wait(timeout=120) == 0
    _check_against_records("herd", 150, seen, ledger)
    retried = [t for t in job.load_study().trials if "pipetune.retry_of" in t.user_attrs]
    assert retried, "no kill landed inside a trial: the test proved nothing"


def _reap(pid: int) -> None:
    """Wait until the killed process is gone (it is not our child: poll)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(") ", 1)[-1].startswith("Z"):
                    return
        except OSError:
            return
        time.sleep(0.02)
