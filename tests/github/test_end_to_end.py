"""End to end: the action's own script, as action.yml defines it, in a GitHub-like
environment, on the local backend, against the stand-in GitHub API.

The "Tune and report" step of ``pipelines/github/action.yml`` is read from the file; its
``env:`` block is filled from the inputs the way the runner fills it (``${{ inputs.x }}``
and the input defaults), and its ``run:`` script is executed by bash with ``GITHUB_OUTPUT``,
``GITHUB_STEP_SUMMARY``, ``GITHUB_EVENT_PATH``, ``GITHUB_API_URL``... set. What the step
writes is then read back the way the runner reads it.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from github_helpers import DATA, REPO, TOKEN

from pipetune.backends.local.jobstore import JobDir
from pipetune.github import results_file
from pipetune.github.comments import marker_for
from pipetune.github.commands import parse_outputs
from pipetune.results import BestResult

ACTION = Path(__file__).parents[2] / "pipelines" / "github" / "action.yml"
SPEC = "tuning/spec.yaml"
RESULTS = "tuning/tuned-params.json"
EXPR = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")


@dataclass
class StepRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


class Runner:
    """Runs the action's step the way the GitHub runner would."""

    def __init__(self, tmp: Path, api_url: str):
        self.tmp = tmp
        self.api_url = api_url
        self.workspace = tmp / "workspace"
        (self.workspace / "tuning").mkdir(parents=True)
        (self.workspace / "tuning" / "train.py").write_text((DATA / "train.py").read_text())
        spec = yaml.safe_load((DATA / "spec.yaml").read_text())
        spec["trial"]["command"][0] = sys.executable
        spec["trial"]["workdir"] = "."  # the spec file's folder, tuning/
        (self.workspace / SPEC).write_text(yaml.safe_dump(spec))
        self.action = yaml.safe_load(ACTION.read_text())
        self.step = next(s for s in self.action["runs"]["steps"] if s.get("id") == "run")
        self.runs = 0

    def spec_variant(self, name: str, **trial: object) -> str:
        spec = yaml.safe_load((self.workspace / SPEC).read_text())
        spec["trial"].update(trial)
        (self.workspace / "tuning" / name).write_text(yaml.safe_dump(spec))
        return f"tuning/{name}"

    def event(self, head_repo: str = REPO, base_sha: str | None = None, number: int = 7) -> dict:
        return {"action": "synchronize", "number": number,
                "pull_request": {"number": number, "base": {"ref": "main", "sha": base_sha},
                                 "head": {"ref": "feature", "repo": {"full_name": head_repo}}},
                "repository": {"full_name": REPO, "default_branch": "main"}}

    def expand(self, value: str, inputs: dict[str, str]) -> str:
        def sub(m: re.Match) -> str:
            ref = m.group(1)
            if ref.startswith("inputs."):
                name = ref[len("inputs."):]
                if name in inputs:
                    return inputs[name]
                return self.expand(str(self.action["inputs"][name].get("default", "")), inputs)
            if ref == "github.token":
                return TOKEN
            raise AssertionError(f"unexpected expression {ref}")
        return EXPR.sub(sub, value)

    def github_env(self, run_id: int, event: dict | None, home: str) -> dict[str, str]:
        self.runs += 1
        d = self.tmp / f"run{self.runs}"
        d.mkdir()
        (d / "temp").mkdir()
        env = {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_REPOSITORY": REPO,
               "GITHUB_API_URL": self.api_url, "GITHUB_SERVER_URL": "https://github.com",
               "GITHUB_RUN_ID": str(run_id), "GITHUB_RUN_ATTEMPT": "1", "GITHUB_SHA": "f" * 40,
               "GITHUB_WORKSPACE": str(self.workspace), "RUNNER_TEMP": str(d / "temp"),
               "GITHUB_OUTPUT": str(d / "output"), "GITHUB_STEP_SUMMARY": str(d / "summary"),
               "PIPETUNE_HOME": str(self.tmp / home)}
        (d / "output").touch()
        (d / "summary").touch()
        if event is not None:
            (d / "event.json").write_text(json.dumps(event))
            env.update(GITHUB_EVENT_PATH=str(d / "event.json"), GITHUB_EVENT_NAME="pull_request")
        else:
            (d / "event.json").write_text(json.dumps({"repository": {"default_branch": "main"}}))
            env.update(GITHUB_EVENT_PATH=str(d / "event.json"), GITHUB_EVENT_NAME="schedule")
        return env

    def run_step(self, inputs: dict[str, str], *, run_id: int, event: dict | None,
                 home: str = "home", runner_env: dict[str, str] | None = None) -> StepRun:
        genv = self.github_env(run_id, event, home)
        step_env = {k: self.expand(str(v), inputs) for k, v in self.step["env"].items()}
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GITHUB_", "PIPETUNE_GH_", "RUNNER_"))}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update(genv)
        env.update(runner_env or {})
        env.update(step_env)
        cwd = self.workspace / self.expand(self.step.get("working-directory", "."), inputs)
        proc = subprocess.run(["bash", "-e", "-c", self.step["run"]], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=120)
        return StepRun(proc.returncode, proc.stdout, proc.stderr,
                       parse_outputs(Path(genv["GITHUB_OUTPUT"]).read_text()),
                       Path(genv["GITHUB_STEP_SUMMARY"]).read_text())

    def cli(self, args: list[str], *, run_id: int, home: str = "home") -> subprocess.CompletedProcess:
        env = dict(os.environ)
        env.update(self.github_env(run_id, None, home), GITHUB_TOKEN=TOKEN)
        return subprocess.run([sys.executable, "-m", "pipetune", *args],
                              cwd=self.workspace, env=env, capture_output=True, text=True,
                              timeout=120)


