"""Plain functions the ready DAGs' tasks call (no Airflow here, easy to test and reuse)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRAIN = HERE / "train.py"


def pipetune_home() -> Path:
    return Path(os.environ.get("PIPETUNE_HOME", ".pipetune")).absolute()


def prepare_data(data: str, dag_id: str) -> str:
    """The training data's path; an empty ``data`` writes scikit-learn's breast-cancer set."""
    if data and data not in ("None", "builtin"):
        return data
    from sklearn.datasets import load_breast_cancer

    path = pipetune_home() / "data" / dag_id / "breast_cancer.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = load_breast_cancer(as_frame=True).frame
        frame.columns = [re.sub(r"[^A-Za-z0-9]+", "_", c).strip("_") for c in frame.columns]
        tmp = path.with_suffix(".tmp")
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    return str(path)


def _run(args: list[str]) -> float:
    out = subprocess.run([sys.executable, str(TRAIN), *args], check=True, capture_output=True,
                         text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    found = re.findall(r"accuracy=([0-9.]+)", out.stdout)
    if not found:
        raise RuntimeError(f"train.py printed no accuracy: {out.stdout[-500:]} {out.stderr[-500:]}")
    return float(found[-1])


def train_full(best: dict, data: str, model_dir: str) -> dict:
    """Train on all the data with the best parameters; score on the hold-out split."""
    params = {**best.get("static", {}), **best["params"]}
    params.pop("data", None)  # static.data was the proxy sample: train on everything
    args = [f"--{k}={v}" for k, v in params.items()] + [f"--data={data}", f"--model_dir={model_dir}"]
    score = _run(args)
    return {"score": score, "model_dir": model_dir, "params": best["params"], "job": best["job"],
            "proxy_value": best["value"]}


def champion_score(registry: str, data: str) -> float | None:
    """The current champion's score on the same hold-out split, or None without a champion."""
    model = Path(registry) / "champion" / "model.joblib"
    if not model.exists():
        return None
    return _run([f"--data={data}", f"--evaluate={model}"])


def promote(candidate: dict, registry: str) -> dict:
    target = Path(registry) / "champion"
    tmp = Path(registry) / "champion.new"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(candidate["model_dir"], tmp)
    (tmp / "champion.json").write_text(json.dumps(candidate, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return {"promoted": str(target), **candidate}
