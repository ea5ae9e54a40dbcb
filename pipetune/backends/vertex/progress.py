"""When is a Vizier-mode job over? One rule, used by the workers and by ``status``.

Vizier keeps trials, not budgets: the spec's budget (max trials, max failed, target value,
no improvement for N trials, time) is enforced here, from the study's trials alone, so
every worker and every observer reach the same verdict.
"""

from __future__ import annotations

import time

from pipetune.job import JobState, TrialCounts
from pipetune.results import TrialRecord
from pipetune.spec import TuningSpec


def counts(records: list[TrialRecord]) -> TrialCounts:
    """How many of ``records`` are in each trial state."""
    c = TrialCounts()
    for r in records:
        setattr(c, r.state, getattr(c, r.state) + 1)
    return c


def best_value(spec: TuningSpec, records: list[TrialRecord]) -> float | None:
    """The best primary-objective value among complete trials; None when none has one, or
    with several objectives (there is no single best)."""
    values = [r.metrics[spec.primary.metric] for r in records
              if r.state == "complete" and spec.primary.metric in r.metrics]
    if not values or spec.multi_objective:
        return None
    return max(values) if spec.primary.goal == "maximize" else min(values)


def verdict(spec: TuningSpec, records: list[TrialRecord], *, stopped: bool,
            started: float | None = None) -> tuple[JobState, str | None] | None:
    """The terminal state the job has reached, or None while trials remain to run."""
    b = spec.budget
    c = counts(records)
    if stopped:
        return JobState.STOPPED, "stopped on request"
    if c.failed > b.effective_max_failed:
        last = next((r.reason for r in reversed(records) if r.state == "failed"), None)
        return JobState.FAILED, (f"{c.failed} trials failed (budget.max_failed is "
                                 f"{b.effective_max_failed}); last: {last}")
    done = sorted((r for r in records if r.state == "complete"), key=lambda r: r.number)
    primary, sign = spec.primary.metric, (1 if spec.primary.goal == "maximize" else -1)
    if b.target_value is not None and not spec.multi_objective and any(
            sign * r.metrics[primary] >= sign * b.target_value for r in done if primary in r.metrics):
        return JobState.COMPLETED, f"target value {b.target_value} reached"
    if b.no_improvement_trials and not spec.multi_objective and len(done) > b.no_improvement_trials:
        head = done[:-b.no_improvement_trials]
        tail = done[-b.no_improvement_trials:]
        best_head = max(sign * r.metrics.get(primary, float("-inf")) for r in head)
        if all(sign * r.metrics.get(primary, float("-inf")) <= best_head for r in tail):
            return JobState.COMPLETED, f"no improvement in the last {b.no_improvement_trials} trials"
    if b.timeout is not None and started is not None and time.time() - started > b.timeout \
            and c.running == 0:
        return JobState.COMPLETED, "time budget spent"
    if c.finished >= b.max_trials and c.running == 0:
        if c.complete == 0:
            return JobState.FAILED, "no trial completed"
        return JobState.COMPLETED, None
    return None


def budget_spent(spec: TuningSpec, records: list[TrialRecord], started: float | None = None) -> bool:
    """True when no new trial should start (running ones may still finish)."""
    b = spec.budget
    if b.timeout is not None and started is not None and time.time() - started > b.timeout:
        return True
    return len(records) >= b.max_trials
