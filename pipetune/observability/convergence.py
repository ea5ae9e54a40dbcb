"""The "not converging" rule, and when a job last improved.

A stuck tuning job looks like a busy one: trials keep finishing, none gets anywhere. The
rule, on the primary objective:

1. Wait until ``min_trials`` trials have finished (complete, failed, pruned or infeasible).
2. Take the last ``window`` finished trials (by trial number) and the best value among
   those that completed: the *recent best*.
3. Measure it on the scale from the *baseline* (0) to the *best trial overall* (1):
   ``progress = (recent best - baseline) / (best - baseline)``, goal-aware (for
   ``minimize`` smaller is better). The baseline is the median of all complete trials
   (default: robust to outliers, works for losses and negative metrics) or zero (a plain
   ratio to the best, for positive metrics: ``recent/best`` when maximizing,
   ``best/recent`` when minimizing).
4. The job is **not converging** when ``progress < fraction``, or when none of the recent
   window completed.
5. A flat objective (every complete trial gave the same value) is neither: the verdict is
   *not informative* (``converging`` None, ``flat`` True).

Defaults: ``window=10``, ``min_trials=20``, ``fraction=0.5``, ``baseline=median``: after 20
trials, the best of the last 10 must get at least halfway from the typical trial to the best
one. Set them in the spec's ``convergence:`` section.

Example:
    >>> from pipetune.results import TrialRecord
    >>> from pipetune.spec import ConvergenceSettings, load_spec
    >>> spec = load_spec({"parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
    ...                   "objectives": [{"metric": "acc"}],
    ...                   "metrics": [{"name": "acc", "regex": "acc=(.+)"}],
    ...                   "trial": {"command": ["python", "t.py"]}})
    >>> values = [0.95, 0.5, 0.4, 0.55, 0.45, 0.5]   # one lucky trial, then nothing close
    >>> trials = [TrialRecord(id=str(i), number=i, state="complete", params={"x": 0.1},
    ...                       metrics={"acc": v}) for i, v in enumerate(values)]
    >>> verdict = check_convergence(spec, trials, ConvergenceSettings(window=3, min_trials=6))
    >>> verdict.converging, round(verdict.progress, 2)
    (False, 0.11)
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass

from pipetune.results import TrialRecord
from pipetune.spec import ConvergenceSettings, TuningSpec

FINISHED_STATES = ("complete", "failed", "pruned", "infeasible", "stopped")


@dataclass(frozen=True)
class ConvergenceVerdict:
    """The rule's answer. ``converging`` is None while too few trials have finished."""

    converging: bool | None
    reason: str
    finished: int
    best: float | None = None
    recent_best: float | None = None
    baseline: float | None = None
    progress: float | None = None
    flat: bool = False  # every complete trial gave the same value: nothing to judge

    @property
    def not_converging(self) -> bool:
        """True only when the job was judged not converging; False when it converges or was not
        judged (too few trials, or a flat objective)."""
        return self.converging is False


def settings_of(spec: TuningSpec) -> ConvergenceSettings:
    """The spec's convergence settings, or the defaults."""
    return spec.convergence or ConvergenceSettings()


def _value(spec: TuningSpec, t: TrialRecord) -> float | None:
    v = t.metrics.get(spec.primary.metric) if t.state == "complete" else None
    return v if v is not None and math.isfinite(v) else None


def check_convergence(spec: TuningSpec, trials: list[TrialRecord],
                      settings: ConvergenceSettings | None = None) -> ConvergenceVerdict:
    """Apply the rule (see the module docstring) to a job's trial records."""
    rule = settings or settings_of(spec)
    finished = sorted((t for t in trials if t.state in FINISHED_STATES), key=lambda t: t.number)
    n = len(finished)
    if n < rule.min_trials:
        return ConvergenceVerdict(None, f"{n} of {rule.min_trials} finished trials: too early "
                                  "to judge convergence", n)
    values = [v for t in finished if (v := _value(spec, t)) is not None]
    recent = [v for t in finished[-rule.window:] if (v := _value(spec, t)) is not None]
    maximize = spec.primary.goal == "maximize"
    pick = max if maximize else min
    if not recent:
        return ConvergenceVerdict(False, f"not converging: none of the last {rule.window} "
                                  "finished trials completed", n,
                                  best=pick(values) if values else None)
    best, recent_best = pick(values), pick(recent)
    if len(values) >= 2 and min(values) == max(values):
        return ConvergenceVerdict(None, f"not informative: every complete trial gave {best:.6g}, "
                                  "a flat objective neither converges nor stalls", n, best=best,
                                  recent_best=recent_best, flat=True)
    sign = 1.0 if maximize else -1.0
    if rule.baseline == "median":
        baseline = statistics.median(values)
        span = sign * (best - baseline)
        progress = 1.0 if span <= 0 and recent_best == best else (
            0.0 if span <= 0 else sign * (recent_best - baseline) / span)
        scale = f"of the way from the median trial ({baseline:.6g}) to the best ({best:.6g})"
    else:
        baseline = 0.0
        if best <= 0 or recent_best <= 0:
            return ConvergenceVerdict(None, "convergence baseline zero needs positive metric "
                                      "values; use baseline: median", n, best=best,
                                      recent_best=recent_best)
        progress = recent_best / best if maximize else best / recent_best
        scale = f"of the best ({best:.6g})"
    ok = progress >= rule.fraction
    verdict = "converging" if ok else "not converging"
    reason = (f"{verdict}: the best of the last {rule.window} trials ({recent_best:.6g}) is "
              f"{progress:.0%} {scale}; the rule asks for {rule.fraction:.0%}")
    return ConvergenceVerdict(ok, reason, n, best=best, recent_best=recent_best,
                              baseline=baseline, progress=progress)


def stop_reason(spec: TuningSpec, trials: list[TrialRecord]) -> str | None:
    """Why the job must stop under ``convergence.stop`` (it is flagged not converging),
    else None. The one wording for the local engine and the pollers of cloud jobs."""
    if spec.convergence is None or not spec.convergence.stop or spec.multi_objective:
        return None
    verdict = check_convergence(spec, trials)
    if not verdict.not_converging:
        return None
    return f"stopped by pipetune (convergence.stop): {verdict.reason}"


def parse_time(value: str | None) -> float | None:
    """A trial's ISO timestamp as epoch seconds; a naive one is local time (Optuna's)."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class LastImprovement:
    """When the best value so far last got better, and by which trial."""

    trial_number: int
    value: float
    at: float | None  # epoch seconds the trial finished, when the backend says

    def seconds_since(self, now: float | None = None) -> float | None:
        """Seconds from the improving trial's end to ``now`` (default: the current time), never
        negative; None when the backend did not say when the trial finished."""
        if self.at is None:
            return None
        import time

        return max(0.0, (now if now is not None else time.time()) - self.at)


def last_improvement(spec: TuningSpec, trials: list[TrialRecord]) -> LastImprovement | None:
    """The trial that last improved the best value (in finishing order), or None."""
    done = [(t, v) for t in trials if (v := _value(spec, t)) is not None]
    if not done:
        return None
    maximize = spec.primary.goal == "maximize"

    def order(item: tuple[TrialRecord, float]) -> tuple[float, int]:
        at = parse_time(item[0].finished_at)
        return (at if at is not None else math.inf, item[0].number)

    best: tuple[TrialRecord, float] | None = None
    for t, v in sorted(done, key=order):
        if best is None or (v > best[1] if maximize else v < best[1]):
            best = (t, v)
    assert best is not None
    return LastImprovement(best[0].number, best[1], parse_time(best[0].finished_at))
