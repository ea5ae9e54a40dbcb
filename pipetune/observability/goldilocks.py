"""After a run: were the ranges right? (the "Goldilocks" check).

A range too narrow hides the optimum past its edge; a range where nothing changes teaches
nothing. Looking at a job's complete trials on its primary objective:

- **Edge**: a numeric parameter (continuous, integer, discrete) whose best trial sits within
  ``edge_fraction`` (5%) of the range's width from an edge, or whose top trials cluster there
  (at least two thirds of the top ``max(3, 20%)`` within twice that distance of one edge), on
  the parameter's own scale (log for log-scaled ones). The warning names the parameter, the
  edge, and the bound to widen to: half the width again on a linear scale (kept at 0 or 1
  when the range starts there), a factor of at least 2 on a log scale.
- **Flat**: every complete trial gave the same value. Nothing was learned: the metric does
  not depend on these parameters in these ranges (or the trial reports a constant).

Categorical parameters have no edges. At least ``min_trials`` (5) complete trials are
needed before an edge is judged, three for a flat objective. ``pipetune lint --job``,
``pipetune status`` and ``pipetune report`` print these warnings.

Example:
    >>> from pipetune.results import TrialRecord
    >>> from pipetune.spec import load_spec
    >>> spec = load_spec({"parameters": [
    ...     {"name": "learning_rate", "type": "continuous", "min": 0.01, "max": 0.5,
    ...      "scaling": "log"}],
    ...     "objectives": [{"metric": "acc", "goal": "maximize"}],
    ...     "metrics": [{"name": "acc", "regex": "acc=(.+)"}],
    ...     "trial": {"command": ["python", "t.py"]}})
    >>> lrs = [0.01, 0.03, 0.1, 0.3, 0.49]
    >>> trials = [TrialRecord(id=str(i), number=i, state="complete",
    ...                       params={"learning_rate": lr}, metrics={"acc": lr})
    ...           for i, lr in enumerate(lrs)]
    >>> for w in check_ranges(spec, trials):
    ...     print(w)
    learning_rate: best trials at the upper edge 0.5 (the best trial at 0.49); widen max to 1.4
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Literal

from pipetune.results import TrialRecord
from pipetune.spec import ContinuousParam, DiscreteParam, IntegerParam, TuningSpec

Edge = Literal["lower", "upper"]


@dataclass(frozen=True)
class RangeWarning:
    """One finding: ``parameter`` (or ``None`` for the objective), the spec ``field`` to
    change, the ``edge`` the best trials sit at, the bound to ``widen_to`` (None when the
    range cannot be widened, or for a flat objective) and the one-line ``message``."""

    field: str
    message: str
    parameter: str | None = None
    edge: Edge | None = None
    widen_to: float | None = None

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The warning as a JSON-able dict (``--json`` outputs): every field, None where unset."""
        return {"field": self.field, "parameter": self.parameter, "edge": self.edge,
                "widen_to": self.widen_to, "message": self.message}


def check_ranges(spec: TuningSpec, trials: list[TrialRecord], *, edge_fraction: float = 0.05,
                 top_fraction: float = 0.2, min_trials: int = 5) -> list[RangeWarning]:
    """The range warnings for a job (see the module docstring); empty when all is well or
    too few trials have completed."""
    metric = spec.primary.metric
    maximize = spec.primary.goal == "maximize"
    done = [t for t in trials if t.state == "complete" and t.warm_start_from is None
            and math.isfinite(t.metrics.get(metric, math.nan))]
    if len(done) >= 3 and len({t.metrics[metric] for t in done}) == 1:
        value = done[0].metrics[metric]
        return [RangeWarning(
            "objectives", f"{metric}: every complete trial ({len(done)}) gave {value:g}; nothing "
            "was learned in these ranges: check that the trial reports the metric it is tuned "
            "on, and that the parameters reach what it measures")]
    if len(done) < min_trials:
        return []
    ranked = sorted(done, key=lambda t: t.metrics[metric], reverse=maximize)
    top = ranked[:max(3, math.ceil(top_fraction * len(ranked)))]
    out = []
    for i, p in enumerate(spec.parameters):
        if not isinstance(p, (ContinuousParam, IntegerParam, DiscreteParam)):
            continue
        found = _edge_of(p, ranked[0], top, edge_fraction)
        if found is not None:
            out.append(_warning(i, p, *found))
    return out


def _bounds(p: ContinuousParam | IntegerParam | DiscreteParam) -> tuple[float, float]:
    if isinstance(p, DiscreteParam):
        return float(min(p.values)), float(max(p.values))
    return float(p.min), float(p.max)


