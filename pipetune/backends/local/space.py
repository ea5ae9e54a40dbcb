"""The spec's search space, strategy and early stopping, expressed in Optuna.

The ``auto`` strategy rule (evidence: benchmarks/RESULTS.md and docs/benchmarks.md):

- several objectives: NSGA-II when the budget is at least 100 trials, else multi-objective TPE;
- every parameter finite and small enough to enumerate within the budget: grid;
- one objective, only continuous and integer parameters (no categorical or discrete ones),
  no conditional parameters, early stopping ``none`` or ``auto``, at most ``GP_MAX_TRIALS``
  trials, and the ``gp`` extra installed (scipy, torch, greenlet): Optuna's GP sampler. With
  early stopping ``auto`` the engine leaves GP for TPE as soon as a trial reports an
  intermediate value (the pruner then acts, and GP learns only from completed trials);
- otherwise multivariate TPE with constant liar (robust with categorical and conditional
  parameters, with pruned trials and with parallel trials). Without the ``gp`` extra ``auto``
  falls back to this TPE and logs it once; the core never imports torch.

:func:`explain_strategy` returns the choice with the branch's reason in words; the engine
records it in the study when it starts (the ``gp`` extra may differ between machines), and
``pipetune status`` and the report show it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import math
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from pipetune.errors import MissingExtra, SpecError
from pipetune.spec import (
    CategoricalParam,
    ContinuousParam,
    DiscreteParam,
    IntegerParam,
    TuningSpec,
)
from pipetune.storages import quiet_optuna

quiet_optuna()  # studies made here (the report's importances) log nothing into pipetune's output


def distribution(param) -> BaseDistribution:
    """The Optuna distribution a parameter is sampled from (reverse-log: of ``1 - value``)."""
    if isinstance(param, ContinuousParam):
        scaling = param.effective_scaling()
        if scaling == "reverse_log":
            return FloatDistribution(1.0 - param.max, 1.0 - param.min, log=True)
        return FloatDistribution(param.min, param.max, log=scaling == "log", step=param.step)
    if isinstance(param, IntegerParam):
        return IntDistribution(param.min, param.max, log=param.effective_scaling() == "log",
                               step=param.step)
    if isinstance(param, (CategoricalParam, DiscreteParam)):
        return CategoricalDistribution(list(param.values))
    raise TypeError(type(param).__name__)


def to_user_value(param, internal: Any) -> Any:
    """The value the trial sees for an Optuna-sampled ``internal`` value: ``1 - value`` for
    a reverse-log parameter, an ``int`` for an integer one, a ``float`` for a continuous one,
    the value unchanged for a categorical or discrete one."""
    if isinstance(param, ContinuousParam) and param.effective_scaling() == "reverse_log":
        return 1.0 - float(internal)
    if isinstance(param, IntegerParam):
        return int(internal)
    if isinstance(param, ContinuousParam):
        return float(internal)
    return internal


def to_internal_value(param, user: Any) -> Any:
    """The value Optuna's distribution holds for a user-typed value (the inverse of
    :func:`to_user_value`: ``1 - value`` for a reverse-log parameter, else unchanged)."""
    if isinstance(param, ContinuousParam) and param.effective_scaling() == "reverse_log":
        return 1.0 - float(user)
    return user


def active(param, values: dict[str, Any]) -> bool:
    """Whether ``param`` is sampled given the values chosen so far: True when it has no
    condition, or its parent was chosen with one of the condition's values."""
    cond = param.condition
    return cond is None or (cond.parent in values and values[cond.parent] in cond.values)


def suggest(spec: TuningSpec, trial: optuna.Trial) -> dict[str, Any]:
    """Sample every active parameter; returns user-typed values (static ones excluded)."""
    values: dict[str, Any] = {}
    for p in spec.parameters:
        if not active(p, values):
            continue
        internal = trial._suggest(p.name, distribution(p))
        values[p.name] = to_user_value(p, internal)
    return values


