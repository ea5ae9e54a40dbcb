"""Early stopping on a real iterative learner: hyperband and median pruning against none.

The trial trains scikit-learn's ``MLPClassifier`` on the bundled digits data one epoch per
``partial_fit`` call, reports validation accuracy after every epoch through the in-process
trial context (``ctx.report`` / ``ctx.should_prune``), and returns the last epoch's accuracy.
All three modes run through pipetune's engine with ``strategy: tpe`` (only the pruner
differs), the same seeds and the same number of trials.

Measure, per seed: the *target* is the best final accuracy the run without early stopping
reached, minus ``TOL``; for each mode, the epochs it had consumed (over all its trials,
pruned ones included) when a completed trial first reached the target. The ratio
none / mode is the saving at equal final score. Target: >= 3x.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from benchmarks import pool

TOL = 0.005  # accuracy points that still count as an equal final score
MODES = {
    "none": {"type": "none"},
    "median": {"type": "median", "startup_trials": 5, "warmup_steps": 3},
    "hyperband": {"type": "hyperband", "min_resource": 1, "reduction_factor": 3},
}
PARAMETERS = [
    {"name": "hidden", "type": "integer", "min": 8, "max": 128, "scaling": "log"},
    {"name": "learning_rate_init", "type": "continuous", "min": 1e-5, "max": 0.3, "scaling": "log"},
    {"name": "alpha", "type": "continuous", "min": 1e-7, "max": 1.0, "scaling": "log"},
    {"name": "batch_size", "type": "discrete", "values": [16, 64, 256]},
    {"name": "activation", "type": "categorical", "values": ["relu", "tanh", "logistic"]},
]


def _data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)


def mlp_trial(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """One epoch per ``partial_fit``; validation accuracy reported after each epoch."""
    import numpy as np
    from sklearn.neural_network import MLPClassifier

    from pipetune import TrialPruned

    Xa, Xb, ya, yb = _data()
    model = MLPClassifier(hidden_layer_sizes=(params["hidden"],),
                          learning_rate_init=params["learning_rate_init"], alpha=params["alpha"],
                          batch_size=params["batch_size"], activation=params["activation"],
                          random_state=0)
    acc = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(1, int(params["epochs"]) + 1):
            model.partial_fit(Xa, ya, classes=np.arange(10))
            acc = float(model.score(Xb, yb))
            ctx.report(epoch, acc)
            if ctx.should_prune():
                raise TrialPruned()
    return {"accuracy": acc}


def run_mode(mode: str, seed: int, trials: int, epochs: int) -> dict[str, Any]:
    """One tuning job through the engine; per trial (in order) its epochs and final accuracy."""
    from pipetune.backends.local import LocalBackend
    from pipetune.spec import load_spec

    es = dict(MODES[mode])
    if es["type"] == "hyperband":
        es["max_resource"] = epochs
    spec = load_spec({
        "parameters": PARAMETERS, "static": {"epochs": epochs},
        "objectives": [{"metric": "accuracy", "goal": "maximize"}],
        "trial": {"callable": "benchmarks.early_stopping:mlp_trial"},
        "strategy": "tpe", "seed": seed, "early_stopping": es,
        "budget": {"max_trials": trials, "max_failed": trials},
    })
    root = Path(tempfile.mkdtemp(prefix="pipetune-es-"))
    try:
        backend = LocalBackend(root)
        t0 = time.perf_counter()
        ref = backend.launch(spec, "es", detach=False)
        seconds = time.perf_counter() - t0
        records = sorted(backend.trials(ref), key=lambda r: r.number)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"mode": mode, "seed": seed, "seconds": seconds,
            "trials": [{"state": r.state, "epochs": len(r.intermediate),
                        "final": r.metrics.get("accuracy") if r.state == "complete" else None}
                       for r in records]}


def epochs_to(trials: list[dict[str, Any]], target: float) -> int | None:
    """Epochs consumed until a completed trial first reached ``target`` (None: never)."""
    used = 0
    for t in trials:
        used += t["epochs"]
        if t["final"] is not None and t["final"] >= target:
            return used
    return None


def run(quick: bool, workers: int = 2) -> dict[str, Any]:
    seeds, trials, epochs = (1, 8, 9) if quick else (5, 40, 27)
    t0 = time.perf_counter()
    jobs = [(m, s, trials, epochs) for s in range(seeds) for m in MODES]
    runs = pool.run_all(run_mode, jobs, workers, progress="early stopping")
    by = {(r["mode"], r["seed"]): r for r in runs}
    per_seed = []
    for s in range(seeds):
        none_best = max(t["final"] for t in by[("none", s)]["trials"] if t["final"] is not None)
        target = none_best - TOL
        row: dict[str, Any] = {"seed": s, "target": target}
        for m in MODES:
            ts = by[(m, s)]["trials"]
            finals = [t["final"] for t in ts if t["final"] is not None]
            row[m] = {"epochs_to_target": epochs_to(ts, target),
                      "total_epochs": sum(t["epochs"] for t in ts),
                      "best_final": max(finals) if finals else None,
                      "pruned": sum(1 for t in ts if t["state"] == "pruned")}
        per_seed.append(row)
    summary: dict[str, Any] = {}
    for m in MODES:
        reached = [r for r in per_seed if r[m]["epochs_to_target"]]
        ratios = [r["none"]["epochs_to_target"] / r[m]["epochs_to_target"] for r in reached]
        totals = [r["none"]["total_epochs"] / r[m]["total_epochs"] for r in per_seed]
        summary[m] = {
            "seeds_reaching_target": len(reached),
            "median_epoch_saving_to_target": statistics.median(ratios) if ratios else None,
            "median_total_epoch_saving": statistics.median(totals),
            "mean_best_final": statistics.fmean(r[m]["best_final"] for r in per_seed
                                                if r[m]["best_final"] is not None),
            "mean_total_epochs": statistics.fmean(r[m]["total_epochs"] for r in per_seed),
        }
    return {"seeds": seeds, "trials": trials, "epochs": epochs, "tolerance": TOL,
            "summary": summary, "per_seed": per_seed, "target_saving": 3.0,
            "wall_seconds": time.perf_counter() - t0}
