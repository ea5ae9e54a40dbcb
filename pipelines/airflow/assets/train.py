"""Trial and training script of the ready DAGs: a gradient-boosted classifier on a CSV.

Tuning (pipetune runs it with ``--name=value`` arguments and reads ``accuracy=...``)::

    python train.py --data=sample.csv --learning_rate=0.1 --max_depth=3

Full training, saving the model::

    python train.py --data=full.csv --learning_rate=0.1 --max_depth=3 --model_dir=out/

Scoring an existing model on the same hold-out split (the promotion gate)::

    python train.py --data=full.csv --evaluate=champion/model.joblib

The CSV has feature columns and a ``target`` column; 25 % of the rows (seeded, stratified)
are held out for the score.
"""

import argparse
import json
import os

import joblib
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--learning_rate", type=float, default=0.1)
    p.add_argument("--max_depth", type=int, default=3)
    p.add_argument("--max_iter", type=int, default=50)
    p.add_argument("--l2_regularization", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model_dir")
    p.add_argument("--evaluate")
    args, _unknown = p.parse_known_args()

    frame = pd.read_csv(args.data)
    y, X = frame.pop("target"), frame
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y)
    if args.evaluate:
        model = joblib.load(args.evaluate)
    else:
        model = HistGradientBoostingClassifier(
            learning_rate=args.learning_rate, max_depth=args.max_depth, max_iter=args.max_iter,
            l2_regularization=args.l2_regularization, random_state=args.seed)
        model.fit(X_train, y_train)
    accuracy = accuracy_score(y_test, model.predict(X_test))
    print(f"accuracy={accuracy:.5f}")
    if args.model_dir:
        os.makedirs(args.model_dir, exist_ok=True)
        joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
        with open(os.path.join(args.model_dir, "metrics.json"), "w") as fh:
            json.dump({"accuracy": accuracy, "params": vars(args)}, fh)


if __name__ == "__main__":
    main()