def _scaling(p: ContinuousParam | IntegerParam | DiscreteParam) -> str:
    if isinstance(p, DiscreteParam):
        lo, hi = _bounds(p)
        return "log" if lo > 0 and hi / lo >= 100 else "linear"
    return p.effective_scaling()


def _to_unit(p, lo: float, hi: float) -> Callable[[float], float]:
    """Position of a value in the range, 0 at min and 1 at max, on the parameter's scale."""
    scaling = _scaling(p)
    if scaling == "log":
        f: Callable[[float], float] = math.log
    elif scaling == "reverse_log":
        def f(x: float) -> float:
            return -math.log(max(1e-300, 1.0 - x))
    else:
        def f(x: float) -> float:
            return x
    width = f(hi) - f(lo)
    return lambda x: (f(x) - f(lo)) / width if width else 0.5


def _edge_of(p, best: TrialRecord, top: list[TrialRecord],
             fraction: float) -> tuple[Edge, str] | None:
    lo, hi = _bounds(p)
    if hi <= lo:
        return None
    unit = _to_unit(p, lo, hi)
    at = [unit(float(t.params[p.name])) for t in top if _numeric(t.params.get(p.name))]
    if not _numeric(best.params.get(p.name)) or not at:
        return None  # inactive (conditional) in the best trial
    value = float(best.params[p.name])
    b = unit(value)
    for edge, near in (("lower", lambda u, d: u <= d), ("upper", lambda u, d: u >= 1 - d)):
        if near(b, fraction):
            return edge, f"the best trial at {value:g}"
        cluster = sum(1 for u in at if near(u, 2 * fraction))
        if cluster >= 2 and cluster * 3 >= 2 * len(at):
            return edge, f"{cluster} of the top {len(at)} trials near it"
    return None


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _widened(p, edge: Edge) -> float | None:
    """The bound to widen to, or None when the range cannot go further that way."""
    lo, hi = _bounds(p)
    scaling = _scaling(p)
    if scaling == "log":
        factor = max(2.0, (hi / lo) ** 0.25)
        new = hi * factor if edge == "upper" else lo / factor
    elif scaling == "reverse_log":  # ranges close to 1: halve or double the gap 1 - x
        if edge == "upper":
            new = 1 - _nice((1 - hi) / 2, "lower")
        else:
            new = max(0.0, 1 - _nice((1 - lo) * 2, "upper"))
        return None if new == (hi if edge == "upper" else lo) else float(f"{new:.12g}")
    elif edge == "upper":
        new = hi + (hi - lo) / 2
    else:  # a range starting at 0 (or 1, for integers) usually cannot go below it
        floor = 1.0 if isinstance(p, IntegerParam) and lo >= 1 else 0.0 if lo >= 0 else None
        new = lo - (hi - lo) / 2
        if floor is not None and new < floor:
            new = floor if lo > floor else None
    if new is None:
        return None
    if isinstance(p, IntegerParam) or (isinstance(p, DiscreteParam)
                                       and all(float(v).is_integer() for v in p.values)):
        new = math.ceil(new) if edge == "upper" else math.floor(new)
        if scaling == "log" and new < 1:
            new = 1
        return float(new) if new != (hi if edge == "upper" else lo) else None
    return _nice(new, edge)


def _nice(x: float, edge: Edge) -> float:
    """``x`` rounded outwards to two significant digits (``1.3``, not ``1.2599``)."""
    if x == 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(abs(x))) - 1)
    steps = round(x / scale, 9)  # 1.5 / 0.1 is 15.000000000000002: not a reason to give 1.6
    return float(f"{(math.ceil if edge == 'upper' else math.floor)(steps) * scale:.12g}")


def _warning(i: int, p, edge: Edge, detail: str) -> RangeWarning:
    lo, hi = _bounds(p)
    bound = hi if edge == "upper" else lo
    widen_to = _widened(p, edge)
    key = "max" if edge == "upper" else "min"
    if isinstance(p, DiscreteParam):
        field = f"parameters[{i}].values"
        advice = (f"add values beyond it, e.g. {widen_to:g}" if widen_to is not None
                  else "it cannot be widened that way; check that this edge is a real limit")
    else:
        field = f"parameters[{i}].{key}"
        advice = (f"widen {key} to {widen_to:g}" if widen_to is not None
                  else f"{key} cannot be widened that way; check that this edge is a real limit")
    return RangeWarning(field, f"{p.name}: best trials at the {edge} edge {bound:g} ({detail}); "
                        f"{advice}", p.name, edge, widen_to)
