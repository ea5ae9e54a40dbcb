"""A trial script written for Vertex AI: it runs unchanged on Vertex and on pipetune's
local engine (``trial.contract: vertex``).

- hyperparameters arrive as ``--name=value`` arguments;
- the metric is reported with ``cloudml-hypertune`` once per epoch (``global_step``), so
  Vertex's automated stopping (and the local engine's pruner) can stop a poor trial early;
- the model goes to ``AIP_MODEL_DIR`` (a gs:// URI on Vertex, a directory locally).
"""

import argparse
import os
import pickle

import fsspec
import hypertune
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=1e-4)
parser.add_argument("--penalty", choices=["l2", "l1", "elasticnet"], default="l2")
parser.add_argument("--l1_ratio", type=float, default=0.15)
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()

X, y = load_breast_cancer(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)

model = SGDClassifier(loss="log_loss", alpha=args.alpha, penalty=args.penalty,
                      l1_ratio=args.l1_ratio, random_state=0)
reporter = hypertune.HyperTune()
for epoch in range(1, args.epochs + 1):
    model.partial_fit(X_train, y_train, classes=[0, 1])
    accuracy = model.score(X_val, y_val)
    reporter.report_hyperparameter_tuning_metric(
        hyperparameter_metric_tag="accuracy", metric_value=accuracy, global_step=epoch)
    print(f"epoch={epoch} accuracy={accuracy:.4f}", flush=True)

model_dir = os.environ.get("AIP_MODEL_DIR", "model")
with fsspec.open(f"{model_dir.rstrip('/')}/model.pkl", "wb", auto_mkdir=True) as fh:
    pickle.dump({"scaler": scaler, "model": model}, fh)
