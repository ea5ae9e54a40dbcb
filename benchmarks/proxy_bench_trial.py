"""The proxy benchmark's trial, written the way a user's ``train.py`` is.

``fit`` gets one data file (the full training data, or pipetune's sample of it), holds out a
stratified, seeded ``valid_fraction`` (20 %) of *those* rows as its validation set, trains a
small MLP (scikit-learn ``MLPClassifier``, Adam, mini-batches of 256, a fixed number of
epochs, no early stopping) on the rest and reports the validation accuracy. Nothing in it
is fixed-size: loading, splitting, scaling, every epoch and the scoring all scale with the
rows it was given, so a trial on a 5 % sample does about 5 % of the work (measured: a 10 %
sample costs 10 % of a full-data trial, see ``benchmarks/RESULTS.md``).

Why an MLP and not gradient-boosted trees: HistGradientBoosting's per-node work (split
finding over every feature's bins, Python per node) does not shrink with the rows, so at
200k rows a 10 % sample still cost 17-27 % of a full-data trial; that is a property of
the model at this data size, not of proxy tuning.

``final`` is not a trial: it trains on all of the training data with an arm's winning
parameters and scores a held-out test file that no tuning trial ever reads.

Compute is ``time.thread_time()`` of the thread running the trial. Trials are in-process
callables and the benchmark pins OpenMP/BLAS to one thread, so all of a trial's work
happens on that thread, and the engine's own threads (heartbeats, journal writes) are not
counted as trial compute.
"""

from __future__ import annotations

import time
import warnings

import pyarrow.parquet as pq

FIXED = {"epochs": 8, "valid_fraction": 0.2, "split_seed": 0}


def load(path: str):
    table = pq.read_table(path)
    y = table.column("label").to_numpy()
    x = table.drop_columns(["label"]).to_pandas().to_numpy()
    return x, y


def model(params: dict):
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mlp = MLPClassifier(
        hidden_layer_sizes=(int(params["width"]),) * int(params["layers"]),
        learning_rate_init=params["learning_rate"], alpha=params["alpha"], batch_size=256,
        max_iter=int(params.get("epochs", FIXED["epochs"])), tol=0.0, n_iter_no_change=10**6,
        random_state=0)
    return make_pipeline(StandardScaler(), mlp)


def _train(params: dict, x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: the epoch count is fixed on purpose
        return model(params).fit(x, y)


def fit(params: dict, ctx=None) -> dict:
    from sklearn.model_selection import train_test_split

    start = time.thread_time()
    x, y = load(params["data"])
    xt, xv, yt, yv = train_test_split(
        x, y, test_size=params.get("valid_fraction", FIXED["valid_fraction"]), stratify=y,
        random_state=params.get("split_seed", FIXED["split_seed"]))
    accuracy = float(_train(params, xt, yt).score(xv, yv))
    return {"accuracy": accuracy, "cpu_seconds": time.thread_time() - start, "rows": len(y)}


def final(params: dict, train: str, test: str) -> dict:
    """Train on all of ``train`` with ``params``, score on ``test``."""
    start = time.thread_time()
    x, y = load(train)
    xs, ys = load(test)
    accuracy = float(_train(params, x, y).score(xs, ys))
    return {"accuracy": accuracy, "cpu_seconds": time.thread_time() - start}
