"""Secret values of ``trial.env`` reach the trial (also from a detached coordinator and
after a resume) but no stored file, database row, log or report: not journal.log, job.json,
the coordinator's log, PostgreSQL's study_user_attributes, nor ``pipetune`` output. Job
folders are 0700 and job files 0600."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
TOKEN = "canary-trial-token-5511"
LISTED = "canary-listed-secret-7722"
EXPECTED = hashlib.sha256(f"{TOKEN}|{LISTED}".encode()).hexdigest()[:12]


def _spec(tmp_path: Path, **extra) -> Path:
    body = {
        "parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "metrics": [{"name": "loss", "regex": "loss=([0-9.]+)"}],
        "trial": {"command": [sys.executable, str(HERE / "secret_env_trial.py")],
                  "env": {"API_TOKEN": TOKEN, "DB_URL_FOR_TRIAL": LISTED, "MODE": "plain"},
                  "secret_env": ["DB_URL_FOR_TRIAL"]},
        "budget": {"max_trials": 3},
        "seed": 1,
        **extra,
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(body))
    return path


def _pipetune(*args: str, home: Path) -> str:
    env = {**os.environ, "PIPETUNE_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-m", "pipetune", *args], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def _all_text(root: Path) -> dict[str, str]:
    return {str(p): p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*")
            if p.is_file() and p.name != "secrets.json"}


def _trial_saw(home: Path, job: str) -> list[str]:
    outs = sorted((home / "jobs" / job / "trials").rglob("stdout*"))
    seen = [line.split("=", 1)[1] for p in outs for line in p.read_text().splitlines()
            if line.startswith("saw=")]
    assert seen, sorted(str(p) for p in (home / "jobs" / job).rglob("*"))
    return seen


def test_secret_env_reaches_the_detached_trial_but_no_file_or_output(tmp_path):
    home = tmp_path / "home"
    spec = _spec(tmp_path)
    outputs = [_pipetune("launch", str(spec), "--name", "sec", home=home)]
    outputs.append(_pipetune("wait", "sec", "--no-progress", home=home))
    for cmd in (["status", "sec", "--json"], ["trials", "sec", "--json"], ["best", "sec"],
                ["report", "sec"]):
        outputs.append(_pipetune(*cmd, home=home))
    assert set(_trial_saw(home, "sec")) == {EXPECTED}  # the trial got both values
    texts = {"<cli>": "\n".join(outputs), **_all_text(home)}
    assert any(p.endswith("journal.log") for p in texts) and any(p.endswith("job.json") for p in texts)
    for where, text in texts.items():
        assert TOKEN not in text and LISTED not in text, f"a secret leaked into {where}"
    assert "plain" in (home / "jobs" / "sec" / "job.json").read_text()  # not every value hidden
    job = home / "jobs" / "sec"
    for folder in (job, job / "trials"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for name in ("job.json", "secrets.json", "journal.log", "coordinator.json", "coordinator.log"):
        assert stat.S_IMODE((job / name).stat().st_mode) == 0o600, name


def test_a_resumed_coordinator_still_gives_the_trial_its_secret(tmp_path):
    home = tmp_path / "home"
    spec = _spec(tmp_path, budget={"max_trials": 12})
    _pipetune("launch", str(spec), "--name", "res", home=home)
    coordinator = json.loads((home / "jobs" / "res" / "coordinator.json").read_text())["pid"]
    deadline = time.time() + 60
    while not list((home / "jobs" / "res" / "trials").rglob("stdout*")) and time.time() < deadline:
        time.sleep(0.1)
    os.kill(coordinator, 9)
    _pipetune("resume", "res", "--foreground", home=home)
    assert set(_trial_saw(home, "res")) == {EXPECTED}
    for where, text in _all_text(home).items():
        assert TOKEN not in text and LISTED not in text, f"a secret leaked into {where}"


def test_secret_env_never_reaches_postgresql(tmp_path, pg_url):
    import psycopg

    home = tmp_path / "home"
    spec = _spec(tmp_path, storage=pg_url)
    _pipetune("launch", str(spec), "--name", "pgsec", home=home)
    _pipetune("wait", "pgsec", "--no-progress", home=home)
    assert set(_trial_saw(home, "pgsec")) == {EXPECTED}
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        rows = conn.execute("SELECT key, value_json FROM study_user_attributes").fetchall()
        trial_rows = conn.execute("SELECT value_json FROM trial_user_attributes").fetchall()
    assert any(key == "pipetune.spec" for key, _ in rows)
    dump = json.dumps([list(r) for r in rows + trial_rows])
    assert TOKEN not in dump and LISTED not in dump
    assert "<redacted>" in dump


def test_a_worker_without_the_secret_file_passes_its_own_environment(tmp_path, monkeypatch):
    from pipetune.secrets import redact_spec_dict, restore_spec_dict
    from pipetune.spec import load_spec
    from pipetune.trials.contracts import prepare

    stored = redact_spec_dict(load_spec(_spec(tmp_path)).to_dict())  # what the study holds
    assert stored["trial"]["env"]["API_TOKEN"] == "<redacted>"
    spec = load_spec(restore_spec_dict(stored, {}))  # a worker on another machine
    assert "API_TOKEN" not in spec.trial.env and spec.trial.env["MODE"] == "plain"
    monkeypatch.setenv("API_TOKEN", "from-the-worker")
    monkeypatch.delenv("DB_URL_FOR_TRIAL", raising=False)
    env = prepare(spec, {"x": 0.5}, tmp_path / "t", 0).env
    assert env["API_TOKEN"] == "from-the-worker" and "DB_URL_FOR_TRIAL" not in env
    # a redacted value that reaches a trial another way is dropped, never passed literally
    raw = load_spec(stored)
    assert "<redacted>" not in prepare(raw, {"x": 0.5}, tmp_path / "u", 1).env.values()
