"""One SageMaker training job with fixed hyperparameters (how proxy tuning verifies on
SageMaker), against botocore's Stubber: requests and answers checked against the real
service model."""

from __future__ import annotations

import copy
import datetime as dt
import re

import botocore.session
import pytest

from pipetune.errors import JobConflict, SpecError
from pipetune.spec import load_spec
from sm_fixtures import IMAGE, MINIMAL, ROLE, T0, training_request

NAME = "nightly-xgb-v1-0123abcd"
ARN = f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{NAME}"
DESCRIBE = {"TrainingJobName": NAME}
PARAMS = {"eta": 0.12, "max_depth": 6}


def _spec(**sagemaker):
    body = copy.deepcopy(MINIMAL)
    body["static"] = {"objective": "binary:logistic", "num_round": 50}
    body["trial"]["channels"] = {"train": "s3://ml-bucket/data/full/"}
    body["sagemaker"].update(sagemaker)
    return load_spec(body)


def _expected_request(**extra):
    """The request written out by hand from the service model: the tuning job's training
    definition, the configuration's values plus the static ones, no tuning-only field."""
    body = training_request(NAME, {"eta": "0.12", "max_depth": "6", "objective": "binary:logistic",
                                   "num_round": "50"}, "s3://ml-bucket/data/full/")
    body.update(extra)
    return body


