"""Early stopping on a real iterative learner: median, hyperband and successive halving
pruning against none.

The trial trains scikit-learn's ``MLPClassifier`` (adam) one epoch per ``partial_fit`` call
on a synthetic, deliberately hard classification set (``make_classification``: 4 classes,
3 clusters per class, 10 informative of 24 features, 3% label noise, 6,000 training and
2,000 validation rows; fixed seed), reports validation accuracy after every epoch through the
in-process trial context (``ctx.report`` / ``ctx.should_prune``), and returns the last
epoch's accuracy. Up to 81 epochs, so hyperband with η = 3 and a minimum of 1 epoch has 5
rungs (1, 3, 9, 27, 81). Learning curves are long: with small learning rates or large
batches, accuracy is still rising at epoch 81.

All modes run through pipetune's engine with ``strategy: tpe`` (only the pruner
differs), with the same seeds. The median pruner's warm-up is 9 epochs (hyperband's second
rung), with 5 start-up trials. Successive halving (pipetune's ``successive_halving``, ASHA:
one bracket, so the sampler learns from every trial) has the same rungs as hyperband's most
aggressive bracket: 1, 3, 9, 27, 81 epochs, η = 3.

``auto`` (issue 21) is the pruner pipetune's ``early_stopping: {type: auto}`` picks, with
none of its knobs set: successive halving, min_resource 1, η = 3, the same pruner as
``successive_halving`` (a first version estimated the first rung from the first completed
trial: see RESULTS.md).

Two more modes are a sensitivity check of the first rung, not a tuning of it:
``successive_halving_r3`` and ``hyperband_r3`` are the same pruners with ``min_resource`` = 3
instead of 1 (successive halving's rungs 3, 9, 27, 81; hyperband's brackets start at 3, 9, 27
and 81 epochs), everything else equal. Why: on this learner the learning curves cross
early (configurations that end best often start slowly: small learning rates, large
batches), so a rung at epoch 1 ranks trials by a score that does not yet predict the final
one and prunes slow starters. The check asks whether a first rung placed after the curves
stop crossing changes that; 3 is the next rung of the η = 3 grid (the smallest such move,
keeping 81 epochs on the grid), the one value tried, fixed before the run. Both results
are reported whatever they are. They run only when asked (``run(..., sensitivity=True)``,
``python -m benchmarks.run --sensitivity``): a one-off check that exercises no code the
other modes do not, kept out of ``make bench`` to hold it within its 30 minutes.

Per seed, the job without early stopping runs first (``trials`` trials); its best final
accuracy minus ``TOL`` is the seed's *target*. The pruning jobs then run with pipetune's own
stop rule ``budget.target_value`` = that target and up to ``CAP`` × ``trials`` trials: they
stop as soon as a completed trial reaches the target. Pruning saves epochs per trial, so a
pruning job may spend them on more trials; holding the trial count equal instead would hold
the pruning jobs to fewer full trainings and ask a different question (the earlier version
of this benchmark did that; see RESULTS.md).

Measures, per seed (then the median over seeds per mode):

- *epochs to target*: the epochs a job had consumed (over all its trials, pruned ones
  included, in trial order) when a completed trial first reached the target; the saving is
  none / mode. A seed where the mode never reaches the target within its cap counts as a
  saving of 0 (it sorts last in the median);
- total epochs of the job, its trials, and its best final accuracy.

Target: >= 3x fewer epochs at equal final score.

Issue 21 added the seeds as a parameter (seeds 0-4 are the ones the pruners were designed
on; a held-out check takes others) and a second benchmark with a longer learning curve
(:data:`CURVES`, ``long``: 243 epochs, target >= 5x). Runs on different seeds, e.g. one
process per seed, are combined by :func:`merge`.
"""

from __future__ import annotations

import functools
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from benchmarks import pool

