"""Least-privilege IAM policies for a spec, computed offline.

- :func:`caller_policy`: what the identity that launches and watches the job calls, and
  nothing else: the tuning-job actions on ARNs under the job-name prefix (with a ``proxy``
  section also ``CreateTrainingJob``/``AddTags`` on training jobs under it, for
  verification, and S3 on the proxy's full data and sample, which it reads and writes),
  ``iam:PassRole`` on the execution role only towards SageMaker, and ``kms:CreateGrant``
  for SageMaker's resources on the keys. It gets no S3 access to the channels or the
  output path: the training jobs read and write those, with the execution role.
- :func:`execution_role_policy`: what the training jobs' role needs (S3, ECR pull, logs,
  metrics, VPC network interfaces, KMS).

A KMS key named by an alias (``alias/x`` or an alias ARN) grants nothing in a policy's
``Resource``: IAM matches the key's own ARN. Pass ``kms_client`` (a boto3 KMS client; the
CLI makes one) to resolve aliases with ``kms:DescribeKey``; without it, an alias is
refused with an error asking for the key ARN.

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
from pipetune.errors import SpecError
from pipetune.spec import TuningSpec

TUNING_ACTIONS = [
    "sagemaker:CreateHyperParameterTuningJob", "sagemaker:DescribeHyperParameterTuningJob",
    "sagemaker:StopHyperParameterTuningJob", "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
    "sagemaker:AddTags", "sagemaker:ListTags",
]
KMS_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"]
#: The caller only lets SageMaker use the keys for the job's volumes and outputs.
CALLER_KMS_ACTIONS = ["kms:CreateGrant", "kms:DescribeKey"]


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


def is_kms_alias(key: str) -> bool:
    """``alias/name`` or ``arn:...:alias/name``."""
    return key.startswith("alias/") or (key.startswith("arn:") and ":alias/" in key)


def _kms_arn(field: str, key: str, partition: str, region: str, account: str,
             kms_client: Any = None) -> str:
    if is_kms_alias(key):
        if kms_client is None:
            raise SpecError(f"{key!r} is an alias, and an IAM policy grants nothing on an alias "
                            "(it matches the key's own ARN): give the key ARN "
                            "(arn:aws:kms:REGION:ACCOUNT:key/ID), or run iam-policy with AWS "
                            "credentials allowed kms:DescribeKey to resolve it",
                            field=f"sagemaker.{field}")
        return resolve_kms_alias(kms_client, key, field)
    if key.startswith("arn:"):
        return key
    return f"arn:{partition}:kms:{region}:{account}:key/{key}"


def resolve_kms_alias(kms_client: Any, alias: str, field: str = "kms_key") -> str:
    """The ARN of the key an alias points to (``kms:DescribeKey``)."""
    try:
        return kms_client.describe_key(KeyId=alias)["KeyMetadata"]["Arn"]
    except Exception as exc:  # noqa: BLE001 (NotFound, AccessDenied, no credentials...)
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
        raise SpecError(f"cannot resolve the KMS alias {alias!r} to a key ARN ({code}); give "
                        "the key ARN instead", field=f"sagemaker.{field}") from None


def kms_aliases(spec: TuningSpec) -> list[str]:
    """The KMS keys of a SageMaker spec given as aliases (they need resolving)."""
    opts = validated_options(spec)
    return [k for k in (opts.volume_kms_key, opts.output_kms_key) if k and is_kms_alias(k)]


def _kms_key_arns(opts: SageMakerOptions, partition: str, region: str, account: str,
                  kms_client: Any) -> list[str]:
    keys = [(f, k) for f, k in (("volume_kms_key", opts.volume_kms_key),
                                ("output_kms_key", opts.output_kms_key)) if k]
    return sorted({_kms_arn(f, k, partition, region, account, kms_client) for f, k in keys})


def _kms_statement(opts: SageMakerOptions, partition: str, region: str, account: str,
                   kms_client: Any = None) -> list[dict]:
    arns = _kms_key_arns(opts, partition, region, account, kms_client)
    if not arns:
        return []
    return [{"Sid": "UseKmsKeys", "Effect": "Allow", "Action": KMS_ACTIONS, "Resource": arns}]


def _inputs(spec: TuningSpec, opts: SageMakerOptions) -> list[str]:
    """S3 URIs the training jobs read. A local source_dir is uploaded under output_path,
    which the execution role's policy already covers (read and write)."""
    code = {opts.source_dir} if opts.source_dir and not source.is_local(opts.source_dir) else set()
    return sorted(set(channels(spec, opts).values()) | code)


def _source_uploads(opts: SageMakerOptions) -> list[str]:
    """Where the caller uploads a local source_dir (``<output_path>/pipetune-source/``)."""
    if not (opts.source_dir and source.is_local(opts.source_dir)):
        return []
    return [f"{opts.output_path.rstrip('/')}/{source.PREFIX}/"]


def caller_policy(spec: TuningSpec, name: str | None = None, *,
                  kms_client: Any = None) -> dict[str, Any]:
    """The IAM policy document for whoever launches, watches and reads the job.

    ``kms_client``: a boto3 KMS client, to resolve keys given as aliases.
    """
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
    # a local source_dir is packed and uploaded by the caller (HeadObject, then PutObject)
    statements += _s3_statements(partition, "UploadSourceDir", _source_uploads(opts),
                                 ["s3:GetObject", "s3:PutObject"])
    if spec.proxy is not None:
        # the proxy workflow samples the full data here and writes the sample and manifest
        data, output = _proxy_locations(spec)
        statements += _s3_statements(partition, "ReadProxyData", data, ["s3:GetObject"])
        statements += _s3_statements(partition, "WriteProxySample", output,
                                     ["s3:GetObject", "s3:PutObject"])
    arns = _kms_key_arns(opts, partition, region, account, kms_client)
    if arns:
        statements.append({"Sid": "GrantKmsKeysToSageMaker", "Effect": "Allow",
                           "Action": CALLER_KMS_ACTIONS, "Resource": arns,
                           "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}})
    return {"Version": "2012-10-17", "Statement": statements}


def _proxy_locations(spec: TuningSpec) -> tuple[list[str], list[str]]:
    """The S3 URIs the proxy workflow reads (full data) and writes (sample, manifest)."""
    assert spec.proxy is not None
    settings = spec.proxy
    data = settings.data
    if data is None and settings.data_channel is not None:
        data = spec.trial.channels.get(settings.data_channel)
    if data is None:
        value = spec.static.get(settings.data_param)
        data = value if isinstance(value, str) else None
    reads = [data] if data and S3_RE.match(data) else []
    writes = [settings.output.rstrip("/") + "/"] if settings.output and S3_RE.match(settings.output) else []
    return reads, writes


def execution_role_policy(spec: TuningSpec, *, kms_client: Any = None) -> dict[str, Any]:
    """The IAM policy document for the role the training jobs run as.

    ``kms_client``: a boto3 KMS client, to resolve keys given as aliases.
    """
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
    statements += _kms_statement(opts, partition, region, account, kms_client)
    return {"Version": "2012-10-17", "Statement": statements}
