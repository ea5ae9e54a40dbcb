"""`pipetune iam-policy`: least privilege, accepted by an IAM policy validator (moto's)."""

from __future__ import annotations

import json

import boto3
import pytest
import yaml
from moto import mock_aws
from typer.testing import CliRunner

from pipetune.backends.sagemaker.iam import caller_policy, execution_role_policy
from pipetune.cli import app
from pipetune.spec import load_spec

from test_sm_translate import RICH


def _by_sid(policy: dict) -> dict:
    return {s["Sid"]: s for s in policy["Statement"]}


def test_caller_policy_is_scoped():
    policy = _by_sid(caller_policy(load_spec(RICH)))
    assert policy["TuningJobs"]["Resource"] == [
        "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/nightly-xgb*"]
    assert "sagemaker:CreateHyperParameterTuningJob" in policy["TuningJobs"]["Action"]
    assert policy["PassExecutionRole"] == {
        "Sid": "PassExecutionRole", "Effect": "Allow", "Action": ["iam:PassRole"],
        "Resource": ["arn:aws:iam::123456789012:role/SageMakerTuning"],
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}
    assert policy["ReadInputs"]["Resource"] == [
        "arn:aws:s3:::ml-bucket/code/sourcedir.tar.gz*", "arn:aws:s3:::ml-bucket/data/train/*",
        "arn:aws:s3:::ml-bucket/data/validation/*"]
    assert policy["ReadInputs"]["Action"] == ["s3:GetObject"]
    assert policy["ReadWriteOutput"]["Resource"] == ["arn:aws:s3:::ml-bucket/tuning/out*"]
    assert policy["UseKmsKeys"]["Resource"] == ["arn:aws:kms:us-east-1:123456789012:key/out",
                                                "arn:aws:kms:us-east-1:123456789012:key/vol"]
    assert policy["ReadWarmStartParents"]["Resource"][0].endswith("hyper-parameter-tuning-job/nightly-xgb-v1")
    everything = json.dumps(policy)
    assert '"Resource": ["*"]' not in everything  # the caller never needs a wildcard resource


def test_no_kms_statement_without_keys(minimal):
    assert "UseKmsKeys" not in _by_sid(caller_policy(load_spec(minimal)))


def test_prefix_is_lowercase_and_without_hash(minimal):
    minimal["name"] = "Nightly_XGB"
    policy = _by_sid(caller_policy(load_spec(minimal)))
    assert policy["TuningJobs"]["Resource"][0].endswith("hyper-parameter-tuning-job/nightly-xgb*")


def test_execution_role_policy():
    policy = _by_sid(execution_role_policy(load_spec(RICH)))
    assert policy["WriteOutputs"]["Resource"] == ["arn:aws:s3:::ml-bucket/ckpt/*",
                                                  "arn:aws:s3:::ml-bucket/tuning/out*"]
    assert policy["PullImage"]["Resource"] == ["arn:aws:ecr:us-east-1:123456789012:repository/xgb"]
    assert "VpcNetworkInterfaces" in policy


@pytest.mark.parametrize("make", [caller_policy, execution_role_policy])
def test_policies_pass_an_iam_validator(make):
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(make(load_spec(RICH))))


def test_cli_prints_the_policy(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(RICH))
    result = CliRunner().invoke(app, ["iam-policy", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == caller_policy(load_spec(RICH))
    role = CliRunner().invoke(app, ["iam-policy", str(path), "--for", "execution-role"])
    assert json.loads(role.stdout) == execution_role_policy(load_spec(RICH))


def test_cli_bad_spec_exits_2_without_traceback(tmp_path, minimal):
    del minimal["sagemaker"]["role_arn"]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(minimal))
    result = CliRunner().invoke(app, ["iam-policy", str(path)])
    assert result.exit_code == 2
    assert "sagemaker.role_arn" in result.output and "Traceback" not in result.output
