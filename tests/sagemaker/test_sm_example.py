"""examples/sagemaker runs unchanged on the local engine, and is what the backend submits."""

from __future__ import annotations

import json
import pickle
import re
import sys
from pathlib import Path

from pipetune.backends.local import LocalBackend
from pipetune.backends.sagemaker.backend import SageMakerBackend
from pipetune.spec import load_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sagemaker"


def test_example_spec_translates_to_script_mode():
    spec = load_spec(EXAMPLE / "spec.yaml")
    req = SageMakerBackend(region="us-east-1").request(spec, spec.name)
    definition = req["TrainingJobDefinition"]
    assert definition["StaticHyperParameters"]["sagemaker_program"] == '"train.py"'
    assert definition["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "validation:auc", "Regex": "validation-auc:([0-9.]+)"}]
    assert definition["ResourceConfig"]["KeepAlivePeriodInSeconds"] == 600
    # the example's folder, packed and uploaded under output_path, as the SageMaker SDK does
    submit = json.loads(definition["StaticHyperParameters"]["sagemaker_submit_directory"])
    assert re.fullmatch(r"s3://my-ml-bucket/tuning/pipetune-source/[0-9a-f]{16}/sourcedir\.tar\.gz",
                        submit)
    assert definition["StoppingCondition"]["MaxRuntimeInSeconds"] == 900  # not trial_timeout
    assert definition["Environment"] == {"OMP_NUM_THREADS": "1"}  # trial.env


def test_example_runs_on_the_local_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPETUNE_HOME", str(tmp_path / "home"))
    spec = load_spec(EXAMPLE / "spec.yaml").with_overrides(
        backend="local",
        budget={"max_trials": 3, "max_parallel": 1, "max_cost_usd": None},
        trial={"command": [sys.executable, "train.py"], "workdir": str(EXAMPLE)},
    )
    backend = LocalBackend(root=tmp_path / "home")
    ref = backend.launch(spec, "sm-example", detach=False)
    best = backend.best(ref)
    assert best.trials_complete == 3
    assert 0.9 < best.value <= 1.0
    assert isinstance(best.params["max_depth"], int) and best.params["max_iter"] in (40, 80, 120)
    model = Path(best.artifacts) / "model.pkl"  # written to SM_MODEL_DIR
    with open(model, "rb") as fh:
        assert pickle.load(fh).max_depth == best.params["max_depth"]
    trial = backend.trials(ref)[0]
    assert len(trial.intermediate) >= 2  # one metric line per 20 rounds, scraped by the regex
