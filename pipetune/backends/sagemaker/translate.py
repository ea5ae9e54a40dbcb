"""TuningSpec -> ``CreateHyperParameterTuningJob`` request.

Pure functions, no AWS call: what is sent can be read and tested without an account.
Run :func:`pipetune.backends.sagemaker.checks.check` first; this module assumes a spec
that passed it.

Mapping (see docs/sagemaker.md for the full table):

- continuous -> ``ContinuousParameterRanges``; integer -> ``IntegerParameterRanges``
  (an integer with ``step > 1``, and every parameter under ``strategy: grid``, becomes a
  categorical list of its values); discrete -> categorical of its numbers, cast back on
  read; scaling auto/linear/log/reverse_log -> Auto/Linear/Logarithmic/ReverseLogarithmic.
- strategy auto/tpe/gp -> Bayesian, random -> Random, grid -> Grid, hyperband -> Hyperband
  (``StrategyConfig`` from ``early_stopping.min_resource``/``max_resource``).
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from pipetune.backends.sagemaker import source
from pipetune.backends.sagemaker.options import Definition, SageMakerOptions, TrainingOptions
from pipetune.spec import CategoricalParam, ContinuousParam, DiscreteParam, IntegerParam, TuningSpec
from pipetune.trials.contracts import render_value

TAG_FINGERPRINT = "pipetune:fingerprint"
TAG_NAME = "pipetune:name"
TAG_TOOL = "pipetune:version"

STRATEGIES = {"auto": "Bayesian", "tpe": "Bayesian", "gp": "Bayesian", "random": "Random",
              "grid": "Grid", "hyperband": "Hyperband"}
SCALING = {"auto": "Auto", "linear": "Linear", "log": "Logarithmic",
           "reverse_log": "ReverseLogarithmic"}
DEFAULT_MAX_RUNTIME = 86400
MAIN_DEFINITION = "main"


def grid_values(param: Any) -> list[Any] | None:
    """The explicit values of a parameter AMT must see as categorical, else None."""
    if isinstance(param, (CategoricalParam, DiscreteParam)):
        return list(param.values)
    if isinstance(param, IntegerParam):
        return list(range(param.min, param.max + 1, param.step))
    if isinstance(param, ContinuousParam) and param.step:
        count = int(math.floor((param.max - param.min) / param.step + 1e-9)) + 1
        return [round(param.min + i * param.step, 12) for i in range(count)]
    return None


def needs_categorical(spec: TuningSpec, param: Any) -> bool:
    """Whether ``param`` must go to SageMaker as a categorical range: categorical and discrete
    parameters, every parameter under the ``grid`` strategy (AMT's grid takes only
    categorical ranges), and an integer parameter with a ``step`` above 1."""
    if isinstance(param, (CategoricalParam, DiscreteParam)):
        return True
    if spec.strategy == "grid":
        return True
    return isinstance(param, IntegerParam) and param.step > 1


def _number(value: float | int) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


def parameter_ranges(spec: TuningSpec, names: list[str] | None = None) -> dict[str, list]:
    """``ParameterRanges`` for the spec's parameters (or the subset ``names``)."""
    ranges: dict[str, list] = {"IntegerParameterRanges": [], "ContinuousParameterRanges": [],
                               "CategoricalParameterRanges": []}
    for p in spec.parameters:
        if names is not None and p.name not in names:
            continue
        if needs_categorical(spec, p):
            values = grid_values(p) or []
            ranges["CategoricalParameterRanges"].append(
                {"Name": p.name, "Values": [render_value(v) for v in values]})
        elif isinstance(p, IntegerParam):
            ranges["IntegerParameterRanges"].append(
                {"Name": p.name, "MinValue": str(p.min), "MaxValue": str(p.max),
                 "ScalingType": SCALING[p.scaling]})
        else:
            ranges["ContinuousParameterRanges"].append(
                {"Name": p.name, "MinValue": _number(p.min), "MaxValue": _number(p.max),
                 "ScalingType": SCALING[p.scaling]})
    return ranges


