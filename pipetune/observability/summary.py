"""Cost and convergence as report lines, beside the best result (CLI and KFP reports, PR
comments).

Example:
    >>> from pipetune.results import TrialRecord
    >>> from pipetune.spec import load_spec
    >>> spec = load_spec({"parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
    ...                   "objectives": [{"metric": "acc"}],
    ...                   "metrics": [{"name": "acc", "regex": "acc=(.+)"}],
    ...                   "trial": {"command": ["python", "t.py"]},
    ...                   "cost": {"cpu_hour_usd": 0.36}})
    >>> trials = [TrialRecord(id=str(i), number=i, state="complete", params={"x": 0.5},
    ...                       metrics={"acc": 0.5}, duration_seconds=600.0) for i in range(3)]
    >>> for line in report_lines(spec, trials, backend="local"):
    ...     print(line)
    Estimated cost: $0.18 (0.50 CPU-hours, 1 CPU per trial at $0.36 per CPU-hour)
    Convergence: not judged yet (3 of 20 finished trials: too early to judge convergence)
"""

from __future__ import annotations

from pipetune.observability.budget import tuning_share_warning
from pipetune.observability.convergence import ConvergenceVerdict, check_convergence
from pipetune.results import TrialRecord
from pipetune.spec import TuningSpec


def convergence_line(verdict: ConvergenceVerdict) -> str:
    """``Convergence: ...`` for a report."""
    head, _, detail = verdict.reason.partition(": ")
    if verdict.flat:
        return f"Convergence: not informative ({detail})"
    if verdict.converging is None:
        return f"Convergence: not judged yet ({verdict.reason})"
    if verdict.converging:
        return f"Convergence: converging ({detail})"
    return f"Convergence: **not converging** ({detail})"


def _cost_from_trials(backend: str, spec: TuningSpec, trials: list[TrialRecord]):
    from pipetune.backends import backend_class
    from pipetune.errors import PipetuneError

    try:
        return backend_class(backend).cost_from_trials(spec, trials)
    except PipetuneError:  # a backend whose extra is not installed here
        return None


def report_lines(spec: TuningSpec, trials: list[TrialRecord], *, backend: str,
                 cost_usd: float | None = None) -> list[str]:
    """The cost line (the backend's figure, or the local CPU-second estimate), a share-of-
    training warning when it applies, and the convergence line."""
    lines = []
    detail = ""
    est = _cost_from_trials(backend, spec, trials) if cost_usd is None and trials else None
    if est is not None and est.usd is not None:
        cost_usd = est.usd
        unit = est.unit.replace("seconds", "hours")
        detail = f" ({est.compute_seconds / 3600:,.2f} {unit}, {est.basis})"
    if cost_usd is not None:
        lines.append(f"Estimated cost: ${cost_usd:,.2f}{detail}")
        _, warning = tuning_share_warning(spec, cost_usd)
        if warning:
            lines.append(f"Warning: {warning}")
    if not spec.multi_objective:
        lines.append(convergence_line(check_convergence(spec, trials)))
    return lines
