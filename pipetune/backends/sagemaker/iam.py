"""Least-privilege IAM policies for a spec, computed offline.

- :func:`caller_policy`: what the identity that launches and watches the job needs: the
  tuning-job actions on ARNs under the job-name prefix (with a ``proxy`` section also
  ``CreateTrainingJob``/``AddTags`` on training jobs under it, for verification),
  ``iam:PassRole`` on the execution role only towards SageMaker, S3 read on the input
  channels, read/write on the output path, and KMS use where keys are set.
- :func:`execution_role_policy`: what the training jobs' role needs (S3, ECR pull, logs,
  metrics, VPC network interfaces, KMS).

Example:
    >>> from pipetune.spec import load_spec
    >>> spec = load_spec({"name": "nightly", "backend": "sagemaker",
    ...     "parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
    ...     "objectives": [{"metric": "loss"}], "metrics": [{"name": "loss", "regex": "l=(.+)"}],
    ...     "trial": {"command": ["python", "t.py"]},
    ...     "sagemaker": {"region": "eu-west-1", "role_arn": "arn:aws:iam::123456789012:role/R",
    ...                   "image": "img", "output_path": "s3://b/out"}})
    >>> caller_policy(spec)["Statement"][0]["Resource"]
    ['arn:aws:sagemaker:eu-west-1:123456789012:hyper-parameter-tuning-job/nightly*']
"""

from __future__ import annotations

import re
from typing import Any

from pipetune.backends.sagemaker.checks import validated_options
from pipetune.backends.sagemaker.naming import arn_prefix_name, tuning_job_name
from pipetune.backends.sagemaker import source
from pipetune.backends.sagemaker.options import S3_RE, SageMakerOptions
from pipetune.backends.sagemaker.translate import channels
from pipetune.spec import TuningSpec

TUNING_ACTIONS = [
    "sagemaker:CreateHyperParameterTuningJob", "sagemaker:DescribeHyperParameterTuningJob",
    "sagemaker:StopHyperParameterTuningJob", "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
    "sagemaker:AddTags", "sagemaker:ListTags",
]
KMS_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"]


def _role_parts(role_arn: str) -> tuple[str, str]:
    _, partition, _, _, account, _ = role_arn.split(":", 5)
    return partition, account


def job_prefix(spec: TuningSpec, name: str | None = None) -> str:
    """The job-name prefix the policy is scoped to: the job name without pipetune's hash."""
    raw = name or spec.name or "pipetune"
    opts = validated_options(spec)
    if opts.job_name:
        return arn_prefix_name(opts.job_name)
    derived = tuning_job_name(raw)
    stem = derived if derived == raw else derived.rsplit("-", 1)[0]
    return arn_prefix_name(stem)


def _s3_object_arn(partition: str, uri: str) -> tuple[str, str, str]:
    match = S3_RE.match(uri)
    assert match is not None  # validated options
    bucket, key = match.group(1), match.group(2)
    return bucket, key, f"arn:{partition}:s3:::{bucket}/{key}*"


def _s3_statements(partition: str, sid: str, uris: list[str], actions: list[str]) -> list[dict]:
    if not uris:
        return []
    parts = [_s3_object_arn(partition, u) for u in uris]
    statements = [{"Sid": sid, "Effect": "Allow", "Action": actions,
                   "Resource": sorted({arn for _, _, arn in parts})}]
    by_bucket: dict[str, set[str]] = {}
    for bucket, key, _ in parts:
        by_bucket.setdefault(bucket, set()).add(f"{key}*")
    for i, (bucket, prefixes) in enumerate(sorted(by_bucket.items())):
        statements.append({"Sid": f"{sid}List{i}", "Effect": "Allow", "Action": ["s3:ListBucket"],
                           "Resource": [f"arn:{partition}:s3:::{bucket}"],
                           "Condition": {"StringLike": {"s3:prefix": sorted(prefixes)}}})
    return statements


def _kms_arn(key: str, partition: str, region: str, account: str) -> str:
    if key.startswith("arn:"):
        return key
    if key.startswith("alias/"):
        return f"arn:{partition}:kms:{region}:{account}:{key}"
    return f"arn:{partition}:kms:{region}:{account}:key/{key}"


def _kms_statement(opts: SageMakerOptions, partition: str, region: str, account: str) -> list[dict]:
    keys = [k for k in (opts.volume_kms_key, opts.output_kms_key) if k]
    if not keys:
        return []
    return [{"Sid": "UseKmsKeys", "Effect": "Allow", "Action": KMS_ACTIONS,
             "Resource": sorted({_kms_arn(k, partition, region, account) for k in keys})}]


