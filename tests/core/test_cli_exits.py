"""Every job command on a completed, a failed and a stopped job: the exit code is the
README's (0 done, 2 invalid for this job, 3 failed, 4 stopped) and ``--json`` output parses."""

from __future__ import annotations

import json
import sys
import time

import pytest
import yaml
from typer.testing import CliRunner

from pipetune import get_backend, load_spec
from pipetune.cli import app
from pipetune.errors import JobStopped
from pipetune.job import JobState

from .conftest import script_spec

#: trial 0 completes at once, every later one runs until it is stopped
FIRST_QUICK = ("import os, time\n"
               "if os.environ['PIPETUNE_TRIAL_NUMBER'] != '0': time.sleep(60)\n"
               "print('loss=1.0')")


def _spec(code: str, **budget) -> dict:
    body = script_spec("quadratic.py", budget={"max_trials": 2, "max_parallel": 1, **budget})
    body["trial"]["command"] = [sys.executable, "-c", code]
    return body


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """Three local jobs (``done``, ``broke``, ``halted``) and the folder holding their specs."""
    root = tmp_path_factory.mktemp("exits")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIPETUNE_HOME", str(root / ".pipetune"))
        be = get_backend("local")
        specs = {"done": _spec("print('loss=1.0')"),
                 "broke": _spec("raise SystemExit(1)", max_failed=0),
                 "halted": _spec(FIRST_QUICK, max_trials=3)}
        for name, body in specs.items():
            (root / f"{name}.yaml").write_text(yaml.safe_dump(body))
        be.launch(load_spec(specs["done"]), "done", detach=False)
        be.launch(load_spec(specs["broke"]), "broke", detach=False)
        ref = be.launch(load_spec(specs["halted"]), "halted")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st = be.status(ref)
            if st.trials.complete and st.trials.running:
                break
            time.sleep(0.1)
        be.stop(ref)
        with pytest.raises(JobStopped):
            be.wait(ref, poll_seconds=0.1, timeout=60)
        states = {name: be.status(name).state for name in specs}
        assert states == {"done": JobState.COMPLETED, "broke": JobState.FAILED,
                          "halted": JobState.STOPPED}
        mp.chdir(root)
        yield root


STATES = {"completed": "done", "failed": "broke", "stopped": "halted"}

#: (command and arguments, JOB standing for the job's name) -> exit code per job state
EXPECTED = [
    (["status", "JOB", "--json"], {"completed": 0, "failed": 0, "stopped": 0}),
    (["wait", "JOB", "--json", "--poll", "0.1"], {"completed": 0, "failed": 3, "stopped": 4}),
    (["trials", "JOB", "--json"], {"completed": 0, "failed": 0, "stopped": 0}),
    # the best trial so far; a job with no completed trial has none: the job failed
    (["best", "JOB", "--format", "json"], {"completed": 0, "failed": 3, "stopped": 0}),
    # stop on an ended job: nothing to do, and it says so
    (["stop", "JOB"], {"completed": 0, "failed": 0, "stopped": 0}),
    # resume on an ended job: invalid for this job
    (["resume", "JOB"], {"completed": 2, "failed": 2, "stopped": 2}),
    # launch attaches and prints the handle; tune attaches and exits as wait does
    (["launch", "JOB.yaml", "--name", "JOB"], {"completed": 0, "failed": 0, "stopped": 0}),
    (["tune", "JOB.yaml", "--name", "JOB", "--json"], {"completed": 0, "failed": 3, "stopped": 4}),
    (["report", "JOB", "--out", "reports/JOB"], {"completed": 0, "failed": 0, "stopped": 0}),
]


def _run(args: list[str]):
    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("command,codes", EXPECTED, ids=[" ".join(c[0][:1]) for c in EXPECTED])
def test_exit_code_and_json_on_an_ended_job(jobs, state, command, codes):
    name = STATES[state]
    result = _run([a.replace("JOB", name) for a in command])
    assert result.exit_code == codes[state], (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    if command[0] in ("status", "wait", "trials", "launch", "report") or (
            command[0] in ("best", "tune") and result.exit_code == 0):
        json.loads(result.stdout)  # stdout is JSON and nothing else
    if result.exit_code in (3, 4):
        assert f"tuning job {name!r}" in result.stderr and state in result.stderr.replace(
            "was stopped", "stopped")


def test_wait_json_prints_the_status_of_a_failed_or_stopped_job(jobs):
    for name, state, code in (("broke", "failed", 3), ("halted", "stopped", 4)):
        result = _run(["wait", name, "--json"])
        status = json.loads(result.stdout)
        assert (result.exit_code, status["state"]) == (code, state)
        assert status["reason"] and status["reason"] in result.stderr


@pytest.mark.parametrize("state", list(STATES))
def test_stop_on_an_ended_job_says_how_it_ended(jobs, state):
    name = STATES[state]
    before = get_backend("local").status(name)
    result = _run(["stop", name])
    assert "stop requested" not in result.stderr
    assert f"{name} has already ended: {state} ({before.reason}); nothing to stop" in result.stderr
    assert get_backend("local").status(name).state == before.state


@pytest.mark.parametrize("state", list(STATES))
def test_launch_attaching_to_an_ended_job_says_so(jobs, state):
    name = STATES[state]
    result = _run(["launch", f"{name}.yaml", "--name", name])
    assert json.loads(result.stdout)["name"] == name
    assert f"{name} exists and has ended: {state}" in result.stderr


@pytest.mark.parametrize("state", list(STATES))
def test_resume_on_an_ended_job_says_why_not(jobs, state):
    name = STATES[state]
    result = _run(["resume", name])
    assert result.exit_code == 2
    assert f"job {name!r} has ended: {state}" in result.stderr
    assert "only an interrupted job" in result.stderr and f"parents: [{name}]" in result.stderr


def test_trials_json_gives_intermediate_values_as_an_object_by_step(jobs):
    result = _run(["trials", "done", "--json"])
    records = json.loads(result.stdout)
    assert records and all(isinstance(r["intermediate"], dict) for r in records)
    spec = _spec("print('loss=3.0'); print('loss=2.0'); print('loss=1.0')")
    (jobs / "steps.yaml").write_text(yaml.safe_dump(spec))
    assert _run(["tune", "steps.yaml", "--name", "steps", "--json"]).exit_code == 0
    records = json.loads(_run(["trials", "steps", "--json"]).stdout)
    assert [r["intermediate"] for r in records] == [{"0": 3.0, "1": 2.0, "2": 1.0}] * 2


def test_wait_json_prints_the_status_when_the_timeout_runs_out(jobs):
    hold = jobs / "hold"
    hold.write_text("")
    code = f"import os, time\nwhile os.path.exists({str(hold)!r}): time.sleep(0.05)\nprint('loss=1')"
    be = get_backend("local")
    ref = be.launch(load_spec(_spec(code, max_trials=1)), "held")
    try:
        result = _run(["wait", "held", "--json", "--timeout", "0.5", "--poll", "0.1"])
        assert result.exit_code == 5, result.stderr
        assert json.loads(result.stdout)["state"] in ("pending", "running")
    finally:
        hold.unlink()
        be.wait(ref, poll_seconds=0.1, timeout=60)
