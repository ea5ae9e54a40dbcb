"""Each component run alone under kfp.local (real subprocesses, real trials)."""

import json

import pytest
import yaml
from kfp_helpers import PYTHON, trial_spec

from pipetune.components import (
    get_best_hyperparameters,
    is_improvement,
    launch_tuning,
    sample_dataset,
    wait_for_tuning,
)
from pipetune.results import cast_params
from pipetune.spec import load_spec

pytestmark = pytest.mark.filterwarnings("ignore:.*no effect in the current local runner")


@pytest.mark.parametrize("candidate,baseline,goal,min_delta,expected", [
    (0.91, 0.90, "maximize", 0.0, True),
    (0.91, 0.90, "maximize", 0.05, False),
    (0.20, 0.25, "minimize", 0.0, True),
    (0.30, 0.25, "minimize", 0.0, False),
    (0.10, None, "maximize", 0.0, True),
])
def test_is_improvement_component(kfp_local, candidate, baseline, goal, min_delta, expected):
    kwargs = {} if baseline is None else {"baseline": baseline}
    task = is_improvement(candidate=candidate, goal=goal, min_delta=min_delta, **kwargs)
    assert task.output is expected


def test_is_improvement_bad_goal_names_the_field_without_traceback(kfp_local, capfd):
    with pytest.raises(RuntimeError):
        is_improvement(candidate=1.0, baseline=0.5, goal="biggest")
    err = capfd.readouterr()
    text = err.out + err.err
    assert "error: goal: got 'biggest'; valid: maximize, minimize" in text
    assert "pipetune/compare.py" not in text  # no traceback into our code


def test_launch_wait_best_chain_with_report_and_typed_params(kfp_local, home, data_csv):
    # the data path goes in as a static value of the spec (no artifact outside a pipeline)
    body = trial_spec(max_trials=3, max_parallel=1)
    body["static"] = {"data": str(data_csv)}
    launched = launch_tuning(job_name="chain", spec_dict=body, backend_options={"root": str(home)})
    ref = json.loads(launched.output)
    assert ref["backend"] == "local" and ref["name"] == "chain"
    # launching again attaches to the same job (idempotent retry)
    again = launch_tuning(job_name="chain", spec_dict=body, backend_options={"root": str(home)})
    assert json.loads(again.output) == ref

    waited = wait_for_tuning(job=launched.output, backend_options={"root": str(home)},
                             poll_seconds=0.5)
    assert waited.outputs["state"] == "completed"
    assert waited.outputs["trials_complete"] == 3

    best = get_best_hyperparameters(job=waited.outputs["job"], backend_options={"root": str(home)})
    typed = json.loads(best.outputs["params_json"])
    assert type(typed["max_depth"]) is int and type(typed["n_estimators"]) is int
    assert typed["data"] == str(data_csv)
    # the dict output: KFP turns integers into floats; cast_params restores them
    restored = cast_params(load_spec(body), best.outputs["params"], include_static=True)
    assert restored == typed
    metrics = best.outputs["best_metrics"]
    assert metrics.metadata["accuracy"] == pytest.approx(best.outputs["value"])
    assert metrics.metadata["trials_complete"] == 3
    report = open(best.outputs["report"].path).read()
    assert "chain" in report and str(typed["max_depth"]) in report
    assert "<html" in open(best.outputs["report_html"].path).read().lower()


def test_wait_fails_the_step_when_every_trial_fails(kfp_local, home, capfd):
    body = trial_spec(max_trials=2, max_parallel=1)
    body["trial"] = {"command": [PYTHON, "-c", "import sys; sys.exit(3)"]}
    launched = launch_tuning(job_name="doomed", spec_dict=body, backend_options={"root": str(home)})
    with pytest.raises(RuntimeError):
        wait_for_tuning(job=launched.output, backend_options={"root": str(home)}, poll_seconds=0.5)
    text = "".join(capfd.readouterr())
    assert "error: tuning job 'doomed' failed" in text


def test_launch_with_invalid_spec_names_the_field(kfp_local, home, capfd):
    body = trial_spec()
    body["budget"]["max_trials"] = 0
    with pytest.raises(RuntimeError):
        launch_tuning(job_name="bad", spec=yaml.safe_dump(body), backend_options={"root": str(home)})
    text = "".join(capfd.readouterr())
    assert "error: invalid spec: budget.max_trials" in text
    assert not (home / "jobs" / "bad").exists()


def test_sample_dataset_component(kfp_local, tmp_path, data_csv):
    from kfp import dsl
    from kfp.dsl import Dataset

    @dsl.pipeline
    def sample_only(uri: str) -> int:
        full = dsl.importer(artifact_uri=uri, artifact_class=Dataset)
        return sample_dataset(data=full.output, rows=60, stratify="label", seed=3).outputs["Output"]

    task = sample_only(uri=str(data_csv))
    assert task.output == 60


def test_wait_resumes_a_local_job_whose_coordinator_died(kfp_local, home):
    """On Vertex the launch step's container (and the detached coordinator in it) ends
    before the wait step starts; the wait step then finishes the job itself."""
    import os
    import signal
    import time

    from kfp_helpers import REPO

    from pipetune import steps
    from pipetune.backends.local import LocalBackend
    from pipetune.backends.local.jobstore import JobDir

    body = trial_spec(max_trials=4, max_parallel=1)
    body.update(parameters=[{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0},
                            {"name": "depth", "type": "integer", "min": 1, "max": 3}],
                objectives=[{"metric": "loss", "goal": "minimize"}],
                metrics=[{"name": "loss", "regex": "loss=([0-9.eE+-]+)"}],
                trial={"command": [PYTHON, str(REPO / "tests" / "kfp" / "quadratic_trial.py")]})
    ref = steps.launch(load_spec(body), job_name="orphan", backend_options={"root": str(home)})
    job = JobDir("orphan", home)
    pid = job.coordinator()["pid"]
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):  # reap: the coordinator is our child here
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
        time.sleep(0.05)
    assert LocalBackend(home).status(ref).state.value == "interrupted"

    waited = wait_for_tuning(job=ref.to_json(), backend_options={"root": str(home)},
                             poll_seconds=0.5)
    assert waited.outputs["state"] == "completed"
    assert waited.outputs["trials_complete"] == 4
    trials = LocalBackend(home).trials(ref)
    assert [t.state for t in trials] == ["complete"] * 4
