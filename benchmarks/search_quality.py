"""Search quality: pipetune ``auto`` against Optuna's default TPE, GP, and random search.

Problems: BBOB functions (``coco-experiment``) and scikit-learn tasks on bundled data
(:mod:`benchmarks.problems`). Every contender gets the same problems, seeds and budgets.
Each run goes to its largest budget; a smaller budget is read from the same run's first
trials. That equals a separate shorter run because no contender's configuration depends on
the budget at these sizes (checked: ``auto`` resolves to the same strategy for every budget).
BBOB seed ``s`` runs on instance ``s + 1``, so seeds are also instances. A plan's
``instances`` fixes the BBOB instance list (the same for every dimension); without it a
dimension with ``n`` seeds runs instances 1..n, as before issue 21. ``TUNING_INSTANCES`` are
the instances a rule may be tuned on; ``HELD_OUT_INSTANCES`` are kept for the verdict.

Long runs: every finished run is appended to a JSON-lines file (``cache``) as it arrives, and
runs found there, or in an earlier result passed as ``reuse`` (same contender, problem,
seed, and every budget the plan scores), are not run again. Jobs go seed by seed, so a run
stopped part-way holds whole seeds; scoring only uses (problem, seed) pairs that every
contender finished.

Noisy tasks (issue 21, :mod:`benchmarks.tasks`): every contender sees the same noisy draw at
the same run seed and trial number; after the run, the trial it recommends at each budget
(its best observed trial) is scored by its noise-free value (:func:`run_job`). Plan
``tasks`` runs issue 21's six tasks.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks import botorch_loop, contenders, pool, problems, scoring


#: BBOB instances that the ``auto`` rule may be tuned on (issue 21): issue 10's grids already
#: ran instances 1-5 in 2, 5 and 10 dimensions, so none of them is fresh evidence.
TUNING_INSTANCES = [1, 2, 3, 4, 5]
#: BBOB instances kept for the held-out verdict (COCO instances 76-78): no grid of this harness
#: ran them before issue 21, and no rule may be tuned on them.
HELD_OUT_INSTANCES = [11, 12, 13]


@dataclass
class Plan:
    """What one search-quality run covers."""

    functions: list[int]
    dims: dict[int, int]  # dimension -> number of seeds (= instances 1..n) without ``instances``
    tasks: list[str]
    task_seeds: int
    budgets: list[int]  # for the scikit-learn tasks
    bbob_budgets: list[int] | None = None  # default: budgets
    contenders: list[str] = field(default_factory=lambda: list(contenders.ALL))
    instances: list[int] | None = None  # the BBOB instances of every dimension
    #: the scikit-learn tasks run seeds first_task_seed .. first_task_seed + task_seeds - 1;
    #: 0 before issue 21's held-out task seeds (5-9 were first run for ``cand_auto_tpe_nogroup``)
    first_task_seed: int = 0

    def instances_of(self, dim: int) -> list[int]:
        """The BBOB instances run in ``dim`` dimensions (seed = instance - 1)."""
        if self.instances is not None:
            return list(self.instances)
        return list(range(1, self.dims[dim] + 1))

    def budgets_of(self, problem_id: str) -> list[int]:
        if problem_id.startswith("bbob/") and self.bbob_budgets is not None:
            return self.bbob_budgets
        return self.budgets

    @property
    def task_seed_list(self) -> list[int]:
        """The scikit-learn tasks' seeds."""
        return list(range(self.first_task_seed, self.first_task_seed + self.task_seeds))

    @property
    def all_budgets(self) -> list[int]:
        return sorted(set(self.budgets) | set(self.bbob_budgets or []))

    def problem_runs(self) -> list[tuple[str, int]]:
        runs = [(problems.bbob_id(f, d, i), i - 1) for d in self.dims
                for f in self.functions for i in self.instances_of(d)]
        runs += [(f"sklearn/{t}", s) for t in self.tasks for s in self.task_seed_list]
        return runs