def user_params(spec: TuningSpec, internal: dict[str, Any]) -> dict[str, Any]:
    """The user-typed values of the spec's parameters found in Optuna's ``internal`` params
    (inactive ones left out), in the spec's order."""
    out = {}
    for p in spec.parameters:
        if p.name in internal:
            out[p.name] = to_user_value(p, internal[p.name])
    return out


def grid_size(spec: TuningSpec) -> int | None:
    """How many points a full grid over the spec's parameters has; None when a parameter has
    no finite grid (continuous without ``step``, or log-scaled integer)."""
    total = 1
    for p in spec.parameters:
        if isinstance(p, (CategoricalParam, DiscreteParam)):
            n = len(p.values)
        elif isinstance(p, IntegerParam) and p.effective_scaling() != "log":
            n = (p.max - p.min) // p.step + 1
        elif isinstance(p, ContinuousParam) and p.step:
            n = int(math.floor((p.max - p.min) / p.step + 1e-9)) + 1
        else:
            return None
        total *= n
    return total


#: ``auto`` uses GP up to this many trials: a GP suggestion's cost grows with the trials seen
#: (~0.1-0.3 s per suggestion at 100 trials on a busy 2-core machine; see docs/benchmarks.md).
GP_MAX_TRIALS = 200
#: ``auto``'s GP chooses trials 0-99; CMA-ES with IPOP restarts, started at the best point
#: so far, the rest (level with GP throughout on 144 BBOB problems at 200 trials, at a third
#: of the time; docs/benchmarks.md)
GP_TRIALS = 100
#: the first CMA-ES step after the handover, on the unit cube: refine the incumbent
HANDOVER_STEP = 0.1

_log = logging.getLogger(__name__)
_warned_no_gp = False


def gp_available() -> bool:
    """True when the ``gp`` extra (scipy, torch, greenlet) is installed; imports nothing."""
    return all(importlib.util.find_spec(m) is not None for m in ("scipy", "torch", "greenlet"))


def hands_over(spec: TuningSpec) -> bool:
    """Whether ``auto``'s GP hands trials from :data:`GP_TRIALS` on to CMA-ES: a budget
    above it, and ``cmaes`` (in the ``gp`` extra) installed. Imports nothing."""
    return (spec.strategy == "auto" and spec.budget.max_trials > GP_TRIALS
            and importlib.util.find_spec("cmaes") is not None)


@dataclass(frozen=True)
class StrategyChoice:
    """The strategy the local engine runs for a spec, and why, in words a reader of
    ``pipetune status`` understands (``reason`` has no strategy name in front).

    ``sampler`` is the Optuna sampler's short name: the strategy itself, except ``hyperband``,
    which is TPE with a Hyperband pruner.

    Example:
        >>> StrategyChoice("grid", "auto: all 12 combinations fit the 20-trial budget").sampler
        'grid'
        >>> StrategyChoice("hyperband", "set in the spec").sampler
        'tpe'
    """

    strategy: str
    reason: str

    @property
    def sampler(self) -> str:
        """The sampler's short name (``tpe`` for the ``hyperband`` strategy)."""
        return "tpe" if self.strategy == "hyperband" else self.strategy

    def to_dict(self) -> dict[str, str]:
        """``{"strategy", "sampler", "reason"}``: what the engine records in the study."""
        return {"strategy": self.strategy, "sampler": self.sampler, "reason": self.reason}


def _gp_obstacle(spec: TuningSpec) -> str | None:
    """Why GP does not suit the spec (the first reason found), or None when it does."""
    if spec.multi_objective:
        return f"{len(spec.objectives)} objectives (GP takes one)"
    for p in spec.parameters:
        if isinstance(p, (CategoricalParam, DiscreteParam)):
            kind = "categorical" if isinstance(p, CategoricalParam) else "discrete"
            return f"{kind} parameter {p.name!r} (GP needs continuous/integer parameters)"
    for p in spec.parameters:
        if p.condition:
            return (f"conditional parameter {p.name!r} (GP samples conditional parameters at "
                    "random; TPE models them)")
    if spec.early_stopping.type not in ("none", "auto"):
        return (f"early stopping {spec.early_stopping.type} (TPE learns from pruned trials, "
                "GP only from completed ones)")
    if spec.budget.max_trials > GP_MAX_TRIALS:
        return (f"budget {spec.budget.max_trials} > {GP_MAX_TRIALS} trials (a GP suggestion's "
                "cost grows with the trials seen)")
    return None


