"""The exact CreateHyperParameterTuningJob request, validated by botocore's Stubber
against the real SageMaker service model."""

from __future__ import annotations

import copy

import pytest

from sm_fixtures import IMAGE, ROLE, describe_answer
from pipetune.backends.sagemaker.translate import build_request
from pipetune.backends.sagemaker.checks import validated_options
from pipetune.spec import load_spec

ARN = "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/nightly-xgb"

RICH = {
    "name": "nightly-xgb",
    "backend": "sagemaker",
    "parameters": [
        {"name": "eta", "type": "continuous", "min": 0.001, "max": 0.3, "scaling": "log"},
        {"name": "momentum", "type": "continuous", "min": 0.5, "max": 0.999, "scaling": "reverse_log"},
        {"name": "subsample", "type": "continuous", "min": 0.5, "max": 1.0, "scaling": "linear"},
        {"name": "max_depth", "type": "integer", "min": 2, "max": 10, "scaling": "auto"},
        {"name": "num_round", "type": "integer", "min": 50, "max": 200, "step": 50},
        {"name": "batch_size", "type": "discrete", "values": [64, 16, 32]},
        {"name": "booster", "type": "categorical", "values": ["gbtree", "dart"]},
        {"name": "rate_drop", "type": "continuous", "min": 0.0, "max": 0.5,
         "condition": {"parent": "booster", "values": ["dart"]}},
        {"name": "use_bn", "type": "categorical", "values": [True, False]},
    ],
    "static": {"objective": "binary:logistic", "verbosity": 1, "early": False},
    "objectives": [{"metric": "validation:auc", "goal": "maximize"}],
    "metrics": [{"name": "validation:auc", "regex": r"validation-auc:([0-9.]+)"},
                {"name": "train:auc", "regex": r"train-auc:([0-9.]+)"}],
    "strategy": "tpe",
    "seed": 7,
    "budget": {"max_trials": 40, "max_parallel": 4, "timeout": 7200, "trial_timeout": 1800,
               "target_value": 0.97, "no_improvement_trials": 10},
    "early_stopping": {"type": "median"},
    "warm_start": {"parents": ["nightly-xgb-v1", "nightly_xgb.v0"], "type": "transfer_learning"},
    "trial": {"command": ["python", "train.py"], "contract": "sagemaker",
              "channels": {"train": "s3://ml-bucket/data/train/", "validation": "data/validation"},
              "env": {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}},
    "sagemaker": {
        "region": "us-east-1", "role_arn": ROLE, "image": IMAGE,
        "entry_point": "train.py", "source_dir": "s3://ml-bucket/code/sourcedir.tar.gz",
        "output_path": "s3://ml-bucket/tuning/out",
        "channels": {"validation": "s3://ml-bucket/data/validation/"},
        "input_mode": "FastFile",
        "instance_type": "ml.g5.xlarge", "instance_count": 2, "volume_size_gb": 50,
        "spot": True, "max_wait_seconds": 3600, "max_runtime_seconds": 1800,
        "checkpoint_s3_uri": "s3://ml-bucket/ckpt/", "checkpoint_local_path": "/opt/ml/checkpoints",
        "subnets": ["subnet-0abc", "subnet-0def"], "security_group_ids": ["sg-0123"],
        "volume_kms_key": "arn:aws:kms:us-east-1:123456789012:key/vol",
        "output_kms_key": "arn:aws:kms:us-east-1:123456789012:key/out",
        "network_isolation": True, "inter_container_encryption": True, "retry_attempts": 2,
        "environment": {"OMP_NUM_THREADS": "4"},
        "tags": {"team": "ranking"},
        "complete_on_convergence": True,
        "conditional_parameters": "flatten",
        "raw": {"Autotune": {"Mode": "Enabled"}},
        "raw_training": {"StoppingCondition": {"MaxPendingTimeInSeconds": 7200}},
    },
}

