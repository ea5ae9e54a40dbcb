"""Is a new objective value an improvement over a baseline? The deploy gate of a
continuous-training pipeline (KFP ``dsl.If``, an Airflow branch) asks this one question.

Example:
    >>> is_improvement(0.91, 0.90, goal="maximize")
    True
    >>> is_improvement(0.91, 0.90, goal="maximize", min_delta=0.02)
    False
    >>> is_improvement(0.30, 0.25, goal="minimize")
    False
    >>> is_improvement(0.30, None)   # no baseline yet: the first model always passes
    True
"""

from __future__ import annotations

import math

from pipetune.errors import UsageError

GOALS = ("maximize", "minimize")


def is_improvement(candidate: float, baseline: float | None, *, goal: str = "maximize",
                   min_delta: float = 0.0, relative: bool = False) -> bool:
    """True when ``candidate`` beats ``baseline`` by more than ``min_delta``.

    ``min_delta`` is absolute, or a fraction of ``|baseline|`` when ``relative``. A missing
    (``None`` or NaN) baseline counts as no model yet: any finite candidate passes. A
    candidate that is not a finite number never passes.
    """
    if goal not in GOALS:
        raise UsageError(f"goal: got {goal!r}; valid: {', '.join(GOALS)}")
    try:
        candidate = float(candidate)
    except (TypeError, ValueError):
        raise UsageError(f"candidate: {candidate!r} is not a number") from None
    if min_delta is None or not math.isfinite(float(min_delta)) or float(min_delta) < 0:
        raise UsageError(f"min_delta: must be a finite number >= 0 (got {min_delta!r})")
    if not math.isfinite(candidate):
        return False
    if baseline is None:
        return True
    try:
        baseline = float(baseline)
    except (TypeError, ValueError):
        raise UsageError(f"baseline: {baseline!r} is not a number") from None
    if math.isnan(baseline):
        return True
    margin = float(min_delta) * (abs(baseline) if relative else 1.0)
    if goal == "maximize":
        return candidate > baseline + margin
    return candidate < baseline - margin
