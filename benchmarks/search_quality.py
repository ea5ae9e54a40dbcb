"""Search quality: pipetune ``auto`` against Optuna's default TPE, GP, and random search.

Problems: BBOB functions (``coco-experiment``) and scikit-learn tasks on bundled data
(:mod:`benchmarks.problems`). Every contender gets the same problems, seeds and budgets.
Each run goes to its largest budget; a smaller budget is read from the same run's first
trials. That equals a separate shorter run because no contender's configuration depends on
the budget at these sizes (checked: ``auto`` resolves to the same strategy for every budget).
BBOB seed ``s`` runs on instance ``s + 1``, so seeds are also instances.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks import contenders, pool, problems, scoring


@dataclass
class Plan:
    """What one search-quality run covers."""

    functions: list[int]
    dims: dict[int, int]  # dimension -> number of seeds (= instances)
    tasks: list[str]
    task_seeds: int
    budgets: list[int]  # for the scikit-learn tasks
    bbob_budgets: list[int] | None = None  # default: budgets
    contenders: list[str] = field(default_factory=lambda: list(contenders.ALL))

    def budgets_of(self, problem_id: str) -> list[int]:
        if problem_id.startswith("bbob/") and self.bbob_budgets is not None:
            return self.bbob_budgets
        return self.budgets

    @property
    def all_budgets(self) -> list[int]:
        return sorted(set(self.budgets) | set(self.bbob_budgets or []))

    def problem_runs(self) -> list[tuple[str, int]]:
        runs = [(problems.bbob_id(f, d, s + 1), s) for d, n in self.dims.items()
                for f in self.functions for s in range(n)]
        runs += [(f"sklearn/{t}", s) for t in self.tasks for s in range(self.task_seeds)]
        return runs


PLANS = {
    "quick": Plan(functions=[1, 8, 15], dims={2: 1}, tasks=["svm_breast_cancer"], task_seeds=1,
                  budgets=[10, 20]),
    # sized for ~30 minutes of the whole harness on 2 busy shared cores (docs/benchmarks.md):
    # a GP run of 100 trials took ~36 s there, so BBOB runs 50 trials and one instance-seed
    "default": Plan(functions=list(range(1, 25)), dims={2: 1, 5: 1, 10: 1},
                    tasks=list(problems.SKLEARN_TASKS), task_seeds=5, budgets=[50, 100],
                    bbob_budgets=[50]),
    # the full grid of issue 10: all 24 functions x 3 dims x 5 instance-seeds (hours on 2 cores)
    "full": Plan(functions=list(range(1, 25)), dims={2: 5, 5: 5, 10: 5},
                 tasks=list(problems.SKLEARN_TASKS), task_seeds=5, budgets=[50, 100]),
}


def _check_budget_independent(plan: Plan) -> None:
    from pipetune.backends.local.space import resolve_strategy
    from pipetune.spec import load_spec

    for pid, seed in plan.problem_runs():
        p = problems.get(pid)
        chosen = {resolve_strategy(load_spec(problems.spec_body(p, budget=b, strategy="auto",
                                                                seed=seed)))
                  for b in plan.budgets_of(pid)}
        if len(chosen) != 1:
            raise RuntimeError(f"auto depends on the budget on {pid}: {chosen}; run budgets apart")


def _cost(contender: str) -> int:
    return {"auto": 3, "optuna_gp": 3}.get(contender, 1)


def run(plan: Plan, workers: int = 2) -> dict[str, Any]:
    """Run every contender on every problem run of ``plan``; scores and raw best values."""
    from pipetune.backends.local.space import gp_available

    _check_budget_independent(plan)
    t0 = time.perf_counter()
    unavailable = {}
    if not gp_available():  # the gp extra (torch) is optional: compare without it, say so
        unavailable["optuna_gp"] = "the gp extra (scipy, torch, greenlet) is not installed"
    names = [c for c in plan.contenders if c not in unavailable]
    runs_in = plan.problem_runs()
    jobs = [(c, pid, seed, max(plan.budgets_of(pid))) for pid, seed in runs_in for c in names]
    jobs.sort(key=lambda j: -_cost(j[0]))  # long GP runs first: better packing
    runs = pool.run_all(contenders.run, jobs, workers, progress="search quality")
    pids = sorted({pid for pid, _ in runs_in})
    f_opt = {pid: problems.get(pid).f_opt for pid in pids}
    f_ref = dict(zip(pids, pool.run_all(problems.reference_value, [(p,) for p in pids], workers)))
    stored = [{k: r[k] for k in ("contender", "problem", "seed", "resolved", "seconds")}
              | {"best": {str(b): scoring.best_at(r["values"], b)
                          for b in plan.budgets_of(r["problem"])}} for r in runs]
    out = {
        "plan": {"functions": plan.functions, "dims": plan.dims, "tasks": plan.tasks,
                 "task_seeds": plan.task_seeds, "budgets": plan.budgets,
                 "bbob_budgets": plan.bbob_budgets or plan.budgets,
                 "contenders": names, "runs_per_contender": len(runs_in)},
        "unavailable": unavailable, "f_ref": f_ref, "f_opt": f_opt, "runs": stored,
    }
    _score(out)
    out["wall_seconds"] = time.perf_counter() - t0
    return out


def _score(result: dict[str, Any]) -> None:
    """(Re)compute the summary, per-problem scores, auto's choices and tuner time."""
    plan, runs = result["plan"], result["runs"]
    budgets = sorted(set(plan["budgets"]) | set(plan.get("bbob_budgets") or []))
    rows = scoring.regrets(runs, budgets, result["f_opt"], result["f_ref"])
    resolved: dict[str, set[str]] = {}
    seconds: dict[str, float] = {}
    for r in runs:
        if r["contender"] == "auto":
            resolved.setdefault(r["resolved"], set()).add(scoring.problem_key(r["problem"]))
        seconds[r["contender"]] = seconds.get(r["contender"], 0.0) + r.get("seconds", 0.0)
    result["summary"] = scoring.summary(rows, plan["contenders"])
    result["per_problem"] = {f"{k[0]}@{k[1]}": v for k, v in sorted(scoring.scores(rows).items())}
    result["auto_resolved"] = {k: sorted(v) for k, v in resolved.items()}
    if all("seconds" in r for r in runs):  # result files before 2026-11-30 lacked them
        result["tuner_seconds"] = seconds


def rerun(result: dict[str, Any], contender: str, prefix: str, workers: int = 2) -> list[str]:
    """Run ``contender`` again on the problems whose id starts with ``prefix`` (same seeds and
    budgets), replace its runs there and rescore; e.g. ``auto`` after a change of its rule.
    Returns the problem ids re-run."""
    plan = result["plan"]
    old = [r for r in result["runs"] if r["contender"] == contender
           and r["problem"].startswith(prefix)]
    jobs = [(contender, r["problem"], r["seed"], max(int(b) for b in r["best"])) for r in old]
    fresh = pool.run_all(contenders.run, jobs, workers, progress=f"rerun {contender}")
    keep = [r for r in result["runs"] if r not in old]
    budgets = {r["problem"]: [int(b) for b in r["best"]] for r in old}
    keep += [{k: r[k] for k in ("contender", "problem", "seed", "resolved", "seconds")}
             | {"best": {str(b): scoring.best_at(r["values"], b) for b in budgets[r["problem"]]}}
             for r in fresh]
    result["runs"] = keep
    result.setdefault("reruns", []).append({"contender": contender, "prefix": prefix,
                                            "runs": len(fresh)})
    del plan
    _score(result)
    return sorted({r["problem"] for r in old})
