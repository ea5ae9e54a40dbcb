"""Bring an existing sagemaker SDK 3.x ``HyperparameterTuner`` to pipetune.

The SDK is an optional, large dependency: this module never imports it. It reads the
tuner by attribute (duck typing) as ``sagemaker.train.tuner.HyperparameterTuner`` and the
ranges of ``sagemaker.core.parameter`` (``ContinuousParameter``, ``IntegerParameter``,
``CategoricalParameter``) define them.

Example:
    >>> from types import SimpleNamespace as NS
    >>> ContinuousParameter = type("ContinuousParameter", (), {})
    >>> lr = ContinuousParameter(); lr.min_value, lr.max_value, lr.scaling_type = 1e-4, 0.1, "Logarithmic"
    >>> tuner = NS(objective_metric_name="val_acc", objective_type="Maximize",
    ...            metric_definitions=[{"Name": "val_acc", "Regex": "val_acc=([0-9.]+)"}],
    ...            _hyperparameter_ranges={"lr": lr}, strategy="Bayesian", max_jobs=10,
    ...            max_parallel_jobs=2)
    >>> spec = spec_from_tuner(tuner, sagemaker={"role_arn": "arn:aws:iam::123456789012:role/R",
    ...                        "image": "img", "output_path": "s3://b/o"})
    >>> spec.parameter("lr").scaling, spec.budget.max_trials, spec.backend
    ('log', 10, 'sagemaker')
"""

from __future__ import annotations

from typing import Any

from pipetune.errors import SpecError
from pipetune.spec import TuningSpec, load_spec

_SCALING = {"Auto": "auto", "Linear": "linear", "Logarithmic": "log",
            "ReverseLogarithmic": "reverse_log", None: "auto"}
_STRATEGY = {"Bayesian": "auto", "Random": "random", "Hyperband": "hyperband", "Grid": "grid"}


