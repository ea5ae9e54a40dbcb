"""Shared test data for the SageMaker backend: specs and service answers shaped like the
real ones (checked by botocore's Stubber against the service model)."""

from __future__ import annotations

import datetime as dt


ROLE = "arn:aws:iam::123456789012:role/SageMakerTuning"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1.7"
T0 = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.timezone.utc)

MINIMAL = {
    "backend": "sagemaker",
    "parameters": [
        {"name": "eta", "type": "continuous", "min": 0.01, "max": 0.3, "scaling": "log"},
        {"name": "max_depth", "type": "integer", "min": 2, "max": 10},
    ],
    "objectives": [{"metric": "validation:auc", "goal": "maximize"}],
    "metrics": [{"name": "validation:auc", "regex": r"validation-auc:([0-9.]+)"}],
    "trial": {"command": ["python", "train.py"], "contract": "sagemaker"},
    "budget": {"max_trials": 12, "max_parallel": 3},
    "sagemaker": {"region": "us-east-1", "role_arn": ROLE, "image": IMAGE,
                  "output_path": "s3://ml-bucket/tuning/out"},
}


def describe_answer(name: str, status: str, *, best: dict | None = None, reason: str | None = None,
                    counters: dict | None = None, max_jobs: int = 12) -> dict:
    """A DescribeHyperParameterTuningJob answer shaped like the real service's."""
    body = {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{name.lower()}",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": 3},
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ParameterRanges": {
                "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3",
                                               "ScalingType": "Logarithmic"}],
                "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "10",
                                            "ScalingType": "Auto"}],
                "CategoricalParameterRanges": [],
            },
        },
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File",
                                       "MetricDefinitions": [{"Name": "validation:auc",
                                                              "Regex": "validation-auc:([0-9.]+)"}]},
            "RoleArn": ROLE,
            "OutputDataConfig": {"S3OutputPath": "s3://ml-bucket/tuning/out"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
            "StaticHyperParameters": {},
        },
        "HyperParameterTuningJobStatus": status,
        "CreationTime": T0,
        "TrainingJobStatusCounters": counters or {"Completed": 0, "InProgress": 0, "RetryableError": 0,
                                                  "NonRetryableError": 0, "Stopped": 0},
        "ObjectiveStatusCounters": {"Succeeded": 0, "Pending": 0, "Failed": 0},
    }
    if best:
        body["BestTrainingJob"] = best
    if reason:
        body["FailureReason"] = reason
    if status in ("Completed", "Failed", "Stopped"):
        body["HyperParameterTuningEndTime"] = T0 + dt.timedelta(hours=1)
    return body


def summary(name: str, status: str, params: dict, value: float | None, *, minutes: int = 10,
            reason: str | None = None) -> dict:
    body = {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        "CreationTime": T0, "TrainingStartTime": T0,
        "TrainingEndTime": T0 + dt.timedelta(minutes=minutes),
        "TrainingJobStatus": status, "TunedHyperParameters": params,
    }
    if value is not None:
        body["FinalHyperParameterTuningJobObjectiveMetric"] = {"MetricName": "validation:auc",
                                                               "Value": value}
        body["ObjectiveStatus"] = "Succeeded"
    if reason:
        body["FailureReason"] = reason
    return body


def training_request(name, hyperparameters: dict, data_uri: str) -> dict:
    """A CreateTrainingJob request for MINIMAL's training definition, written out by hand from
    the service model: one ``train`` channel at ``data_uri``, the given hyperparameters (all
    strings), no tuning-only field; ``name`` may be ``botocore.stub.ANY``."""
    from botocore.stub import ANY

    return {
        "TrainingJobName": name,
        "HyperParameters": hyperparameters,
        "AlgorithmSpecification": {
            "TrainingImage": IMAGE, "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "validation:auc", "Regex": r"validation-auc:([0-9.]+)"}]},
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": "s3://ml-bucket/tuning/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": data_uri,
            "S3DataDistributionType": "FullyReplicated"}}}],
        "Tags": ANY,
    }
