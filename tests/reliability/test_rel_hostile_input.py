"""Hostile input: thousands of random and malformed specs give a SpecError naming a field
(never a traceback, never a backend call); shell metacharacters in values reach the trial
literally; job names cannot leave the job directory."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pipetune.backends.local.jobstore import JobDir
from pipetune.cli import app
from pipetune.errors import SpecError
from pipetune.spec import TuningSpec, load_spec
from pipetune.trials.runner import run_trial

HERE = Path(__file__).parent
FIELDS = set(TuningSpec.model_fields) | {"spec"}
NASTY = st.text(alphabet=st.sampled_from(list(";|&$()`'\"\\\n\t *?<>!#~{}[]%=-_ab0é\u202e")),
                min_size=1, max_size=30)

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(
    st.text(max_size=12) | st.sampled_from(sorted(FIELDS)), c, max_size=5), max_leaves=25)

VALID = {
    "parameters": [{"name": "lr", "type": "continuous", "min": 0.001, "max": 0.1, "scaling": "log"},
                   {"name": "opt", "type": "categorical", "values": ["sgd", "adam"]}],
    "objectives": [{"metric": "acc", "goal": "maximize"}],
    "metrics": [{"name": "acc", "regex": "acc=([0-9.]+)"}],
    "trial": {"command": ["python", "train.py"]},
    "budget": {"max_trials": 5},
}


def _named_fields(exc: SpecError) -> None:
    assert exc.problems
    for field, message in exc.problems:
        head = field.split(".")[0].split("[")[0]
        assert message
        # a known field, or the unknown key itself (named so the user can delete it)
        assert head in FIELDS or message.startswith("unknown field"), (field, message)


def _load(data) -> None:
    try:
        load_spec(data)
    except SpecError as exc:
        _named_fields(exc)


@settings(max_examples=1200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.sampled_from(sorted(FIELDS)) | st.text(max_size=8), json_values, max_size=8))
def test_random_specs_give_spec_errors_naming_fields(data):
    _load(data)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(VALID) if p]


@settings(max_examples=1200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(ALL_PATHS), json_values, st.booleans())
def test_mutated_valid_specs_give_spec_errors_naming_fields(path, value, delete):
    data = json.loads(json.dumps(VALID))
    node = data
    for key in path[:-1]:
        node = node[key]
    if delete and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = value
    _load(data)


@settings(max_examples=600, deadline=None)
@given(st.text(max_size=200))
def test_random_text_gives_spec_errors(text):
    _load(text)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(ALL_PATHS), json_values)
@example(("objectives", 0, "metric"), "\ud800\udc00")  # found by a random draw: surrogates
@example(("metrics", 0, "name"), {"\udcff": ["\ud800"]})
def test_cli_launch_of_bad_specs_exits_2_without_traceback_or_backend_call(tmp_path_factory, path, value):
    home = tmp_path_factory.mktemp("cli")
    data = json.loads(json.dumps(VALID))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        load_spec(data)
        return  # still valid: not this test's subject
    except SpecError:
        pass
    spec_file = home / "spec.json"
    spec_file.write_text(json.dumps(data), encoding="utf-8", errors="surrogatepass")
    result = CliRunner().invoke(app, ["launch", str(spec_file), "--name", "fuzz"],
                           env={"PIPETUNE_HOME": str(home), "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "invalid spec" in result.output
    assert not (home / "jobs").exists() and not (home / "refs").exists()  # nothing launched


@pytest.mark.parametrize("contract", ["args", "env", "sagemaker"])
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=NASTY)
def test_shell_metacharacters_reach_the_trial_literally(tmp_path_factory, monkeypatch, contract, value):
    trial_dir = tmp_path_factory.mktemp("t")
    echo = trial_dir / "echo.json"
    monkeypatch.setenv("ECHO_TO", str(echo))
    spec = load_spec({**VALID, "parameters": [{"name": "c", "type": "categorical", "values": [value]}],
                      "static": {"s": value},
                      "trial": {"command": [sys.executable, str(HERE / "echo_params.py")],
                                "contract": contract}})
    out = run_trial(spec, {"c": value, "s": value}, number=0, trial_dir=trial_dir / "trial")
    assert out.state == "complete", out.reason
    got = json.loads(echo.read_text())
    if contract == "sagemaker":
        assert got["hp_file"]["c"] == value and got["hp_file"]["s"] == value
    elif contract == "env":
        assert value in got["env"].values() or value in got["argv"], got
    else:
        argv = got["argv"]
        for name in ("c", "s"):
            flags = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == f"--{name}"]
            flags += [a.split("=", 1)[1] for a in argv if a.startswith(f"--{name}=")]
            assert flags == [value], (name, argv)


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=40) | st.sampled_from(["..", "../x", "a/../../b", "/etc", "x\x00", ".", "a/b"]))
def test_job_names_cannot_leave_the_job_directory(tmp_path_factory, name):
    root = Path("/tmp/pipetune-root")
    try:
        job = JobDir(name, root)
    except SpecError:
        return
    jobs = (root / "jobs").resolve()
    assert job.path.resolve().parent == jobs
    assert job.trial_dir(3).resolve().is_relative_to(job.path.resolve())


def test_cli_rejects_traversing_job_names(tmp_path):
    runner = CliRunner()
    for bad in ("../../etc", "a/b", "..", "/abs"):
        result = runner.invoke(app, ["status", bad], env={"PIPETUNE_HOME": str(tmp_path)})
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output


@pytest.mark.parametrize("body", [
    b'{"parameters": [{"name": "x\xff", "type": "continuous", "min": 0, "max": 1}]}',  # not UTF-8
    b'{"parameters": [{"name": "\\ud800", "type": "continuous", "min": 0, "max": 1}]}',
    b'objectives: [{metric: "\\udc80", goal: minimize}]\n',
])
@pytest.mark.parametrize("command", ["lint", "tune", "launch"])
def test_unencodable_spec_text_exits_2_with_a_clear_error(tmp_path, body, command):
    spec_file = tmp_path / "spec.json"
    spec_file.write_bytes(body)
    args = [command, str(spec_file)] + ([] if command == "lint" else ["--name", "enc"])
    result = CliRunner().invoke(app, args, env={"PIPETUNE_HOME": str(tmp_path / "home")})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "UTF-8" in result.output or "surrogate" in result.output, result.output
    assert not (tmp_path / "home" / "jobs").exists()
