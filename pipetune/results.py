"""Typed results: trial records, the best result, the Pareto front.

Backends hand back raw values (SageMaker: strings; Vertex and KFP: integers as floats);
:func:`cast_params` turns them back into the types the spec declares.

Example:
    >>> from pipetune.spec import load_spec
    >>> spec = load_spec({"parameters": [{"name": "depth", "type": "integer", "min": 1, "max": 9}],
    ...                   "objectives": [{"metric": "acc"}],
    ...                   "metrics": [{"name": "acc", "regex": "acc=(.+)"}],
    ...                   "trial": {"command": ["python", "t.py"]}})
    >>> cast_params(spec, {"depth": "7"})
    {'depth': 7}
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field

from pipetune.spec import (
    CategoricalParam,
    ContinuousParam,
    DiscreteParam,
    IntegerParam,
    TuningSpec,
)


def _to_number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError("boolean is not a number")
    return float(raw)


def cast_value(param, raw: Any) -> Any:
    """Cast one raw backend value to the parameter's declared type."""
    if isinstance(param, IntegerParam):
        value = _to_number(raw)
        if not value.is_integer():
            raise ValueError(f"{param.name}: {raw!r} is not an integer")
        return int(value)
    if isinstance(param, ContinuousParam):
        return _to_number(raw)
    if isinstance(param, DiscreteParam):
        value = _to_number(raw)
        for v in param.values:
            if math.isclose(float(v), value, rel_tol=1e-9, abs_tol=1e-12):
                return v
        raise ValueError(f"{param.name}: {raw!r} is not one of {param.values}")
    if isinstance(param, CategoricalParam):
        for v in param.values:
            if v == raw or str(v) == str(raw) or (
                isinstance(v, bool) and str(raw).lower() == str(v).lower()
            ):
                return v
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                try:
                    if float(raw) == float(v):
                        return v
                except (TypeError, ValueError):
                    pass
        raise ValueError(f"{param.name}: {raw!r} is not one of {param.values}")
    raise TypeError(f"unknown parameter kind {type(param).__name__}")


def cast_params(spec: TuningSpec, raw: dict[str, Any], *, include_static: bool = False) -> dict[str, Any]:
    """Cast a dict of raw values to the spec's types.

    Keys of tuned parameters are cast; keys of the spec's static hyperparameters are left
    out unless ``include_static`` (then every static value is included, as the spec has it);
    any other key is kept as it is."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            param = spec.parameter(key)
        except KeyError:
            if include_static or key not in spec.static:
                out[key] = spec.static.get(key, value) if key in spec.static else value
            continue
        out[key] = cast_value(param, value)
    if include_static:
        for key, value in spec.static.items():
            out.setdefault(key, value)
    return out


class TrialRecord(BaseModel):
    """One trial as every backend reports it."""

    id: str
    number: int
    state: str  # complete | failed | pruned | infeasible | running | stopped
    params: dict[str, Any]
    metrics: dict[str, float] = Field(default_factory=dict)
    values: list[float] | None = None
    reason: str | None = None
    artifacts: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    duration_seconds: float | None = None
    intermediate: dict[int, float] = Field(default_factory=dict)
    warm_start_from: str | None = Field(
        default=None, description="a parent job's trial that seeded this job (not run here)")


class BestResult(BaseModel):
    """The winner: typed parameters, its metrics, where its artifacts are.

    ``objective`` is the primary objective's value; ``pareto_front`` lists every
    non-dominated trial when the spec has several objectives.
    """

    job: str
    backend: str
    params: dict[str, Any]
    static: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float]
    objective: str
    goal: str
    value: float
    trial: str
    trial_number: int | None = None
    artifacts: str | None = None
    trials_total: int = 0
    trials_complete: int = 0
    trials_failed: int = 0
    trials_pruned: int = 0
    trials_infeasible: int = 0
    cost_usd: float | None = None
    pareto_front: list[TrialRecord] | None = None

    def as_env(self, prefix: str = "") -> str:
        """Lines ``NAME=value`` a shell can source."""
        import shlex

        lines = []
        for key, value in {**self.static, **self.params}.items():
            env_name = prefix + "".join(c if c.isalnum() else "_" for c in key).upper()
            lines.append(f"{env_name}={shlex.quote(_plain(value))}")
        return "\n".join(lines)

    def as_args(self) -> list[str]:
        """``--name=value`` arguments, the contract of SageMaker script mode and Vertex."""
        return [f"--{k}={_plain(v)}" for k, v in {**self.static, **self.params}.items()]


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def pareto_front(trials: list[TrialRecord], goals: list[str]) -> list[TrialRecord]:
    """Non-dominated complete trials for several objectives."""
    done = [t for t in trials if t.state == "complete" and t.values is not None]
    sign = [1.0 if g == "minimize" else -1.0 for g in goals]

    def dominates(a: TrialRecord, b: TrialRecord) -> bool:
        av = [s * v for s, v in zip(sign, a.values)]  # type: ignore[arg-type]
        bv = [s * v for s, v in zip(sign, b.values)]  # type: ignore[arg-type]
        return all(x <= y for x, y in zip(av, bv)) and any(x < y for x, y in zip(av, bv))

    return [t for t in done if not any(dominates(o, t) for o in done if o is not t)]


def own_trials(trials: list[TrialRecord]) -> list[TrialRecord]:
    """The job's own trials, without the parent trials a warm start listed (which seeded
    its search but are not its trials: not counted, not its best, not its cost)."""
    return [t for t in trials if t.warm_start_from is None]


def pick_best(spec: TuningSpec, trials: list[TrialRecord]) -> TrialRecord | None:
    """The complete trial with the best primary objective."""
    metric = spec.primary.metric
    done = [t for t in trials if t.state == "complete" and metric in t.metrics
            and t.warm_start_from is None]
    if not done:
        return None
    key = (lambda t: t.metrics[metric])
    return max(done, key=key) if spec.primary.goal == "maximize" else min(done, key=key)


def build_best(spec: TuningSpec, job: str, backend: str, trials: list[TrialRecord],
               cost_usd: float | None = None) -> BestResult:
    """Assemble a :class:`BestResult` from a backend's trial records."""
    from pipetune.errors import JobFailed

    best = pick_best(spec, trials)
    if best is None:
        reasons = sorted({t.reason for t in trials if t.reason})[:3]
        raise JobFailed(job, "no trial completed with a value for "
                        f"{spec.primary.metric!r}" + (f"; reasons: {reasons}" if reasons else ""))
    trials = own_trials(trials)
    counts = {s: sum(1 for t in trials if t.state == s)
              for s in ("complete", "failed", "pruned", "infeasible")}
    front = pareto_front(trials, [o.goal for o in spec.objectives]) if spec.multi_objective else None
    return BestResult(
        job=job, backend=backend, params=best.params, static=dict(spec.static),
        metrics=best.metrics, objective=spec.primary.metric, goal=spec.primary.goal,
        value=best.metrics[spec.primary.metric], trial=best.id, trial_number=best.number,
        artifacts=best.artifacts, trials_total=len(trials),
        trials_complete=counts["complete"], trials_failed=counts["failed"],
        trials_pruned=counts["pruned"], trials_infeasible=counts["infeasible"],
        cost_usd=cost_usd, pareto_front=front,
    )