def baseline_doc(value: float, job: str = "gh-1-00000000") -> bytes:
    best = BestResult(job=job, backend="local", params={"x": 0.0, "depth": 3, "kind": "b"},
                      metrics={"loss": value}, objective="loss", goal="minimize", value=value,
                      trial=f"{job}#2")
    return results_file.dumps(best, {"run_id": "1"}).encode()


@pytest.fixture
def runner(tmp_path, github, pipetune_home) -> Runner:
    return Runner(tmp_path, github.api_url)


def action_output_names() -> set[str]:
    action = yaml.safe_load(ACTION.read_text())
    return {re.search(r"steps\.run\.outputs\.([\w-]+)", o["value"]).group(1)
            for o in action["outputs"].values()}


def marked_comments(github, number: int = 7) -> list[dict]:
    return [c for c in github.comments.get(number, []) if c["body"].startswith(marker_for(SPEC))]


def test_pull_request_improves_on_the_base_branch_and_keeps_one_comment(runner, github):
    base_sha = github.commit("main", {RESULTS: baseline_doc(50.0)})
    # the pull request's own copy must not be the baseline: only the base branch's counts
    (runner.workspace / RESULTS).write_bytes(baseline_doc(0.0001))
    inputs = {"spec": SPEC, "results-file": RESULTS, "threshold": "1%",
              "fail-on-regression": "true", "max-trials": "4"}
    first = runner.run_step(inputs, run_id=555, event=runner.event(base_sha=base_sha))
    assert first.returncode == 0, first.stderr
    out = first.outputs
    assert out["verdict"] == "improved" and out["improved"] == "true"
    assert out["baseline-value"] == "50.0" and float(out["delta"]) < -40
    assert set(json.loads(out["best-params"])) == {"x", "depth", "kind"}
    assert json.loads(out["trials"])["total"] == 4
    assert json.loads(out["job"])["backend"] == "local" and out["job-name"].startswith("gh-555-")
    assert out["cost-usd"] == "" and out["warm-started-from"] == ""
    assert action_output_names() <= set(out), action_output_names() - set(out)
    assert results_file.loads(out["result"]).value == float(out["best-value"])

    [comment] = marked_comments(github)
    assert out["comment-url"] == comment["html_url"]
    assert "## ✅ pipetune: `loss` improved" in comment["body"]
    assert "`tuning/tuned-params.json` on `main`" in comment["body"]
    assert "https://github.com/acme/models/actions/runs/555" in comment["body"]
    assert "```mermaid\nxychart-beta" in comment["body"]
    assert "Convergence: " in comment["body"]  # the observability rule's verdict, beside the cost
    assert first.summary == Path(out["report-file"]).read_text()
    assert comment["body"] == f"{marker_for(SPEC)}\n{first.summary}"
    assert TOKEN not in first.stdout + first.stderr

    # a new push: a new run, the same comment edited
    second = runner.run_step(inputs, run_id=556, event=runner.event(base_sha=base_sha))
    assert second.returncode == 0, second.stderr
    [again] = marked_comments(github)
    assert again["id"] == comment["id"] and "/runs/556" in again["body"]
    assert second.outputs["comment-url"] == comment["html_url"]
    assert len(github.requests("POST", r"/issues/7/comments$")) == 1
    # the baseline was read at the base commit, through the contents API
    assert github.requests("GET", rf"/contents/{RESULTS}")[0][1].endswith(f"ref={base_sha}")


