"""The benchmark's trial: a gradient-boosted classifier trained on ``data``, scored on ``valid``.

It reports the accuracy and the CPU seconds it used (``time.process_time``: with one trial
at a time and one OpenMP thread, that is this trial's compute).
"""

from __future__ import annotations

import time

import pyarrow.parquet as pq


def load(path: str):
    table = pq.read_table(path)
    y = table.column("label").to_numpy()
    x = table.drop_columns(["label"]).to_pandas().to_numpy()
    return x, y


def fit(params: dict, ctx=None) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier

    start = time.process_time()
    x, y = load(params["data"])
    xv, yv = load(params["valid"])
    model = HistGradientBoostingClassifier(
        learning_rate=params["learning_rate"], max_leaf_nodes=params["max_leaf_nodes"],
        min_samples_leaf=params["min_samples_leaf"], l2_regularization=params["l2_regularization"],
        max_iter=params["max_iter"], early_stopping=False, random_state=0)
    model.fit(x, y)
    accuracy = float(model.score(xv, yv))
    return {"accuracy": accuracy, "cpu_seconds": time.process_time() - start, "rows": len(y)}
