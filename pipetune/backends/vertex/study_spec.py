"""A :class:`~pipetune.spec.TuningSpec` as a Vertex AI ``StudySpec``, and Vertex trials back.

Both modes share this: the HyperparameterTuningJob carries the study spec, and a Vizier
study is created from it. Conditional parameters become Vertex's native nested
``conditional_parameter_specs``. Categorical values travel as strings, every number as a
double; :func:`trial_params` casts them back to the spec's types.

Example:
    >>> from pipetune.spec import load_spec
    >>> from pipetune.backends.vertex.options import parse_options
    >>> spec = load_spec({"parameters": [{"name": "depth", "type": "integer", "min": 2, "max": 8}],
    ...                   "objectives": [{"metric": "auc"}],
    ...                   "trial": {"command": ["python", "t.py"], "contract": "vertex"}})
    >>> ss = build_study_spec(spec, parse_options({"project": "my-proj", "location": "us-central1"}))
    >>> ss.parameters[0].integer_value_spec.max_value
    8
"""

from __future__ import annotations

import math
from typing import Any

from google.cloud.aiplatform_v1.types import Measurement, StudySpec, Trial

from pipetune.backends.vertex.options import VertexOptions
from pipetune.errors import SpecError
from pipetune.results import cast_value
from pipetune.spec import CategoricalParam, ContinuousParam, DiscreteParam, IntegerParam, TuningSpec
from pipetune.trials.contracts import render_value

PS = StudySpec.ParameterSpec
#: the spec's scoring rule (``measurement``) as Vertex's measurement selection
_SELECTION = {"best": StudySpec.MeasurementSelectionType.BEST_MEASUREMENT,
              "final": StudySpec.MeasurementSelectionType.LAST_MEASUREMENT}
_SCALE = {"linear": PS.ScaleType.UNIT_LINEAR_SCALE, "log": PS.ScaleType.UNIT_LOG_SCALE,
          "reverse_log": PS.ScaleType.UNIT_REVERSE_LOG_SCALE}
_ALGORITHM = {"auto": StudySpec.Algorithm.ALGORITHM_UNSPECIFIED,
              "gp": StudySpec.Algorithm.ALGORITHM_UNSPECIFIED,
              "random": StudySpec.Algorithm.RANDOM_SEARCH,
              "grid": StudySpec.Algorithm.GRID_SEARCH}


def check(spec: TuningSpec, opts: VertexOptions) -> None:
    """Refuse what Vertex cannot run, naming the field. Called before any request."""
    problems: list[tuple[str, str]] = []
    if spec.strategy not in _ALGORITHM:
        problems.append(("strategy", f"{spec.strategy!r} is not offered by Vertex AI; valid: "
                         "auto or gp (Vizier's default algorithm), random, grid"))
    by_name = {p.name: p for p in spec.parameters}
    for i, p in enumerate(spec.parameters):
        if p.condition is not None and isinstance(by_name[p.condition.parent], ContinuousParam):
            problems.append((f"parameters[{i}].condition.parent",
                             "Vertex conditions need a categorical, discrete or integer parent, "
                             f"{p.condition.parent!r} is continuous"))
        if spec.strategy == "grid" and isinstance(p, ContinuousParam) and p.step is None:
            problems.append((f"parameters[{i}].step", "grid search over a continuous parameter "
                             "needs a step"))
    if spec.early_stopping.type in ("hyperband", "successive_halving"):
        problems.append(("early_stopping.type", f"Vertex AI cannot run "
                         f"{spec.early_stopping.type}; valid: none, median (or "
                         "vertex.automated_stopping: decay_curve)"))
    if spec.strategy == "hyperband":
        problems.append(("strategy", "Vertex AI cannot run hyperband"))
    if stopping_kind(spec, opts) != "none" and spec.multi_objective:
        problems.append(("vertex.automated_stopping", "automated stopping needs a single objective"))
    if problems:
        raise SpecError(problems)


def stopping_kind(spec: TuningSpec, opts: VertexOptions) -> str:
    """The automated stopping to ask of Vertex: ``vertex.automated_stopping`` when set, else
    ``median`` for ``early_stopping: median``, and for ``auto`` with one objective (Vizier's
    median rule, which acts only on trials that report intermediate measurements), else
    ``none``."""
    if opts.automated_stopping is not None:
        return opts.automated_stopping
    kind = spec.early_stopping.type
    if kind == "median" or (kind == "auto" and not spec.multi_objective):
        return "median"
    return "none"