def static_hyperparameters(spec: TuningSpec, training: TrainingOptions,
                           extra: dict[str, Any] | None = None,
                           output_path: str = "") -> dict[str, str]:
    """``StaticHyperParameters``: the spec's static values, plus script mode's two (a local
    ``source_dir`` as the S3 URI it is uploaded to, see :mod:`.source`)."""
    out = {k: render_value(v) for k, v in {**spec.static, **(extra or {})}.items()}
    if training.entry_point:
        # The sagemaker SDK JSON-encodes these two; the training toolkit decodes either form.
        out["sagemaker_program"] = json.dumps(training.entry_point)
        out["sagemaker_submit_directory"] = json.dumps(
            source.submit_directory(spec, output_path, training.source_dir))
    return out


def channels(spec: TuningSpec, opts: SageMakerOptions) -> dict[str, str]:
    """Input channels: ``trial.channels`` (S3 URIs; checks refuse other paths), overridden
    by ``sagemaker.channels``."""
    found = {k: v for k, v in spec.trial.channels.items() if v.startswith("s3://")}
    found.update(opts.channels)
    return found


def environment(spec: TuningSpec, opts: SageMakerOptions,
                definition: Definition | None = None) -> dict[str, str]:
    """The training container's ``Environment``: ``trial.env``, then ``sagemaker.environment``,
    then the definition's own."""
    return {**spec.trial.env, **opts.environment, **(definition.environment if definition else {})}


def max_runtime(spec: TuningSpec, opts: SageMakerOptions) -> int:
    """``MaxRuntimeInSeconds`` of a training job: ``sagemaker.max_runtime_seconds`` or a day
    (never the local ``budget.trial_timeout``, which checks refuse alone)."""
    return opts.max_runtime_seconds or DEFAULT_MAX_RUNTIME


def early_stopping_type(spec: TuningSpec, opts: SageMakerOptions) -> str:
    """``TrainingJobEarlyStoppingType``: ``sagemaker.early_stopping`` when set, else ``Off``
    for the hyperband and grid strategies and for ``early_stopping: none``, else ``Auto``
    (``early_stopping: auto`` included: AMT's own automatic early stopping, which, like the
    local engine's, acts only on training jobs that emit the objective metric as they go)."""
    if opts.early_stopping is not None:
        return opts.early_stopping.capitalize()
    if spec.strategy in ("hyperband", "grid"):
        return "Off"  # Hyperband stops trials itself; AMT refuses Auto together with it
    return "Auto" if spec.early_stopping.type != "none" else "Off"


