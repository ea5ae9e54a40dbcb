"""Scores for search quality: normalised regret, ranks, win/tie/loss.

- Normalised regret of a run at budget b: ``(best_b - f*) / (f_ref - f*)``, clipped at 0,
  where ``f*`` is the known optimum (BBOB) or the best value any run of any contender found
  on that problem (scikit-learn tasks), and ``f_ref`` is the median of 64 uniform random
  points (:func:`benchmarks.problems.reference_value`). 0 = optimum, 1 = a typical random
  point.
- A *problem* is a BBOB function in one dimension (its instances are the seeds' repetitions)
  or a scikit-learn task; its score per contender is the mean regret over its runs.
- Ranks: per problem and budget, contenders ranked by score (1 = best, ties averaged).
- Win/tie/loss of A against B (:func:`summary`, ``win_tie_loss``), per problem and budget:
  compare the **median over seeds of Δf = best − f*** (COCO's precision measure; a Δf below
  ``SOLVED`` = 1e-8 counts as solved, i.e. 0). A lower median wins, equal medians tie (both
  solved, or the same value). Normalised regret is *not* used here: its scale (a random
  point's median) is so large on ill-conditioned functions that every contender looked
  within 0.001 of every other even when their Δf differed by orders of magnitude.
  ``significant`` counts the wins and losses where a one-sided Mann–Whitney U test over the
  seeds' Δf gives p < 0.05 (needs ≥ 4 seeds per side to be reachable).
- Noisy problems (issue 21): a run's value at budget b is the noise-free value of the trial
  it recommends at b (its best observed trial, :func:`incumbent`), computed after the run
  (:func:`benchmarks.search_quality.run_job`); ``f*`` is the best such value of any run.
  Extra summary groups (``tags``: ``sklearn/noisy``, ``sklearn/conditional``) gather them.
- The earlier criterion is kept for comparison (``win_tie_loss_regret``): mean normalised
  regret lower by more than ``TIE`` = 0.001 is a win.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import Any, Iterable

TIE = 1e-3  # the earlier win/tie/loss criterion, in regret units
SOLVED = 1e-8  # COCO: a Δf below this is a solved problem
ALPHA = 0.05  # Mann–Whitney significance level


def problem_key(problem_id: str) -> str:
    """``bbob/f3/d5/i2`` -> ``bbob/f3/d5`` (instances repeat a problem); others unchanged."""
    parts = problem_id.split("/")
    return "/".join(parts[:3]) if parts[0] == "bbob" else problem_id


def best_at(values: list[float | None], budget: int) -> float:
    finite = [v for v in values[:budget] if v is not None and math.isfinite(v)]
    return min(finite) if finite else math.inf


def incumbent(values: list[float | None], budget: int) -> int | None:
    """The trial a tuner recommends after ``budget`` trials: its best observed value (the
    first of equals); None if no trial finished.

    Example:
        >>> incumbent([3.0, None, 1.0, 1.0, 0.5], 4)
        2
    """
    finite = [(v, i) for i, v in enumerate(values[:budget]) if v is not None and math.isfinite(v)]
    return min(finite)[1] if finite else None


def run_best(run: dict[str, Any], budget: int) -> float | None:
    """Best value of a run within ``budget`` trials; None if the run did not go that far.

    A run holds its ``values`` in trial order, or (as stored in a result file) only ``best``,
    its best value at each budget it was scored at. On a noisy problem the stored ``best`` is
    the noise-free value of the recommended trial (:func:`incumbent`), not the best draw.
    """
    if "values" in run:
        return best_at(run["values"], budget) if budget <= len(run["values"]) else None
    value = run["best"].get(str(budget), run["best"].get(budget))
    return None if value is None else float(value)


def regrets(runs: list[dict[str, Any]], budgets: Iterable[int],
            f_opt: dict[str, float | None], f_ref: dict[str, float]) -> list[dict[str, Any]]:
    """One row per run and budget: problem key, contender, seed, budget, regret and Δf
    (``best - f*``, 0 when below ``SOLVED``)."""
    budgets = list(budgets)
    seen_best: dict[str, float] = defaultdict(lambda: math.inf)
    for r in runs:
        for b in budgets:
            v = run_best(r, b)
            if v is not None:
                seen_best[r["problem"]] = min(seen_best[r["problem"]], v)
    rows = []
    for r in runs:
        pid = r["problem"]
        star = f_opt.get(pid)
        star = seen_best[pid] if star is None else min(star, seen_best[pid])
        gap = f_ref[pid] - star
        for b in budgets:
            best = run_best(r, b)
            if best is None:
                continue  # this run did not go that far (its problem family's budgets)
            reg = (best - star) / gap if gap > 0 else 0.0
            delta = best - star
            rows.append({"problem": problem_key(pid), "contender": r["contender"], "seed": r["seed"],
                         "budget": b, "regret": max(0.0, reg),
                         "delta": delta if delta >= SOLVED else 0.0})
    return rows


def scores(rows: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, float]]:
    """(problem, budget) -> contender -> mean regret over its runs."""
    acc: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        acc[(row["problem"], row["budget"])][row["contender"]].append(row["regret"])
    return {k: {c: statistics.fmean(v) for c, v in d.items()} for k, d in acc.items()}


def deltas(rows: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, list[float]]]:
    """(problem, budget) -> contender -> Δf of its runs (one per seed, in seed order)."""
    acc: dict[tuple[str, int], dict[str, list[tuple[int, float]]]] = defaultdict(
        lambda: defaultdict(list))
    for row in rows:
        acc[(row["problem"], row["budget"])][row["contender"]].append((row["seed"], row["delta"]))
    return {k: {c: [d for _, d in sorted(v)] for c, v in cs.items()} for k, cs in acc.items()}


def median_deltas(rows: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, float]]:
    """(problem, budget) -> contender -> median Δf over its seeds."""
    return {k: {c: statistics.median(v) for c, v in cs.items()} for k, cs in deltas(rows).items()}


def _less(a: list[float], b: list[float]) -> bool:
    """One-sided Mann–Whitney U: are a's values stochastically smaller than b's (p < ALPHA)?"""
    if len(a) < 2 or len(b) < 2 or sorted(a) == sorted(b):
        return False
    from scipy.stats import mannwhitneyu

    p = mannwhitneyu(a, b, alternative="less").pvalue
    return bool(math.isfinite(p) and p < ALPHA)


def _ranks(values: dict[str, float]) -> dict[str, float]:
    """1-based ranks by name; ties share the average of the ranks they span."""
    from pipetune.proxy.fidelity import average_ranks

    names = list(values)
    return dict(zip(names, average_ranks([values[n] for n in names])))


def summary(rows: list[dict[str, Any]], contenders: list[str],
            tags: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Mean rank, mean regret and win/tie/loss per budget and family, and for all budgets;
    per group also per dimension of BBOB (``bbob/d5``, ``bbob/d5@50``), and per tag of a
    problem (``tags``: problem key -> group names such as ``sklearn/noisy``).

    With ``random`` among the contenders every group also has ``beats_random``: per contender,
    the (function, dimension)-pair-budgets whose median Δf over the instances is strictly
    below random's (``wins``), out of ``pairs``, and their share (``rate``); a tie (e.g. both
    solved) is not a win. Issue 21's target: ``rate`` ≥ 0.95 for ``auto`` in every group.
    """
    table = scores(rows)
    dtab = deltas(rows)
    groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for key in table:
        problem, budget = key
        family = problem.split("/")[0]
        names = [f"all@{budget}", f"{family}@{budget}", "all", family]
        if family == "bbob":
            dim = problem.split("/")[2]
            names += [f"bbob/{dim}", f"bbob/{dim}@{budget}"]
        for tag in (tags or {}).get(problem, []):
            names += [tag, f"{tag}@{budget}"]
        for g in names:
            groups[g].append(key)
    out: dict[str, Any] = {}
    for g, keys in sorted(groups.items()):
        keys = [k for k in keys if all(c in table[k] for c in contenders)]
        if not keys:
            continue
        ranks = [_ranks({c: table[k][c] for c in contenders}) for k in keys]
        wtl, old, sig = {}, {}, {}
        for a in contenders:
            for b in contenders:
                if a == b:
                    continue
                med_a = [statistics.median(dtab[k][a]) for k in keys]
                med_b = [statistics.median(dtab[k][b]) for k in keys]
                w = sum(1 for x, y in zip(med_a, med_b) if x < y)
                loss = sum(1 for x, y in zip(med_a, med_b) if y < x)
                wtl[f"{a} vs {b}"] = [w, len(keys) - w - loss, loss]
                w = sum(1 for k in keys if table[k][a] < table[k][b] - TIE)
                loss = sum(1 for k in keys if table[k][b] < table[k][a] - TIE)
                old[f"{a} vs {b}"] = [w, len(keys) - w - loss, loss]
                sig[f"{a} vs {b}"] = [sum(1 for k in keys if _less(dtab[k][a], dtab[k][b])),
                                      sum(1 for k in keys if _less(dtab[k][b], dtab[k][a]))]
        out[g] = {
            "problems": len(keys),
            "mean_rank": {c: statistics.fmean(r[c] for r in ranks) for c in contenders},
            "mean_regret": {c: statistics.fmean(table[k][c] for k in keys) for c in contenders},
            "median_regret": {c: statistics.median(table[k][c] for k in keys) for c in contenders},
            "win_tie_loss": wtl,  # on median Δf over seeds (module docstring)
            "significant": sig,  # [wins, losses] with Mann–Whitney p < ALPHA
            "win_tie_loss_regret": old,  # the earlier criterion: |Δ mean regret| <= TIE ties
            "seeds": sorted({len(v) for k in keys for v in dtab[k].values()}),
        }
        if "random" in contenders:
            out[g]["beats_random"] = {
                c: {"wins": wtl[f"{c} vs random"][0], "pairs": len(keys),
                    "rate": wtl[f"{c} vs random"][0] / len(keys)}
                for c in contenders if c != "random"}
    return out