def test_regression_fails_the_check_and_still_reports(runner, github):
    base_sha = github.commit("main", {RESULTS: baseline_doc(-1.0)})  # impossible to beat
    step = runner.run_step({"spec": SPEC, "results-file": RESULTS, "max-trials": "2",
                            "fail-on-regression": "true"},
                           run_id=600, event=runner.event(base_sha=base_sha))
    assert step.returncode == 6, step.stderr
    assert "::error title=pipetune::loss regressed" in step.stdout
    assert step.outputs["verdict"] == "regressed" and step.outputs["improved"] == "false"
    [comment] = marked_comments(github)
    assert "## 🔻 pipetune: `loss` regressed" in comment["body"]
    assert "error: loss regressed" in step.stderr and "Traceback" not in step.stderr


def test_regression_without_fail_on_regression_passes(runner, github):
    base_sha = github.commit("main", {RESULTS: baseline_doc(-1.0)})
    step = runner.run_step({"spec": SPEC, "results-file": RESULTS, "max-trials": "2"},
                           run_id=601, event=runner.event(base_sha=base_sha))
    assert step.returncode == 0 and step.outputs["verdict"] == "regressed"


def test_fork_pull_request_writes_the_summary_but_no_comment(runner, github):
    base_sha = github.commit("main", {RESULTS: baseline_doc(50.0)})
    step = runner.run_step({"spec": SPEC, "results-file": RESULTS, "max-trials": "2"},
                           run_id=700, event=runner.event(head_repo="mallory/models",
                                                          base_sha=base_sha))
    assert step.returncode == 0, step.stderr
    assert "## ✅ pipetune" in step.summary
    assert not github.requests("POST") and not github.requests("PATCH")
    assert "from a fork" in step.stderr and "comment-url" not in step.outputs


def test_failed_job_is_reported_and_exits_3(runner, github):
    spec = runner.spec_variant("broken.yaml", command=[sys.executable, "-c", "raise SystemExit(1)"])
    step = runner.run_step({"spec": spec, "max-trials": "2"}, run_id=800,
                           event=runner.event(base_sha=github.commit("main", {})))
    assert step.returncode == 3, step.stderr
    assert "## ❌ pipetune: tuning did not complete" in step.summary
    assert step.outputs["verdict"] == "failed" and step.outputs["improved"] == "false"
    [comment] = [c for c in github.comments[7] if c["body"].startswith(marker_for(spec))]
    assert "did not complete" in comment["body"]


def test_failed_job_keeps_its_exit_code_when_the_comment_is_refused(runner, github):
    spec = runner.spec_variant("broken.yaml", command=[sys.executable, "-c", "raise SystemExit(1)"])
    github.inject("POST", r"/comments$", 403, {"message": "Resource not accessible by integration"})
    step = runner.run_step({"spec": spec, "max-trials": "2"}, run_id=801,
                           event=runner.event(base_sha=github.commit("main", {})))
    assert step.returncode == 3, step.stderr
    assert "::warning title=pipetune comment::could not comment on #7" in step.stdout
    assert "pull-requests: write" in step.stdout and "tuning job" in step.stderr


