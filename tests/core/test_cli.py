"""The `pipetune` command as a user runs it: a real process, exit codes, JSON outputs."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import PIPETUNE, cli, script_spec



def write_spec(home, body, name="spec.yaml"):
    path = home / name
    path.write_text(yaml.safe_dump(body))
    return path


def test_tune_then_best_in_every_format(home):
    write_spec(home, script_spec("quadratic.py"))
    result = json.loads(cli("tune", "spec.yaml", "--name", "q", "--json", home=home).stdout)
    assert set(result["params"]) == {"x", "n", "kind"} and isinstance(result["params"]["n"], int)
    best = json.loads(cli("best", "q", "--format", "json", home=home).stdout)
    assert best["params"] == result["params"] and "loss" in best["metrics"]
    env_lines = cli("best", "q", "--format", "env", home=home).stdout.splitlines()
    assert f"N={best['params']['n']}" in env_lines
    args = cli("best", "q", "--format", "args", home=home).stdout.split()
    assert f"--n={best['params']['n']}" in args
    trials = json.loads(cli("trials", "q", "--json", home=home).stdout)
    assert len(trials) == 6 and {t["state"] for t in trials} == {"complete"}
    status = json.loads(cli("status", "q", "--json", home=home).stdout)
    assert status["state"] == "completed" and status["trials"]["complete"] == 6
    # piped: one line per document (scripts, jq); at a terminal: indented for a person
    piped = cli("trials", "q", "--json", home=home).stdout
    assert piped.count("\n") == 1
    at_terminal = _in_a_terminal("trials", "q", "--json", home=home)
    assert at_terminal.startswith("[\n  {") and json.loads(at_terminal) == trials


def _in_a_terminal(*args, home) -> str:
    """stdout of the command run on a pseudo-terminal, as a person at a shell sees it."""
    import pty

    env = dict(os.environ, PIPETUNE_HOME=str(home / ".pipetune"), COLUMNS="200")
    main, child = pty.openpty()
    proc = subprocess.Popen([PIPETUNE, *args], cwd=home, env=env, stdout=child,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert proc.wait(timeout=300) == 0
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_launch_wait_and_report(home):
    write_spec(home, script_spec("quadratic.py"))
    ref = json.loads(cli("launch", "spec.yaml", "--name", "bg", home=home).stdout)
    assert ref["backend"] == "local" and ref["name"] == "bg"
    cli("wait", "bg", "--poll", "0.5", "--no-progress", home=home)
    files = json.loads(cli("report", "bg", "--out", "rep", home=home).stdout)
    md = Path(files["markdown"]).read_text()
    assert "Best loss" in md and "| # | loss |" in md
    html = Path(files["html"]).read_text()
    assert html.count("data:image/png;base64,") == len(files["images"]) >= 2


@pytest.mark.parametrize("body,field", [
    ("parameters: [\n", "malformed YAML"),
    ("parameters: []\nobjectives: [{metric: a}]\ntrial: {command: [python]}\n", "parameters"),
    (None, "budget: max_parallel (9) cannot exceed max_trials (6)"),
])
def test_invalid_spec_exits_2_with_the_field_and_creates_nothing(home, body, field):
    path = home / "bad.yaml"
    if body is None:
        path.write_text(yaml.safe_dump(script_spec("quadratic.py", budget={"max_parallel": 9})))
    else:
        path.write_text(body)
    proc = cli("tune", "bad.yaml", "--name", "bad", home=home, check=False)
    assert proc.returncode == 2
    assert field in proc.stderr and "Traceback" not in proc.stderr
    assert not (home / ".pipetune" / "jobs" / "bad").exists()


def test_unknown_job_and_failed_job_exit_codes(home):
    proc = cli("best", "ghost", home=home, check=False)
    assert proc.returncode == 2 and "no job named 'ghost'" in proc.stderr
    write_spec(home, script_spec("faulty.py", budget={"max_trials": 3, "max_parallel": 1,
                                                      "trial_timeout": 1, "max_failed": 0}))
    proc = cli("tune", "spec.yaml", "--name", "f", "--no-progress", home=home, check=False)
    assert proc.returncode == 3 and "max_failed=0" in proc.stderr


def test_lint_and_schema(home):
    body = script_spec("quadratic.py")
    body["parameters"].append({"name": "lr", "type": "continuous", "min": 1e-6, "max": 1.0,
                               "scaling": "linear"})
    write_spec(home, body)
    warnings = json.loads(cli("lint", "spec.yaml", "--json", home=home).stdout)
    assert any(w["field"] == "parameters[3].scaling" for w in warnings)
    assert cli("lint", "spec.yaml", "--strict", home=home, check=False).returncode == 1
    schema = json.loads(cli("schema", home=home).stdout)
    assert schema["title"] == "pipetune tuning spec"
