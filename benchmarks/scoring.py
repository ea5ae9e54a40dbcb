"""Scores for search quality: normalised regret, ranks, win/tie/loss.

- Normalised regret of a run at budget b: ``(best_b - f*) / (f_ref - f*)``, clipped at 0,
  where ``f*`` is the known optimum (BBOB) or the best value any run of any contender found
  on that problem (scikit-learn tasks), and ``f_ref`` is the median of 64 uniform random
  points (:func:`benchmarks.problems.reference_value`). 0 = optimum, 1 = a typical random
  point.
- A *problem* is a BBOB function in one dimension (its instances are the seeds' repetitions)
  or a scikit-learn task; its score per contender is the mean regret over its runs.
- Ranks: per problem and budget, contenders ranked by score (1 = best, ties averaged).
- Win/tie/loss of A against B: A's score lower by more than ``TIE`` (absolute, in regret
  units, i.e. 0.1% of the gap between a random point and the optimum) is a win.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import Any, Iterable

TIE = 1e-3


def problem_key(problem_id: str) -> str:
    """``bbob/f3/d5/i2`` -> ``bbob/f3/d5`` (instances repeat a problem); others unchanged."""
    parts = problem_id.split("/")
    return "/".join(parts[:3]) if parts[0] == "bbob" else problem_id


def best_at(values: list[float | None], budget: int) -> float:
    finite = [v for v in values[:budget] if v is not None and math.isfinite(v)]
    return min(finite) if finite else math.inf


def run_best(run: dict[str, Any], budget: int) -> float | None:
    """Best value of a run within ``budget`` trials; None if the run did not go that far.

    A run holds its ``values`` in trial order, or (as stored in a result file) only ``best``,
    its best value at each budget it was scored at.
    """
    if "values" in run:
        return best_at(run["values"], budget) if budget <= len(run["values"]) else None
    value = run["best"].get(str(budget), run["best"].get(budget))
    return None if value is None else float(value)


def regrets(runs: list[dict[str, Any]], budgets: Iterable[int],
            f_opt: dict[str, float | None], f_ref: dict[str, float]) -> list[dict[str, Any]]:
    """One row per run and budget: problem key, contender, seed, budget, regret."""
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
            rows.append({"problem": problem_key(pid), "contender": r["contender"], "seed": r["seed"],
                         "budget": b, "regret": max(0.0, reg)})
    return rows


def scores(rows: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, float]]:
    """(problem, budget) -> contender -> mean regret over its runs."""
    acc: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        acc[(row["problem"], row["budget"])][row["contender"]].append(row["regret"])
    return {k: {c: statistics.fmean(v) for c, v in d.items()} for k, d in acc.items()}


def _ranks(values: dict[str, float]) -> dict[str, float]:
    ordered = sorted(values, key=values.__getitem__)
    out: dict[str, float] = {}
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and values[ordered[j + 1]] == values[ordered[i]]:
            j += 1
        for k in range(i, j + 1):
            out[ordered[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def summary(rows: list[dict[str, Any]], contenders: list[str]) -> dict[str, Any]:
    """Mean rank, mean regret and win/tie/loss per budget and family, and for all budgets."""
    table = scores(rows)
    groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for key in table:
        problem, budget = key
        family = problem.split("/")[0]
        for g in (f"all@{budget}", f"{family}@{budget}", "all", family):
            groups[g].append(key)
    out: dict[str, Any] = {}
    for g, keys in sorted(groups.items()):
        keys = [k for k in keys if all(c in table[k] for c in contenders)]
        if not keys:
            continue
        ranks = [_ranks({c: table[k][c] for c in contenders}) for k in keys]
        wtl = {}
        for a in contenders:
            for b in contenders:
                if a == b:
                    continue
                w = sum(1 for k in keys if table[k][a] < table[k][b] - TIE)
                loss = sum(1 for k in keys if table[k][b] < table[k][a] - TIE)
                wtl[f"{a} vs {b}"] = [w, len(keys) - w - loss, loss]
        out[g] = {
            "problems": len(keys),
            "mean_rank": {c: statistics.fmean(r[c] for r in ranks) for c in contenders},
            "mean_regret": {c: statistics.fmean(table[k][c] for k in keys) for c in contenders},
            "median_regret": {c: statistics.median(table[k][c] for k in keys) for c in contenders},
            "win_tie_loss": wtl,
        }
    return out