def _first(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None and type(value).__name__ != "Unassigned":  # SDK 3.x shapes' unset
            return value
    return default


# SageMakerOptions field <- (ModelTrainer attribute, field of that attribute or None)
_FROM_MODEL_TRAINER = {
    "role_arn": ("role", None), "image": ("training_image", None),
    "output_path": ("output_data_config", "s3_output_path"),
    "instance_type": ("compute", "instance_type"), "instance_count": ("compute", "instance_count"),
    "volume_size_gb": ("compute", "volume_size_in_gb"),
    "spot": ("compute", "enable_managed_spot_training"),
    "max_runtime_seconds": ("stopping_condition", "max_runtime_in_seconds"),
    "max_wait_seconds": ("stopping_condition", "max_wait_time_in_seconds"),
    "input_mode": ("training_input_mode", None), "environment": ("environment", None),
}


def _model_trainer_options(tuner: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(sagemaker options, static hyperparameters) that the tuner's SDK 3.x ``ModelTrainer``
    already holds: its role, image, output path, compute, stopping condition, environment
    and fixed hyperparameters."""
    trainer = _first(tuner, "model_trainer")
    if trainer is None:
        return {}, {}
    options = {}
    for field, (attr, sub) in _FROM_MODEL_TRAINER.items():
        value = _first(trainer, attr)
        if sub is not None and value is not None:
            value = _first(value, sub)
        if value not in (None, {}, False):
            options[field] = value
    return options, dict(_first(trainer, "hyperparameters", default={}) or {})


def _parameter(name: str, rng: Any) -> dict[str, Any]:
    kind = type(rng).__name__
    if kind == "CategoricalParameter" or hasattr(rng, "values") and not hasattr(rng, "min_value"):
        return {"name": name, "type": "categorical", "values": list(rng.values)}
    scaling = _SCALING.get(getattr(rng, "scaling_type", None), "auto")
    if kind == "IntegerParameter":
        return {"name": name, "type": "integer", "min": int(rng.min_value), "max": int(rng.max_value),
                "scaling": scaling}
    if kind == "ContinuousParameter":
        return {"name": name, "type": "continuous", "min": float(rng.min_value),
                "max": float(rng.max_value), "scaling": scaling}
    raise SpecError(f"unknown range type {kind} for {name!r}; expected ContinuousParameter, "
                    "IntegerParameter or CategoricalParameter", field=f"parameters.{name}")


def _warm_start(warm: Any) -> dict[str, Any]:
    """SDK 3.x ``HyperParameterTuningJobWarmStartConfig`` (``parent_hyper_parameter_tuning_jobs``
    of ``ParentHyperParameterTuningJob``, ``warm_start_type``) or 2.x ``WarmStartConfig``
    (``parents``, ``type``)."""
    parents = [_first(p, "hyper_parameter_tuning_job_name", default=p)
               for p in _first(warm, "parent_hyper_parameter_tuning_jobs", "parents", default=[])]
    kind = _first(warm, "warm_start_type", "type")
    kind = str(getattr(kind, "value", kind))
    return {"parents": [str(p) for p in parents],
            "type": "transfer_learning" if "Transfer" in kind else "identical_data_and_algorithm"}


def _completion_criteria(criteria: Any, body: dict[str, Any]) -> None:
    """SDK 3.x ``TuningJobCompletionCriteria`` (nested ``best_objective_not_improving`` and
    ``convergence_detected`` shapes) or 2.x ``TuningJobCompletionCriteriaConfig`` (flat)."""
    target = _first(criteria, "target_objective_metric_value")
    if target is not None:
        body["budget"]["target_value"] = float(target)
    not_improving = _first(_first(criteria, "best_objective_not_improving", default=criteria),
                           "max_number_of_training_jobs_not_improving",
                           "max_number_training_jobs_not_improving")
    if not_improving is not None:
        body["budget"]["no_improvement_trials"] = int(not_improving)
    convergence = _first(_first(criteria, "convergence_detected", default=criteria),
                         "complete_on_convergence")
    if convergence is not None:
        body["sagemaker"]["complete_on_convergence"] = (
            convergence is True or str(getattr(convergence, "value", convergence)) == "Enabled")


def spec_from_tuner(tuner: Any, *, trial: dict[str, Any] | None = None,
                    sagemaker: dict[str, Any] | None = None, static: dict[str, Any] | None = None,
                    name: str | None = None) -> TuningSpec:
    """A validated :class:`TuningSpec` equivalent to ``tuner``.

    The tuner's ``ModelTrainer`` supplies the ``sagemaker`` options it holds (role, image,
    output path, instance type and count, volume, spot, stopping condition, input mode,
    environment) and its fixed hyperparameters become ``static``; ``sagemaker`` and
    ``static`` given here win over them. ``trial``: how the local engine runs the same
    script (default ``python train.py`` under the SageMaker contract).
    """
    trainer_options, trainer_static = _model_trainer_options(tuner)
    ranges = _first(tuner, "_hyperparameter_ranges", "hyperparameter_ranges", default=None)
    if callable(ranges):
        ranges = ranges()
    if not ranges:
        raise SpecError("the tuner has no hyperparameter ranges", field="parameters")
    metric = tuner.objective_metric_name
    definitions = _first(tuner, "metric_definitions", default=[]) or []
    strategy = _first(tuner, "strategy", default="Bayesian")
    body: dict[str, Any] = {
        "backend": "sagemaker",
        "parameters": [_parameter(n, r) for n, r in ranges.items()],
        "objectives": [{"metric": metric, "goal": str(_first(tuner, "objective_type",
                                                              default="Maximize")).lower()}],
        "metrics": [{"name": d["Name"], "regex": d["Regex"]} for d in definitions],
        "strategy": _STRATEGY.get(strategy, "auto"),
        "budget": {"max_trials": int(_first(tuner, "max_jobs", default=20)),
                   "max_parallel": int(_first(tuner, "max_parallel_jobs", default=1))},
        "trial": trial or {"command": ["python", "train.py"], "contract": "sagemaker"},
        "static": {**trainer_static, **(static or {})},
        "sagemaker": {**trainer_options, **(sagemaker or {})},
    }
    if name:
        body["name"] = name
    seed = _first(tuner, "random_seed")
    if seed is not None:
        body["seed"] = int(seed)
    runtime = _first(tuner, "max_runtime_in_seconds")
    if runtime:
        body["budget"]["timeout"] = float(runtime)
    if str(_first(tuner, "early_stopping_type", default="Off")) == "Auto":
        body["early_stopping"] = {"type": "auto"}  # each backend's own automatic stopping
    warm = _first(tuner, "warm_start_config")
    if warm is not None:
        body["warm_start"] = _warm_start(warm)
    criteria = _first(tuner, "completion_criteria_config")
    if criteria is not None:
        _completion_criteria(criteria, body)
    strategy_config = _first(tuner, "strategy_config")
    if strategy_config is not None:
        hb = _first(strategy_config, "hyperband_strategy_config", default=strategy_config)
        lo, hi = _first(hb, "min_resource"), _first(hb, "max_resource")
        if lo is not None and hi is not None:
            body["early_stopping"] = {"type": "hyperband", "min_resource": int(lo), "max_resource": int(hi)}
    return load_spec(body)
