"""The tuning spec: one document that every backend runs.

A spec is plain YAML or JSON. It is validated completely before any backend is called,
and every error names the field and says what would be valid.

Example:
    >>> from pipetune.spec import TuningSpec
    >>> spec = TuningSpec.model_validate({
    ...     "parameters": [
    ...         {"name": "lr", "type": "continuous", "min": 1e-4, "max": 1e-1, "scaling": "log"},
    ...         {"name": "depth", "type": "integer", "min": 2, "max": 8},
    ...     ],
    ...     "objectives": [{"metric": "accuracy", "goal": "maximize"}],
    ...     "metrics": [{"name": "accuracy", "regex": "accuracy=([0-9.]+)"}],
    ...     "trial": {"command": ["python", "train.py"]},
    ...     "budget": {"max_trials": 20, "max_parallel": 2},
    ... })
    >>> spec.parameter("depth").type
    'integer'
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipetune.errors import SpecError

Scaling = Literal["auto", "linear", "log", "reverse_log"]
Goal = Literal["maximize", "minimize"]
Contract = Literal["args", "env", "sagemaker", "vertex"]
MetricSource = Literal["regex", "hypertune", "api"]
Strategy = Literal["auto", "tpe", "gp", "random", "grid", "hyperband", "cmaes", "nsga2"]
BackendName = Literal["local", "sagemaker", "vertex"]
Measurement = Literal["final", "best"]

#: the deprecated ``vertex.measurement_selection`` values, as ``measurement`` values
_VERTEX_SELECTION = {"best": "best", "last": "final"}

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
#: SageMaker's channel-name pattern; "." and ".." are refused on top (they leave the folder).
CHANNEL_RE = re.compile(r"^[A-Za-z0-9.\-_]{1,64}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
JOB_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # also a folder name: no '/'


# Bounds on values that size memory or time, or that a sampler must accept (numpy's seeds
# are 0 .. 2**32-1). Far above any real spec; each error says the bound.
MAX_SEED = 2**32 - 1
MAX_TRIALS = 1_000_000
MAX_PARALLEL = 10_000
MAX_VALUES = 10_000  # values of one categorical/discrete parameter, points of one grid axis
MAX_GRID = 1_000_000  # points of a whole grid (Optuna's grid sampler lists them all)
MAX_INT = 2**53  # integer ranges: exact as floats, which storages and samplers use
MAX_SECONDS = 10**8  # timeouts (about three years)
MAX_COUNT = 10**9  # other counts (steps, resources)
MAX_PROFILES = 50


class _Model(BaseModel):
    # allow_inf_nan=False: nan and inf are refused by every float field ("finite number")
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class Condition(_Model):
    """Makes a parameter active only when ``parent`` takes one of ``values``."""

    parent: str
    values: list[Union[str, int, float, bool]] = Field(min_length=1)


class _ParamBase(_Model):
    name: str
    condition: Condition | None = None

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError(
                f"{v!r}: must start with a letter or '_' and hold only letters, digits, '_', "
                "'.', '-'"
            )
        return v


class _RangeParam(_ParamBase):
    scaling: Scaling = "auto"

    @model_validator(mode="after")
    def _range_ok(self):
        lo, hi = self.min, self.max  # type: ignore[attr-defined]
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError("min and max must be finite numbers")
        if isinstance(lo, int) and isinstance(hi, int) and max(abs(lo), abs(hi)) > MAX_INT:
            raise ValueError(f"integer min and max must lie within +-2**53 (got {lo}..{hi})")
        if not math.isfinite(float(hi) - float(lo)):
            raise ValueError(f"the range {lo}..{hi} is too wide: max - min overflows; "
                             "keep it within about +-1e307")
        if lo >= hi:
            raise ValueError(f"min ({lo}) must be less than max ({hi})")
        if self.scaling == "log" and lo <= 0:
            raise ValueError(f"log scaling needs min > 0 (got min={lo}); use scaling: linear")
        if self.scaling == "reverse_log" and not (0 <= lo and hi < 1):
            raise ValueError(
                f"reverse_log scaling needs 0 <= min < max < 1 (got {lo}..{hi}); "
                "it is meant for values close to 1 such as momentum"
            )
        return self

    def effective_scaling(self) -> str:
        """``auto`` becomes ``log`` when min > 0 and max/min >= 100, else ``linear``."""
        if self.scaling != "auto":
            return self.scaling
        lo, hi = self.min, self.max  # type: ignore[attr-defined]
        return "log" if lo > 0 and hi / lo >= 100 else "linear"


class ContinuousParam(_RangeParam):
    """A real-valued parameter in ``[min, max]``; ``step`` sets a grid (for ``strategy:
    grid``), ``scaling`` how it is sampled (see :meth:`effective_scaling`)."""

    type: Literal["continuous"] = "continuous"
    min: float
    max: float
    step: float | None = Field(default=None, gt=0, description="grid step, for strategy grid")

    @model_validator(mode="after")
    def _step_count(self):
        if self.step is not None and (self.max - self.min) / self.step >= MAX_VALUES:
            raise ValueError(f"step {self.step} makes more than {MAX_VALUES:,} grid points; "
                             "use a larger step")
        return self


class IntegerParam(_RangeParam):
    """An integer parameter in ``[min, max]`` (both included), every ``step`` from ``min``; a
    ``step`` above 1 cannot be log-scaled."""

    type: Literal["integer"] = "integer"
    min: int
    max: int
    step: int = Field(default=1, ge=1, le=MAX_INT)

    @model_validator(mode="after")
    def _step_scaling(self):
        if self.step != 1 and self.effective_scaling() == "log":
            raise ValueError("an integer with step > 1 cannot use log scaling")
        return self


class CategoricalParam(_ParamBase):
    """A parameter taking one of ``values`` (text, numbers or booleans, no duplicates)."""

    type: Literal["categorical"] = "categorical"
    values: list[Union[str, int, float, bool]]

    @field_validator("values", mode="before")
    @classmethod
    def _not_too_many(cls, v: Any) -> Any:
        return _bounded_values(v)

    @field_validator("values")
    @classmethod
    def _values_ok(cls, v: list) -> list:
        if not v:
            raise ValueError("needs at least one value")
        seen = set()
        for x in v:
            key = (type(x).__name__, x)
            if key in seen:
                raise ValueError(f"duplicate value {x!r}")
            seen.add(key)
        return v


class DiscreteParam(_ParamBase):
    """An explicit set of numbers, e.g. batch sizes [16, 32, 64]."""

    type: Literal["discrete"] = "discrete"
    values: list[Union[int, float]]

    @field_validator("values", mode="before")
    @classmethod
    def _numbers_only(cls, v: Any) -> Any:
        v = _bounded_values(v)
        if isinstance(v, list):  # before coercion, or true would silently become 1
            for i, x in enumerate(v):
                if isinstance(x, bool):
                    raise ValueError(f"values[{i}] is {str(x).lower()}: values must be numbers, "
                                     "not booleans (use a categorical parameter)")
                if isinstance(x, int) and abs(x) > MAX_INT:
                    raise ValueError(f"values[{i}] = {x} lies outside +-2**53")
        return v

    @field_validator("values")
    @classmethod
    def _values_ok(cls, v: list) -> list:
        if not v:
            raise ValueError("needs at least one value")
        if any(isinstance(x, bool) for x in v):
            raise ValueError("values must be numbers, not booleans (use categorical)")
        if len(set(v)) != len(v):
            dup = sorted({x for x in v if v.count(x) > 1})
            raise ValueError(f"duplicate values {dup}")
        return sorted(v)

    @property
    def is_integer(self) -> bool:
        """True when every value is an ``int``, so the trial receives ints."""
        return all(isinstance(x, int) for x in self.values)


def _bounded_values(v: Any) -> Any:
    if isinstance(v, (list, tuple)) and len(v) > MAX_VALUES:
        raise ValueError(f"has {len(v):,} values; at most {MAX_VALUES:,} are allowed (a larger "
                         "set is better searched as an integer or continuous range)")
    return v


Parameter = Annotated[
    Union[ContinuousParam, IntegerParam, CategoricalParam, DiscreteParam],
    Field(discriminator="type"),
]


class Objective(_Model):
    """A metric to optimise and its ``goal`` (``maximize``, the default, or ``minimize``)."""

    metric: str
    goal: Goal = "maximize"


class MetricDefinition(_Model):
    """A metric scraped from the trial's output by a regex with one capture group.

    The last match is the final value; earlier matches are intermediate values (step = the
    match's index), as SageMaker does with ``MetricDefinitions``.
    """

    name: str
    regex: str

    @field_validator("regex")
    @classmethod
    def _regex_ok(cls, v: str) -> str:
        try:
            compiled = re.compile(v)
        except re.error as exc:
            raise ValueError(f"does not compile: {exc}") from None
        if compiled.groups != 1:
            raise ValueError(
                f"must have exactly one capture group, has {compiled.groups}: "
                "wrap the number in (...) and use (?:...) for other groups"
            )
        return v


class Budget(_Model):
    """How much the job may spend: trials (in all, at once, failed), time (per trial, in
    all), a target value or a run of trials without improvement that ends it early, and a
    cost cap. ``max_parallel`` may not exceed ``max_trials``."""

    max_trials: int = Field(default=20, ge=1, le=MAX_TRIALS)
    max_parallel: int = Field(default=1, ge=1, le=MAX_PARALLEL)
    max_failed: int | None = Field(default=None, ge=0, le=MAX_TRIALS,
                                   description="default: max_trials // 2")
    trial_timeout: float | None = Field(default=None, gt=0, le=MAX_SECONDS,
                                        description="seconds per trial")
    timeout: float | None = Field(default=None, gt=0, le=MAX_SECONDS,
                                  description="seconds for the whole job")
    target_value: float | None = None
    no_improvement_trials: int | None = Field(default=None, ge=1, le=MAX_TRIALS)
    max_cost_usd: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _parallel_ok(self):
        if self.max_parallel > self.max_trials:
            raise ValueError(
                f"max_parallel ({self.max_parallel}) cannot exceed max_trials ({self.max_trials})"
            )
        return self

    @property
    def effective_max_failed(self) -> int:
        """How many failed trials the job tolerates: ``max_failed``, or by default half of
        ``max_trials`` (at least 1)."""
        return self.max_failed if self.max_failed is not None else max(1, self.max_trials // 2)


class EarlyStopping(_Model):
    """Stopping unpromising trials early from their intermediate values.

    ``median``: below the median of earlier trials at the same step. ``hyperband``: several
    successive-halving brackets (Optuna's sampler then learns from one bracket's trials at a
    time). ``successive_halving``: one asynchronous bracket (ASHA): at steps min_resource *
    reduction_factor**k a trial goes on only if it is in the top 1/reduction_factor so far.
    ``auto``: pipetune picks; on the local engine successive halving with ``min_resource``
    (a step count: raise it when a trial reports every batch) and ``reduction_factor``,
    which acts only on trials that report intermediate values and is a no-op for the others
    and for several objectives; on SageMaker AMT's ``Auto``; on Vertex AI median automated
    stopping.
    """

    type: Literal["none", "auto", "median", "hyperband", "successive_halving"] = "none"
    warmup_steps: int = Field(default=0, ge=0, le=MAX_COUNT,
                              description="median: steps before pruning")
    startup_trials: int = Field(default=5, ge=0, le=MAX_TRIALS,
                                description="median: trials before pruning")
    min_resource: int = Field(default=1, ge=1, le=MAX_COUNT,
                              description="hyperband, successive_halving: smallest step budget")
    max_resource: Union[Annotated[int, Field(ge=1, le=MAX_COUNT)], Literal["auto"]] = "auto"
    reduction_factor: int = Field(default=3, ge=2, le=1000)


class WarmStart(_Model):
    """Jobs whose trials seed this one's sampler (``parents``, 1 to 100), and whether they ran
    on the same data and algorithm or on related ones (``type``)."""

    parents: list[str] = Field(min_length=1, max_length=100)
    type: Literal["identical_data_and_algorithm", "transfer_learning"] = (
        "identical_data_and_algorithm"
    )


class Trial(_Model):
    """How one trial runs: a command (argv list, never a shell string) or a Python callable."""

    command: list[str] | None = None
    callable: str | None = Field(default=None, description="'package.module:function'")
    workdir: str | None = Field(
        default=None, description="where the trial runs; in a spec file, relative to the file's "
        "folder (default: that folder); otherwise relative to the current directory")
    env: dict[str, str] = Field(default_factory=dict)
    secret_env: list[str] | None = Field(
        default=None, description="names in env whose values are secrets, besides "
        "those named like *TOKEN*, *SECRET*, *PASSWORD*, *KEY*: never stored with the job, "
        "logged or reported (see pipetune.secrets)")
    contract: Contract = "args"
    metric_source: MetricSource | None = Field(
        default=None, description="default: regex with metric definitions, hypertune for vertex"
    )
    channels: dict[str, str] = Field(
        default_factory=dict, description="input channels (name -> path/URI), SM_CHANNEL_<NAME>"
    )
    grace_period: float = Field(default=10.0, ge=0, le=86400,
                                description="seconds between SIGTERM and SIGKILL")

    @field_validator("command")
    @classmethod
    def _no_nul_in_command(cls, v: list[str] | None) -> list[str] | None:
        for i, arg in enumerate(v or []):
            if "\x00" in arg:
                raise ValueError(f"command[{i}] holds a NUL character, which no program "
                                 "argument can carry")
        return v

    @field_validator("env")
    @classmethod
    def _env_ok(cls, v: dict[str, str]) -> dict[str, str]:
        for name, value in v.items():
            if not ENV_NAME_RE.match(name):
                raise ValueError(f"{name!r} is not a variable name: use letters, digits and "
                                 "'_', not starting with a digit")
            if "\x00" in value:
                raise ValueError(f"the value of {name} holds a NUL character")
        return v

    @field_validator("secret_env")
    @classmethod
    def _secret_names_ok(cls, v: list[str] | None) -> list[str] | None:
        for name in v or []:
            if not ENV_NAME_RE.match(name):
                raise ValueError(f"{name!r} is not a variable name")
        return v

    @field_validator("channels")
    @classmethod
    def _channels_ok(cls, v: dict[str, str]) -> dict[str, str]:
        for name, source in v.items():
            if not CHANNEL_RE.match(name) or name in (".", ".."):
                raise ValueError(f"channel name {name!r} is invalid: use 1-64 letters, digits, "
                                 "'.', '-', '_' (SageMaker's rule), not '.' or '..'")
            if not source or "\x00" in source:
                raise ValueError(f"channel {name!r} needs a path or URI")
        return v

    @field_validator("command", mode="before")
    @classmethod
    def _argv_only(cls, v: Any) -> Any:
        if isinstance(v, str):
            raise ValueError(
                "must be a list of arguments, e.g. [python, train.py], not a shell string"
            )
        return v

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.command is None) == (self.callable is None):
            raise ValueError("give exactly one of trial.command or trial.callable")
        if self.command is not None and not self.command:
            raise ValueError("trial.command is empty")
        if self.callable is not None and ":" not in self.callable:
            raise ValueError("trial.callable must look like 'package.module:function'")
        return self


class ProxySettings(_Model):
    """Proxy-data tuning: tune on a sample, verify the top k on the full data.

    The trial reads its data from the path in ``static[data_param]`` (a hyperparameter, so
    ``--data=...`` under the args contract) or, with ``data_channel``, from the input channel
    of that name (``SM_CHANNEL_<NAME>`` under the sagemaker contract). The proxy workflow
    puts the sample's path there while tuning and the full data's path while verifying.
    See docs/proxy.md.
    """

    data: str | None = Field(
        default=None, description="the full data set (path or URI); default: the value of "
        "static[data_param] or of the data_channel")
    fraction: float | None = Field(default=None, gt=0, le=1,
                                   description="share of rows to tune on (default 0.1)")
    rows: int | None = Field(default=None, ge=1, description="rows to tune on, instead of fraction")
    stratify: str | None = Field(default=None, min_length=1,
                                 description="column whose class proportions the sample keeps")
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    verify_top_k: int = Field(default=3, ge=0, le=MAX_TRIALS,
                              description="best proxy configurations re-run on the full data")
    min_correlation: float = Field(
        default=0.5, ge=-1, le=1,
        description="warn when the Spearman correlation of proxy and full-data scores is lower")
    data_param: str = Field(default="data", description="hyperparameter carrying the data path")
    data_channel: str | None = Field(
        default=None, description="input channel carrying the data path, instead of data_param")
    output: str | None = Field(
        default=None, description="directory for the sample and its manifest; default "
        "$PIPETUNE_HOME/proxy/<job name>")

    @field_validator("data_param", "data_channel")
    @classmethod
    def _name_ok(cls, v: str | None) -> str | None:
        if v is not None and not NAME_RE.match(v):
            raise ValueError(
                "must start with a letter or '_' and hold only letters, digits, '_', '.', '-'")
        return v

    @model_validator(mode="after")
    def _one_amount(self):
        if self.fraction is not None and self.rows is not None:
            raise ValueError("give proxy.fraction or proxy.rows, not both")
        return self

    @property
    def effective_fraction(self) -> float | None:
        """The fraction to sample: ``fraction``, or 0.1 when neither it nor ``rows`` is set."""
        if self.rows is not None:
            return None
        return self.fraction if self.fraction is not None else 0.1


class ConvergenceSettings(_Model):
    """When a job is flagged "not converging" (rule: :mod:`pipetune.observability.convergence`).

    After ``min_trials`` finished trials, the best of the last ``window`` finished trials must
    reach ``fraction`` of the way from the baseline (the median trial, or zero) to the best
    trial overall; otherwise the job is not converging.
    """

    window: int = Field(default=10, ge=1, le=MAX_TRIALS,
                        description="recent finished trials to look at")
    min_trials: int = Field(default=20, ge=1, le=MAX_TRIALS,
                            description="finished trials before judging")
    fraction: float = Field(default=0.5, gt=0, le=1,
                            description="share of the way from the baseline to the best")
    baseline: Literal["median", "zero"] = Field(
        default="median", description="median: of all complete trials; zero: a plain ratio "
        "to the best (metrics that are positive)")
    stop: bool = Field(
        default=False, description="stop the job once it is flagged not converging: the "
        "local engine's coordinator does, and whoever polls a cloud job")

    @model_validator(mode="after")
    def _window_ok(self):
        if self.window > self.min_trials:
            raise ValueError(f"window ({self.window}) cannot exceed min_trials ({self.min_trials})")
        return self


class CostSettings(_Model):
    """Inputs of the cost estimate beyond the backends' price tables
    (:mod:`pipetune.observability.cost`)."""

    cpu_hour_usd: float | None = Field(
        default=None, gt=0, description="local jobs: USD per CPU-hour, for comparison; default "
        "the SageMaker ml.m5.large price per vCPU")
    cpus_per_trial: float = Field(default=1.0, gt=0, description="local jobs: CPUs one trial uses")
    training_cost_usd: float | None = Field(
        default=None, gt=0, description="compute cost of the training this tuning serves "
        "(e.g. a month of retrains); enables the share warning")
    max_tuning_share: float = Field(
        default=0.2, gt=0, le=1, description="warn when tuning costs more than this share of "
        "training_cost_usd (the 10-20% rule)")


class LocalOptions(_Model):
    """Options of the embedded local engine."""

    prefetch: bool = Field(
        default=True,
        description="ask the sampler for the next trial while the current command runs "
        "(hides sampling time; the sampler sees the running trial through constant liar)",
    )


class TuningSpec(_Model):
    """One tuning job, independent of where it runs."""

    name: str | None = Field(default=None, description="default job name")
    backend: BackendName = "local"
    parameters: list[Parameter] = Field(min_length=1)
    static: dict[str, Union[str, int, float, bool]] = Field(
        default_factory=dict, description="fixed hyperparameters passed to every trial"
    )
    objectives: list[Objective] = Field(min_length=1)
    metrics: list[MetricDefinition] = Field(default_factory=list)
    measurement: Measurement = Field(
        default="final", description="which reported value of the objective scores a trial: "
        "final (the last one, every backend) or best (the best one; local and Vertex, not "
        "SageMaker, which scores the last regex match)")
    strategy: Strategy = "auto"
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED,
                             description="makes a single-process job reproducible")
    budget: Budget = Field(default_factory=Budget)
    early_stopping: EarlyStopping = Field(default_factory=EarlyStopping)
    warm_start: WarmStart | None = None
    trial: Trial
    proxy: ProxySettings | None = None
    storage: str | None = Field(
        default=None, description="local backend: Optuna storage URL (journal file path, "
        "sqlite:///, postgresql://, mysql://); a relative path is relative to the spec file's "
        "folder; default a journal file in the job's folder"
    )
    local: LocalOptions = Field(default_factory=lambda: LocalOptions())
    sagemaker: dict[str, Any] | None = Field(default=None, description="SageMaker options")
    vertex: dict[str, Any] | None = Field(default=None, description="Vertex AI options")
    convergence: ConvergenceSettings | None = Field(
        default=None, description="the not-converging rule; default window 10, min_trials 20, "
        "fraction 0.5, baseline median")
    cost: CostSettings | None = Field(default=None, description="cost estimate settings")
    profiles: dict[str, dict[str, Any]] | None = Field(
        default=None, description="tiered budgets: overrides per profile (dev, staging, prod), "
        "chosen with --profile or PIPETUNE_PROFILE")
    profile: str | None = Field(default=None, description="the profile in use (the default "
                                "for --profile while profiles are present)")

    @model_validator(mode="before")
    @classmethod
    def _measurement_alias(cls, data: Any) -> Any:
        """``vertex.measurement_selection`` (deprecated) becomes ``measurement``."""
        if not isinstance(data, dict) or not isinstance(data.get("vertex"), dict) \
                or "measurement_selection" not in data["vertex"]:
            return data
        vertex = dict(data["vertex"])
        old = vertex.pop("measurement_selection")
        new = _VERTEX_SELECTION.get(old) if isinstance(old, str) else None
        if new is None:
            raise _CrossFieldErrors([("vertex.measurement_selection", f"got {old!r}; it is "
                                      "deprecated: use the spec's measurement: final or best")])
        if data.get("measurement", new) != new:
            raise _CrossFieldErrors([("vertex.measurement_selection", f"{old!r} contradicts "
                                      f"measurement: {data['measurement']}; keep only measurement")])
        import warnings

        warnings.warn(f"vertex.measurement_selection is deprecated; write measurement: {new} "
                      "(it applies to every backend)", FutureWarning, stacklevel=2)
        return {**data, "vertex": vertex, "measurement": new}

    @field_validator("profiles", mode="before")
    @classmethod
    def _few_profiles(cls, v: Any) -> Any:
        # each profile is validated as a whole spec: their number multiplies the work
        if isinstance(v, dict) and len(v) > MAX_PROFILES:
            raise ValueError(f"has {len(v)} profiles; at most {MAX_PROFILES} (such as dev, "
                             "staging, prod)")
        return v

    @field_validator("name")
    @classmethod
    def _job_name_ok(cls, v: str | None) -> str | None:
        if v is not None and (not JOB_NAME_RE.match(v) or ".." in v):
            raise ValueError(f"{v!r} is not a job name: use 1-128 letters, digits, '.', '_' or "
                             "'-', starting with a letter or digit")
        return v

    @field_validator("storage")
    @classmethod
    def _storage_ok(cls, v: str | None) -> str | None:
        if v is not None:
            from pipetune.storages.urls import check_storage_url

            check_storage_url(v)
        return v

    @model_validator(mode="after")
    def _cross_checks(self):
        problems: list[tuple[str, str]] = []
        names = [p.name for p in self.parameters]
        for i, n in enumerate(names):
            if names.index(n) != i:
                problems.append((f"parameters[{i}].name", f"duplicate parameter name {n!r}"))
        by_name = {p.name: p for p in self.parameters}
        for i, p in enumerate(self.parameters):
            if p.condition is None:
                continue
            parent = by_name.get(p.condition.parent)
            where = f"parameters[{i}].condition.parent"
            earlier = names[:i]
            if parent is None or parent is p:
                problems.append((where, f"no parameter {p.condition.parent!r}; valid: {names}"))
            elif p.condition.parent not in earlier:
                problems.append((where, f"{p.condition.parent!r} must be listed before {p.name!r}"))
            elif isinstance(parent, (CategoricalParam, DiscreteParam)):
                bad = [v for v in p.condition.values if v not in parent.values]
                if bad:
                    problems.append(
                        (f"parameters[{i}].condition.values",
                         f"{bad} are not values of {parent.name!r} ({parent.values})")
                    )
        for key in self.static:
            if key in by_name:
                problems.append((f"static.{key}", "is also a tuned parameter; keep one"))
        metric_names = [m.name for m in self.metrics]
        for i, m in enumerate(metric_names):
            if metric_names.index(m) != i:
                problems.append((f"metrics[{i}].name", f"duplicate metric {m!r}"))
        seen_obj = set()
        for i, o in enumerate(self.objectives):
            if o.metric in seen_obj:
                problems.append((f"objectives[{i}].metric", f"duplicate objective {o.metric!r}"))
            seen_obj.add(o.metric)
            if self.resolved_metric_source() == "regex" and o.metric not in metric_names:
                problems.append(
                    (f"objectives[{i}].metric",
                     f"no regex for {o.metric!r} in metrics; add "
                     f"{{name: {o.metric}, regex: '{o.metric}=([0-9.eE+-]+)'}}")
                )
        if self.resolved_metric_source() == "api" and self.trial.command is not None:
            problems.append(("trial.metric_source", "api needs trial.callable; a command "
                             "reports through regex or hypertune"))
        if self.measurement == "best" and len(self.objectives) > 1:
            problems.append(("measurement", "best needs a single objective (which measurement "
                             "is best is undefined for several); use final"))
        if self.strategy == "nsga2" and len(self.objectives) < 2:
            problems.append(("strategy", "nsga2 is for several objectives; use tpe or auto"))
        if len(self.objectives) > 1 and self.strategy in ("gp", "cmaes", "hyperband"):
            problems.append(("strategy", f"{self.strategy} supports one objective; "
                             "use auto, tpe, nsga2 or random"))
        if len(self.objectives) > 1 and self.early_stopping.type not in ("none", "auto"):
            problems.append(("early_stopping.type", "early stopping needs a single objective"))
        if self.strategy == "grid":
            points = 1
            for i, p in enumerate(self.parameters):
                if isinstance(p, ContinuousParam) and p.step is None:
                    problems.append((f"parameters[{i}].step",
                                     "grid search over a continuous parameter needs a step"))
                points *= _grid_points(p)
            if points > MAX_GRID:
                problems.append(("strategy", f"the grid has {points:,} points; at most "
                                 f"{MAX_GRID:,}: use larger steps or strategy: random"))
        if self.strategy == "cmaes" and any(
            isinstance(p, CategoricalParam) or p.condition for p in self.parameters
        ):
            problems.append(("strategy", "cmaes handles numeric parameters without conditions"))
        if self.profiles is not None or self.profile is not None:
            from pipetune.observability.tiers import profile_problems

            problems.extend(profile_problems(self))
        if problems:
            raise _CrossFieldErrors(problems)
        return self

    def parameter(self, name: str):
        """The parameter named ``name``.

        Raises:
            KeyError: the spec has no such parameter.
        """
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def resolved_metric_source(self) -> str:
        """Where the trial's metrics come from: ``trial.metric_source`` when set, else ``api``
        for a callable trial, ``hypertune`` for a ``vertex`` contract without ``metrics``, else
        ``regex``."""
        if self.trial.metric_source:
            return self.trial.metric_source
        if self.trial.callable is not None:
            return "api"
        if self.trial.contract == "vertex" and not self.metrics:
            return "hypertune"
        return "regex"

    @property
    def primary(self) -> Objective:
        """The first objective in ``objectives``: the one a single-objective job optimises."""
        return self.objectives[0]

    @property
    def multi_objective(self) -> bool:
        """True with more than one objective (the result is a Pareto front)."""
        return len(self.objectives) > 1

    def to_dict(self) -> dict[str, Any]:
        """The spec as a JSON-able dict, unset optional fields left out (what :func:`load_spec`
        reads back)."""
        return self.model_dump(mode="json", exclude_none=True)

    def fingerprint(self) -> str:
        """A hash of everything that changes what the job computes: not its name, nor
        where the spec lies (``trial.workdir``), so the same spec from two checkouts, or a
        retried task on another worker, attaches to the same job; nor the values of secret
        variables (see :mod:`pipetune.secrets`)."""
        from pipetune.secrets import redact_spec_dict

        body = redact_spec_dict(self.to_dict())
        body.pop("name", None)
        body.get("trial", {}).pop("workdir", None)
        raw = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def with_overrides(self, **changes: Any) -> "TuningSpec":
        """A validated copy with top-level fields replaced (dicts merged one level)."""
        body = self.to_dict()
        for key, value in changes.items():
            if isinstance(value, dict) and isinstance(body.get(key), dict):
                body[key] = {**body[key], **value}
            else:
                body[key] = value
        return load_spec(body)


def _grid_points(p: Any) -> int:
    if isinstance(p, (CategoricalParam, DiscreteParam)):
        return len(p.values)
    if isinstance(p, IntegerParam):
        return (p.max - p.min) // p.step + 1
    if isinstance(p, ContinuousParam) and p.step:
        return int((p.max - p.min) / p.step) + 1
    return 1


class _CrossFieldErrors(ValueError):
    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))


def _loc_to_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("continuous", "integer", "categorical", "discrete", "function-after",
                      "function-before", "function-wrap"):
            continue
        elif isinstance(part, str) and part.startswith("function-"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "spec"


def _model_fields_at(path_parts: tuple) -> list[str]:
    """The valid field names of the model at a location, for 'did you mean' hints."""
    model: Any = TuningSpec
    for part in path_parts:
        if isinstance(part, int):
            continue
        if part in ("continuous", "integer", "categorical", "discrete"):
            model = {"continuous": ContinuousParam, "integer": IntegerParam,
                     "categorical": CategoricalParam, "discrete": DiscreteParam}[part]
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        found = None
        for cand in _walk_types(ann):
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                found = cand
                break
        if found is None:
            return []
        model = found
    return list(getattr(model, "model_fields", {}))


def _walk_types(ann: Any):
    yield ann
    for arg in getattr(ann, "__args__", ()) or ():
        yield from _walk_types(arg)


_UNION_MEMBERS = ("str", "int", "float", "bool")


def _convert(exc: ValidationError) -> SpecError:
    problems: list[tuple[str, str]] = []
    errors = exc.errors()
    # a value refused by every member of a union (str | int | float | bool): one problem
    members: dict[tuple, list[str]] = {}
    for err in errors:
        if err["loc"] and err["loc"][-1] in _UNION_MEMBERS:
            members.setdefault(tuple(err["loc"][:-1]), []).append(err["loc"][-1])
    reported: set[tuple] = set()
    for err in errors:
        loc = err["loc"]
        union_loc = tuple(loc[:-1])
        if loc and loc[-1] in _UNION_MEMBERS and len(members.get(union_loc, ())) > 1:
            if union_loc in reported:
                continue
            reported.add(union_loc)
            given = err.get("input")
            problems.append((_loc_to_path(union_loc), "must be text, a finite number or a "
                             f"boolean (got {given!r})"))
            continue
        ctx = err.get("ctx") or {}
        inner = ctx.get("error")
        if isinstance(inner, _CrossFieldErrors):
            problems.extend(inner.problems)
            continue
        path = _loc_to_path(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            valid = _model_fields_at(loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "."
            problems.append((path, f"unknown field{hint} Valid fields: {', '.join(valid)}"))
        elif kind == "union_tag_invalid" or kind == "union_tag_not_found":
            problems.append((path + ".type" if kind == "union_tag_invalid" else path,
                             "type must be one of continuous, integer, categorical, discrete"))
        elif kind == "literal_error":
            problems.append((path, f"got {err.get('input')!r}; {err['msg'].lower()}"))
        elif kind == "missing":
            problems.append((path, "is required"))
        else:
            msg = err["msg"].removeprefix("Value error, ")
            given = err.get("input")
            scalar = isinstance(given, (str, int, float, bool)) or given is None
            problems.append((path, f"{msg} (got {given!r})" if scalar and kind != "value_error"
                             else msg))
    return SpecError(problems)


def load_spec(source: "str | Path | dict[str, Any] | TuningSpec") -> TuningSpec:
    """Load and validate a spec from a path, a YAML/JSON string, a dict, or a spec.

    A relative ``trial.workdir`` in a spec *file* is resolved against the file's folder (a
    missing one is that folder), so the spec means the same whatever the current directory.

    Raises :class:`~pipetune.errors.SpecError` naming every invalid field.
    """
    from pipetune.spec_loader import check_structure, load_document

    if isinstance(source, TuningSpec):
        return source
    folder: Path | None = None
    if isinstance(source, dict):
        check_structure(source)  # depth and size budgets, as for a document
        data = source
    else:
        text, origin, folder = _read_text(source)
        data = load_document(text, origin)  # YAML or JSON, within the budgets
        if not isinstance(data, dict):
            raise SpecError("the spec must be a mapping of fields (parameters, objectives, "
                            f"trial, ...), got {type(data).__name__}", field=origin)
    _refuse_unencodable_text(data)
    odd_keys = [k for k in data if not isinstance(k, str)]
    if odd_keys:  # e.g. YAML "? " or "1: x" at the top level
        raise SpecError(f"field names must be text, got {odd_keys[0]!r}; valid fields: "
                        f"{', '.join(TuningSpec.model_fields)}", field="spec")
    try:
        spec = TuningSpec.model_validate(data)
    except ValidationError as exc:
        raise _convert(exc) from None
    if folder is not None and spec.storage:
        from pipetune.storages.urls import resolve_storage_url

        resolved_storage = resolve_storage_url(spec.storage, folder)
        if resolved_storage != spec.storage:
            spec = spec.model_copy(update={"storage": resolved_storage})
    if folder is not None:
        workdir = spec.trial.workdir
        if not workdir or not Path(workdir).is_absolute():
            resolved = str((folder / (workdir or ".")).resolve())
            spec = spec.model_copy(update={"trial": spec.trial.model_copy(update={"workdir": resolved})})
    return spec


def _refuse_unencodable_text(data: Any) -> None:
    """Refuse text no file, log or terminal can hold: lone surrogates (e.g. a JSON
    ``"\\ud800"`` escape, or a Python string built from bytes with ``surrogateescape``).
    Walks iteratively, so a deeply nested document cannot exhaust the stack here."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str):
                    _check_text(key, where or "spec")
                stack.append((f"{where}.{key}" if where else str(key), value))
        elif isinstance(node, (list, tuple)):
            stack.extend((f"{where}[{i}]", value) for i, value in enumerate(node))
        elif isinstance(node, str):
            _check_text(node, where or "spec")


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        shown = where.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        raise SpecError(f"text with an unpaired surrogate ({ascii(text[exc.start:exc.end])}) at "
                        f"character {exc.start}: write the character itself, in UTF-8",
                        field=shown) from None


def _read_text(source: "str | Path") -> tuple[str, str, Path | None]:
    """The spec's text, where it came from (for messages) and the file's folder, if a file."""
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and source.lower().endswith((".yaml", ".yml", ".json"))
    ):
        path = Path(source)
        if not path.is_file():
            raise SpecError(f"file not found: {path}", field="spec")
        try:
            return path.read_text(encoding="utf-8"), str(path), path.absolute().parent
        except UnicodeDecodeError as exc:
            raise SpecError(f"{path} is not valid UTF-8 (byte {exc.start}): save it as UTF-8",
                            field="spec") from None
        except OSError as exc:
            raise SpecError(f"cannot read {path}: {exc.strerror or exc}", field="spec") from None
    if isinstance(source, str):
        _check_text(source, "spec")
    return str(source), "spec", None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a spec, for editors and CI validation."""
    schema = TuningSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "pipetune tuning spec"
    return schema