def test_bad_input_is_a_clear_error(runner, github):
    step = runner.run_step({"spec": SPEC, "threshold": "ten percent"}, run_id=900, event=None)
    assert step.returncode == 2
    assert "threshold: 'ten percent' is not a number" in step.stderr
    assert "Traceback" not in step.stderr and step.outputs == {}
    # the run's page shows it too: an annotation and the step summary
    assert "::error title=pipetune::threshold: 'ten percent' is not a number" in step.stdout
    assert step.summary.startswith("## ❌ pipetune: the step stopped on an error\n")
    assert "threshold: 'ten percent' is not a number" in step.summary


def test_a_spec_error_is_annotated_with_githubs_escaping(runner, github):
    spec = runner.spec_variant("bad.yaml", command="python train.py", grace_period=-1)
    step = runner.run_step({"spec": spec}, run_id=901, event=None)
    assert step.returncode == 2 and "Traceback" not in step.stderr
    [line] = [x for x in step.stdout.splitlines() if x.startswith("::error")]
    assert line.startswith("::error title=pipetune::invalid spec (2 problems):%0A  - trial.")
    assert "\r" not in line and "%0A  - trial." in line.split("%0A", 1)[1]
    assert "invalid spec (2 problems):\n  - trial." in step.summary


def test_an_option_click_refuses_is_annotated_too(runner, github):
    step = runner.run_step({"spec": SPEC, "max-trials": "0"}, run_id=902, event=None)
    assert step.returncode == 2
    assert "::error title=pipetune::Invalid value for '--max-trials'" in step.stdout
    assert "Invalid value for '--max-trials'" in step.summary


def test_a_rerun_says_it_attached_to_the_job(runner, github):
    inputs = {"spec": SPEC, "max-trials": "2", "comment": "never"}
    first = runner.run_step(inputs, run_id=950, event=None)
    assert first.returncode == 0, first.stderr
    name = first.outputs["job-name"]
    assert f"launched job {name!r} on local" in first.stderr and "attach" not in first.stderr
    again = runner.run_step(inputs, run_id=950, event=None)  # "Re-run jobs": the same name
    assert again.returncode == 0, again.stderr
    assert f"attaching to job {name!r} on local: it exists (completed, 2/2 trials" in again.stderr
    assert "launched" not in again.stderr and again.outputs["job-name"] == name


def test_monthly_retune_warm_starts_from_last_results_and_proposes_them(runner, github, tmp_path):
    # last month, on another runner: a run that wrote the results file and kept its job
    last = runner.run_step({"spec": SPEC, "results-file": RESULTS, "write-results": "true",
                            "comment": "never", "max-trials": "3"},
                           run_id=100, event=None, home="home-last-month")
    assert last.returncode == 0, last.stderr
    previous_job = last.outputs["job-name"]
    committed = (runner.workspace / RESULTS).read_bytes()
    github.commit("main", {RESULTS: committed})
    job_dir = tmp_path / "home-last-month" / "jobs" / previous_job
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # what actions/upload-artifact stores
        zf.write(job_dir / "job.json", "job.json")
        zf.write(job_dir / "journal.log", "journal.log")
    github.add_artifact(f"pipetune-job-{previous_job}", buf.getvalue())

    # this month, on a fresh runner (empty PIPETUNE_HOME)
    step = runner.run_step({"spec": SPEC, "results-file": RESULTS, "write-results": "true",
                            "warm-start": "true", "comment": "never", "max-trials": "3"},
                           run_id=200, event=None, home="home-this-month")
    assert step.returncode == 0, step.stderr
    assert step.outputs["warm-started-from"] == previous_job
    assert f"::notice title=pipetune warm start::warm-starting from job '{previous_job}'" in step.stdout
    home = tmp_path / "home-this-month"
    assert JobDir(previous_job, home).exists()
    child = JobDir(step.outputs["job-name"], home).spec()
    assert child.warm_start is not None and child.warm_start.parents == [previous_job]
    assert child.warm_start.type == "transfer_learning"
    # the artifact came through the redirect, and the token stayed with the API
    [blob_get] = github.requests("GET", r"^/blob/")
    assert "Authorization" not in blob_get[2]
    assert step.outputs["baseline-value"] == str(results_file.loads(committed).value)
    new_doc = results_file.read(runner.workspace / RESULTS)
    assert new_doc.job == step.outputs["job-name"]
    assert results_file.source_of(runner.workspace / RESULTS)["run_id"] == "200"

    # propose it: one pull request, updated (not duplicated) on the next run
    report = step.outputs["report-file"]
    args = ["github", "open-pr", "--file", RESULTS, "--branch", "pipetune/monthly-retune",
            "--body-file", report]
    opened = runner.cli(args, run_id=200)
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout)["action"] == "created"
    [pr] = github.pulls
    assert pr["head"] == "pipetune/monthly-retune" and pr["base"] == "main"
    assert pr["body"] == Path(report).read_text()
    head = github.commits[github.branches["pipetune/monthly-retune"]]
    assert head[RESULTS] == (runner.workspace / RESULTS).read_bytes()
    again = runner.cli(args, run_id=201)
    assert json.loads(again.stdout)["action"] == "updated" and len(github.pulls) == 1
    # nothing to propose once main has the same file
    github.commit("main", {RESULTS: (runner.workspace / RESULTS).read_bytes()})
    same = runner.cli(args, run_id=202)
    assert json.loads(same.stdout)["action"] == "unchanged"


