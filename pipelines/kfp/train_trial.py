"""The example trial script of the continuous-training pipeline: one trial = one fit.

Hyperparameters arrive as ``--name=value`` arguments (pipetune's ``args`` contract, also
SageMaker's and Vertex's), the data path as ``--data``; the metric goes to stdout as
``accuracy=<value>``, which the spec's regex picks up.

    python train_trial.py --data=train.csv --max_depth=3 --n_estimators=20 --learning_rate=0.1
"""

import argparse

import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import train_test_split


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--label", default="label")
    ap.add_argument("--max_depth", type=int, required=True)
    ap.add_argument("--n_estimators", type=int, required=True)
    ap.add_argument("--learning_rate", type=float, required=True)
    args = ap.parse_args()
    frame = pd.read_csv(args.data)
    x, y = frame.drop(columns=[args.label]), frame[args.label]
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    model = GradientBoostingClassifier(max_depth=args.max_depth, n_estimators=args.n_estimators,
                                       learning_rate=args.learning_rate, random_state=0)
    model.fit(x_tr, y_tr)
    print(f"accuracy={model.score(x_te, y_te):.6f}", flush=True)


if __name__ == "__main__":
    main()
