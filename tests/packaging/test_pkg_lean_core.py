"""A core-only install works: ``import pipetune`` and the CLI on a local spec need none of
the extras, and a feature whose extra is missing says which one in one line (exit 2).

"Core-only" is simulated in a subprocess (tests/packaging/without_extras.py) by making
every extra's packages unimportable the way Python reports a missing package; the trials
are real processes and the CLI is the real one.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from pkg_helpers import REPO, assert_one_line_error, run_cli, run_py
from without_extras import EXTRAS

SCRIPTS = REPO / "tests" / "core" / "scripts"

#: What `pip install pipetune` brings and the core may import at module level.
CORE_IMPORTS = {"optuna", "pydantic", "yaml", "typer", "rich", "psutil", "pipetune"}
#: Packages whose own __init__ checks an extra, and what their modules may import then.
GATED = {"pipetune/proxy": {"pyarrow", "fsspec", "numpy"},
         "pipetune/backends/vertex": {"google"}}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lean")
    spec = {
        "parameters": [
            {"name": "x", "type": "continuous", "min": -2.0, "max": 2.0},
            {"name": "n", "type": "integer", "min": 1, "max": 5},
            {"name": "kind", "type": "categorical", "values": ["a", "b"]},
        ],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "metrics": [{"name": "loss", "regex": r"loss=([-+0-9.eE]+)"}],
        "trial": {"command": [sys.executable, str(SCRIPTS / "quadratic.py")]},
        "budget": {"max_trials": 4, "max_parallel": 2},
        "seed": 3,
    }
    (root / "spec.yaml").write_text(yaml.safe_dump(spec))
    return root


@pytest.fixture(scope="module")
def env(workdir) -> dict[str, str]:
    return {"PIPETUNE_HOME": str(workdir / ".pipetune")}


@pytest.fixture(scope="module")
def tuned(workdir, env) -> str:
    """A local job tuned to its end by the CLI with no extra installed."""
    run = run_cli(["tune", "spec.yaml", "--name", "lean", "--json"], cwd=workdir, env=env,
                  extras=False)
    assert run.code == 0, run.stderr
    best = json.loads(run.stdout)
    assert best["trials_complete"] == 4
    assert isinstance(best["params"]["n"], int) and best["params"]["kind"] in ("a", "b")
    return "lean"


def test_import_pipetune_needs_no_extra(workdir):
    run = run_py("import sys, pipetune, pipetune.cli\n"
                 "from pipetune.cli import app\n"
                 "assert pipetune.load_spec('spec.yaml').parameters[1].name == 'n'\n"
                 "print(sorted(n for n, m in sys.modules.items() if m is None))", cwd=workdir)
    assert run.code == 0, run.stderr
    assert "'matplotlib'" in run.stdout  # the blocker was in place


def test_import_pipetune_loads_no_extra_even_when_installed(workdir):
    """Installed extras are not imported by `import pipetune` or the CLI's start-up."""
    code = ("import sys, json\n"
            "before = set(sys.modules)  # namespace-package .pth hooks run at start-up\n"
            "import pipetune, pipetune.cli\n"
            "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
            f"print(json.dumps(sorted(new & {set(EXTRAS)!r})))")

    proc = subprocess.run([sys.executable, "-c", code], cwd=workdir, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_cli_help_lists_every_command_without_extras(workdir, env):
    run = run_cli(["--help"], cwd=workdir, env=env, extras=False)
    assert run.code == 0, run.stderr
    for command in ("tune", "launch", "status", "best", "trials", "report", "proxy",
                    "iam-policy", "vertex-worker", "github", "exporter"):
        assert command in run.stdout


def test_local_job_lifecycle_without_extras(workdir, env, tuned):
    for args in (["lint", "spec.yaml", "--json"], ["status", tuned, "--json"],
                 ["wait", tuned, "--json"], ["trials", tuned, "--json"],
                 ["best", tuned, "--format", "json"]):
        run = run_cli(args, cwd=workdir, env=env, extras=False)
        assert run.code == 0, (args, run.stderr)
        assert "Traceback" not in run.stderr
        json.loads(run.stdout)
    best = json.loads(run.stdout)
    assert best["job"] == tuned and set(best["params"]) == {"x", "n", "kind"}
    launched = run_cli(["launch", "spec.yaml", "--name", "lean2"], cwd=workdir, env=env,
                       extras=False)
    assert launched.code == 0, launched.stderr
    waited = run_cli(["wait", "lean2", "--json", "--timeout", "100"], cwd=workdir, env=env,
                     extras=False)
    assert waited.code == 0 and json.loads(waited.stdout)["state"] == "completed", waited.stderr


def test_iam_policy_needs_no_extra(workdir, env):
    run = run_cli(["iam-policy", str(REPO / "examples" / "sagemaker" / "spec.yaml")],
                  cwd=workdir, env=env, extras=False)
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["Version"] == "2012-10-17"


def _ref(backend: str) -> str:
    return json.dumps({"backend": backend, "id": "j", "name": "j",
                       "extra": {"region": "us-east-1", "location": "us-central1",
                                 "mode": "vizier"}})


@pytest.mark.parametrize("args, missing, extra", [
    (["report", "lean", "--out", "rep"], "matplotlib", "report"),
    (["insights", "lean", "lean", "--out", "ins"], "matplotlib", "report"),
    (["proxy", "sample", "full.csv", "sample.csv", "--fraction", "0.5"], "pyarrow", "proxy"),
    (["tune", str(REPO / "examples" / "sagemaker" / "spec.yaml"), "--name", "s"], "boto3", "aws"),
    (["tune", str(REPO / "examples" / "vertex" / "spec.yaml"), "--backend", "vertex",
      "--name", "v"], "google-cloud-aiplatform", "gcp"),
    (["vertex-worker", str(REPO / "examples" / "vertex" / "spec.yaml"), "--name", "v"],
     "google-cloud-aiplatform", "gcp"),
    *[([cmd, _ref(backend)], missing, extra)
      for backend, missing, extra in (("sagemaker", "boto3", "aws"),
                                      ("vertex", "google-cloud-aiplatform", "gcp"))
      for cmd in ("status", "stop", "best", "trials", "report")],
    (["wait", "--no-progress", _ref("sagemaker")], "boto3", "aws"),
    (["wait", "--no-progress", _ref("vertex")], "google-cloud-aiplatform", "gcp"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_feature_without_its_extra_is_one_line(workdir, env, tuned, args, missing, extra):
    run = run_cli(args, cwd=workdir, env=env, extras=False)
    line = assert_one_line_error(run, f"missing {missing} ", f"pip install 'pipetune[{extra}]'")
    assert line.startswith("error: missing ")
    for written in ("rep", "ins", "sample.csv", "vertex-trials"):
        assert not (workdir / written).exists(), written


def test_the_same_commands_run_with_the_extras(workdir, env, tuned):
    """The error above comes from the missing extra, not from the command."""
    run = run_cli(["report", tuned, "--out", "rep-full"], cwd=workdir, env=env)
    assert run.code == 0, run.stderr
    assert (workdir / "rep-full" / "history.png").stat().st_size > 0


def test_gp_strategy_without_its_extra(workdir, env):
    spec = yaml.safe_load((workdir / "spec.yaml").read_text())
    spec["strategy"] = "gp"
    (workdir / "gp.yaml").write_text(yaml.safe_dump(spec))
    run = run_cli(["tune", "gp.yaml", "--name", "gp", "--no-progress"], cwd=workdir, env=env,
                  extras=False)
    assert_one_line_error(run, "pip install 'pipetune[gp]'")


def test_pyproject_core_is_lean_and_extras_exist():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    core = {d.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip().lower()
            for d in project["dependencies"]}
    assert core == {"optuna", "pydantic", "pyyaml", "typer", "rich", "psutil"}
    extras = project["optional-dependencies"]
    named = set()
    for path in (REPO / "pipetune").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = ast.unparse(node.func).rsplit(".", 1)[-1]
            if func == "require":
                value = next(k.value for k in node.keywords if k.arg == "extra")
            elif func == "MissingExtra" and len(node.args) > 1:
                value = node.args[1]
            else:
                continue
            if isinstance(value, ast.Constant):
                named.add(value.value)
    assert named >= {"report", "proxy", "aws", "gcp", "observability"}
    assert named <= set(extras), named - set(extras)
    everything = " ".join(" ".join(v) for v in extras.values())
    for unused in ("tenacity", "plotly"):
        assert unused not in everything and unused not in " ".join(project["dependencies"])


def _module_level_imports(tree: ast.Module) -> set[str]:
    """Top-level names imported when the module is imported (not under TYPE_CHECKING, not
    inside functions)."""
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return names


def test_no_module_imports_an_extra_at_import_time():
    """Every import of a non-core package is lazy, or sits in a package that checks its
    extra first (pipetune.proxy, pipetune.backends.vertex)."""
    offenders = {}
    for path in sorted((REPO / "pipetune").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        allowed = CORE_IMPORTS | set(sys.stdlib_module_names)
        for folder, extra_ok in GATED.items():
            if rel.startswith(folder + "/"):
                allowed |= extra_ok
        bad = _module_level_imports(ast.parse(path.read_text(encoding="utf-8"))) - allowed
        if bad:
            offenders[rel] = sorted(bad)
    assert offenders == {}