def _inputs(spec: TuningSpec, opts: SageMakerOptions) -> list[str]:
    """S3 URIs the training jobs read. A local source_dir is uploaded under output_path,
    which both policies already cover (read and write)."""
    code = {opts.source_dir} if opts.source_dir and not source.is_local(opts.source_dir) else set()
    return sorted(set(channels(spec, opts).values()) | code)


def caller_policy(spec: TuningSpec, name: str | None = None) -> dict[str, Any]:
    """The IAM policy document for whoever launches, watches and reads the job."""
    opts = validated_options(spec)
    partition, account = _role_parts(opts.role_arn)
    region = opts.region or "*"
    prefix = job_prefix(spec, name)
    arn = f"arn:{partition}:sagemaker:{region}:{account}"
    statements: list[dict[str, Any]] = [
        {"Sid": "TuningJobs", "Effect": "Allow", "Action": TUNING_ACTIONS,
         "Resource": [f"{arn}:hyper-parameter-tuning-job/{prefix}*"]},
        {"Sid": "ReadTrainingJobs", "Effect": "Allow", "Action": ["sagemaker:DescribeTrainingJob"],
         "Resource": [f"{arn}:training-job/{prefix}*"]},
    ]
    if spec.proxy is not None and spec.proxy.verify_top_k > 0:
        # proxy tuning verifies its top configurations as training jobs named
        # <tuning job>-v<rank>-<hash> (training.py), with the tuning job's role and data
        statements.append({
            "Sid": "VerifyTrainingJobs", "Effect": "Allow",
            "Action": ["sagemaker:CreateTrainingJob", "sagemaker:AddTags"],
            "Resource": [f"{arn}:training-job/{prefix}*"]})
    if spec.warm_start:
        statements.append({
            "Sid": "ReadWarmStartParents", "Effect": "Allow",
            "Action": ["sagemaker:DescribeHyperParameterTuningJob"],
            "Resource": [f"{arn}:hyper-parameter-tuning-job/{arn_prefix_name(tuning_job_name(p))}"
                         for p in spec.warm_start.parents]})
    statements.append({
        "Sid": "PassExecutionRole", "Effect": "Allow", "Action": ["iam:PassRole"],
        "Resource": [opts.role_arn],
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}})
    inputs = _inputs(spec, opts)
    statements += _s3_statements(partition, "ReadInputs", inputs, ["s3:GetObject"])
    statements += _s3_statements(partition, "ReadWriteOutput", [opts.output_path],
                                 ["s3:GetObject", "s3:PutObject"])
    statements += _kms_statement(opts, partition, region, account)
    return {"Version": "2012-10-17", "Statement": statements}


def execution_role_policy(spec: TuningSpec) -> dict[str, Any]:
    """The IAM policy document for the role the training jobs run as."""
    opts = validated_options(spec)
    partition, account = _role_parts(opts.role_arn)
    region = opts.region or "*"
    inputs = _inputs(spec, opts)
    statements: list[dict[str, Any]] = []
    statements += _s3_statements(partition, "ReadInputs", inputs, ["s3:GetObject"])
    writes = [opts.output_path] + ([opts.checkpoint_s3_uri] if opts.checkpoint_s3_uri else [])
    statements += _s3_statements(partition, "WriteOutputs", writes, ["s3:GetObject", "s3:PutObject"])
    statements.append({"Sid": "Logs", "Effect": "Allow",
                       "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                                  "logs:DescribeLogStreams"],
                       "Resource": [f"arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/TrainingJobs*"]})
    statements.append({"Sid": "Metrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"],
                       "Resource": ["*"],
                       "Condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}})
    repo = re.match(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)", opts.image or "")
    if repo:
        statements.append({"Sid": "PullImage", "Effect": "Allow",
                           "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                      "ecr:BatchCheckLayerAvailability"],
                           "Resource": [f"arn:{partition}:ecr:{repo.group(2)}:{repo.group(1)}:repository/{repo.group(3)}"]})
        statements.append({"Sid": "EcrToken", "Effect": "Allow",
                           "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]})
    if opts.subnets:
        statements.append({"Sid": "VpcNetworkInterfaces", "Effect": "Allow",
                           "Action": ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                                      "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
                                      "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
                                      "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets",
                                      "ec2:DescribeSecurityGroups"],
                           "Resource": ["*"]})
    statements += _kms_statement(opts, partition, region, account)
    return {"Version": "2012-10-17", "Statement": statements}