TOL = 0.005  # accuracy points that still count as an equal final score
CAP = 3  # a pruning job's trial cap, in multiples of the no-stopping job's trials
WARMUP = 9  # the median pruner's warm-up: hyperband's second rung at 81 epochs
MODES = {
    "none": {"type": "none"},
    "median": {"type": "median", "startup_trials": 5, "warmup_steps": WARMUP},
    "hyperband": {"type": "hyperband", "min_resource": 1, "reduction_factor": 3},
    "successive_halving": {"type": "successive_halving", "min_resource": 1, "reduction_factor": 3},
    # issue 21: the pruner pipetune's ``auto`` picks, with none of its knobs set
    "auto": {"type": "auto"},
    # sensitivity check of the first rung (see the module docstring): min_resource 3, not 1
    "successive_halving_r3": {"type": "successive_halving", "min_resource": 3,
                              "reduction_factor": 3},
    "hyperband_r3": {"type": "hyperband", "min_resource": 3, "reduction_factor": 3},
}
SENSITIVITY = ("successive_halving_r3", "hyperband_r3")  # only with run(sensitivity=True)
PARAMETERS = [
    {"name": "hidden", "type": "integer", "min": 8, "max": 128, "scaling": "log"},
    {"name": "learning_rate_init", "type": "continuous", "min": 1e-5, "max": 0.1, "scaling": "log"},
    {"name": "alpha", "type": "continuous", "min": 1e-7, "max": 1.0, "scaling": "log"},
    {"name": "batch_size", "type": "discrete", "values": [64, 256, 1024]},
    {"name": "activation", "type": "categorical", "values": ["relu", "tanh", "logistic"]},
]
SIZES = {  # quick: (seeds, trials, epochs)
    True: (1, 8, 9),
    False: (5, 50, 81),
}
# The benchmarks (``curve``): ``mlp81`` the one described above; ``long`` (issue 21) the same
# model, search space and generator in numpy (:mod:`benchmarks.long_curve`) on 2,000 training
# rows, up to 243 epochs (η = 3: rungs 1, 3, 9, 27, 81, 243): fewer updates per epoch and a
# third more rungs, so the learning curve is longer in epochs and in rungs.
CURVES: dict[str, dict[str, Any]] = {
    "mlp81": {"trial": "benchmarks.early_stopping:mlp_trial", "train_rows": 6000,
              "sizes": SIZES, "target_saving": 3.0,
              "learner": "MLPClassifier (adam), one partial_fit per epoch, synthetic 4-class set "
                         "(6,000 train / 2,000 validation rows)"},
    "long": {"trial": "benchmarks.early_stopping:long_mlp_trial", "train_rows": 2000,
             "sizes": {True: (1, 8, 27), False: (10, 50, 243)}, "target_saving": 5.0,
             "learner": "one-hidden-layer perceptron (adam) in numpy, as MLPClassifier, one "
                        "epoch per step, synthetic 4-class set (2,000 train / 2,000 validation "
                        "rows)"},
}


@functools.lru_cache(maxsize=2)
def _data(train_rows: int = 6000):
    """``train_rows`` training and 2,000 validation rows (fixed seed), standardised."""
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(n_samples=train_rows + 2000, n_features=24, n_informative=10,
                               n_redundant=4, n_classes=4, n_clusters_per_class=3, class_sep=1.0, flip_y=0.03,
                               random_state=0)
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=2000, random_state=0, stratify=y)
    scaler = StandardScaler().fit(Xa)
    return scaler.transform(Xa), scaler.transform(Xb), ya, yb


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
            model.partial_fit(Xa, ya, classes=np.arange(4))
            acc = float(model.score(Xb, yb))
            ctx.report(epoch, acc)
            if ctx.should_prune():
                raise TrialPruned()
    return {"accuracy": acc}