def auto_prefers_gp(spec: TuningSpec) -> bool:
    """Whether ``auto`` picks GP for this spec when the ``gp`` extra is installed."""
    return _gp_obstacle(spec) is None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def explain_strategy(spec: TuningSpec) -> StrategyChoice:
    """The strategy the local engine runs for ``spec`` on this machine, and why: the spec's
    own strategy ("set in the spec"), or the ``auto`` rule's choice with the rule's branch
    in words. Logs nothing (see :func:`resolve_strategy`).

    Example:
        >>> from pipetune.spec import load_spec
        >>> spec = load_spec({"parameters": [{"name": "k", "type": "categorical",
        ...                                   "values": ["a", "b", "c"]}],
        ...                   "objectives": [{"metric": "loss"}], "trial": {"callable": "m:f"},
        ...                   "budget": {"max_trials": 20}})
        >>> explain_strategy(spec)
        StrategyChoice(strategy='grid', reason='auto: all 3 combinations fit the 20-trial budget')
    """
    trials = spec.budget.max_trials
    if spec.strategy != "auto":
        if spec.strategy == "hyperband":
            return StrategyChoice("hyperband", "set in the spec (strategy: hyperband; TPE "
                                  "sampler, Hyperband pruner)")
        return StrategyChoice(spec.strategy, f"set in the spec (strategy: {spec.strategy})")
    if spec.multi_objective:
        n = len(spec.objectives)
        if trials >= 100:
            return StrategyChoice("nsga2", f"auto: {n} objectives and {trials} ≥ 100 trials")
        return StrategyChoice("tpe", f"auto: {n} objectives and {trials} < 100 trials "
                              "(multi-objective TPE; NSGA-II from 100 trials)")
    conditional = any(p.condition for p in spec.parameters)
    size = grid_size(spec)
    if size is not None and size <= trials and not conditional:
        return StrategyChoice("grid", f"auto: all {_plural(size, 'combination')} fit the "
                              f"{trials}-trial budget")
    obstacle = _gp_obstacle(spec)
    if obstacle is not None:
        return StrategyChoice("tpe", f"auto: {obstacle}")
    if not gp_available():
        return StrategyChoice("tpe", "auto: the gp extra is not installed (pip install "
                              "'pipetune[gp]'); GP would suit this space")
    n = len(spec.parameters)
    stopping = ("early stopping auto (GP until a trial reports intermediate values, then TPE)"
                if spec.early_stopping.type == "auto" else "no early stopping")
    handover = (f"; GP chooses the first {GP_TRIALS} trials, then CMA-ES (IPOP restarts) from "
                "the best point: a GP suggestion's cost grows with the trials it fits"
                if hands_over(spec) else "")
    return StrategyChoice("gp", f"auto: one objective, {_plural(n, 'continuous/integer parameter')}"
                          f", no conditions, {stopping}, budget {trials} ≤ {GP_MAX_TRIALS} trials"
                          f"{handover}")


#: why ``auto`` leaves GP for TPE once trials report intermediate values under early stopping
#: ``auto`` (see :func:`switches_to_tpe_on_report`)
TPE_ON_REPORT = ("auto: trials report intermediate values and early stopping auto prunes them; "
                 "TPE learns from pruned trials, GP only from completed ones (GP chose the "
                 "trials before)")


def switches_to_tpe_on_report(spec: TuningSpec, choice: StrategyChoice) -> bool:
    """Whether the engine leaves GP for TPE at the first reported intermediate value: the
    ``auto`` strategy chose GP and early stopping is ``auto``, whose pruner then acts (GP
    would learn only from the few trials that run to the end)."""
    return (spec.strategy == "auto" and spec.early_stopping.type == "auto"
            and choice.strategy == "gp")


