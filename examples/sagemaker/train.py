"""A trial script written for the SageMaker training contract, unchanged on the local engine.

What it relies on (all of it provided by SageMaker's training toolkit, and emulated by
pipetune's ``contract: sagemaker``):

- hyperparameters as ``--name value`` arguments (script mode), with ``SM_HPS`` and
  ``/opt/ml/input/config/hyperparameters.json`` as fallbacks;
- the model written to ``SM_MODEL_DIR`` (SageMaker uploads it as ``model.tar.gz``);
- the optional ``train`` channel in ``SM_CHANNEL_TRAIN`` (a CSV whose last column is the
  label); without it, scikit-learn's bundled breast-cancer set;
- metrics printed to stdout and scraped by the ``MetricDefinitions`` regexes
  (``validation-auc:0.991``), one line per round so early stopping sees progress.

    python train.py --learning_rate 0.1 --max_depth 3 --max_iter 60
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
from pathlib import Path


def hyperparameters() -> dict[str, str]:
    """argv first (script mode), then SM_HPS, then hyperparameters.json."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning_rate", type=float)
    parser.add_argument("--max_depth", type=int)
    parser.add_argument("--max_iter", type=int)
    parser.add_argument("--seed", type=int)
    args, _ = parser.parse_known_args()
    found = {k: v for k, v in vars(args).items() if v is not None}
    if not found and os.environ.get("SM_HPS"):
        found = json.loads(os.environ["SM_HPS"])
    if not found:
        config = Path(os.environ.get("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config"))
        path = config / "hyperparameters.json"
        if path.is_file():
            found = json.loads(path.read_text())
    return found


def load_data():
    channel = os.environ.get("SM_CHANNEL_TRAIN")
    if channel and any(Path(channel).glob("*.csv")):
        import numpy as np

        data = np.vstack([np.loadtxt(p, delimiter=",") for p in sorted(Path(channel).glob("*.csv"))])
        return data[:, :-1], data[:, -1].astype(int)
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True)


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    hp = hyperparameters()
    X, y = load_data()
    seed = int(hp.get("seed", 0))
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    model = HistGradientBoostingClassifier(
        learning_rate=float(hp.get("learning_rate", 0.1)), max_depth=int(hp.get("max_depth", 3)),
        max_iter=int(hp.get("max_iter", 60)), random_state=seed, early_stopping=False)
    model.fit(X_train, y_train)
    # staged scores: one metric line per round, as a long training job would print
    for step, proba in enumerate(model.staged_predict_proba(X_val)):
        if step % 20 == 19:
            print(f"round {step + 1} validation-auc:{roc_auc_score(y_val, proba[:, 1]):.5f}", flush=True)
    auc = roc_auc_score(y_val, model.predict_proba(X_val)[:, 1])
    print(f"validation-auc:{auc:.5f}", flush=True)
    model_dir = Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    model_dir.mkdir(parents=True, exist_ok=True)
    with open(model_dir / "model.pkl", "wb") as fh:
        pickle.dump(model, fh)


if __name__ == "__main__":
    main()
