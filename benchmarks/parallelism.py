"""Parallel trials: search quality and wall-clock speed-up at max_parallel 1, 4 and 10.

1. Regret: pipetune ``auto`` through the real engine at each parallelism level, same
   problems and seeds; mean normalised regret (:mod:`benchmarks.scoring`) relative to the
   sequential runs. The engine asks up to ``max_parallel`` trials while the earlier ones are
   still running, so the sampler sees them as running (GP: q-batch EI; TPE: constant liar),
   exactly as with slow trials; instant trials just make the runs cheap.
2. Speed-up: the same job with trials that sleep ``sleep`` seconds (an I/O-bound stand-in
   for training), wall-clock time of the whole job at each level against sequential.
   Target at 10 parallel: within 15% of sequential regret and at least 8x faster.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from benchmarks import contenders, pool, problems, scoring

LEVELS = (1, 4, 10)


def _regret_job(problem_id: str, seed: int, budget: int, level: int) -> dict[str, Any]:
    out = contenders.run_engine(problem_id, seed, budget, strategy="auto", max_parallel=level)
    return {"problem": problem_id, "seed": seed, "level": level, **out}


def regret(problem_ids: list[str], seeds: int, budget: int, workers: int) -> dict[str, Any]:
    jobs = [(pid, s, budget, lvl) for pid in problem_ids for s in range(seeds) for lvl in LEVELS]
    runs = pool.run_all(_regret_job, jobs, workers, progress="parallel regret")
    f_ref = {pid: problems.reference_value(pid) for pid in problem_ids}
    f_opt = {pid: problems.get(pid).f_opt for pid in problem_ids}
    for r in runs:
        r["contender"] = f"p{r['level']}"
    rows = scoring.regrets(runs, [budget], f_opt, f_ref)
    mean = {lvl: statistics.fmean(r["regret"] for r in rows if r["contender"] == f"p{lvl}")
            for lvl in LEVELS}
    per_problem = scoring.scores(rows)
    return {
        "problems": problem_ids, "seeds": seeds, "budget": budget,
        "strategy_resolved": sorted({r["resolved"] for r in runs}),
        "mean_regret": {str(k): v for k, v in mean.items()},
        "regret_ratio_to_sequential": {str(k): (v / mean[1] if mean[1] > 0 else None)
                                       for k, v in mean.items()},
        "per_problem": {k[0]: v for k, v in per_problem.items()},
        "target_ratio": 1.15,
    }


def speedup(problem_id: str, trials: int, sleep: float) -> dict[str, Any]:
    """Wall-clock time of one job per level (run one after the other, not overlapped)."""
    wall: dict[str, float] = {}
    resolved = set()
    for lvl in LEVELS:
        t0 = time.perf_counter()
        out = contenders.run_engine(problem_id, 0, trials, strategy="auto", max_parallel=lvl,
                                    sleep=sleep)
        wall[str(lvl)] = time.perf_counter() - t0
        resolved.add(out["resolved"])
    return {"problem": problem_id, "trials": trials, "sleep_seconds": sleep,
            "strategy_resolved": sorted(resolved), "wall_seconds": wall,
            "ideal_seconds": {str(lvl): trials * sleep / lvl for lvl in LEVELS},
            "speedup": {k: wall["1"] / v for k, v in wall.items()}, "target_speedup_at_10": 8.0}


def run(quick: bool, workers: int = 2) -> dict[str, Any]:
    if quick:
        ids, seeds, budget, trials, sleep = ["bbob/f1/d2/i1"], 1, 20, 20, 0.05
    else:
        ids = ["bbob/f3/d5/i1", "bbob/f8/d5/i1", "sklearn/svm_breast_cancer"]
        seeds, budget, trials, sleep = 2, 100, 100, 1.0
    t0 = time.perf_counter()
    out = {"regret": regret(ids, seeds, budget, workers),
           "speedup": speedup("bbob/f1/d5/i1" if not quick else ids[0], trials, sleep)}
    out["wall_seconds"] = time.perf_counter() - t0
    return out
