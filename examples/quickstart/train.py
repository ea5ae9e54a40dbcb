"""Quickstart trial: a gradient-boosted classifier on scikit-learn's bundled breast-cancer set.

pipetune passes each hyperparameter as ``--name=value`` (the ``args`` contract) and reads the
score this script prints (``accuracy=0.97``) with the spec's regex.

    python train.py --learning_rate=0.1 --max_depth=3 --max_iter=100 \
        --class_weight=none --l2_regularization=0.01
"""

import argparse
import json
import os

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import cross_val_score


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--max_depth", type=int, default=3)
    parser.add_argument("--max_iter", type=int, default=100)
    parser.add_argument("--l2_regularization", type=float, default=0.0)
    parser.add_argument("--class_weight", choices=["none", "balanced"], default="none")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    X, y = load_breast_cancer(return_X_y=True)
    model = HistGradientBoostingClassifier(
        learning_rate=args.learning_rate, max_depth=args.max_depth, max_iter=args.max_iter,
        l2_regularization=args.l2_regularization,
        class_weight=None if args.class_weight == "none" else "balanced",
        random_state=args.seed,
    )
    scores = cross_val_score(model, X, y, cv=3, scoring="accuracy")
    print(f"accuracy={scores.mean():.5f}")
    out_dir = os.environ.get("PIPETUNE_TRIAL_DIR")  # each trial's own directory
    if out_dir:
        with open(os.path.join(out_dir, "scores.json"), "w") as fh:
            json.dump({"fold_accuracy": scores.tolist()}, fh)


if __name__ == "__main__":
    main()
