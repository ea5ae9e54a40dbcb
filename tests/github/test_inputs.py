"""What the step reads: the GitHub environment and event, results files, its options."""

from __future__ import annotations

import json

import pytest
from github_helpers import REPO, TOKEN
from typer.testing import CliRunner

from pipetune.cli import app
from pipetune.errors import SpecError, UsageError
from pipetune.github import results_file
from pipetune.github.comments import marker_for
from pipetune.github.env import GitHubEnv
from pipetune.github.warm_start import plan
from pipetune.results import BestResult
from pipetune.spec import load_spec


def pr_event(tmp_path, head=REPO):
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"number": 12, "pull_request": {
        "number": 12, "base": {"sha": "b" * 40, "ref": "main"},
        "head": {"repo": {"full_name": head}}}}))
    return str(path)


def test_environment_of_a_pull_request_run(tmp_path):
    env = GitHubEnv.from_environ({
        "GITHUB_REPOSITORY": REPO, "GITHUB_RUN_ID": "99", "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_SERVER_URL": "https://ghe.example.com/", "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
        "GITHUB_EVENT_PATH": pr_event(tmp_path), "GITHUB_TOKEN": TOKEN,
        "GITHUB_OUTPUT": str(tmp_path / "o")})
    assert env.pr_number == 12 and env.base_sha == "b" * 40 and env.base_ref == "main"
    assert not env.from_fork
    assert env.api_url == "https://ghe.example.com/api/v3"
    assert env.run_url == "https://ghe.example.com/acme/models/actions/runs/99/attempts/2"
    assert TOKEN not in repr(env)


def test_fork_and_laptop_runs(tmp_path):
    fork = GitHubEnv.from_environ({"GITHUB_REPOSITORY": REPO,
                                   "GITHUB_EVENT_PATH": pr_event(tmp_path, "mallory/models")})
    assert fork.from_fork
    laptop = GitHubEnv.from_environ({})
    assert laptop.run_url is None and laptop.pr_number is None and laptop.output_path is None


@pytest.mark.parametrize("content, message", [
    (None, "names a file that does not exist"),
    ("{not json", "is not a readable JSON event"),
    ("[1, 2]", "holds list, not an object"),
])
def test_bad_event_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "event.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match=message):
        GitHubEnv.from_environ({"GITHUB_EVENT_PATH": str(path)})


def best(**kw) -> BestResult:
    base = dict(job="j1", backend="local", params={"depth": 4, "kernel": "rbf"},
                static={"epochs": 3}, metrics={"acc": 0.9}, objective="acc", goal="maximize",
                value=0.9, trial="j1#2", trial_number=2)
    base.update(kw)
    return BestResult(**base)


def test_results_file_round_trip(tmp_path):
    path = results_file.write(tmp_path / "deep" / "tuned.json", best(), {"run_id": "5", "sha": None})
    doc = json.loads(path.read_text())
    assert doc["format"] == "pipetune.results/v1" and doc["source"] == {"run_id": "5"}
    assert "pareto_front" not in doc
    assert results_file.read(path) == best()


@pytest.mark.parametrize("text, message", [
    ('{"job": "j"', "not valid JSON at line 1, column 12"),
    ("[]", "must hold a JSON object"),
    ('{"format": "other/v9"}', "format 'other/v9' is not supported"),
    ('{"job": "j", "backend": "local"}', "params: field required"),
    ('{"job": "j", "backend": "local", "params": {}, "metrics": {}, "objective": "a", '
     '"goal": "maximize", "value": "high", "trial": "t"}', "value: input should be a valid number"),
])
def test_bad_results_file_names_file_and_field(tmp_path, text, message):
    path = tmp_path / "tuned.json"
    path.write_text(text)
    with pytest.raises(UsageError) as err:
        results_file.read(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_missing_results_file(tmp_path):
    with pytest.raises(UsageError, match="results file not found"):
        results_file.read(tmp_path / "nope.json")


SPEC = {"parameters": [{"name": "depth", "type": "integer", "min": 1, "max": 9}],
        "objectives": [{"metric": "acc"}], "metrics": [{"name": "acc", "regex": "acc=(.+)"}],
        "trial": {"command": ["python", "t.py"]}}


def test_warm_start_plan_for_cloud_and_mismatched_backends(pipetune_home):
    spec = load_spec({**SPEC, "backend": "sagemaker"})
    new, p = plan(spec, best(job="tune-2026-10", backend="sagemaker"))
    assert p.parent == "tune-2026-10"
    assert new.warm_start.parents == ["tune-2026-10"] and new.warm_start.type == "transfer_learning"
    same, p = plan(spec, best(backend="vertex"))
    assert p.parent is None and "came from the vertex backend" in p.note and same is spec
    _, p = plan(spec, None)
    assert p.parent is None and "no previous results" in p.note
    with pytest.raises(SpecError, match="warm-start-type.*valid: identical_data_and_algorithm"):
        plan(spec, None, kind="sideways")


def test_local_warm_start_without_the_parent_or_a_token_goes_cold(pipetune_home):
    spec = load_spec(SPEC)
    new, p = plan(spec, best(job="gh-1-abc"))
    assert new is spec and p.parent is None and "not on this machine" in p.note


def test_comment_command_posts_and_updates(github, tmp_path, monkeypatch):
    body = tmp_path / "body.md"
    body.write_text("hello")
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_API_URL", github.api_url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_EVENT_PATH", pr_event(tmp_path))
    runner = CliRunner()
    first = runner.invoke(app, ["github", "comment", str(body), "--key", "notes"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["action"] == "created"
    body.write_text("hello again")
    second = runner.invoke(app, ["github", "comment", str(body), "--key", "notes"])
    assert json.loads(second.stdout)["action"] == "updated"
    [c] = github.comments[12]
    assert c["body"] == f"{marker_for('notes')}\nhello again"


def test_comment_command_without_token_says_so(tmp_path, monkeypatch):
    body = tmp_path / "body.md"
    body.write_text("hello")
    for name in ("GITHUB_TOKEN", "GITHUB_EVENT_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    result = CliRunner().invoke(app, ["github", "comment", str(body), "--pr", "3"])
    assert result.exit_code == 2 and "GITHUB_TOKEN is not set" in result.output
