"""Each trial contract gives a real trial process what its cloud container would."""

import json
import os

import pytest

from pipetune import get_backend, load_spec

from .conftest import script_spec

PARAMS = [
    {"name": "learning_rate", "type": "continuous", "min": 0.01, "max": 0.1},
    {"name": "depth", "type": "integer", "min": 2, "max": 4},
    {"name": "use_bias", "type": "categorical", "values": [True, False]},
]


def _run(contract, home, **extra):
    spec = load_spec(script_spec("echo_contract.py", parameters=PARAMS, static={"epochs": 3},
                                 budget={"max_trials": 2, "max_parallel": 1},
                                 trial={"contract": contract, **extra.pop("trial", {})}, **extra))
    be = get_backend("local")
    ref = be.launch(spec, f"c-{contract}", detach=False)
    record = be.trials(ref)[0]
    seen = json.loads((be._job(ref).trial_dir(record.number) / "seen.json").read_text())
    return record, seen, be.best(ref)


def test_args_contract(home):
    record, seen, _ = _run("args", home)
    assert f"--depth={record.params['depth']}" in seen["argv"]
    assert "--epochs=3" in seen["argv"]
    assert f"--use_bias={str(record.params['use_bias']).lower()}" in seen["argv"]


def test_env_contract(home):
    record, seen, _ = _run("env", home)
    assert seen["argv"] == []
    assert seen["env"]["HP_DEPTH"] == str(record.params["depth"])
    assert seen["env"]["HP_EPOCHS"] == "3"


def test_sagemaker_contract(home, tmp_path):
    data = tmp_path / "train-data"
    data.mkdir()
    (data / "part-0.csv").write_text("a,b\n1,2\n")
    record, seen, best = _run("sagemaker", home, trial={"channels": {"train": str(data)}})
    env = seen["env"]
    i = seen["argv"].index("--depth")
    assert seen["argv"][i + 1] == str(record.params["depth"])  # script mode: --name value
    assert seen["hyperparameters.json"]["depth"] == str(record.params["depth"])  # strings, like the API
    assert json.loads(env["SM_HPS"])["depth"] == record.params["depth"]
    assert os.listdir(env["SM_CHANNEL_TRAIN"]) == ["part-0.csv"]
    assert json.loads(env["SM_CHANNELS"]) == ["train"]
    for var in ("SM_MODEL_DIR", "SM_OUTPUT_DATA_DIR", "SM_CHECKPOINT_DIR", "SM_INPUT_CONFIG_DIR"):
        assert os.path.isdir(env[var]), var
    assert env["SM_MODEL_DIR"].endswith("opt_ml/model")
    assert best.artifacts == env["SM_MODEL_DIR"]
    assert open(os.path.join(best.artifacts, "model.txt")).read() == "weights"


def test_vertex_contract_reads_hypertune_with_steps(home):
    record, seen, best = _run("vertex", home, metrics=[])
    env = seen["env"]
    assert f"--depth={record.params['depth']}" in seen["argv"]
    assert env["CLOUD_ML_HP_METRIC_FILE"].endswith("hypertune/output.metrics")
    assert os.path.isdir(env["AIP_MODEL_DIR"])
    assert record.metrics["loss"] == pytest.approx(1 / 3)  # the last reported value
    assert record.intermediate == {1: 1.0, 2: 0.5, 3: pytest.approx(1 / 3)}  # global_step kept
    assert best.artifacts == env["AIP_MODEL_DIR"]


def test_channels_reach_every_contract_but_sagemaker_as_env(home, tmp_path):
    data = tmp_path / "train-data"
    data.mkdir()
    _, seen, _ = _run("vertex", home, metrics=[],
                      trial={"channels": {"train": str(data), "extra": "gs://b/extra/"}})
    env = seen["env"]
    assert env["PIPETUNE_CHANNEL_TRAIN"] == env["AIP_TRAINING_DATA_URI"] == str(data)
    assert env["PIPETUNE_CHANNEL_EXTRA"] == "gs://b/extra/"  # as Vertex's container gets it
    _, seen, _ = _run("args", home, trial={"channels": {"train": "data/train"}})
    assert seen["env"]["PIPETUNE_CHANNEL_TRAIN"] == os.path.join(str(home), "data/train")
