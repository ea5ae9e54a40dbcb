"""Budget guards: stop a job whose cost estimate passes ``budget.max_cost_usd``, and warn
when tuning takes more than its share of the training compute it serves.

The local engine calls :func:`local_cost_guard` each time it decides whether to start
another trial; the job then ends as ``stopped`` with the reason recorded (running trials
finish, no new one starts). Cloud jobs are stopped on every poll, whoever polls, with the
same wording (:func:`pipetune.runtime.guards.check_guards`). :func:`over_budget` is the
check for any :class:`~.cost.CostEstimate`; :func:`local_convergence_guard` is the local
engine's hook for ``convergence.stop``.

The share warning follows the rule of thumb that tuning should cost 10-20% of the
training compute it improves: with ``cost.training_cost_usd`` set, a job whose estimate
passes ``cost.max_tuning_share`` (default 0.2) of it gets a warning (status, reports,
exporter).

Example:
    >>> from pipetune.spec import load_spec
    >>> spec = load_spec({"parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
    ...                   "objectives": [{"metric": "acc"}],
    ...                   "metrics": [{"name": "acc", "regex": "acc=(.+)"}],
    ...                   "trial": {"command": ["python", "t.py"]},
    ...                   "cost": {"training_cost_usd": 100.0}})
    >>> tuning_share_warning(spec, 30.0)[1]
    'tuning cost $30.00 is 30% of the training compute it serves ($100.00); the rule of thumb is at most 20%'
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Iterable

from pipetune.job import JobState
from pipetune.spec import TuningSpec

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from pipetune.observability.cost import CostEstimate


def over_budget(spec: TuningSpec, estimate: "CostEstimate") -> str | None:
    """The reason to stop when the estimate passes ``budget.max_cost_usd``, else None."""
    limit = spec.budget.max_cost_usd
    if limit is None or estimate.usd is None or estimate.usd <= limit:
        return None
    return (f"stopped by pipetune: estimated cost ${estimate.usd:.4f} passed "
            f"budget.max_cost_usd ${limit:g} ({estimate.compute_seconds:.1f} "
            f"{estimate.unit}, {estimate.basis})")


def tuning_share_warning(spec: TuningSpec, usd: float | None) -> tuple[float | None, str | None]:
    """``(share of training compute, warning or None)``; (None, None) when unknown."""
    cfg = spec.cost
    if cfg is None or cfg.training_cost_usd is None or usd is None:
        return None, None
    share = usd / cfg.training_cost_usd
    if share <= cfg.max_tuning_share:
        return share, None
    return share, (f"tuning cost ${usd:,.2f} is {share:.0%} of the training compute it serves "
                   f"(${cfg.training_cost_usd:,.2f}); the rule of thumb is at most "
                   f"{cfg.max_tuning_share:.0%}")


def _local_seconds(spec: TuningSpec, trials: Iterable["FrozenTrial"], now: float) -> list[float]:
    from optuna.trial import TrialState

    from pipetune.backends.local.jobstore import T_INFO

    seconds, running = [], []
    for t in trials:
        if t.state == TrialState.RUNNING:
            if t.datetime_start is not None:
                running.append(t.datetime_start.timestamp())
            continue
        duration = (t.user_attrs.get(T_INFO) or {}).get("duration")
        if duration is None and t.datetime_start and t.datetime_complete:
            duration = (t.datetime_complete - t.datetime_start).total_seconds()
        seconds.append(float(duration or 0.0))
    # trials asked ahead are RUNNING before they start: only max_parallel really run
    seconds += [max(0.0, now - s) for s in sorted(running)[: spec.budget.max_parallel]]
    return seconds


def local_cost_guard(spec: TuningSpec, trials: Iterable["FrozenTrial"],
                     now: float | None = None) -> tuple[JobState, str] | None:
    """The local engine's hook: ``(STOPPED, reason)`` once the job's CPU-seconds, priced as
    :func:`~pipetune.observability.cost.local_cost` does, pass ``budget.max_cost_usd``."""
    if spec.budget.max_cost_usd is None:
        return None
    from pipetune.observability.cost import local_cost_from_seconds

    estimate = local_cost_from_seconds(spec, _local_seconds(spec, trials, now or time.time()))
    reason = over_budget(spec, estimate)
    return (JobState.STOPPED, reason) if reason else None


def local_convergence_guard(spec: TuningSpec, trials: Iterable["FrozenTrial"]
                            ) -> tuple[JobState, str] | None:
    """The local engine's hook for ``convergence.stop``: ``(STOPPED, reason)`` once the
    finished trials are flagged "not converging" (the rule of
    :mod:`~pipetune.observability.convergence`, on the same records every reader sees)."""
    rule = spec.convergence
    if rule is None or not rule.stop or spec.multi_objective:
        return None
    from optuna.trial import TrialState

    from pipetune.observability.convergence import stop_reason
    from pipetune.results import TrialRecord

    states = {TrialState.COMPLETE: "complete", TrialState.FAIL: "failed",
              TrialState.PRUNED: "pruned"}
    records = [TrialRecord(id=str(t.number), number=t.number, state=states[t.state], params={},
                           metrics={spec.primary.metric: t.values[0]}
                           if t.state == TrialState.COMPLETE and t.values else {})
               for t in trials if t.state in states]
    reason = stop_reason(spec, records)
    return (JobState.STOPPED, reason) if reason else None
