"""spec_from_tuner reads a sagemaker SDK 3.x HyperparameterTuner by attribute. The SDK
(~1 GB) is not installed here, so the stand-ins below copy the attribute names of
``sagemaker.train.tuner.HyperparameterTuner`` and ``sagemaker.core.parameter``."""

from __future__ import annotations

from enum import Enum

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


class WarmStartTypes(Enum):
    TRANSFER_LEARNING = "TransferLearning"


class WarmStartConfig:
    def __init__(self, warm_start_type, parents):
        self.type, self.parents = warm_start_type, set(parents)


class TuningJobCompletionCriteriaConfig:
    def __init__(self, max_number_training_jobs_not_improving=None, complete_on_convergence=None,
                 target_objective_metric_value=None):
        self.max_number_training_jobs_not_improving = max_number_training_jobs_not_improving
        self.complete_on_convergence = complete_on_convergence
        self.target_objective_metric_value = target_objective_metric_value


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
        warm_start_config=WarmStartConfig(WarmStartTypes.TRANSFER_LEARNING, ["old-job"]),
        early_stopping_type="Auto", random_seed=11,
        completion_criteria_config=TuningJobCompletionCriteriaConfig(5, True, 0.1))
    spec = spec_from_tuner(tuner, sagemaker=SAGEMAKER, static={"objective": "reg:squarederror"})
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