EXPECTED = {
    "HyperParameterTuningJobName": "nightly-xgb",
    "HyperParameterTuningJobConfig": {
        "Strategy": "Bayesian",
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 40, "MaxParallelTrainingJobs": 4,
                           "MaxRuntimeInSeconds": 7200},
        "TrainingJobEarlyStoppingType": "Auto",
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
        "ParameterRanges": {
            "ContinuousParameterRanges": [
                {"Name": "eta", "MinValue": "0.001", "MaxValue": "0.3", "ScalingType": "Logarithmic"},
                {"Name": "momentum", "MinValue": "0.5", "MaxValue": "0.999",
                 "ScalingType": "ReverseLogarithmic"},
                {"Name": "subsample", "MinValue": "0.5", "MaxValue": "1.0", "ScalingType": "Linear"},
                {"Name": "rate_drop", "MinValue": "0.0", "MaxValue": "0.5", "ScalingType": "Auto"},
            ],
            "IntegerParameterRanges": [
                {"Name": "max_depth", "MinValue": "2", "MaxValue": "10", "ScalingType": "Auto"},
            ],
            "CategoricalParameterRanges": [
                {"Name": "num_round", "Values": ["50", "100", "150", "200"]},
                {"Name": "batch_size", "Values": ["16", "32", "64"]},
                {"Name": "booster", "Values": ["gbtree", "dart"]},
                {"Name": "use_bn", "Values": ["true", "false"]},
            ],
        },
        "TuningJobCompletionCriteria": {
            "TargetObjectiveMetricValue": 0.97,
            "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 10},
            "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"},
        },
        "RandomSeed": 7,
    },
    "TrainingJobDefinition": {
        "AlgorithmSpecification": {
            "TrainingImage": IMAGE, "TrainingInputMode": "FastFile",
            "MetricDefinitions": [{"Name": "validation:auc", "Regex": r"validation-auc:([0-9.]+)"},
                                  {"Name": "train:auc", "Regex": r"train-auc:([0-9.]+)"}],
        },
        "RoleArn": ROLE,
        "InputDataConfig": [
            {"ChannelName": "train", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://ml-bucket/data/train/",
                "S3DataDistributionType": "FullyReplicated"}}},
            {"ChannelName": "validation", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://ml-bucket/data/validation/",
                "S3DataDistributionType": "FullyReplicated"}}},
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://ml-bucket/tuning/out",
                             "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/out"},
        "ResourceConfig": {"InstanceType": "ml.g5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 50,
                           "VolumeKmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/vol"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800, "MaxWaitTimeInSeconds": 3600,
                              "MaxPendingTimeInSeconds": 7200},
        "StaticHyperParameters": {
            "objective": "binary:logistic", "verbosity": "1", "early": "false",
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": '"s3://ml-bucket/code/sourcedir.tar.gz"',
        },
        "VpcConfig": {"Subnets": ["subnet-0abc", "subnet-0def"], "SecurityGroupIds": ["sg-0123"]},
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "EnableManagedSpotTraining": True,
        "CheckpointConfig": {"S3Uri": "s3://ml-bucket/ckpt/", "LocalPath": "/opt/ml/checkpoints"},
        "RetryStrategy": {"MaximumRetryAttempts": 2},
        "Environment": {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "4"},  # sagemaker.environment wins
    },
    "WarmStartConfig": {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "nightly-xgb-v1"},
                                           {"HyperParameterTuningJobName": "nightly-xgb-v0-3a0180"}],
        "WarmStartType": "TransferLearning",
    },
    "Autotune": {"Mode": "Enabled"},
}


def _expected_with_tags(spec) -> dict:
    body = copy.deepcopy(EXPECTED)
    body["Tags"] = [{"Key": "team", "Value": "ranking"},
                    {"Key": "pipetune:fingerprint", "Value": spec.fingerprint()},
                    {"Key": "pipetune:name", "Value": "nightly-xgb"},
                    {"Key": "pipetune:version", "Value": "0.1.0"}]
    return body


def _parent(name: str) -> dict:
    """A parent job with the same tunable + static names as RICH."""
    body = describe_answer(name, "Completed")
    body["HyperParameterTuningJobConfig"]["ParameterRanges"] = EXPECTED[
        "HyperParameterTuningJobConfig"]["ParameterRanges"]
    body["TrainingJobDefinition"]["StaticHyperParameters"] = dict(
        EXPECTED["TrainingJobDefinition"]["StaticHyperParameters"])
    return body


def test_rich_spec_launches_the_exact_request(stubbed):
    backend, stub = stubbed
    spec = load_spec(RICH)
    parent0 = EXPECTED["WarmStartConfig"]["ParentHyperParameterTuningJobs"][1]["HyperParameterTuningJobName"]
    stub.add_client_error("describe_hyper_parameter_tuning_job", "ResourceNotFound",
                          expected_params={"HyperParameterTuningJobName": "nightly-xgb"})
    stub.add_response("describe_hyper_parameter_tuning_job", _parent("nightly-xgb-v1"),
                      {"HyperParameterTuningJobName": "nightly-xgb-v1"})
    stub.add_response("describe_hyper_parameter_tuning_job", _parent(parent0),
                      {"HyperParameterTuningJobName": parent0})
    stub.add_response("create_hyper_parameter_tuning_job", {"HyperParameterTuningJobArn": ARN},
                      _expected_with_tags(spec))
    ref = backend.launch(spec, "nightly-xgb")
    assert ref.backend == "sagemaker" and ref.id == "nightly-xgb"
    assert ref.extra["region"] == "us-east-1" and ref.extra["arn"] == ARN
    assert ref.extra["spec"] == spec.to_dict()