def build_study_spec(spec: TuningSpec, opts: VertexOptions) -> StudySpec:
    """The ``StudySpec`` for ``spec``; call :func:`check` first."""
    roots = [p for p in spec.parameters if p.condition is None]
    study = StudySpec(
        metrics=[StudySpec.MetricSpec(
            metric_id=o.metric,
            goal=StudySpec.MetricSpec.GoalType.MAXIMIZE if o.goal == "maximize"
            else StudySpec.MetricSpec.GoalType.MINIMIZE) for o in spec.objectives],
        parameters=[_param_spec(spec, p) for p in roots],
        algorithm=_ALGORITHM.get(spec.strategy, StudySpec.Algorithm.ALGORITHM_UNSPECIFIED),
        measurement_selection_type=_SELECTION[spec.measurement],
    )
    kind = stopping_kind(spec, opts)
    if kind == "median":
        study.median_automated_stopping_spec = StudySpec.MedianAutomatedStoppingSpec(
            use_elapsed_duration=False)
    elif kind == "decay_curve":
        study.decay_curve_stopping_spec = StudySpec.DecayCurveAutomatedStoppingSpec(
            use_elapsed_duration=False)
    return study


def _param_spec(spec: TuningSpec, p) -> PS:
    out = PS(parameter_id=p.name)
    if isinstance(p, ContinuousParam) and p.step is not None and spec.strategy == "grid":
        n = int(math.floor((p.max - p.min) / p.step + 1e-9)) + 1
        out.discrete_value_spec = PS.DiscreteValueSpec(
            values=[round(p.min + k * p.step, 12) for k in range(n)])
    elif isinstance(p, ContinuousParam):
        out.double_value_spec = PS.DoubleValueSpec(min_value=p.min, max_value=p.max)
        out.scale_type = _SCALE[p.effective_scaling()]
    elif isinstance(p, IntegerParam) and p.step != 1:
        out.discrete_value_spec = PS.DiscreteValueSpec(
            values=[float(v) for v in range(p.min, p.max + 1, p.step)])
    elif isinstance(p, IntegerParam):
        out.integer_value_spec = PS.IntegerValueSpec(min_value=p.min, max_value=p.max)
        out.scale_type = _SCALE[p.effective_scaling()]
    elif isinstance(p, DiscreteParam):
        out.discrete_value_spec = PS.DiscreteValueSpec(values=[float(v) for v in p.values])
    elif isinstance(p, CategoricalParam):
        out.categorical_value_spec = PS.CategoricalValueSpec(
            values=[render_value(v) for v in p.values])
    children = [c for c in spec.parameters if c.condition is not None and c.condition.parent == p.name]
    for child in children:
        cond = PS.ConditionalParameterSpec(parameter_spec=_param_spec(spec, child))
        values = child.condition.values
        if isinstance(p, IntegerParam) and p.step == 1:
            cond.parent_int_values = PS.ConditionalParameterSpec.IntValueCondition(
                values=[int(v) for v in values])
        elif isinstance(p, CategoricalParam):
            cond.parent_categorical_values = PS.ConditionalParameterSpec.CategoricalValueCondition(
                values=[render_value(v) for v in values])
        else:
            cond.parent_discrete_values = PS.ConditionalParameterSpec.DiscreteValueCondition(
                values=[float(v) for v in values])
        out.conditional_parameter_specs.append(cond)
    return out


def trial_params(spec: TuningSpec, trial: Trial) -> dict[str, Any]:
    """A Vertex trial's parameters in the spec's types (doubles back to integers, ...)."""
    out: dict[str, Any] = {}
    for tp in trial.parameters:
        try:
            param = spec.parameter(tp.parameter_id)
        except KeyError:
            continue
        out[tp.parameter_id] = cast_value(param, tp.value)
    return {p.name: out[p.name] for p in spec.parameters if p.name in out}


def to_vertex_value(param, value: Any) -> Any:
    """A typed value as Vertex stores it (categoricals as strings, numbers as doubles)."""
    if isinstance(param, CategoricalParam):
        return render_value(value)
    return float(value)


def measurement(metrics: dict[str, float], step: int | None = None,
                elapsed: float | None = None) -> Measurement:
    """A Vertex ``Measurement`` of ``metrics``, non-finite values left out (Vertex refuses
    them), with its step and elapsed time when given."""
    m = Measurement(metrics=[Measurement.Metric(metric_id=k, value=float(v))
                             for k, v in metrics.items() if math.isfinite(float(v))])
    if step is not None:
        m.step_count = int(step)
    if elapsed is not None:
        m.elapsed_duration = {"seconds": int(elapsed), "nanos": int((elapsed % 1) * 1e9)}
    return m


def measurement_values(m: Measurement | None) -> dict[str, float]:
    """``{metric id: value}`` of a Vertex measurement; empty for None."""
    if m is None:
        return {}
    return {x.metric_id: float(x.value) for x in m.metrics}