PLANS = {
    "quick": Plan(functions=[1, 8, 15], dims={2: 1}, tasks=["svm_breast_cancer"], task_seeds=1,
                  budgets=[10, 20]),
    # sized for ~30 minutes of the whole harness on 2 busy shared cores (docs/benchmarks.md):
    # a GP run of 100 trials took ~36 s there, so BBOB runs 50 trials and one instance-seed
    "default": Plan(functions=list(range(1, 25)), dims={2: 1, 5: 1, 10: 1},
                    tasks=list(problems.SKLEARN_TASKS), task_seeds=5, budgets=[50, 100],
                    bbob_budgets=[50]),
    # issue 10's grid at 50 BBOB trials: 24 functions x 3 dims x 5 instance-seeds (~1 h of
    # one core on a quiet machine; it reuses the default plan's seed-0 runs with --reuse)
    "bbob5": Plan(functions=list(range(1, 25)), dims={2: 5, 5: 5, 10: 5},
                  tasks=list(problems.SKLEARN_TASKS), task_seeds=5, budgets=[50, 100],
                  bbob_budgets=[50]),
    # the full grid of issue 10: all 24 functions x 3 dims x 5 instance-seeds (hours on 2 cores;
    # run once: results/search_full.json); called "full" until issue 21
    "full10": Plan(functions=list(range(1, 25)), dims={2: 5, 5: 5, 10: 5},
                   tasks=list(problems.SKLEARN_TASKS), task_seeds=5, budgets=[50, 100]),
    # issue 21's held-out grid: all 24 functions x 2, 3, 5, 10, 20-D x the held-out instances,
    # 50 and 100 trials (50 read from the 100-trial runs), plus the scikit-learn tasks
    "full": Plan(functions=list(range(1, 25)), dims={2: 3, 3: 3, 5: 3, 10: 3, 20: 3},
                 tasks=list(problems.SKLEARN_TASKS), task_seeds=5, budgets=[50, 100],
                 instances=list(HELD_OUT_INSTANCES)),
    # issue 21's mixed, conditional and noisy scikit-learn tasks (problems.TASKS_21), no BBOB:
    # apart from "full", so the held-out BBOB run's plan and runs are untouched
    "tasks": Plan(functions=[], dims={}, tasks=list(problems.TASKS_21), task_seeds=5,
                  budgets=[50, 100],
                  contenders=["auto", "optuna_gp", "optuna_tpe", "optuna_cmaes", "random",
                              "pipetune_tpe", "cand_gp_tpe"]),
    # issue 21's tuning subset, BBOB only: 8 functions covering the 5 BBOB groups (f1, f3
    # separable; f7 moderate and f10 high conditioning; f15, f16 multimodal; f21, f24 weakly
    # structured) x 2, 5, 10-D x the first tuning instance, 50 trials
    "tune": Plan(functions=[1, 3, 7, 10, 15, 16, 21, 24], dims={2: 1, 5: 1, 10: 1}, tasks=[],
                 task_seeds=0, budgets=[50], instances=TUNING_INSTANCES[:1]),
}