def resolve_strategy(spec: TuningSpec) -> str:
    """The strategy the local engine runs: ``spec.strategy``, or the ``auto`` rule's choice
    (:func:`explain_strategy` says why). Logs once per process when ``auto`` falls back to
    TPE for want of the ``gp`` extra."""
    global _warned_no_gp
    choice = explain_strategy(spec)
    if (spec.strategy == "auto" and choice.strategy == "tpe" and auto_prefers_gp(spec)
            and not _warned_no_gp):
        _warned_no_gp = True
        _log.warning("strategy auto: the GP sampler suits this search space but the 'gp' "
                     "extra is not installed (pip install 'pipetune[gp]'); using TPE")
    return choice.strategy


def _grid_space(spec: TuningSpec) -> dict[str, list[Any]]:
    space: dict[str, list[Any]] = {}
    for i, p in enumerate(spec.parameters):
        if p.condition is not None:
            raise SpecError("grid search does not support conditional parameters",
                            field=f"parameters[{i}].condition")
        if isinstance(p, (CategoricalParam, DiscreteParam)):
            space[p.name] = list(p.values)
        elif isinstance(p, IntegerParam):
            space[p.name] = list(range(p.min, p.max + 1, p.step))
        elif isinstance(p, ContinuousParam) and p.step:
            n = int(math.floor((p.max - p.min) / p.step + 1e-9)) + 1
            space[p.name] = [to_internal_value(p, p.min + k * p.step) for k in range(n)]
    return space


class _GridSampler(optuna.samplers.GridSampler):
    """Optuna's grid sampler calls ``study.stop()`` when the grid is exhausted, which only
    works inside ``study.optimize``; the engine's budget ends the job instead."""

    def after_trial(self, study, trial, state, values) -> None:  # noqa: D102
        return None


def trial_limit(spec: TuningSpec) -> int:
    """The number of trials the job runs: the budget, or the grid's size if smaller."""
    if resolve_strategy(spec) == "grid":
        size = grid_size(spec)
        if size is not None:
            return min(size, spec.budget.max_trials)
    return spec.budget.max_trials


