"""A ParallelFor fan-out of tuning workers completes one shared study: exactly max_trials
trials, each run once, none lost. Also the worker core alone, with truly concurrent
processes."""

import json
import subprocess
import sys

import optuna
import pytest
import yaml
from kfp_helpers import PYTHON, REPO

from pipetune.backends.local.jobstore import T_EXCLUDED, T_OWNER, JobDir
from pipetune.spec import load_spec
from pipetune.worker import prepare_shared_job

pytestmark = pytest.mark.filterwarnings("ignore:.*no effect in the current local runner")

SCRIPT = REPO / "tests" / "kfp" / "quadratic_trial.py"


def fanout_spec(storage: str, max_trials: int = 6) -> dict:
    return {
        "parameters": [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0},
                       {"name": "depth", "type": "integer", "min": 1, "max": 3}],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "metrics": [{"name": "loss", "regex": "loss=([0-9.eE+-]+)"}],
        "trial": {"command": [PYTHON, str(SCRIPT)]},
        "strategy": "random", "seed": 1,
        "budget": {"max_trials": max_trials, "max_parallel": 1},
        "storage": storage,
    }


def check_study(home, name, max_trials):
    job = JobDir(name, home)
    study = optuna.load_study(study_name=name, storage=job.storage())
    counted = [t for t in study.trials if not t.user_attrs.get(T_EXCLUDED)
               and t.state != optuna.trial.TrialState.WAITING]
    complete = [t for t in counted if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == max_trials == len(counted), [t.state for t in study.trials]
    numbers = [t.number for t in complete]
    assert len(set(numbers)) == len(numbers)
    # each counted trial ran exactly once: one trial directory with one output each
    dirs = [job.trial_dir(n) for n in numbers]
    assert all(d.is_dir() for d in dirs)
    # nothing left running, and trials not counted are only discarded asks, never results
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
    for t in study.trials:
        if t.user_attrs.get(T_EXCLUDED):
            assert t.state == optuna.trial.TrialState.FAIL and not t.values
    return complete


def test_parallel_for_workers_complete_one_shared_study(kfp_local, home, tmp_path):
    from parallel_tuning import parallel_tuning

    storage = f"journal://{tmp_path / 'shared.journal'}"
    task = parallel_tuning(spec=yaml.safe_dump(fanout_spec(storage)), job_name="fanout",
                           pipetune_home=str(home), workers=[0, 1, 2])
    complete = check_study(home, "fanout", 6)
    best = min(complete, key=lambda t: t.values[0])
    params = json.loads(task.output)
    assert params == {"x": best.params["x"], "depth": best.params["depth"]}
    assert isinstance(params["depth"], int)


def test_concurrent_worker_processes_share_budget_exactly(home, tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    spec = load_spec(fanout_spec(storage, max_trials=5))
    ref = prepare_shared_job(spec, "concurrent", root=home)
    code = ("import sys, json; from pipetune.worker import run_worker; "
            "r = run_worker(sys.argv[1]); print(json.dumps({'worker': r.worker, 'n': r.trials_run}))")
    procs = [subprocess.Popen([sys.executable, "-c", code, ref.to_json()],
                              stdout=subprocess.PIPE, text=True) for _ in range(3)]
    reports = [json.loads(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    complete = check_study(home, "concurrent", 5)
    assert sum(r["n"] for r in reports) == 5
    by_worker = {t.user_attrs[T_OWNER]["id"] for t in complete}
    assert by_worker == {r["worker"] for r in reports if r["n"]}
    assert len(by_worker) >= 2  # the trials really were shared out
