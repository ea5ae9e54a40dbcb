import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "scripts"
PIPETUNE = str(Path(sys.executable).parent / "pipetune")


def cli(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess:
    """The ``pipetune`` command as a user runs it, on the jobs under ``home``; with ``check``
    a non-zero exit fails the test and shows both outputs."""
    env = dict(os.environ, PIPETUNE_HOME=str(home / ".pipetune"), COLUMNS="200")
    proc = subprocess.run([PIPETUNE, *args], cwd=home, env=env, capture_output=True, text=True,
                          timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def home(tmp_path, monkeypatch):
    """Jobs land in a fresh PIPETUNE_HOME; the working directory is a temp dir too."""
    monkeypatch.setenv("PIPETUNE_HOME", str(tmp_path / ".pipetune"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def script_spec(script: str, **overrides):
    """A spec whose trial runs tests/core/scripts/<script> with this Python."""
    body = {
        "parameters": [
            {"name": "x", "type": "continuous", "min": -2.0, "max": 2.0},
            {"name": "n", "type": "integer", "min": 1, "max": 5},
            {"name": "kind", "type": "categorical", "values": ["a", "b"]},
        ],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "metrics": [{"name": "loss", "regex": r"loss=([-+0-9.eEnaif]+)"}],
        "trial": {"command": [sys.executable, str(SCRIPTS / script)], "grace_period": 1.0},
        "budget": {"max_trials": 6, "max_parallel": 2},
        "seed": 3,
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return body


def inprocess_spec(max_trials: int):
    """A spec of ``max_trials`` cheap in-process trials (the benchmarks' no-op objective)."""
    from pipetune import load_spec

    return load_spec({"parameters": [{"name": "x", "type": "continuous", "min": -5, "max": 5},
                                     {"name": "lr", "type": "continuous", "min": 0.001, "max": 1},
                                     {"name": "depth", "type": "integer", "min": 1, "max": 4}],
                      "objectives": [{"metric": "loss", "goal": "minimize"}],
                      "trial": {"callable": "benchmarks.entry_points:noop_objective"},
                      "budget": {"max_trials": max_trials}})
