"""Pull-request code never sees the runner's credentials: the action's step, run as the
runner runs it, tunes a trial that records which variables it can see. The workflow's
token, the runner's ACTIONS_* credentials and anything not on the allowlist are absent
from a command trial's environment and from the process of a callable trial; a variable
the workflow passes on purpose (``trial-env``) and the spec's own ``trial.env`` arrive."""

from __future__ import annotations

import json
import sys

import pytest
import yaml
from github_helpers import TOKEN
from test_end_to_end import SPEC, Runner

PROBE = '''
import json, os, sys

OUT = {out!r}

WATCH = ["GITHUB_TOKEN", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
         "AWS_SECRET_ACCESS_KEY", "WANDB_MODE", "FROM_SPEC", "PATH"]


def seen():
    return {name: name in os.environ for name in WATCH}


def run(params, ctx):
    with open(OUT, "a") as fh:
        fh.write(json.dumps(seen()) + "\\n")
    return {"loss": float(params["x"]) ** 2}


if __name__ == "__main__":
    with open(OUT, "a") as fh:
        fh.write(json.dumps(seen()) + "\\n")
    print("loss=1.0")
'''
RUNNER_SECRETS = {"ACTIONS_RUNTIME_TOKEN": "actions-runtime-canary",
                  "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-canary",
                  "AWS_SECRET_ACCESS_KEY": "aws-canary", "WANDB_MODE": "offline"}


@pytest.fixture
def runner(tmp_path, github, pipetune_home) -> Runner:
    return Runner(tmp_path, github.api_url)


def _probe_spec(runner: Runner, name: str, out: str, **trial) -> str:
    (runner.workspace / "tuning" / "probe.py").write_text(PROBE.replace("{out!r}", repr(out)))
    spec = yaml.safe_load((runner.workspace / SPEC).read_text())
    spec["metrics"] = [{"name": "loss", "regex": "^loss=([0-9.eE+-]+)"}]
    spec["trial"] = {"workdir": ".", "env": {"FROM_SPEC": "1"}, **trial}
    (runner.workspace / "tuning" / name).write_text(yaml.safe_dump(spec))
    return f"tuning/{name}"


@pytest.mark.parametrize("kind", ["command", "callable"])
def test_the_token_and_runner_credentials_never_reach_pull_request_code(runner, github,
                                                                        tmp_path, kind):
    out = tmp_path / f"seen-{kind}.jsonl"
    trial = ({"command": [sys.executable, "probe.py"]} if kind == "command"
             else {"callable": "probe:run"})
    spec = _probe_spec(runner, f"probe-{kind}.yaml", str(out), **trial)
    step = runner.run_step({"spec": spec, "max-trials": "2", "trial-env": "WANDB_MODE"},
                           run_id=901, event=runner.event(), runner_env=RUNNER_SECRETS)
    assert step.returncode == 0, step.stderr
    seen = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(seen) == 2
    for view in seen:
        assert view["GITHUB_TOKEN"] is False  # the reason for all this
        assert view["ACTIONS_RUNTIME_TOKEN"] is False and view["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] is False
        assert view["PATH"] is True
        if kind == "command":  # a separate process: only the allowlist, what was passed on
            assert view["AWS_SECRET_ACCESS_KEY"] is False and view["WANDB_MODE"] is True
            assert view["FROM_SPEC"] is True  # purpose (trial-env) and the spec's trial.env
    # the step still used the token: the pull request got its comment
    assert github.comments.get(7) and TOKEN not in step.stdout + step.stderr


def test_isolation_lasts_for_the_step_only(monkeypatch, tmp_path):
    from pipetune.github.env import isolated_trials
    from pipetune.spec import load_spec
    from pipetune.trials.contracts import prepare

    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("ACTIONS_RUNTIME_TOKEN", "actions-runtime-canary")
    monkeypatch.setenv("SOME_SETTING", "1")
    spec = load_spec({"parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
                      "objectives": [{"metric": "loss"}],
                      "metrics": [{"name": "loss", "regex": "loss=(.+)"}],
                      "trial": {"command": [sys.executable, "t.py"], "env": {"FROM_SPEC": "1"}}})
    with isolated_trials(["SOME_SETTING"]):
        import os

        assert "GITHUB_TOKEN" not in os.environ and "ACTIONS_RUNTIME_TOKEN" not in os.environ
        env = prepare(spec, {"x": 0.5}, tmp_path / "a", 0).env
        assert "GITHUB_TOKEN" not in env and env["SOME_SETTING"] == "1" and env["FROM_SPEC"] == "1"
    after = prepare(spec, {"x": 0.5}, tmp_path / "b", 1).env  # back to the whole environment
    assert after["GITHUB_TOKEN"] == TOKEN and after["ACTIONS_RUNTIME_TOKEN"] == "actions-runtime-canary"