def test_parent_name_hash_is_the_deterministic_name():
    from pipetune.backends.sagemaker.naming import tuning_job_name

    assert tuning_job_name("nightly_xgb.v0") == "nightly-xgb-v0-3a0180"


def test_warm_start_mismatch_names_the_differences(stubbed):
    backend, stub = stubbed
    spec = load_spec(RICH)
    parent = _parent("nightly-xgb-v1")
    parent["TrainingJobDefinition"]["StaticHyperParameters"] = {"objective": "binary:logistic",
                                                                "gamma": "1"}
    stub.add_client_error("describe_hyper_parameter_tuning_job", "ResourceNotFound")
    stub.add_response("describe_hyper_parameter_tuning_job", parent,
                      {"HyperParameterTuningJobName": "nightly-xgb-v1"})
    with pytest.raises(Exception) as info:
        backend.launch(spec, "nightly-xgb")
    msg = str(info.value)
    assert "warm_start.parents[0]" in msg
    assert "only in this spec ['early', 'verbosity']" in msg and "only in the parent ['gamma']" in msg


MULTI = {
    "backend": "sagemaker",
    "parameters": [
        {"name": "lr", "type": "continuous", "min": 1e-4, "max": 1e-1, "scaling": "log"},
        {"name": "layers", "type": "integer", "min": 1, "max": 4},
    ],
    "objectives": [{"metric": "loss", "goal": "minimize"}],
    "metrics": [{"name": "loss", "regex": r"loss=([0-9.eE+-]+)"}],
    "strategy": "hyperband",
    "early_stopping": {"type": "hyperband", "min_resource": 1, "max_resource": 27},
    "trial": {"command": ["python", "train.py"]},
    "budget": {"max_trials": 30, "max_parallel": 5},
    "sagemaker": {
        "role_arn": ROLE, "image": IMAGE, "output_path": "s3://b/out/",
        "keep_alive_seconds": 900,
        "definitions": [{"name": "big", "instance_type": "ml.g5.2xlarge", "parameters": ["lr"],
                         "static": {"width": 1024}}],
    },
}


def test_hyperband_with_two_definitions_and_warm_pool():
    spec = load_spec(MULTI)
    req = build_request(spec, validated_options(spec), "mlp", "mlp")
    config = req["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Hyperband"
    assert config["StrategyConfig"] == {"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 27}}
    assert config["TrainingJobEarlyStoppingType"] == "Off"
    assert "ParameterRanges" not in config and "TrainingJobDefinition" not in req
    main, big = req["TrainingJobDefinitions"]
    assert main["DefinitionName"] == "main" and big["DefinitionName"] == "big"
    assert main["TuningObjective"] == {"Type": "Minimize", "MetricName": "loss"}
    assert [r["Name"] for r in main["HyperParameterRanges"]["IntegerParameterRanges"]] == ["layers"]
    assert big["HyperParameterRanges"]["IntegerParameterRanges"] == []
    assert big["ResourceConfig"] == {"InstanceType": "ml.g5.2xlarge", "InstanceCount": 1,
                                     "VolumeSizeInGB": 30, "KeepAlivePeriodInSeconds": 900}
    assert big["StaticHyperParameters"] == {"width": "1024"}
    assert main["ResourceConfig"]["InstanceType"] == "ml.m5.large"


def test_multi_definition_request_passes_the_service_model(stubbed):
    backend, stub = stubbed
    spec = load_spec({**MULTI, "sagemaker": {**MULTI["sagemaker"], "region": "us-east-1"}})
    req = backend.request(spec, "mlp")
    stub.add_client_error("describe_hyper_parameter_tuning_job", "ResourceNotFound")
    stub.add_response("create_hyper_parameter_tuning_job", {"HyperParameterTuningJobArn": ARN}, req)
    assert backend.launch(spec, "mlp").id == "mlp"


def test_grid_turns_every_parameter_into_values():
    body = copy.deepcopy(MULTI)
    body.update(strategy="grid", early_stopping={"type": "none"})
    body["parameters"] = [{"name": "lr", "type": "continuous", "min": 0.1, "max": 0.3, "step": 0.1},
                          {"name": "layers", "type": "integer", "min": 1, "max": 3}]
    body["sagemaker"] = {k: v for k, v in body["sagemaker"].items() if k != "definitions"}
    spec = load_spec(body)
    req = build_request(spec, validated_options(spec), "grid", "grid")
    config = req["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Grid"
    assert "MaxNumberOfTrainingJobs" not in config["ResourceLimits"]
    assert config["ParameterRanges"]["CategoricalParameterRanges"] == [
        {"Name": "lr", "Values": ["0.1", "0.2", "0.3"]},
        {"Name": "layers", "Values": ["1", "2", "3"]}]