def instance_seed(seed: int | None, instance: str | None) -> int | None:
    """The seed of one sampler instance: ``seed`` itself for the job's first coordinator
    (``instance`` None), so a single-process job is reproducible; for any other instance (a
    resumed coordinator, a worker) a seed derived from both, so no two instances draw the
    same sequence. None stays None (Optuna seeds from the OS).

    Example:
        >>> instance_seed(7, None)
        7
        >>> instance_seed(7, "coordinator/1") != instance_seed(7, "coordinator/2")
        True
    """
    if seed is None or instance is None:
        return seed
    digest = hashlib.sha256(f"{seed}\x00{instance}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def make_sampler(spec: TuningSpec, instance: str | None = None) -> optuna.samplers.BaseSampler:
    """The spec's sampler; ``instance`` names this sampler among the job's (see
    :func:`instance_seed`)."""
    strategy = resolve_strategy(spec)
    seed = instance_seed(spec.seed, instance)
    if strategy in ("tpe", "hyperband"):
        # group=False (Optuna's default) also on conditional spaces: the parameters every
        # trial has are modelled jointly, the conditional ones one by one. It ranked ahead
        # of group=True on held-out seeds of the conditional and noisy tasks (issue 21, by a
        # rule written before the run; docs/benchmarks.md). Optuna 5 no longer warns when
        # it samples a parameter on its own (the argument is deprecated: not passed).
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, group=False,
            constant_liar=True, n_startup_trials=min(10, max(2, spec.budget.max_trials // 5)),
        )
    if strategy == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if strategy == "grid":
        return _GridSampler(_grid_space(spec), seed=seed)
    if strategy == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if strategy == "cmaes":
        try:
            import cmaes  # noqa: F401
        except ModuleNotFoundError:
            raise MissingExtra("strategy cmaes", "gp") from None
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if strategy == "gp":
        try:
            import scipy  # noqa: F401
            import torch  # noqa: F401
        except ModuleNotFoundError:
            raise MissingExtra("strategy gp", "gp") from None
        # Same start-up rule as TPE: with warm-start trials the model starts at once instead
        # of re-sampling (with the parent's seed, often the parent's very points) at random.
        gp = optuna.samplers.GPSampler(
            seed=seed, n_startup_trials=min(10, max(2, spec.budget.max_trials // 5)),
            warn_independent_sampling=False)
        if not hands_over(spec):
            return gp
        from pipetune.samplers import HandoverSampler, IpopCmaSampler, best_params

        def cma(study: optuna.Study) -> IpopCmaSampler:
            best = best_params(study)
            return IpopCmaSampler(seed, start=None if best is None else (best, HANDOVER_STEP))

        return HandoverSampler(gp, GP_TRIALS, cma)
    raise SpecError(f"unknown strategy {strategy!r}", field="strategy")


def cma_after_gp() -> str:
    """Why ``auto``'s sampler is CMA-ES once the handover has happened (``status`` shows it)."""
    return (f"auto: GP chose the first {GP_TRIALS} trials; CMA-ES (IPOP restarts) from the best "
            "point chooses the rest (a GP suggestion's cost grows with the trials it fits)")


def handover_trial(sampler: optuna.samplers.BaseSampler) -> int | None:
    """The first trial number ``sampler`` hands to CMA-ES, or None when it hands none."""
    from pipetune.samplers import HandoverSampler

    return sampler.after if isinstance(sampler, HandoverSampler) else None


def explain_pruner(spec: TuningSpec) -> tuple[str, str]:
    """The pruner :func:`make_pruner` builds for ``spec``, named as ``early_stopping.type``
    names them (``none`` for no pruning), and why, for ``status`` and the report.

    Example:
        >>> from pipetune.spec import load_spec
        >>> spec = load_spec({"parameters": [{"name": "x", "type": "continuous", "min": 0,
        ...                                   "max": 1}],
        ...                   "objectives": [{"metric": "loss"}], "trial": {"callable": "m:f"},
        ...                   "early_stopping": {"type": "auto"}})
        >>> explain_pruner(spec)[0]
        'successive_halving'
    """
    es = spec.early_stopping
    if spec.strategy == "hyperband" and es.type in ("none", "auto"):
        return "hyperband", f"strategy hyperband (early_stopping {es.type})"
    if es.type == "auto":
        if spec.multi_objective:
            return "none", "auto: several objectives (Optuna prunes single-objective studies only)"
        return "successive_halving", (
            f"auto: acts only on trials that report intermediate values; first rung "
            f"{es.min_resource} step(s), reduction factor {es.reduction_factor}")
    if es.type == "none":
        return "none", "set in the spec (early_stopping none)"
    return es.type, f"set in the spec (early_stopping {es.type})"


def make_pruner(spec: TuningSpec) -> optuna.pruners.BasePruner:
    """The Optuna pruner for the spec's ``early_stopping`` (``NopPruner`` for ``none``).

    The ``hyperband`` strategy with early stopping ``none`` or ``auto`` gets a
    ``HyperbandPruner``. ``auto`` is successive halving with the spec's ``min_resource``
    and ``reduction_factor`` (``NopPruner`` with several objectives).
    """
    es = spec.early_stopping
    kind, _ = explain_pruner(spec)  # one decision, named once: status shows what runs here
    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=es.startup_trials,
                                           n_warmup_steps=es.warmup_steps)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=es.min_resource,
                                              max_resource=es.max_resource,
                                              reduction_factor=es.reduction_factor)
    if kind == "successive_halving":
        # ASHA, also for ``auto``: one bracket, the sampler learns from every trial
        # (docs/benchmarks.md); it prunes only on reported values, so a trial that reports
        # none is never stopped. The first rung is the spec's min_resource (1): Optuna's
        # estimate from the first completed trial did far worse on the early-stopping
        # benchmark (RESULTS.md, issue 21).
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=es.min_resource,
                                                      reduction_factor=es.reduction_factor)
    return optuna.pruners.NopPruner()


def directions(spec: TuningSpec) -> list[str]:
    """The study directions (``"minimize"``/``"maximize"``), one per objective, in order."""
    return [o.goal for o in spec.objectives]