def with_options(plan: Plan, *, instances: list[int] | None = None,
                 functions: list[int] | None = None, dims: list[int] | None = None,
                 names: list[str] | None = None, bbob_budgets: list[int] | None = None,
                 tasks: list[str] | None = None, task_seeds: int | None = None,
                 budgets: list[int] | None = None, first_task_seed: int | None = None) -> Plan:
    """``plan`` with some of its fields replaced (the CLI's ``--instances`` and friends;
    ``tasks``, ``task_seeds``, ``first_task_seed`` and ``budgets`` are the scikit-learn
    tasks' own: seeds ``first_task_seed .. first_task_seed + task_seeds - 1``).

    Example:
        >>> p = with_options(PLANS["tune"], instances=[2, 3], dims=[20])
        >>> p.problem_runs()[:2]
        [('bbob/f1/d20/i2', 1), ('bbob/f1/d20/i3', 2)]
    """
    changes: dict[str, Any] = {}
    if instances is not None:
        if not instances or any(not 1 <= i <= problems.BBOB_INSTANCES for i in instances):
            raise ValueError(f"BBOB instances are 1..{problems.BBOB_INSTANCES}, got {instances}")
        changes["instances"] = list(instances)
    if functions is not None:
        bad = [f for f in functions if not 1 <= f <= 24]
        if bad:
            raise ValueError(f"BBOB functions are 1..24, got {bad}")
        changes["functions"] = list(functions)
    if dims is not None:
        n = max(plan.dims.values(), default=1)
        changes["dims"] = {d: plan.dims.get(d, n) for d in dims}
    if names is not None:
        unknown = [c for c in names if c not in contenders.KNOWN]
        if unknown:
            raise ValueError(f"unknown contenders {unknown}; known: {', '.join(contenders.KNOWN)}")
        changes["contenders"] = list(names)
    if bbob_budgets is not None:
        changes["bbob_budgets"] = list(bbob_budgets)
    if tasks is not None:
        known = list(problems.SKLEARN_TASKS) + problems.TASKS_21
        unknown = [t for t in tasks if t not in known]
        if unknown:
            raise ValueError(f"unknown tasks {unknown}; known: {', '.join(known)}")
        changes["tasks"] = list(tasks)
    if task_seeds is not None:
        if task_seeds < 1:
            raise ValueError(f"task seeds must be at least 1, got {task_seeds}")
        changes["task_seeds"] = task_seeds
    if first_task_seed is not None:
        if first_task_seed < 0:
            raise ValueError(f"the first task seed must be at least 0, got {first_task_seed}")
        changes["first_task_seed"] = first_task_seed
    for name, value in (("bbob_budgets", bbob_budgets), ("budgets", budgets)):
        if value is not None and (not value or min(value) < 1):
            raise ValueError(f"{name} must be positive trial counts, got {value}")
    if budgets is not None:
        changes["budgets"] = list(budgets)
    return replace(plan, **changes)


def _check_budget_independent(plan: Plan) -> None:
    """Refuse a plan that reads a smaller budget from runs whose sampler depends on it."""
    from pipetune.backends.local.space import resolve_strategy
    from pipetune.spec import load_spec

    from benchmarks import candidates

    several = any(len(plan.budgets_of(pid)) > 1 for pid, _ in plan.problem_runs())
    dependent = sorted(candidates.BUDGET_DEPENDENT & set(plan.contenders))
    if several and dependent:
        raise RuntimeError(f"{dependent} depend on the budget; run one budget per plan")

    for pid, seed in plan.problem_runs():
        p = problems.get(pid)
        chosen = {resolve_strategy(load_spec(problems.spec_body(p, budget=b, strategy="auto",
                                                                seed=seed)))
                  for b in plan.budgets_of(pid)}
        if len(chosen) != 1:
            raise RuntimeError(f"auto depends on the budget on {pid}: {chosen}; run budgets apart")


def _cost(contender: str) -> int:
    return 3 if contender == "auto" or "gp" in contender or "botorch" in contender else 1


@functools.lru_cache(maxsize=4096)
def _true_value(problem_id: str, config: tuple[tuple[str, Any], ...]) -> float:
    return problems.get(problem_id).true_value(dict(config))


def noise_free_best(problem_id: str, values: list[float | None],
                    params: list[dict[str, Any]], budgets: list[int]) -> dict[str, float]:
    """Budget -> the noise-free value of the trial recommended after that many trials (its
    best observed trial, :func:`scoring.incumbent`); inf when none finished."""
    out = {}
    for b in budgets:
        i = scoring.incumbent(values, b)
        out[str(b)] = (float("inf") if i is None else
                       _true_value(problem_id, tuple(sorted(params[i].items()))))
    return out


def run_job(contender: str, problem_id: str, seed: int, budget: int,
            budgets: tuple[int, ...] = ()) -> dict[str, Any]:
    """One run (:func:`contenders.run`); on a noisy problem also ``true_best``: the noise-free
    value of its recommended trial at each of ``budgets`` (computed here, in the worker)."""
    r = contenders.run(contender, problem_id, seed, budget)
    if problems.get(problem_id).noisy:
        r["true_best"] = noise_free_best(problem_id, r["values"], r["params"],
                                         list(budgets) or [budget])
    return r


