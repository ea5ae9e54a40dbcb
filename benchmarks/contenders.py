"""The tuners compared by the benchmarks, each run on one problem with one seed.

- ``auto``: pipetune's local engine (``LocalBackend.launch(..., detach=False)``, the default
  journal storage, in-process callable trials), strategy ``auto``.
- ``pipetune_tpe``: the same engine with ``strategy: tpe`` (multivariate TPE with constant
  liar): what ``auto`` chose before the benchmarks, kept as evidence for the rule.
- ``optuna_tpe``, ``optuna_gp``, ``random``: plain Optuna ask/tell loops with
  ``TPESampler(seed)``, ``GPSampler(seed)``, ``RandomSampler(seed)`` (library defaults),
  in-memory storage. The space is sampled through the same
  :func:`pipetune.backends.local.space.suggest`, so every contender sees the same
  distributions.
- ``optuna_cmaes``: the same loop with ``CmaEsSampler(seed)`` (library defaults; categorical
  parameters are sampled at random). Optuna 5.0 accepts ``restart_strategy="ipop"`` but
  ignores it (deprecated in 4.4, moved to OptunaHub), so restarts are a separate contender:
- ``cmaes_ipop``: CMA-ES with IPOP restarts (Auger and Hansen 2005; population doubled at
  each restart), driven through the ``cmaes`` library that Optuna's sampler wraps, in an
  Optuna ask/tell loop (:mod:`benchmarks.candidates`). On a space with categorical
  parameters the restarts are off and it is ``optuna_cmaes``.
- ``botorch_logei``: BoTorch's basic GP + log-EI loop (:mod:`benchmarks.botorch_loop`), when
  ``botorch`` is installed (not a pipetune dependency); not in ``ALL``.
- ``cand_*``: candidate ``auto`` rules of issue 21 (:mod:`benchmarks.candidates`); not in
  ``ALL``, named with ``--contenders`` for tuning runs.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

from benchmarks import candidates, problems

ENGINE = ("auto", "pipetune_tpe")
PLAIN = ("optuna_tpe", "optuna_gp", "random", "optuna_cmaes")
ALL = ENGINE[:1] + PLAIN + ENGINE[1:]
#: every contender a plan may name: ``ALL``, IPOP CMA-ES and the candidate rules
KNOWN = ALL + ("cmaes_ipop", "botorch_logei") + tuple(sorted(candidates.CANDIDATES))


def run_engine(problem_id: str, seed: int, budget: int, *, strategy: str = "auto",
               max_parallel: int = 1, sleep: float | None = None) -> dict[str, Any]:
    """Tune ``problem_id`` through pipetune's real local engine; values in trial order."""
    from pipetune.backends.local import LocalBackend
    from pipetune.backends.local.space import resolve_strategy
    from pipetune.spec import load_spec

    problem = problems.get(problem_id)
    body = problems.spec_body(problem, budget=budget, strategy=strategy, seed=seed,
                              max_parallel=max_parallel)
    if sleep is not None:
        body["static"]["sleep"] = sleep
        body["trial"]["callable"] = "benchmarks.problems:sleepy_objective"
    spec = load_spec(body)
    root = Path(tempfile.mkdtemp(prefix="pipetune-bench-"))
    try:
        backend = LocalBackend(root)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = backend.launch(spec, "bench", detach=False)
        seconds = time.perf_counter() - t0
        records = sorted(backend.trials(ref), key=lambda r: r.number)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    values = [r.metrics.get("loss") if r.state == "complete" else None for r in records]
    static = set(body["static"])
    params = [{k: v for k, v in r.params.items() if k not in static} for r in records]
    return {"values": values, "params": params, "seconds": seconds,
            "resolved": resolve_strategy(spec)}


def _sampler(name: str, seed: int, spec: Any):
    import optuna

    if name in candidates.CANDIDATES or name == "cmaes_ipop":
        return candidates.make(name, spec, seed)
    if name == "optuna_cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if name == "optuna_tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "optuna_gp":
        return optuna.samplers.GPSampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise KeyError(name)


def run_plain(problem_id: str, seed: int, budget: int,
              sampler: "str | Callable[[Any], Any]", storage: Any = None) -> dict[str, Any]:
    """Tune ``problem_id`` with a plain Optuna ask/tell loop (in-memory storage unless
    ``storage`` is given); ``sampler`` is a contender's name or builds the sampler from the
    problem's spec."""
    import optuna

    from pipetune.backends.local import space
    from pipetune.spec import load_spec

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    problem = problems.get(problem_id)
    spec = load_spec(problems.spec_body(problem, budget=budget, strategy="random", seed=seed))
    values: list[float | None] = []
    params: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(storage=storage, sampler=sampler(spec) if callable(sampler)
                                    else _sampler(sampler, seed, spec))
        for _ in range(budget):
            trial = study.ask()
            params.append(space.suggest(spec, trial))
            value = problem.observe(params[-1], seed, trial.number)
            study.tell(trial, value)
            values.append(value)
    return {"values": values, "params": params, "seconds": time.perf_counter() - t0,
            "resolved": sampler if isinstance(sampler, str) else "given"}


def run(contender: str, problem_id: str, seed: int, budget: int) -> dict[str, Any]:
    """Run one contender; the result also names the problem, seed and contender. Its
    ``values`` are what the tuner saw (noisy on a noisy problem) and ``params`` the
    configurations, in trial order."""
    if contender == "auto":
        out = run_engine(problem_id, seed, budget, strategy="auto")
    elif contender == "pipetune_tpe":
        out = run_engine(problem_id, seed, budget, strategy="tpe")
    elif contender == "botorch_logei":
        from benchmarks import botorch_loop

        out = botorch_loop.run(problem_id, seed, budget)
    else:
        out = run_plain(problem_id, seed, budget, contender)
    return {"contender": contender, "problem": problem_id, "seed": seed, **out}