def test_monthly_retune_goes_on_cold_when_the_artifact_expired(runner, github):
    (runner.workspace / RESULTS).write_bytes(baseline_doc(9.0, job="gh-5-deadbeef"))
    github.add_artifact("pipetune-job-gh-5-deadbeef", b"", expired=True)
    step = runner.run_step({"spec": SPEC, "results-file": RESULTS, "warm-start": "true",
                            "comment": "never", "max-trials": "2"}, run_id=300, event=None)
    assert step.returncode == 0, step.stderr
    assert step.outputs["warm-started-from"] == ""
    assert "artifact 'pipetune-job-gh-5-deadbeef' has expired: a cold start" in step.stdout


def test_open_pr_explains_a_refused_pull_request(runner, github):
    github.commit("main", {})
    (runner.workspace / RESULTS).write_bytes(baseline_doc(1.0))
    github.inject("POST", r"/pulls$", 403,
                  {"message": "GitHub Actions is not permitted to create or approve pull requests."})
    proc = runner.cli(["github", "open-pr", "--file", RESULTS], run_id=1)
    assert proc.returncode == 1
    assert "Allow GitHub Actions to create and approve pull requests" in proc.stderr
    assert "pull-requests: write" in proc.stderr and "Traceback" not in proc.stderr
    assert TOKEN not in proc.stderr


@pytest.mark.parametrize("inputs, expected", [
    ({}, "{root}"),
    ({"backend": "sagemaker"}, "{root}[aws]"),
    ({"backend": "vertex"}, "{root}[gcp]"),
    ({"backend": "local", "extras": "report"}, "{root}[report]"),
    ({"backend": "vertex", "pipetune-version": "0.1.0"}, "pipetune[gcp]==0.1.0"),
])
def test_install_step_picks_the_extra_and_the_source(tmp_path, inputs, expected):
    # `python` is a stand-in that records its arguments: what is tested is the step's choice
    action = yaml.safe_load(ACTION.read_text())
    step = next(s for s in action["runs"]["steps"] if s["name"] == "Install pipetune")
    shim = tmp_path / "bin" / "python"
    shim.parent.mkdir()
    shim.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS_LOG"\n')
    shim.chmod(0o755)
    runner = Runner.__new__(Runner)
    runner.action = action
    env = {k: runner.expand(str(v), inputs) for k, v in step["env"].items()}
    env.update(PATH=f"{shim.parent}{os.pathsep}{os.environ['PATH']}", ARGS_LOG=str(tmp_path / "args"),
               GITHUB_ACTION_PATH=str(ACTION.parent))
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    args = (tmp_path / "args").read_text().split("\n")
    assert args[:2] == ["-m", "pip"]
    assert args[-2] == expected.format(root=ACTION.parents[2])
