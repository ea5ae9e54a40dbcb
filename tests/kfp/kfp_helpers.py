import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PIPELINES = REPO / "pipelines" / "kfp"
TRIAL_SCRIPT = PIPELINES / "train_trial.py"
# kfp.local (2.17.3, subprocess_task_handler.replace_python_executable) rewrites every
# "python3" inside a task's arguments, pipeline parameters included: name the venv's
# interpreter by its "python" link so the spec's command survives.
PYTHON = str(Path(sys.prefix) / "bin" / "python")

if str(PIPELINES) not in sys.path:
    sys.path.insert(0, str(PIPELINES))


@pytest.fixture
def home(tmp_path, monkeypatch):
    root = tmp_path / "pipetune-home"
    root.mkdir()
    monkeypatch.setenv("PIPETUNE_HOME", str(root))
    return root


@pytest.fixture
def kfp_local(tmp_path):
    from kfp import local

    local.init(runner=local.SubprocessRunner(use_venv=False),
               pipeline_root=str(tmp_path / "kfp-root"))
    return tmp_path / "kfp-root"


@pytest.fixture
def data_csv(tmp_path):
    import pandas as pd
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=240, n_features=6, n_informative=4, random_state=0)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
    frame["label"] = y
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path


def trial_spec(max_trials: int = 4, max_parallel: int = 2, **extra) -> dict:
    body = {
        "parameters": [
            {"name": "max_depth", "type": "integer", "min": 1, "max": 4},
            {"name": "n_estimators", "type": "integer", "min": 5, "max": 25},
            {"name": "learning_rate", "type": "continuous", "min": 0.05, "max": 0.5,
             "scaling": "log"},
        ],
        "objectives": [{"metric": "accuracy", "goal": "maximize"}],
        "metrics": [{"name": "accuracy", "regex": "accuracy=([0-9.]+)"}],
        "trial": {"command": [PYTHON, str(TRIAL_SCRIPT)]},
        "strategy": "random",
        "seed": 0,
        "budget": {"max_trials": max_trials, "max_parallel": max_parallel},
    }
    body.update(extra)
    return body


def spec_yaml(**kw) -> str:
    return yaml.safe_dump(trial_spec(**kw))
