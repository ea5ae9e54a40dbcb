"""spec_from_tuner reads a sagemaker SDK 3.x HyperparameterTuner by attribute. The SDK is
not a test dependency (sagemaker 3.27.0 installs 1 GB with mlflow in 19 minutes here), so the
stand-ins below copy the attribute and field names of ``sagemaker.train.tuner.
HyperparameterTuner``, ``sagemaker.train.ModelTrainer``, ``sagemaker.core.parameter`` and the
``sagemaker.core.shapes`` it takes (warm start, completion criteria, compute, stopping
condition; unset shape fields are ``Unassigned()``). They were checked against the real
SDK 3.27.0 on 2026-11-30 in a separate venv: ``spec_from_tuner`` on a real tuner (built
with ``SAGEMAKER_VALIDATE_ROLE=false`` against moto) gave the spec these tests expect; the
stand-ins of the first version (2.x-style flat warm start and completion criteria) did not
match the SDK, and a real tuner with a warm start failed."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from sm_fixtures import IMAGE, ROLE
from pipetune.backends.sagemaker.backend import SageMakerBackend
from pipetune.backends.sagemaker.interop import spec_from_tuner
from pipetune.errors import SpecError


class ContinuousParameter:
    def __init__(self, min_value, max_value, scaling_type="Auto"):
        self.min_value, self.max_value, self.scaling_type = min_value, max_value, scaling_type


class IntegerParameter(ContinuousParameter):
    pass


class CategoricalParameter:
    def __init__(self, values):
        self.values = list(values)


class Unassigned:  # sagemaker.core.utils.Unassigned: a shape field nobody set
    pass


@dataclass
class ParentHyperParameterTuningJob:
    hyper_parameter_tuning_job_name: str


@dataclass
class HyperParameterTuningJobWarmStartConfig:
    parent_hyper_parameter_tuning_jobs: list
    warm_start_type: str


@dataclass
class BestObjectiveNotImproving:
    max_number_of_training_jobs_not_improving: int


@dataclass
class ConvergenceDetected:
    complete_on_convergence: str  # "Enabled" | "Disabled"


@dataclass
class TuningJobCompletionCriteria:
    target_objective_metric_value: object = field(default_factory=Unassigned)
    best_objective_not_improving: object = field(default_factory=Unassigned)
    convergence_detected: object = field(default_factory=Unassigned)


@dataclass
class Compute:
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    volume_size_in_gb: int = 30
    enable_managed_spot_training: bool | None = None


@dataclass
class StoppingCondition:
    max_runtime_in_seconds: int = 3600
    max_wait_time_in_seconds: int | None = None


@dataclass
class OutputDataConfig:
    s3_output_path: str
    kms_key_id: object = field(default_factory=Unassigned)


@dataclass
class ModelTrainer:  # what a ModelTrainer holds after its own validation
    role: str
    training_image: str
    output_data_config: OutputDataConfig
    compute: Compute = field(default_factory=Compute)
    stopping_condition: StoppingCondition = field(default_factory=StoppingCondition)
    training_input_mode: str = "File"
    environment: dict = field(default_factory=dict)
    hyperparameters: dict = field(default_factory=dict)


class HyperparameterTuner:
    def __init__(self, model_trainer, objective_metric_name, hyperparameter_ranges, metric_definitions=None,
                 strategy="Bayesian", objective_type="Maximize", max_jobs=None, max_parallel_jobs=1,
                 max_runtime_in_seconds=None, warm_start_config=None, early_stopping_type="Off",
                 random_seed=None, completion_criteria_config=None, strategy_config=None):
        self.model_trainer = model_trainer
        self.objective_metric_name = objective_metric_name
        self._hyperparameter_ranges = hyperparameter_ranges
        self.metric_definitions = metric_definitions
        self.strategy, self.objective_type = strategy, objective_type
        self.max_jobs, self.max_parallel_jobs = max_jobs, max_parallel_jobs
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.warm_start_config, self.early_stopping_type = warm_start_config, early_stopping_type
        self.random_seed, self.completion_criteria_config = random_seed, completion_criteria_config
        self.strategy_config = strategy_config


SAGEMAKER = {"region": "us-east-1", "role_arn": ROLE, "image": IMAGE, "output_path": "s3://b/out"}


def test_tuner_becomes_an_equivalent_request():
    tuner = HyperparameterTuner(
        model_trainer=object(), objective_metric_name="validation:rmse", objective_type="Minimize",
        hyperparameter_ranges={"eta": ContinuousParameter(0.01, 0.3, "Logarithmic"),
                               "max_depth": IntegerParameter(2, 10),
                               "booster": CategoricalParameter(["gbtree", "dart"])},
        metric_definitions=[{"Name": "validation:rmse", "Regex": r"validation-rmse:([0-9.]+)"}],
        strategy="Random", max_jobs=30, max_parallel_jobs=3, max_runtime_in_seconds=3600,
        warm_start_config=HyperParameterTuningJobWarmStartConfig(
            [ParentHyperParameterTuningJob("old-job")], "TransferLearning"),
        early_stopping_type="Auto", random_seed=11,
        completion_criteria_config=TuningJobCompletionCriteria(
            0.1, BestObjectiveNotImproving(5), ConvergenceDetected("Enabled")))
    spec = spec_from_tuner(tuner, sagemaker=SAGEMAKER, static={"objective": "reg:squarederror"})
    assert spec.early_stopping.type == "auto"  # AMT's Auto is "the service picks", not median
    req = SageMakerBackend(region="us-east-1").request(spec, "from-sdk")
    config = req["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Random" and config["RandomSeed"] == 11
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 30, "MaxParallelTrainingJobs": 3,
                                        "MaxRuntimeInSeconds": 3600}
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Minimize", "MetricName": "validation:rmse"}
    assert config["ParameterRanges"]["ContinuousParameterRanges"] == [
        {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Logarithmic"}]
    assert config["ParameterRanges"]["CategoricalParameterRanges"] == [
        {"Name": "booster", "Values": ["gbtree", "dart"]}]
    assert config["TrainingJobEarlyStoppingType"] == "Auto"
    assert config["TuningJobCompletionCriteria"] == {
        "TargetObjectiveMetricValue": 0.1,
        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 5},
        "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}}
    assert req["WarmStartConfig"] == {"ParentHyperParameterTuningJobs": [
        {"HyperParameterTuningJobName": "old-job"}], "WarmStartType": "TransferLearning"}


def test_unknown_range_type_is_named():
    class FancyParameter:
        min_value, max_value = 0, 1

    tuner = HyperparameterTuner(object(), "acc", {"x": FancyParameter()},
                                metric_definitions=[{"Name": "acc", "Regex": "acc=(.+)"}])
    with pytest.raises(SpecError, match="unknown range type FancyParameter"):
        spec_from_tuner(tuner, sagemaker=SAGEMAKER)


def test_the_model_trainer_supplies_the_training_options_and_fixed_hyperparameters():
    trainer = ModelTrainer(role=ROLE, training_image=IMAGE,
                           output_data_config=OutputDataConfig("s3://b/trainer-out"),
                           compute=Compute("ml.c5.2xlarge", 2, 50, True),
                           stopping_condition=StoppingCondition(1800, 3600),
                           environment={"LOG_LEVEL": "info"}, hyperparameters={"objective": "binary"})
    tuner = HyperparameterTuner(
        trainer, "auc", {"eta": ContinuousParameter(0.01, 0.3)},
        metric_definitions=[{"Name": "auc", "Regex": "auc=([0-9.]+)"}], max_jobs=4,
        completion_criteria_config=TuningJobCompletionCriteria(convergence_detected=ConvergenceDetected("Disabled")))
    spec = spec_from_tuner(tuner, sagemaker={"region": "us-east-1"})
    assert spec.static == {"objective": "binary"}
    req = SageMakerBackend(region="us-east-1").request(spec, "from-trainer")
    definition = req["TrainingJobDefinition"]
    assert definition["RoleArn"] == ROLE
    assert definition["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert definition["OutputDataConfig"] == {"S3OutputPath": "s3://b/trainer-out"}
    assert definition["ResourceConfig"] == {"InstanceType": "ml.c5.2xlarge", "InstanceCount": 2,
                                            "VolumeSizeInGB": 50}
    assert definition["EnableManagedSpotTraining"] is True
    assert definition["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800, "MaxWaitTimeInSeconds": 3600}
    assert definition["Environment"] == {"LOG_LEVEL": "info"}
    assert definition["StaticHyperParameters"]["objective"] == "binary"
    assert req["HyperParameterTuningJobConfig"]["TuningJobCompletionCriteria"] == {
        "ConvergenceDetected": {"CompleteOnConvergence": "Disabled"}}
    # what the caller gives wins over the trainer
    again = spec_from_tuner(tuner, sagemaker={"region": "us-east-1", "instance_type": "ml.m5.large"},
                            static={"objective": "multi"})
    assert again.sagemaker["instance_type"] == "ml.m5.large" and again.static == {"objective": "multi"}