def training_definition(spec: TuningSpec, opts: SageMakerOptions,
                        definition: Definition | None = None) -> dict[str, Any]:
    """One ``HyperParameterTrainingJobDefinition`` (without ranges and objective)."""
    t: Any = _merged(opts, definition)
    runtime = max_runtime(spec, opts)
    body: dict[str, Any] = {
        "AlgorithmSpecification": {
            "TrainingImage": t.image,
            "TrainingInputMode": opts.input_mode,
            "MetricDefinitions": [{"Name": m.name, "Regex": m.regex} for m in spec.metrics],
        },
        "RoleArn": opts.role_arn,
        "OutputDataConfig": {"S3OutputPath": opts.output_path},
        "ResourceConfig": {"InstanceType": t.instance_type, "InstanceCount": t.instance_count,
                           "VolumeSizeInGB": t.volume_size_gb},
        "StoppingCondition": {"MaxRuntimeInSeconds": runtime},
        "StaticHyperParameters": static_hyperparameters(
            spec, t, definition.static if definition else None, opts.output_path),
    }
    chans = channels(spec, opts)
    if chans:
        body["InputDataConfig"] = [
            {"ChannelName": name, "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}}}
            for name, uri in chans.items()]
    if opts.output_kms_key:
        body["OutputDataConfig"]["KmsKeyId"] = opts.output_kms_key
    if opts.volume_kms_key:
        body["ResourceConfig"]["VolumeKmsKeyId"] = opts.volume_kms_key
    if opts.keep_alive_seconds is not None:
        body["ResourceConfig"]["KeepAlivePeriodInSeconds"] = opts.keep_alive_seconds
    if opts.spot:
        body["EnableManagedSpotTraining"] = True
        body["StoppingCondition"]["MaxWaitTimeInSeconds"] = opts.max_wait_seconds or 2 * runtime
    if opts.checkpoint_s3_uri:
        body["CheckpointConfig"] = {"S3Uri": opts.checkpoint_s3_uri}
        if opts.checkpoint_local_path:
            body["CheckpointConfig"]["LocalPath"] = opts.checkpoint_local_path
    if opts.subnets:
        body["VpcConfig"] = {"Subnets": list(opts.subnets),
                             "SecurityGroupIds": list(opts.security_group_ids)}
    if opts.network_isolation:
        body["EnableNetworkIsolation"] = True
    if opts.inter_container_encryption:
        body["EnableInterContainerTrafficEncryption"] = True
    if opts.retry_attempts:
        body["RetryStrategy"] = {"MaximumRetryAttempts": opts.retry_attempts}
    env = environment(spec, opts, definition)
    if env:
        body["Environment"] = env
    return deep_merge(body, opts.raw_training)


def _merged(opts: SageMakerOptions, definition: Definition | None) -> TrainingOptions:
    if definition is None:
        return opts
    fields = TrainingOptions.model_fields
    values = {k: getattr(definition, k) if getattr(definition, k) not in (None, {}) else getattr(opts, k)
              for k in fields}
    return TrainingOptions.model_construct(**values)


def objective(spec: TuningSpec) -> dict[str, str]:
    """``HyperParameterTuningJobObjective``: the primary objective's metric and goal."""
    return {"Type": spec.primary.goal.capitalize(), "MetricName": spec.primary.metric}


def tuning_config(spec: TuningSpec, opts: SageMakerOptions, *, single: bool) -> dict[str, Any]:
    """``HyperParameterTuningJobConfig``: strategy, resource limits, early stopping,
    completion criteria and seed, from the spec's budget.

    Args:
        spec: The validated tuning spec.
        opts: Its SageMaker options.
        single: True with one training definition: the objective and parameter ranges go
            here (with several they go in each definition instead).

    Returns:
        The config; ``MaxNumberOfTrainingJobs`` is left out under the grid strategy, where
        SageMaker runs every combination.
    """
    strategy = STRATEGIES[spec.strategy]
    limits: dict[str, Any] = {"MaxParallelTrainingJobs": spec.budget.max_parallel}
    if strategy != "Grid":  # Grid runs every combination; AMT derives the count itself
        limits["MaxNumberOfTrainingJobs"] = spec.budget.max_trials
    if spec.budget.timeout:
        limits["MaxRuntimeInSeconds"] = int(math.ceil(spec.budget.timeout))
    config: dict[str, Any] = {
        "Strategy": strategy,
        "ResourceLimits": limits,
        "TrainingJobEarlyStoppingType": early_stopping_type(spec, opts),
    }
    if strategy == "Hyperband":
        es = spec.early_stopping
        config["StrategyConfig"] = {"HyperbandStrategyConfig": {
            "MinResource": es.min_resource, "MaxResource": es.max_resource}}
    if single:
        config["HyperParameterTuningJobObjective"] = objective(spec)
        config["ParameterRanges"] = parameter_ranges(spec)
    criteria: dict[str, Any] = {}
    if spec.budget.target_value is not None:
        criteria["TargetObjectiveMetricValue"] = float(spec.budget.target_value)
    if spec.budget.no_improvement_trials is not None:
        criteria["BestObjectiveNotImproving"] = {
            "MaxNumberOfTrainingJobsNotImproving": spec.budget.no_improvement_trials}
    if opts.complete_on_convergence is not None:
        criteria["ConvergenceDetected"] = {
            "CompleteOnConvergence": "Enabled" if opts.complete_on_convergence else "Disabled"}
    if criteria:
        config["TuningJobCompletionCriteria"] = criteria
    if spec.seed is not None:
        config["RandomSeed"] = spec.seed
    return config


def tags(spec: TuningSpec, opts: SageMakerOptions, user_name: str) -> list[dict[str, str]]:
    """The job's ``Tags``: the user's ``sagemaker.tags``, then pipetune's own (the spec's
    fingerprint, the job's name with characters SageMaker refuses replaced, the version),
    which win over a user tag of the same key."""
    from pipetune import __version__

    safe_name = "".join(c if c.isalnum() or c in "_.:/=+-@ " else "-" for c in user_name)[:256]
    ours = {TAG_FINGERPRINT: spec.fingerprint(), TAG_NAME: safe_name, TAG_TOOL: __version__}
    return [{"Key": k, "Value": v} for k, v in {**opts.tags, **ours}.items()]


def build_request(spec: TuningSpec, opts: SageMakerOptions, job_name: str,
                  user_name: str | None = None) -> dict[str, Any]:
    """The full ``CreateHyperParameterTuningJob`` keyword arguments."""
    from pipetune.backends.sagemaker.naming import tuning_job_name

    single = not opts.definitions
    request: dict[str, Any] = {
        "HyperParameterTuningJobName": job_name,
        "HyperParameterTuningJobConfig": tuning_config(spec, opts, single=single),
    }
    if single:
        request["TrainingJobDefinition"] = training_definition(spec, opts)
    else:
        defs = [(MAIN_DEFINITION, None, None)] + [(d.name, d, d.parameters) for d in opts.definitions]
        request["TrainingJobDefinitions"] = [
            {"DefinitionName": name, "TuningObjective": objective(spec),
             "HyperParameterRanges": parameter_ranges(spec, names),
             **training_definition(spec, opts, d)}
            for name, d, names in defs]
    if spec.warm_start:
        request["WarmStartConfig"] = {
            "ParentHyperParameterTuningJobs": [
                {"HyperParameterTuningJobName": tuning_job_name(p)} for p in spec.warm_start.parents],
            "WarmStartType": {"identical_data_and_algorithm": "IdenticalDataAndAlgorithm",
                              "transfer_learning": "TransferLearning"}[spec.warm_start.type],
        }
    request["Tags"] = tags(spec, opts, user_name or job_name)
    return deep_merge(request, opts.raw)


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` merged into a copy of ``base``: dicts recursively, anything else replaced."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def warm_start_view(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A ``CreateHyperParameterTuningJob`` request or its describe answer as AMT's warm-start
    rules compare jobs (:func:`pipetune.warm_start.amt_problems`): each hyperparameter's kind,
    static value and number of categorical values; and the objective metric."""
    from pipetune.warm_start import Hyperparameter

    config = body.get("HyperParameterTuningJobConfig") or {}
    if body.get("TrainingJobDefinition"):
        pairs = [(body["TrainingJobDefinition"], config.get("ParameterRanges") or {})]
        objective = (config.get("HyperParameterTuningJobObjective") or {}).get("MetricName")
    else:
        defs = body.get("TrainingJobDefinitions") or []
        pairs = [(d, d.get("HyperParameterRanges") or {}) for d in defs]
        objective = ((defs[0].get("TuningObjective") or {}).get("MetricName") if defs else None)
    out: dict[str, Any] = {}
    for definition, ranges in pairs:
        for key, kind in (("IntegerParameterRanges", "integer"),
                          ("ContinuousParameterRanges", "continuous"),
                          ("CategoricalParameterRanges", "categorical")):
            for r in ranges.get(key) or []:
                out[r["Name"]] = Hyperparameter(kind, choices=len(r.get("Values") or []))
        for k, v in (definition.get("StaticHyperParameters") or {}).items():
            if not k.startswith("sagemaker_") and not k.startswith("_"):
                out.setdefault(k, Hyperparameter("static", v))
    return out, objective
