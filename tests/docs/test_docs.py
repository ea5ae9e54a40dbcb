"""Docs are tests: every fenced block of README.md and docs/*.md runs as written, or is
marked an excerpt (the markers: ``tests/docs/doc_blocks.py``).

Each document gets a workspace (a temp dir holding a copy of ``examples/``, with its own
``PIPETUNE_HOME``, ``pipetune`` of this environment first on ``PATH``), and its blocks run
there in order, as a reader pasting them would:

- ``python``: run with this interpreter; a block that defines an Airflow DAG is saved where
  its ``file:`` marker says and run with ``dag.test()`` in a fresh Airflow home, and every
  task must succeed;
- ``sh`` / ``bash``: run with ``bash -e``; every command must be ``pipetune`` (anything else,
  such as ``pip``, ``make`` or ``docker``, is an excerpt);
- ``console``: ``$ command`` lines run, and the lines after each are its expected output
  (``...`` matches anything);
- ``yaml``: a spec (it has ``parameters``) is loaded with :func:`pipetune.load_spec`; a
  fragment of one is completed with :data:`BASE_SPEC` first, also when written by ``file:``.

A block that is none of these, and not marked an excerpt, fails the suite.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from doc_blocks import ROOT, Block, blocks_of, documents, program_of, shell_commands

from pipetune import SpecError, load_spec

BIN = Path(sys.executable).parent
PIPETUNE = str(BIN / "pipetune")
SHELL_PROGRAMS = {"pipetune"}
#: what a spec fragment (a block without ``parameters``) is completed with: a trial that
#: takes a few milliseconds
BASE_SPEC: dict[str, Any] = {
    "parameters": [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0}],
    "objectives": [{"metric": "loss", "goal": "minimize"}],
    "metrics": [{"name": "loss", "regex": "loss=([0-9.eE+-]+)"}],
    "trial": {"command": ["python", "-c",
                          "import sys; x = float(sys.argv[1].split('=')[1]); "
                          "print(f'loss={(x - 0.3) ** 2}')"]},
}
TIMEOUT = 600


# ---- classification -------------------------------------------------------------------------
def kind_of(block: Block) -> str:
    """How the block is tested; raises AssertionError, saying what to do, when it cannot be."""
    if "excerpt" in block.markers:
        assert block.markers["excerpt"], f"{block.id}: say why it is an excerpt"
        return "excerpt"
    if "excerpt-of" in block.markers:
        return "excerpt-of"
    if block.lang == "python":
        return "python"
    if block.lang in ("yaml", "yml"):
        return "yaml"
    if block.lang in ("sh", "bash", "shell", "console"):
        commands = (shell_commands(block.text) if block.lang != "console" else
                    [line[2:] for line in block.text.splitlines() if line.startswith("$ ")])
        others = sorted({program_of(c) for c in commands} - SHELL_PROGRAMS)
        assert commands and not others, (
            f"{block.id}: runs {others or 'nothing'}, not only pipetune: run it against a test "
            "fake, or mark it <!-- excerpt: why -->")
        return "console" if block.lang == "console" else "shell"
    raise AssertionError(f"{block.id}: a ```{block.lang or '(no language)'} block is neither "
                         "runnable nor marked <!-- excerpt: why -->")


ALL_BLOCKS = [b for doc in documents() for b in blocks_of(doc)]


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[b.id for b in ALL_BLOCKS])
def test_every_block_is_runnable_or_an_excerpt(block):
    kind = kind_of(block)
    if "check" in block.markers:
        assert block.markers["check"] in CHECKS, f"{block.id}: no check {block.markers['check']!r}"
    if kind == "yaml" and "file" not in block.markers and "check" not in block.markers:
        assert isinstance(yaml.safe_load(block.text), dict), f"{block.id}: not a spec mapping"


# ---- running ------------------------------------------------------------------------------------
class Workspace:
    """One document's working directory and environment."""

    def __init__(self, path: Path, extra_env: dict[str, str]):
        self.path = path
        shutil.copytree(ROOT / "examples", path / "examples",
                        ignore=shutil.ignore_patterns("__pycache__"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPETUNE_", "AIRFLOW"))}
        env.update(PIPETUNE_HOME=str(path / ".pipetune"), PYTHONUNBUFFERED="1",
                   PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra_env)
        self.env = env

    def run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=self.path, env=self.env, capture_output=True, text=True,
                              timeout=TIMEOUT, **kwargs)


def _merged(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in extra.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _spec_body(block: Block) -> dict:
    body = yaml.safe_load(block.text)
    assert isinstance(body, dict), f"{block.id}: not a mapping"
    return body if "parameters" in body else _merged(BASE_SPEC, body)


def _is_subset(part: Any, whole: Any) -> bool:
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(k in whole and _is_subset(v, whole[k])
                                               for k, v in part.items())
    return part == whole


def _fail(block: Block, what: str, run: subprocess.CompletedProcess) -> None:
    pytest.fail(f"{block.id}: {what} exited {run.returncode}\n--- stdout\n{run.stdout[-4000:]}"
                f"\n--- stderr\n{run.stderr[-4000:]}", pytrace=False)


def run_block(block: Block, ws: Workspace) -> None:
    kind = kind_of(block)
    target = block.markers.get("file")
    if kind == "excerpt":
        return
    if kind == "excerpt-of":
        source = yaml.safe_load((ROOT / block.markers["excerpt-of"]).read_text())
        assert _is_subset(yaml.safe_load(block.text), source), (
            f"{block.id}: differs from {block.markers['excerpt-of']}")
        load_spec(_spec_body(block))
        return
    if kind == "yaml":
        if target:
            body = yaml.safe_load(block.text)
            if isinstance(body, dict) and "parameters" not in body:
                body = _spec_body(block)
                (ws.path / target).write_text(yaml.safe_dump(body, sort_keys=False))
            else:
                (ws.path / target).write_text(block.text)
        elif "check" not in block.markers:
            load_spec(_spec_body(block))
        return
    if kind == "python":
        path = ws.path / (target or f".block_{block.line}.py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.text)
        if re.search(r"^with DAG\(", block.text, re.M):
            _run_dag(block, ws, path)
        elif not target:
            run = ws.run([sys.executable, str(path)])
            if run.returncode:
                _fail(block, "the Python block", run)
        return
    if kind == "shell":
        run = ws.run(["bash", "-e", "-o", "pipefail", "-c", block.text])
        if run.returncode:
            _fail(block, "the shell block", run)
        return
    _run_console(block, ws)


def _run_console(block: Block, ws: Workspace) -> None:
    steps: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    for command, expected in steps:
        run = ws.run(["bash", "-c", "{ " + command + "\n} 2>&1"])
        pattern = "\n".join(re.escape(x.rstrip()).replace(re.escape("..."), ".*")
                            for x in expected)
        assert re.fullmatch(pattern, run.stdout.rstrip("\n"), re.S), (
            f"{block.id}: `{command}` printed\n{run.stdout}\nexpected\n" + "\n".join(expected))


DAG_RUNNER = textwrap.dedent('''
    import importlib.util, json, sys
    from airflow.sdk import DAG
    from airflow.utils.session import create_session

    spec = importlib.util.spec_from_file_location("doc_dag", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dags = [v for v in vars(module).values() if isinstance(v, DAG)]
    assert dags, "no DAG in the block"
    for dag in dags:
        run = dag.test()
        with create_session() as session:
            states = {ti.task_id: str(ti.state) for ti in run.get_task_instances(session=session)}
        print(json.dumps({"dag": dag.dag_id, "state": str(run.state), "tasks": states}))
''')


def _run_dag(block: Block, ws: Workspace, path: Path) -> None:
    home = ws.path / "airflow"
    env = dict(ws.env, AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(path.parent),
               AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__CORE__UNIT_TEST_MODE="False",
               AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}")
    migrate = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, cwd=ws.path,
                             capture_output=True, text=True, timeout=TIMEOUT)
    if migrate.returncode:
        _fail(block, "airflow db migrate", migrate)
    run = subprocess.run([sys.executable, "-c", DAG_RUNNER, str(path)], env=env, cwd=ws.path,
                         capture_output=True, text=True, timeout=TIMEOUT)
    if run.returncode:
        _fail(block, "the DAG", run)
    for line in run.stdout.splitlines():
        if line.startswith('{"dag"'):
            result = json.loads(line)
            bad = {t: s for t, s in result["tasks"].items() if s != "success"}
            assert result["state"] == "success" and not bad, f"{block.id}: {result}"


@pytest.fixture
def aws_env(moto_endpoint, fake_aws_credentials):
    """moto's server with the bucket the SageMaker example's output_path names."""
    import boto3

    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket="my-ml-bucket")
    return {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            "SAGEMAKER_VALIDATE_ROLE": "false"}


@pytest.fixture
def gcp_env(fake_vertex, adc_env):
    """The fake Vertex AI over TLS, reached through PIPETUNE_VERTEX_ENDPOINT, with
    Application Default Credentials from a generated service-account key."""
    return {"PIPETUNE_VERTEX_ENDPOINT": fake_vertex.endpoint,
            "GOOGLE_APPLICATION_CREDENTIALS": adc_env["GOOGLE_APPLICATION_CREDENTIALS"],
            "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": adc_env["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"]}


DOCS = [str(p.relative_to(ROOT)) for p in documents()]


@pytest.mark.parametrize("doc", DOCS)
def test_document_runs_as_written(doc, tmp_path, request):
    blocks = blocks_of(ROOT / doc)
    extra: dict[str, str] = {}
    for env in sorted({b.markers["env"] for b in blocks if "env" in b.markers}):
        extra.update(request.getfixturevalue(f"{env}_env"))
    ws = Workspace(tmp_path, extra)
    for i, block in enumerate(blocks):
        try:
            run_block(block, ws)
        except SpecError as exc:
            pytest.fail(f"{block.id}: {exc}", pytrace=False)
        if "check" in block.markers:
            CHECKS[block.markers["check"]](block, ws)
        if "file" in block.markers and not re.search(r"^with DAG\(", block.text, re.M):
            name = block.markers["file"]
            refs = (name, f"{Path(name).stem}:") if name.endswith(".py") else (name,)
            assert any(r in later.text for later in blocks[i + 1:] for r in refs), (
                f"{block.id}: no later block uses {name}")


# ---- what the prose claims --------------------------------------------------------------------
def check_best_json_typed(block: Block, ws: Workspace) -> None:
    """README: ``best --format json`` gives the parameters with the spec's types."""
    run = ws.run([PIPETUNE, "best", "qs", "--format", "json"])
    assert run.returncode == 0, run.stderr
    best = json.loads(run.stdout)
    spec = load_spec(ws.path / "examples" / "quickstart" / "spec.yaml")
    kinds = {"continuous": float, "integer": int, "categorical": str}
    for p in spec.parameters:
        want = kinds.get(p.type) or type(p.values[0])
        assert type(best["params"][p.name]) is want, (p.name, best["params"][p.name])
    assert set(best["metrics"]) == {"accuracy"} and isinstance(best["value"], float)
    # "best --format json|env|args|table"
    env = ws.run([PIPETUNE, "best", "qs", "--format", "env"])
    assert f"MAX_DEPTH={best['params']['max_depth']}" in env.stdout.upper(), env.stdout
    args = ws.run([PIPETUNE, "best", "qs", "--format", "args"])
    assert f"--max_depth={best['params']['max_depth']}" in args.stdout, args.stdout
    table = ws.run([PIPETUNE, "best", "qs", "--format", "table"])
    assert table.returncode == 0 and "class_weight" in table.stdout, table.stdout


def check_prometheus_rules(block: Block, ws: Workspace) -> None:
    """observability.md: every metric and label an alert names is one the exporter serves."""
    from pipetune import get_backend
    from pipetune.observability.exporter import render

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIPETUNE_HOME", ws.env["PIPETUNE_HOME"])
        get_backend("local").launch(load_spec(_merged(BASE_SPEC, {
            "budget": {"max_trials": 2, "max_cost_usd": 5}})), "alerted", detach=False)
        text = render(["alerted"])
    served: dict[str, set[str]] = {}
    for line in text.splitlines():
        if m := re.match(r"^(pipetune_\w+)\{(.*)\}", line):
            served.setdefault(m.group(1), set()).update(re.findall(r'(\w+)="', m.group(2)))
    for rule in yaml.safe_load(block.text):
        expr = rule["expr"]
        matching = r"\b(?:on|by|ignoring|without)\s*\(([^)]*)\)"
        used = re.findall(r"\b(pipetune_\w+)(?:\{([^}]*)\})?", re.sub(matching, "", expr))
        for metric, selector in used:
            assert metric in served, f"{rule['alert']}: the exporter serves no {metric}"
            for label in re.findall(r"(\w+)\s*!?=~?", selector):
                assert label in served[metric], f"{rule['alert']}: {metric} has no {label}"
        for group in re.findall(matching, expr):
            for label in (x.strip() for x in group.split(",") if x.strip()):
                assert label != "job", f"{rule['alert']}: `job` is Prometheus's own label"
                for metric, _ in used:
                    assert label in served[metric], f"{rule['alert']}: {metric} has no {label}"


CHECKS: dict[str, Callable[[Block, Workspace], None]] = {
    "best-json-typed": check_best_json_typed,
    "prometheus-rules": check_prometheus_rules,
}


def test_the_readme_exit_code_table_holds(tmp_path):
    """README's exit codes, each produced by the CLI the way the table says."""
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| exit code | meaning |"):].split("\n\n")[0]
    codes = {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d) \| (.+) \|$", table, re.M)}
    assert sorted(codes) == [0, 1, 2, 3, 4, 5]
    ws = Workspace(tmp_path, {})

    def spec(name: str, **extra) -> str:
        (ws.path / name).write_text(yaml.safe_dump(_merged(BASE_SPEC, extra)))
        return name

    def pipetune(*args: str) -> subprocess.CompletedProcess:
        return ws.run([PIPETUNE, *args])

    hold = ws.path / "hold"
    hold.write_text("")
    held = {"trial": {"command": ["python", "-c", "import os, time\nwhile os.path.exists("
                                  f"{str(hold)!r}): time.sleep(0.05)\nprint('loss=1')"]},
            "budget": {"max_trials": 1}}
    seen: dict[int, list[str]] = {}

    def expect(code: int, run: subprocess.CompletedProcess, what: str) -> None:
        assert run.returncode == code, (what, run.returncode, run.stdout, run.stderr)
        assert "Traceback" not in run.stderr or code == 1, (what, run.stderr)
        seen.setdefault(code, []).append(what)

    expect(0, pipetune("tune", spec("ok.yaml", budget={"max_trials": 3}), "--name", "ok",
                       "--no-progress"), "done")
    expect(2, pipetune("tune", spec("bad.yaml", budget={"max_trials": 0}), "--name", "x"),
           "invalid spec")
    expect(2, pipetune("status", "no-such-job"), "unknown job")
    expect(2, pipetune("tune", spec("other.yaml", budget={"max_trials": 4}), "--name", "ok"),
           "name taken by a different spec")
    expect(2, pipetune("best", "ok", "--format", "yaml"), "invalid argument")
    failing = pipetune("tune", spec("fail.yaml", trial={"command": ["python", "-c", "exit(1)"]},
                                    budget={"max_trials": 3}), "--name", "f", "--no-progress")
    expect(3, failing, "the job failed")
    assert "last failure: exit code 1" in failing.stderr  # the reason is printed
    expect(0, pipetune("launch", spec("held.yaml", **held), "--name", "held"), "launched")
    expect(5, pipetune("wait", "held", "--timeout", "1"), "wait --timeout ran out")
    expect(0, pipetune("stop", "held"), "stop requested")
    hold.unlink()
    expect(4, pipetune("wait", "held"), "the job was stopped")
    (ws.path / ".pipetune" / "jobs" / "ok" / "job.json").write_text("{not json")
    expect(1, pipetune("status", "ok"), "unexpected error (a corrupted job file)")
    assert sorted(seen) == sorted(codes)


def test_not_converging_is_a_pipetune_error_with_a_failed_jobs_exit_code():
    """observability.md: "`NotConverging` is a `PipetuneError` whose `exit_code` is 3"."""
    from pipetune import PipetuneError
    from pipetune.errors import JobFailed
    from pipetune.observability.snapshot import NotConverging

    assert issubclass(NotConverging, PipetuneError)
    assert NotConverging.exit_code == JobFailed.exit_code == 3


def test_the_airflow_peer_table_tells_the_truth_about_the_amazon_operator():
    """airflow.md's comparison with the amazon provider's SageMakerTuningOperator, read from
    the provider installed here: no on_kill, no console link, a deferrable wait capped at the
    trigger's default attempts, Stopped not among the failed states in sync mode."""
    import inspect

    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTuningOperator
    from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerTrigger
    from airflow.sdk import BaseOperator

    from pipetune.airflow.operators.tuning import PipetuneTuningOperator

    page = (ROOT / "docs" / "airflow.md").read_text()
    assert "| on_kill | none: the tuning job runs on | cancels the job | stops the job |" in page
    assert "| Console link | none | yes | yes (SageMaker, Vertex) |" in page
    assert SageMakerTuningOperator.on_kill is BaseOperator.on_kill
    assert not SageMakerTuningOperator.operator_extra_links
    assert "capped at 480 polls" in page
    assert inspect.signature(SageMakerTrigger.__init__).parameters[
        "waiter_max_attempts"].default == 480
    assert "Stopped" not in SageMakerHook.failed_states  # "counted as success in sync mode"
    assert PipetuneTuningOperator.on_kill is not BaseOperator.on_kill
    assert {type(link).__name__ for link in PipetuneTuningOperator.operator_extra_links} == {
        "SageMakerTuningJobLink", "VertexTuningJobLink"}
