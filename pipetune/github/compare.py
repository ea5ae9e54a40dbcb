"""Is the new best better than the baseline? improved / unchanged / regressed.

The direction test is the core's :func:`pipetune.compare.is_improvement` (the same gate
the KFP and Airflow pipelines use), asked both ways. The threshold is the change that counts: an absolute amount in the objective's units
(``"0.01"``) or a share of the baseline's value (``"1%"``). A gain larger than the
threshold is *improved*, a loss larger than it *regressed*, anything within it
*unchanged*. "Gain" follows the objective's goal (lower is better when minimizing).

Example:
    >>> t = Threshold.parse("1%")
    >>> t.margin(0.80)
    0.008
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel

from pipetune.compare import is_improvement
from pipetune.errors import UsageError
from pipetune.results import BestResult

Verdict = Literal["improved", "unchanged", "regressed", "no-baseline"]


class Threshold(BaseModel):
    """``value`` in objective units, or a fraction of the baseline when ``relative``."""

    value: float = 0.0
    relative: bool = False

    @classmethod
    def parse(cls, text: "str | float | None", field: str = "threshold") -> "Threshold":
        """A threshold from the step's input: ``0.01`` (objective units), ``1%`` (of the
        baseline), or empty/None for zero.

        Args:
            text: The input, a number or its text.
            field: The input's name, for the error message.

        Raises:
            UsageError: ``text`` is not a number, or is negative or not finite.
        """
        if text is None or (isinstance(text, str) and not text.strip()):
            return cls()
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            number, relative = float(text), False
        else:
            raw = str(text).strip()
            relative = raw.endswith("%")
            try:
                number = float(raw.removesuffix("%").strip())
            except ValueError:
                raise UsageError(f"{field}: {text!r} is not a number; give an absolute change "
                                 "such as 0.01 or a relative one such as 1%") from None
            if relative:
                number /= 100.0
        if not math.isfinite(number) or number < 0:
            raise UsageError(f"{field}: {text!r} must be a finite number >= 0 "
                             "(such as 0.01, or 1%)")
        return cls(value=number, relative=relative)

    def margin(self, baseline_value: float) -> float:
        """The threshold in objective units for a given baseline value."""
        return round(self.value * abs(baseline_value), 12) if self.relative else self.value

    def __str__(self) -> str:
        return f"{self.value * 100:g}%" if self.relative else f"{self.value:g}"


class Comparison(BaseModel):
    """The verdict and the numbers behind it."""

    verdict: Verdict
    objective: str
    goal: str
    value: float
    baseline_value: float | None = None
    delta: float | None = None  # value - baseline_value
    relative_delta: float | None = None  # delta / |baseline_value|
    threshold: Threshold = Threshold()
    note: str | None = None

    @property
    def improved(self) -> bool:
        """True for *improved*, and when there was no baseline to beat (the first result
        is worth keeping)."""
        return self.verdict in ("improved", "no-baseline")


def compare(new: BestResult, baseline: BestResult | None,
            threshold: Threshold | None = None) -> Comparison:
    """Compare ``new`` with ``baseline`` on the primary objective."""
    threshold = threshold or Threshold()
    base = dict(objective=new.objective, goal=new.goal, value=new.value, threshold=threshold)
    if baseline is None:
        return Comparison(verdict="no-baseline", note="no baseline results to compare with", **base)
    if (baseline.objective, baseline.goal) != (new.objective, new.goal):
        return Comparison(
            verdict="no-baseline", **base,
            note=(f"the baseline measures {baseline.objective} ({baseline.goal}), this run "
                  f"{new.objective} ({new.goal}): not comparable"))
    delta = new.value - baseline.value
    relative = delta / abs(baseline.value) if baseline.value != 0 else None
    # a change within floating-point noise of the threshold does not count
    margin = threshold.margin(baseline.value) + 1e-9 * max(1.0, abs(baseline.value), abs(new.value))
    if is_improvement(new.value, baseline.value, goal=new.goal, min_delta=margin):
        verdict: Verdict = "improved"
    elif is_improvement(baseline.value, new.value, goal=new.goal, min_delta=margin):
        verdict = "regressed"
    else:
        verdict = "unchanged"
    return Comparison(verdict=verdict, baseline_value=baseline.value, delta=delta,
                      relative_delta=relative, **base)
