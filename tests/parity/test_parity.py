"""Adapters x outcomes: the CLI, the Python API (the step runtime), the Airflow operator and
sensor (in a worker slot and deferred to the triggerer), the KFP components and the GitHub
step each meet a completed, a failed, a stopped, an interrupted (then resumed), an
over-budget and a not-converging job on the local engine. Every adapter must report the
same outcome, the job's own reason word for word, and the same typed best parameters."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from parity_helpers import (
    BEST,
    DAGS,
    EXPECTED_STATE,
    OUTCOMES,
    REASON_SHAPE,
    REPO,
    Observed,
    cli_env,
    from_message,
    job_name,
    set_up_job,
    spec_body,
    typed,
)

from pipetune.errors import PipetuneError


def _spec_file(outcome: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{outcome}.json"
    path.write_text(json.dumps(spec_body(outcome)))
    return path


# ---- the adapters, each in its own idiom --------------------------------------------------------
def python_api(outcome: str, home: Path, tmp_path: Path, capfd) -> Observed:
    from pipetune import load_spec, runtime

    name = job_name(outcome)
    try:
        if outcome == "interrupted":  # the handle a launch step handed over
            ref = runtime.parse_job(name, backend="local")
        else:
            ref = runtime.launch(load_spec(spec_body(outcome)), job_name=name)
        runtime.wait(ref, poll_seconds=0.2)
    except PipetuneError as exc:
        return from_message(str(exc))
    return Observed("completed", None, runtime.best(ref).params)


def cli(outcome: str, home: Path, tmp_path: Path, capfd) -> Observed:
    exe = str(Path(sys.executable).parent / "pipetune")
    name = job_name(outcome)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([exe, *args], env=cli_env(home), cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)

    if outcome == "interrupted":
        done = run("wait", name, "--poll", "0.2", "--no-progress")
        if done.returncode == 0:
            done = run("best", name, "--format", "json")
    else:
        done = run("tune", str(_spec_file(outcome, tmp_path)), "--name", name, "--json")
    if done.returncode != 0:
        assert "Traceback" not in done.stderr
        observed = from_message(done.stderr)
        assert done.returncode == {"failed": 3, "stopped": 4}[observed.state], done.stderr
        return observed
    return Observed("completed", None, json.loads(done.stdout)["params"])


def _airflow(mode: str):
    def adapter(outcome: str, home: Path, tmp_path: Path, capfd) -> Observed:
        sys.path.insert(0, str(REPO / "tests" / "airflow"))
        from af_helpers import load_dag, task_states, xcom

        dr = load_dag(DAGS / "parity_dags.py", f"parity_{outcome}_{mode}").test()
        states = task_states(dr)
        if states["wait"] != "success":
            assert states["wait"] == "failed" and states.get("launch", "success") == "success"
            return from_message((home / "failures" / "wait.txt").read_text())
        assert states["best"] == "success", states
        return Observed("completed", None, xcom(dr, "best")["params"])

    return adapter


def kfp(outcome: str, home: Path, tmp_path: Path, capfd) -> Observed:
    from kfp import local

    from pipetune.backends.local import LocalBackend
    from pipetune.components import get_best_hyperparameters, launch_tuning, wait_for_tuning

    local.init(runner=local.SubprocessRunner(use_venv=False),
               pipeline_root=str(tmp_path / "kfp-root"))
    options = {"root": str(home)}
    name = job_name(outcome)
    try:
        if outcome == "interrupted":  # the launch step's container ended with its coordinator
            job = LocalBackend(home).ref(name).to_json()
        else:
            job = launch_tuning(job_name=name, spec_dict=spec_body(outcome),
                                backend_options=options).output
        waited = wait_for_tuning(job=job, backend_options=options, poll_seconds=0.2)
    except RuntimeError:
        return from_message("".join(capfd.readouterr()))
    best = get_best_hyperparameters(job=waited.outputs["job"], backend_options=options)
    return Observed("completed", None, json.loads(best.outputs["params_json"]))


def github_step(outcome: str, home: Path, tmp_path: Path, capfd) -> Observed:
    from pipetune.github.env import GitHubEnv
    from pipetune.github.step import StepOptions, run

    (tmp_path / "gh").mkdir()
    env = GitHubEnv(output_path=tmp_path / "gh" / "output", summary_path=tmp_path / "gh" / "summary",
                    runner_temp=tmp_path / "gh")
    opts = StepOptions(spec=str(_spec_file(outcome, tmp_path)), job_name=job_name(outcome),
                       comment="never", poll_seconds=0.2)
    try:
        step = run(opts, env)
    except PipetuneError as exc:
        assert "failed" in (tmp_path / "gh" / "output").read_text()  # verdict: failed
        return from_message(str(exc))
    return Observed("completed", None, step.outputs["best-params"])


ADAPTERS = {"python": python_api, "cli": cli, "airflow": _airflow("sensor"),
            "airflow_deferred": _airflow("trigger"), "kfp": kfp, "github": github_step}
NEEDS_AIRFLOW = {"airflow", "airflow_deferred"}


@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_every_adapter_reports_the_same_outcome(adapter, outcome, home, tmp_path, capfd, request):
    from pipetune.backends.local import LocalBackend
    from pipetune.job import JobState

    if adapter in NEEDS_AIRFLOW:
        request.getfixturevalue("airflow_db")
    set_up_job(outcome, home)
    observed = ADAPTERS[adapter](outcome, home, tmp_path, capfd)

    be = LocalBackend(home)
    name = job_name(outcome)
    st = be.status(name)
    assert observed.state == EXPECTED_STATE[outcome], observed
    assert st.state.value == observed.state  # what the job itself says
    if observed.state == "completed":
        assert observed.reason is None
        assert typed({k: observed.best[k] for k in BEST}) == typed(BEST)
        assert typed(be.best(name).params) == typed(BEST)
        assert st.trials.complete == 6 and st.trials.running == 0  # the whole grid, once
        if outcome == "interrupted":  # resumed: the trial the dead coordinator ran is retried
            assert st.state == JobState.COMPLETED
    else:
        assert observed.best is None
        assert observed.reason == st.reason  # the job's own words, not a paraphrase
        assert re.match(REASON_SHAPE[outcome], observed.reason), observed.reason


# ---- on_not_converging="fail": the adapters that take it judge a flagged job alike -------------
def _flagged_python(home: Path, tmp_path: Path, capfd) -> str:
    from pipetune import load_spec, runtime
    from pipetune.observability.snapshot import NotConverging

    ref = runtime.launch(load_spec(spec_body("flagged")), job_name=job_name("flagged"))
    with pytest.raises(NotConverging) as caught:
        runtime.wait(ref, poll_seconds=0.2, on_not_converging="fail")
    return str(caught.value)


def _flagged_kfp(home: Path, tmp_path: Path, capfd) -> str:
    from kfp import local

    from pipetune.components import launch_tuning, wait_for_tuning

    local.init(runner=local.SubprocessRunner(use_venv=False),
               pipeline_root=str(tmp_path / "kfp-root"))
    options = {"root": str(home)}
    job = launch_tuning(job_name=job_name("flagged"), spec_dict=spec_body("flagged"),
                        backend_options=options).output
    with pytest.raises(RuntimeError):
        wait_for_tuning(job=job, backend_options=options, poll_seconds=0.2,
                        on_not_converging="fail")
    return "".join(capfd.readouterr())


def _flagged_airflow(mode: str):
    def adapter(home: Path, tmp_path: Path, capfd) -> str:
        sys.path.insert(0, str(REPO / "tests" / "airflow"))
        from af_helpers import load_dag, task_states

        dr = load_dag(DAGS / "parity_dags.py", f"parity_flagged_{mode}").test()
        assert task_states(dr) == {"launch": "success", "wait": "failed"}
        return (home / "failures" / "wait.txt").read_text()

    return adapter


FLAGGING = {"python": _flagged_python, "kfp": _flagged_kfp, "airflow": _flagged_airflow("sensor"),
            "airflow_deferred": _flagged_airflow("trigger")}


@pytest.mark.parametrize("adapter", list(FLAGGING))
def test_on_not_converging_fail_says_the_same_everywhere(adapter, home, tmp_path, capfd, request):
    from pipetune.backends.local import LocalBackend
    from pipetune.observability.convergence import check_convergence

    if adapter in NEEDS_AIRFLOW:
        request.getfixturevalue("airflow_db")
    text = FLAGGING[adapter](home, tmp_path, capfd)
    observed = from_message(text)
    be = LocalBackend(home)
    name = job_name("flagged")
    verdict = check_convergence(be.spec_of(be.ref(name)), be.trials(name))
    assert observed.state == "not_converging" and verdict.not_converging
    # judged on the job's trials as they stood: the same rule's words, numbers masked, and
    # "not converging" said once ("is not converging: the best of ...")
    detail = verdict.reason.removeprefix("not converging: ")
    assert re.sub(r"[0-9.]+", "#", observed.reason) == re.sub(r"[0-9.]+", "#", detail)
    assert observed.reason.startswith("the best of the last 3 trials")