def long_mlp_trial(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """The long-curve benchmark's trial: :func:`benchmarks.long_curve.train` on 2,000
    training rows, validation accuracy reported after each epoch."""
    from benchmarks.long_curve import train
    from pipetune import TrialPruned

    pruned = False

    def after_epoch(epoch: int, acc: float) -> bool:
        nonlocal pruned
        ctx.report(epoch, acc)
        pruned = ctx.should_prune()
        return pruned

    acc = train(params, _data(CURVES["long"]["train_rows"]), int(params["epochs"]), after_epoch)
    if pruned:
        raise TrialPruned()
    return {"accuracy": acc}


def run_mode(mode: str, seed: int, trials: int, epochs: int,
             target: float | None = None, curve: str = "mlp81") -> dict[str, Any]:
    """One tuning job through the engine; per trial (in order) its epochs and final accuracy.

    With ``target``: up to ``CAP * trials`` trials, stopping when a trial reaches ``target``.
    """
    from pipetune.backends.local import LocalBackend
    from pipetune.spec import load_spec

    es = dict(MODES[mode])
    if es["type"] == "hyperband":
        es["max_resource"] = epochs
    spec = load_spec({
        "parameters": PARAMETERS, "static": {"epochs": epochs},
        "objectives": [{"metric": "accuracy", "goal": "maximize"}],
        "trial": {"callable": CURVES[curve]["trial"]},
        "strategy": "tpe", "seed": seed, "early_stopping": es,
        "budget": ({"max_trials": trials, "max_failed": trials} if target is None else
                   {"max_trials": CAP * trials, "max_failed": CAP * trials,
                    "target_value": target}),
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
    return {"mode": mode, "seed": seed, "seconds": seconds, "target": target,
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


def score(runs: list[dict[str, Any]],
          seeds: int | list[int]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-seed rows and the per-mode summary (medians over seeds) of finished jobs.

    ``seeds``: the seed list, or a count ``n`` for seeds 0 .. n-1.
    """
    by = {(r["mode"], r["seed"]): r for r in runs}
    modes = [m for m in MODES if any(r["mode"] == m for r in runs)]
    per_seed = []
    for s in (range(seeds) if isinstance(seeds, int) else seeds):
        none_best = max(t["final"] for t in by[("none", s)]["trials"] if t["final"] is not None)
        target = none_best - TOL
        row: dict[str, Any] = {"seed": s, "target": target}
        for m in modes:
            ts = by[(m, s)]["trials"]
            finals = [t["final"] for t in ts if t["final"] is not None]
            row[m] = {"epochs_to_target": epochs_to(ts, target),
                      "total_epochs": sum(t["epochs"] for t in ts),
                      "best_final": max(finals) if finals else None,
                      "trials": len(ts), "completed": len(finals),
                      "pruned": sum(1 for t in ts if t["state"] == "pruned"),
                      "seconds": by[(m, s)]["seconds"]}
        none_to = row["none"]["epochs_to_target"]
        for m in modes:
            to = row[m]["epochs_to_target"]
            row[m]["saving_to_target"] = none_to / to if to else 0.0
            row[m]["total_saving"] = row["none"]["total_epochs"] / row[m]["total_epochs"]
        per_seed.append(row)
    return per_seed, summarise(per_seed, modes)


def summarise(per_seed: list[dict[str, Any]], modes: list[str]) -> dict[str, Any]:
    """The per-mode summary (medians over seeds) of per-seed rows."""
    summary: dict[str, Any] = {}
    for m in modes:
        bests = [r[m]["best_final"] for r in per_seed if r[m]["best_final"] is not None]
        summary[m] = {
            "seeds_reaching_target": sum(1 for r in per_seed if r[m]["epochs_to_target"]),
            "median_epoch_saving_to_target": statistics.median(
                r[m]["saving_to_target"] for r in per_seed),
            "median_epochs_to_target": statistics.median(
                r[m]["epochs_to_target"] or float("inf") for r in per_seed),
            "median_total_epoch_saving": statistics.median(r[m]["total_saving"] for r in per_seed),
            "median_total_epochs": statistics.median(r[m]["total_epochs"] for r in per_seed),
            "median_trials": statistics.median(r[m]["trials"] for r in per_seed),
            "median_best_final": statistics.median(bests),
            "median_best_final_minus_none": statistics.median(
                r[m]["best_final"] - r["none"]["best_final"] for r in per_seed),
            "mean_best_final": statistics.fmean(bests),
            "mean_total_epochs": statistics.fmean(r[m]["total_epochs"] for r in per_seed),
        }
    return summary


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several runs of the same benchmark on different seeds (e.g. one
    process per seed): their per-seed rows, in seed order, and the summary over all of them.

    Raises:
        ValueError: the runs differ in benchmark, sizes or modes, or share a seed.
    """
    keys = ("curve", "trials", "epochs", "tolerance", "pruning_trial_cap", "modes")
    first = results[0]
    for r in results[1:]:
        differ = [k for k in keys if r.get(k) != first.get(k)]
        if differ:
            raise ValueError(f"cannot merge early-stopping runs that differ in {differ}")
    per_seed = sorted((row for r in results for row in r["per_seed"]), key=lambda row: row["seed"])
    seeds = [row["seed"] for row in per_seed]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"cannot merge early-stopping runs that share seeds: {seeds}")
    return {**first, "seeds": len(seeds), "seed_list": seeds, "per_seed": per_seed,
            "summary": summarise(per_seed, list(first["modes"])),
            "wall_seconds": sum(r["wall_seconds"] for r in results)}


def run(quick: bool, workers: int = 2, sensitivity: bool = False,
        modes: list[str] | None = None, seeds: list[int] | None = None,
        curve: str = "mlp81") -> dict[str, Any]:
    """Every mode's jobs (the sensitivity modes only with ``sensitivity``; only ``modes``, plus
    ``none`` which sets the targets, when given) and their scores.

    ``seeds``: the seeds to run (default 0 .. n-1 for the size's n; seeds 0-4 are the ones
    the pruners were designed on, so a held-out check takes others, e.g. 5-14).
    ``curve``: the benchmark (:data:`CURVES`: ``mlp81`` or ``long``).
    """
    if curve not in CURVES:
        raise ValueError(f"unknown early-stopping curve {curve!r}; valid: {', '.join(CURVES)}")
    count, trials, epochs = CURVES[curve]["sizes"][quick]
    seeds = list(range(count)) if seeds is None else list(seeds)
    unknown = sorted(set(modes or ()) - set(MODES))
    if unknown:
        raise ValueError(f"unknown early-stopping modes {unknown}; valid: {', '.join(MODES)}")
    t0 = time.perf_counter()
    runs = pool.run_all(run_mode, [("none", s, trials, epochs, None, curve) for s in seeds],
                        workers, progress="early stopping, none")
    targets = {}
    for r in runs:
        targets[r["seed"]] = max(t["final"] for t in r["trials"] if t["final"] is not None) - TOL
    chosen = [m for m in MODES if m != "none" and (
        m in modes if modes else (sensitivity or m not in SENSITIVITY))]
    jobs = [(m, s, trials, epochs, targets[s], curve) for s in seeds for m in chosen]
    runs += pool.run_all(run_mode, jobs, workers, progress="early stopping, pruning")
    per_seed, summary = score(runs, seeds)
    return {"learner": CURVES[curve]["learner"], "curve": curve,
            "seeds": len(seeds), "seed_list": seeds, "trials": trials, "epochs": epochs,
            "tolerance": TOL,
            "pruning_trial_cap": CAP * trials,
            "median_warmup": WARMUP, "modes": {m: MODES[m] for m in summary},
            "summary": summary, "per_seed": per_seed,
            "target_saving": CURVES[curve]["target_saving"],
            "wall_seconds": time.perf_counter() - t0}