def _described(status, *, metrics=None, reason=None, seconds=None, hyper=None, image=IMAGE):
    """A DescribeTrainingJob answer shaped like the real service's."""
    body = {
        "TrainingJobName": NAME, "TrainingJobArn": ARN, "TrainingJobStatus": status,
        "SecondaryStatus": {"InProgress": "Training", "Completed": "Completed",
                            "Failed": "Failed", "Stopped": "Stopped"}[status],
        "ModelArtifacts": {"S3ModelArtifacts": f"s3://ml-bucket/tuning/out/{NAME}/output/model.tar.gz"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "CreationTime": T0, "TrainingStartTime": T0 + dt.timedelta(minutes=2),
        "HyperParameters": hyper if hyper is not None else _expected_request()["HyperParameters"],
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
    }
    if status != "InProgress":
        body["TrainingEndTime"] = T0 + dt.timedelta(minutes=12)
    if metrics is not None:
        body["FinalMetricDataList"] = [{"MetricName": k, "Value": v, "Timestamp": T0}
                                       for k, v in metrics.items()]
    if reason:
        body["FailureReason"] = reason
    if seconds is not None:
        body["TrainingTimeInSeconds"] = seconds
    return body


def _not_found(stub):
    stub.add_client_error("describe_training_job", "ValidationException",
                          "Requested resource not found.", expected_params=DESCRIBE)


def test_the_exact_request_then_the_final_metric(stubbed):
    backend, stub = stubbed
    spec = _spec()
    _not_found(stub)
    stub.add_response("create_training_job", {"TrainingJobArn": ARN}, _expected_request())
    stub.add_response("describe_training_job", _described("InProgress"), DESCRIBE)
    stub.add_response("describe_training_job", _described(
        "Completed", metrics={"train:auc": 0.99, "validation:auc": 0.912}, seconds=587), DESCRIBE)
    out = backend.run_training(spec, PARAMS, NAME, poll_seconds=0.01)
    assert out.state == "complete" and out.reason is None
    assert out.metrics == {"train:auc": 0.99, "validation:auc": 0.912}
    assert out.duration == 587.0 and out.where == ARN


def test_tags_say_who_started_it(stubbed):
    backend, stub = stubbed
    spec = _spec(tags={"team": "ml"})
    body = backend.training_request(spec, PARAMS, NAME)
    tags = {t["Key"]: t["Value"] for t in body["Tags"]}
    assert tags["team"] == "ml" and tags["pipetune:name"] == NAME
    assert tags["pipetune:fingerprint"] == spec.fingerprint()
    # and nothing a tuning job has but a training job does not
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model(
        "CreateTrainingJob").input_shape
    assert set(body) <= set(shape.members)


def test_script_mode_spot_and_vpc_carry_over(stubbed):
    backend, stub = stubbed
    spec = _spec(entry_point="train.py", source_dir="s3://ml-bucket/code/sourcedir.tar.gz",
                 spot=True, subnets=["subnet-1"], security_group_ids=["sg-1"],
                 max_runtime_seconds=3600)
    expected = _expected_request(
        EnableManagedSpotTraining=True,
        StoppingCondition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
        VpcConfig={"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]})
    expected["HyperParameters"] = {**expected["HyperParameters"],
                                   "sagemaker_program": '"train.py"',
                                   "sagemaker_submit_directory": '"s3://ml-bucket/code/sourcedir.tar.gz"'}
    _not_found(stub)
    stub.add_response("create_training_job", {"TrainingJobArn": ARN}, expected)
    stub.add_response("describe_training_job", _described(
        "Completed", metrics={"validation:auc": 0.9}, hyper=expected["HyperParameters"]), DESCRIBE)
    out = backend.run_training(spec, PARAMS, NAME, poll_seconds=0.01)
    assert out.state == "complete"
    assert out.duration == 600.0  # no TrainingTimeInSeconds: the timestamps


def test_a_failed_training_job_is_failed_with_its_reason(stubbed):
    backend, stub = stubbed
    _not_found(stub)
    stub.add_response("create_training_job", {"TrainingJobArn": ARN}, _expected_request())
    stub.add_response("describe_training_job", _described(
        "Failed", reason="AlgorithmError: out of memory (exit code 137)"), DESCRIBE)
    out = backend.run_training(_spec(), PARAMS, NAME, poll_seconds=0.01)
    assert out.state == "failed"
    assert out.reason == "AlgorithmError: out of memory (exit code 137)"
    assert out.metrics == {}


def test_completed_without_the_objective_is_failed_and_says_why(stubbed):
    backend, stub = stubbed
    _not_found(stub)
    stub.add_response("create_training_job", {"TrainingJobArn": ARN}, _expected_request())
    stub.add_response("describe_training_job",
                      _described("Completed", metrics={"train:auc": 0.99}), DESCRIBE)
    out = backend.run_training(_spec(), PARAMS, NAME, poll_seconds=0.01)
    assert out.state == "failed"
    assert "'validation:auc'" in out.reason and "train:auc" in out.reason


def test_stopped_is_not_a_success(stubbed):
    backend, stub = stubbed
    stub.add_response("describe_training_job", _described("Stopped"), DESCRIBE)
    out = backend.run_training(_spec(), PARAMS, NAME, poll_seconds=0.01)
    assert out.state == "stopped"


def test_a_retry_attaches_to_the_existing_job_and_creates_none(stubbed):
    backend, stub = stubbed
    # the job exists (a previous attempt started it): no create_training_job is stubbed,
    # so a create call would fail the test
    stub.add_response("describe_training_job", _described("InProgress"), DESCRIBE)
    stub.add_response("describe_training_job", _described(
        "Completed", metrics={"validation:auc": 0.93}, seconds=100), DESCRIBE)
    out = backend.run_training(_spec(), PARAMS, NAME, poll_seconds=0.01)
    assert out.state == "complete" and out.metrics["validation:auc"] == 0.93


def test_losing_the_create_race_attaches(stubbed):
    backend, stub = stubbed
    _not_found(stub)
    stub.add_client_error("create_training_job", "ResourceInUse",
                          f"Training job names must be unique within an AWS account and region, "
                          f"and a training job with this name already exists ({ARN})",
                          expected_params=_expected_request())
    stub.add_response("describe_training_job", _described(
        "Completed", metrics={"validation:auc": 0.91}), DESCRIBE)
    out = backend.run_training(_spec(), PARAMS, NAME, poll_seconds=0.01)
    assert out.state == "complete" and out.metrics["validation:auc"] == 0.91


def test_an_existing_job_with_other_hyperparameters_is_a_conflict(stubbed):
    backend, stub = stubbed
    other = {**_expected_request()["HyperParameters"], "eta": "0.3"}
    stub.add_response("describe_training_job", _described("Completed", hyper=other), DESCRIBE)
    with pytest.raises(JobConflict, match=r"other hyperparameters \(\['eta'\]\)"):
        backend.run_training(_spec(), PARAMS, NAME, poll_seconds=0.01)


def test_throttling_while_waiting_is_retried(stubbed):
    backend, stub = stubbed
    _not_found(stub)
    stub.add_response("create_training_job", {"TrainingJobArn": ARN}, _expected_request())
    stub.add_client_error("describe_training_job", "ThrottlingException", "Rate exceeded",
                          expected_params=DESCRIBE)
    stub.add_response("describe_training_job", _described(
        "Completed", metrics={"validation:auc": 0.9}), DESCRIBE)
    assert backend.run_training(_spec(), PARAMS, NAME, poll_seconds=0.01).state == "complete"


def test_other_errors_are_raised(stubbed):
    backend, stub = stubbed
    _not_found(stub)
    stub.add_client_error("create_training_job", "ResourceLimitExceeded",
                          "The account-level service limit 'ml.m5.large for training job usage' is 2",
                          expected_params=_expected_request())
    with pytest.raises(Exception, match="ResourceLimitExceeded"):
        backend.run_training(_spec(), PARAMS, NAME, poll_seconds=0.01)


# ---- names and checks, no call ------------------------------------------------------------------

def test_names_are_deterministic_valid_and_distinct(stubbed):
    backend, _ = stubbed
    pattern = botocore.session.get_session().get_service_model("sagemaker").operation_model(
        "CreateTrainingJob").input_shape.members["TrainingJobName"].metadata
    spec = _spec()
    name = backend.training_name(spec, "nightly_xgb", 1, PARAMS)
    assert re.fullmatch(r"nightly-xgb-ffbc86-v1-[0-9a-f]{8}", name)
    assert backend.training_name(_spec(), "nightly_xgb", 1, dict(PARAMS)) == name
    assert backend.training_name(spec, "nightly_xgb", 2, PARAMS) != name
    assert backend.training_name(spec, "nightly_xgb", 1, {**PARAMS, "eta": 0.2}) != name
    assert backend.training_name(_spec(instance_type="ml.m5.xlarge"), "nightly_xgb", 1,
                                 PARAMS) != name
    long = backend.training_name(spec, "a-very-long-name-for-the-nightly-retraining-of-it", 12345,
                                 PARAMS)
    for n in (name, long):
        assert len(n) <= pattern["max"] and re.fullmatch(pattern["pattern"], n)


@pytest.mark.parametrize("change, field", [
    (lambda s: s["sagemaker"].update(definitions=[{"name": "b", "image": "other"}]),
     "sagemaker.definitions"),
    # 97 static + script mode's 2 pass the tuning job's limit; with the 2 tuned ones a
    # training job would get 101 hyperparameters
    (lambda s: (s.update(static={f"s{i}": i for i in range(97)}),
                s["sagemaker"].update(entry_point="t.py", source_dir="s3://b/src.tar.gz")),
     "static"),
    (lambda s: s["sagemaker"].pop("role_arn"), "sagemaker.role_arn"),
])
def test_bad_spec_is_refused_before_any_call(stubbed, change, field):
    backend, _ = stubbed  # no answer is queued: any call would fail
    body = copy.deepcopy(MINIMAL)
    change(body)
    with pytest.raises(SpecError) as info:
        backend.run_training(load_spec(body), PARAMS, NAME)
    assert field in [p[0] for p in info.value.problems]


def test_the_caller_policy_allows_the_verification_jobs_only_with_a_proxy_section():
    from pipetune.backends.sagemaker.iam import caller_policy

    body = copy.deepcopy(MINIMAL)
    body["name"] = "nightly_xgb"
    without = {s["Sid"] for s in caller_policy(load_spec(body))["Statement"]}
    assert "VerifyTrainingJobs" not in without
    body["proxy"] = {"data": "s3://ml-bucket/full.csv"}
    statement = {s["Sid"]: s for s in caller_policy(load_spec(body))["Statement"]}["VerifyTrainingJobs"]
    assert statement["Action"] == ["sagemaker:CreateTrainingJob", "sagemaker:AddTags"]
    assert statement["Resource"] == ["arn:aws:sagemaker:us-east-1:123456789012:training-job/nightly-xgb*"]
    body["proxy"]["verify_top_k"] = 0
    assert "VerifyTrainingJobs" not in {s["Sid"] for s in caller_policy(load_spec(body))["Statement"]}
