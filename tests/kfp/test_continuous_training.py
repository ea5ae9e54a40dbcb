"""The continuous-training pipeline end to end under kfp.local, real trials on the local
backend: sample -> launch -> wait -> best -> full training -> gated deploy."""

import json

import optuna
import pytest
from kfp_helpers import spec_yaml

from pipetune.backends.local.jobstore import JobDir

pytestmark = pytest.mark.filterwarnings("ignore:.*no effect in the current local runner")


def _run(data_csv, home, **params):
    from continuous_training import continuous_training

    task = continuous_training(data_uri=str(data_csv), spec=spec_yaml(max_trials=4),
                               backend_options={"root": str(home)}, sample_fraction=0.5,
                               **params)
    return json.loads(task.output)


def test_pipeline_runs_end_to_end_and_deploy_gets_integers(kfp_local, home, data_csv):
    record = _run(data_csv, home)
    assert record["deployed"] is True  # no baseline: the first model passes the gate
    params = record["params"]
    assert set(params) == {"max_depth", "n_estimators", "learning_rate", "data"}
    assert record["param_types"] == {"max_depth": "int", "n_estimators": "int",
                                     "learning_rate": "float", "data": "str"}
    assert isinstance(params["max_depth"], int) and 1 <= params["max_depth"] <= 4

    # the job really ran 4 trials, on the sample (half of 240 rows), and the deployed
    # parameters are those of its best trial
    jobs = list((home / "jobs").iterdir())
    jobs = [p for p in jobs if p.is_dir()]
    assert len(jobs) == 1
    job = JobDir(jobs[0].name, home)
    study = optuna.load_study(study_name=job.name, storage=job.storage())
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == 4
    best = max(done, key=lambda t: t.values[0])
    assert {k: params[k] for k in best.params} == best.params
    sample_path = params["data"]
    with open(sample_path) as fh:
        assert sum(1 for _ in fh) == 1 + 120


def test_gate_keeps_current_model_when_baseline_is_better(kfp_local, home, data_csv):
    record = _run(data_csv, home, baseline_accuracy=1.01)
    assert record["deployed"] is False
    assert 0.0 < record["accuracy"] <= 1.0
