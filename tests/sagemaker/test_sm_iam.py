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
    assert "ReadInputs" not in policy and "ReadWriteOutput" not in policy  # the role's job
    assert policy["GrantKmsKeysToSageMaker"]["Resource"] == [
        "arn:aws:kms:us-east-1:123456789012:key/out", "arn:aws:kms:us-east-1:123456789012:key/vol"]
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


# ---- what the caller actually calls; KMS aliases ------------------------------------------
ALIAS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _with_alias(spec: dict, alias: str = "alias/tuning-volumes") -> dict:
    spec = json.loads(json.dumps(spec))
    spec["sagemaker"]["volume_kms_key"] = alias
    return spec


def test_caller_gets_no_s3_it_never_uses():
    # the training jobs read the channels and write the output with the execution role;
    # the caller only calls SageMaker (create/describe/stop/list/tags) and iam:PassRole
    policy = caller_policy(load_spec(RICH))
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert not {a for a in actions if a.startswith("s3:")}, actions
    assert {a for a in actions if a.startswith("kms:")} == {"kms:CreateGrant", "kms:DescribeKey"}
    grant = _by_sid(policy)["GrantKmsKeysToSageMaker"]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_proxy_caller_reads_the_data_and_writes_the_sample():
    spec = json.loads(json.dumps(RICH))
    spec["proxy"] = {"data": "s3://ml-bucket/data/full.csv", "output": "s3://ml-bucket/proxy/x",
                     "fraction": 0.1}
    policy = _by_sid(caller_policy(load_spec(spec)))
    assert policy["ReadProxyData"]["Resource"] == ["arn:aws:s3:::ml-bucket/data/full.csv*"]
    assert policy["WriteProxySample"]["Resource"] == ["arn:aws:s3:::ml-bucket/proxy/x/*"]
    assert policy["WriteProxySample"]["Action"] == ["s3:GetObject", "s3:PutObject"]


@pytest.mark.parametrize("alias", ["alias/tuning-volumes",
                                   "arn:aws:kms:us-east-1:123456789012:alias/tuning-volumes"])
def test_a_kms_alias_is_resolved_to_the_key_arn(alias):
    from botocore.stub import Stubber

    kms = boto3.client("kms", region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x")
    stub = Stubber(kms)
    for _ in range(2):
        stub.add_response("describe_key", {"KeyMetadata": {"KeyId": ALIAS_KEY.rsplit("/", 1)[1],
                                                           "Arn": ALIAS_KEY}},
                          {"KeyId": alias})
    with stub:
        caller = _by_sid(caller_policy(load_spec(_with_alias(RICH, alias)), kms_client=kms))
        role = _by_sid(execution_role_policy(load_spec(_with_alias(RICH, alias)), kms_client=kms))
    stub.assert_no_pending_responses()
    assert ALIAS_KEY in caller["GrantKmsKeysToSageMaker"]["Resource"]
    assert ALIAS_KEY in role["UseKmsKeys"]["Resource"]
    assert not any("alias/" in r for r in caller["GrantKmsKeysToSageMaker"]["Resource"])


def test_an_alias_without_a_client_asks_for_the_key_arn():
    from pipetune.errors import SpecError

    with pytest.raises(SpecError) as err:
        caller_policy(load_spec(_with_alias(RICH)))
    assert err.value.problems[0][0] == "sagemaker.volume_kms_key"
    assert "key ARN" in str(err.value)


def test_cli_resolves_an_alias_against_kms(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    path = tmp_path / "spec.yaml"
    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        key = kms.create_key()["KeyMetadata"]
        kms.create_alias(AliasName="alias/tuning-volumes", TargetKeyId=key["KeyId"])
        path.write_text(yaml.safe_dump(_with_alias(RICH)))
        result = CliRunner().invoke(app, ["iam-policy", str(path)])
        path.write_text(yaml.safe_dump(_with_alias(RICH, "alias/does-not-exist")))
        unknown = CliRunner().invoke(app, ["iam-policy", str(path)])
    assert result.exit_code == 0, result.output
    grant = _by_sid(json.loads(result.stdout))["GrantKmsKeysToSageMaker"]
    assert key["Arn"] in grant["Resource"]
    assert unknown.exit_code == 2 and "sagemaker.volume_kms_key" in unknown.output
    assert "Traceback" not in unknown.output