def _stored(r: dict[str, Any], budgets: list[int]) -> dict[str, Any]:
    """What a result file keeps of a run: its best value at each budget, not every value.
    On a noisy problem ``best`` is the noise-free value of the recommended trial, and
    ``observed`` its noisy value (the best draw); ``incumbent`` is the configuration
    recommended at the largest budget."""
    out = {k: r[k] for k in ("contender", "problem", "seed", "resolved", "seconds")}
    observed = {str(b): scoring.best_at(r["values"], b) for b in budgets}
    if "true_best" not in r:
        return out | {"best": observed}
    i = scoring.incumbent(r["values"], max(budgets))
    return out | {"best": {str(b): r["true_best"][str(b)] for b in budgets},
                  "observed": observed, "incumbent": None if i is None else r["params"][i]}


def _key(r: dict[str, Any]) -> tuple[str, str, int]:
    return r["contender"], r["problem"], int(r["seed"])


def run(plan: Plan, workers: int = 2, cache: Path | None = None,
        reuse: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run every contender on every problem run of ``plan``; scores and raw best values.

    ``cache``: a JSON-lines file of finished runs, read first and appended to as runs finish.
    ``reuse``: an earlier search-quality result whose matching runs are taken as they are.
    """
    from pipetune.backends.local.space import gp_available

    _check_budget_independent(plan)
    t0 = time.perf_counter()
    unavailable = {}
    if not gp_available():  # the gp extra (torch) is optional: compare without it, say so
        for c in plan.contenders:
            if c == "optuna_gp" or c.startswith("cand_gp"):
                unavailable[c] = "the gp extra (scipy, torch, greenlet) is not installed"
    if "botorch_logei" in plan.contenders and not botorch_loop.available():
        unavailable["botorch_logei"] = "botorch is not installed (not a pipetune dependency)"
    names = [c for c in plan.contenders if c not in unavailable]
    runs_in = plan.problem_runs()
    jobs = [(c, pid, seed, max(plan.budgets_of(pid)), tuple(plan.budgets_of(pid)))
            for pid, seed in runs_in for c in names]
    # seed by seed (a stopped run holds whole seeds), long GP runs first within a seed
    jobs.sort(key=lambda j: (j[2], -_cost(j[0])))
    known: dict[tuple[str, str, int], dict[str, Any]] = {}
    sources = list((reuse or {}).get("runs", []))
    if cache is not None and cache.exists():
        sources += [json.loads(line) for line in cache.read_text().splitlines() if line.strip()]
    for r in sources:
        if all(str(b) in r["best"] for b in plan.budgets_of(r["problem"])):
            known[_key(r)] = r
    todo = [j for j in jobs if (j[0], j[1], j[2]) not in known]
    reused = len(jobs) - len(todo)
    print(f"  [search quality] {len(jobs)} runs, {reused} already done, {len(todo)} to run",
          file=sys.stderr, flush=True)

    def keep(r: dict[str, Any]) -> None:
        s = _stored(r, plan.budgets_of(r["problem"]))
        known[_key(s)] = s
        if cache is not None:
            with cache.open("a") as fh:
                fh.write(json.dumps(s, default=float) + "\n")

    pool.run_all(run_job, todo, workers, progress="search quality", on_result=keep)
    stored = [known[(c, pid, seed)] for c, pid, seed, *_ in jobs]
    pids = sorted({pid for pid, _ in runs_in})
    tagged = {pid: problems.get(pid).tags for pid in pids if pid.startswith("sklearn/")}
    f_opt = {pid: problems.get(pid).f_opt for pid in pids}
    old_ref = (reuse or {}).get("f_ref", {})
    missing = [p for p in pids if p not in old_ref]
    f_ref = {p: old_ref[p] for p in pids if p in old_ref}
    f_ref |= dict(zip(missing, pool.run_all(problems.reference_value, [(p,) for p in missing],
                                            workers)))
    out = {
        "plan": {"functions": plan.functions, "dims": plan.dims,
                 "instances": {d: plan.instances_of(d) for d in plan.dims}, "tasks": plan.tasks,
                 "task_seeds": plan.task_seeds, "budgets": plan.budgets,
                 **({"task_seed_list": plan.task_seed_list} if plan.first_task_seed else {}),
                 "bbob_budgets": plan.bbob_budgets or plan.budgets,
                 "contenders": names, "runs_per_contender": len(runs_in)},
        "reused_runs": reused, "unavailable": unavailable, "f_ref": f_ref, "f_opt": f_opt, "runs": stored,
        "problem_tags": {pid: t for pid, t in tagged.items() if t},
    }
    _score(out)
    out["wall_seconds"] = time.perf_counter() - t0
    return out


def _score(result: dict[str, Any]) -> None:
    """(Re)compute the summary, per-problem scores, auto's choices and tuner time."""
    plan, runs = result["plan"], result["runs"]
    budgets = sorted(set(plan["budgets"]) | set(plan.get("bbob_budgets") or []))
    runs = complete(runs, plan["contenders"])
    rows = scoring.regrets(runs, budgets, result["f_opt"], result["f_ref"])
    resolved: dict[str, set[str]] = {}
    seconds: dict[str, float] = {}
    timed: dict[str, int] = {}
    for r in runs:
        if r["contender"] == "auto":
            resolved.setdefault(r["resolved"], set()).add(scoring.problem_key(r["problem"]))
        if "seconds" in r:  # result files before 2026-11-30 lacked them
            seconds[r["contender"]] = seconds.get(r["contender"], 0.0) + r["seconds"]
            timed[r["contender"]] = timed.get(r["contender"], 0) + 1
    tags = {scoring.problem_key(p): t for p, t in result.get("problem_tags", {}).items()}
    result["summary"] = scoring.summary(rows, plan["contenders"], tags)
    result["per_problem"] = {f"{k[0]}@{k[1]}": v for k, v in sorted(scoring.scores(rows).items())}
    result["per_problem_median_delta"] = {f"{k[0]}@{k[1]}": v for k, v in
                                          sorted(scoring.median_deltas(rows).items())}
    result["scored_runs"] = len(runs)
    result["auto_resolved"] = {k: sorted(v) for k, v in resolved.items()}
    result["tuner_seconds"] = seconds  # summed over the runs that were timed
    result["tuner_runs_timed"] = timed


def complete(runs: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """The runs of the (problem, seed) pairs that every contender in ``names`` finished."""
    have: dict[tuple[str, int], set[str]] = {}
    for r in runs:
        have.setdefault((r["problem"], int(r["seed"])), set()).add(r["contender"])
    return [r for r in runs if have[(r["problem"], int(r["seed"]))] >= set(names)]


def rescore(result: dict[str, Any]) -> None:
    """Recompute a stored result's scores with the current :mod:`benchmarks.scoring`."""
    _score(result)


def rerun(result: dict[str, Any], contender: str, prefix: str, workers: int = 2) -> list[str]:
    """Run ``contender`` again on the problems whose id starts with ``prefix`` (same seeds and
    budgets), replace its runs there and rescore; e.g. ``auto`` after a change of its rule.
    Returns the problem ids re-run."""
    plan = result["plan"]
    old = [r for r in result["runs"] if r["contender"] == contender
           and r["problem"].startswith(prefix)]
    jobs = [(contender, r["problem"], r["seed"], max(int(b) for b in r["best"]),
             tuple(sorted(int(b) for b in r["best"]))) for r in old]
    fresh = pool.run_all(run_job, jobs, workers, progress=f"rerun {contender}")
    keep = [r for r in result["runs"] if r not in old]
    budgets = {r["problem"]: [int(b) for b in r["best"]] for r in old}
    keep += [_stored(r, budgets[r["problem"]]) for r in fresh]
    result["runs"] = keep
    result.setdefault("reruns", []).append({"contender": contender, "prefix": prefix,
                                            "runs": len(fresh)})
    del plan
    _score(result)
    return sorted({r["problem"] for r in old})
