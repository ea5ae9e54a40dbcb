"""The spec's ``sagemaker:`` section, validated.

:class:`~pipetune.spec.TuningSpec` keeps ``sagemaker`` as a plain mapping so the core does
not depend on this backend; :func:`parse_options` turns it into :class:`SageMakerOptions`
and reports every problem with a field path such as ``sagemaker.role_arn``.

Example:
    >>> opts = parse_options({
    ...     "role_arn": "arn:aws:iam::123456789012:role/SageMakerRole",
    ...     "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1",
    ...     "output_path": "s3://my-bucket/tuning/",
    ... })
    >>> opts.instance_type, opts.instance_count
    ('ml.m5.large', 1)
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipetune.errors import SpecError

ROLE_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-/]+$")
S3_RE = re.compile(r"^s3://([^/]+)/?(.*)$")
DEFINITION_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}$")
CHANNEL_RE = re.compile(r"^[A-Za-z0-9.\-_]{1,64}$")


def _s3(value: str | None) -> str | None:
    if value is not None and not S3_RE.match(value):
        raise ValueError(f"must be an S3 URI like s3://bucket/prefix, got {value!r}")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainingOptions(_Model):
    """What one training job runs on. Shared by the main section and each definition."""

    image: str | None = Field(default=None, description="training image URI (ECR)")
    entry_point: str | None = Field(
        default=None, description="script mode: the script inside source_dir (sagemaker_program)")
    source_dir: str | None = Field(
        default=None, description="script mode: a local folder (relative to trial.workdir), "
        "packed to sourcedir.tar.gz and uploaded under output_path as the SageMaker SDK does, "
        "or the S3 URI of a sourcedir.tar.gz (sagemaker_submit_directory)")
    instance_type: str | None = None
    instance_count: int | None = Field(default=None, ge=1)
    volume_size_gb: int | None = Field(default=None, ge=1)
    environment: dict[str, str] = Field(
        default_factory=dict, description="the training container's environment, on top of "
        "trial.env")

    _s3_source = field_validator("source_dir")(
        classmethod(lambda cls, v: _s3(v) if v is not None and v.startswith("s3://") else v))


class Definition(TrainingOptions):
    """One more training job definition in the same tuning job (e.g. another algorithm)."""

    name: str
    parameters: list[str] | None = Field(
        default=None, description="the tuned parameters this definition uses (default: all)")
    static: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        if not DEFINITION_NAME_RE.match(v):
            raise ValueError("must be 1-64 letters, digits and '-', starting and ending with a "
                             "letter or digit")
        return v


class SageMakerOptions(TrainingOptions):
    """Everything SageMaker needs that the backend-neutral spec does not say."""

    region: str | None = None
    role_arn: str = Field(description="execution role the training jobs assume")
    output_path: str = Field(description="S3 URI where model artifacts are written")
    job_name: str | None = Field(default=None, description="exact tuning job name (<= 32)")
    instance_type: str = "ml.m5.large"
    instance_count: int = Field(default=1, ge=1)
    volume_size_gb: int = Field(default=30, ge=1)
    channels: dict[str, str] = Field(
        default_factory=dict, description="input channels: name -> S3 URI (default: the S3 "
        "URIs among trial.channels)")
    input_mode: Literal["File", "FastFile", "Pipe"] = "File"
    max_runtime_seconds: int | None = Field(
        default=None, ge=1, description="MaxRuntimeInSeconds of each training job, download "
        "and setup included (default 1 day); budget.trial_timeout is the local engine's limit "
        "and is not sent")
    spot: bool = Field(default=False, description="managed spot training")
    max_wait_seconds: int | None = Field(default=None, ge=1, description="spot: runtime + waiting")
    checkpoint_s3_uri: str | None = None
    checkpoint_local_path: str | None = None
    keep_alive_seconds: int | None = Field(
        default=None, ge=0, le=21600, description="managed warm pool: keep instances for the next trial")
    subnets: list[str] = Field(default_factory=list, max_length=16)
    security_group_ids: list[str] = Field(default_factory=list, max_length=5)
    volume_kms_key: str | None = None
    output_kms_key: str | None = None
    network_isolation: bool = False
    inter_container_encryption: bool = False
    retry_attempts: int | None = Field(default=None, ge=1, le=30)
    tags: dict[str, str] = Field(default_factory=dict)
    early_stopping: Literal["auto", "off"] | None = Field(
        default=None, description="TrainingJobEarlyStoppingType; default from early_stopping.type")
    complete_on_convergence: bool | None = Field(
        default=None, description="TuningJobCompletionCriteria.ConvergenceDetected")
    conditional_parameters: Literal["error", "flatten"] = Field(
        default="error", description="AMT has no conditional parameters: refuse, or tune them "
        "unconditionally and drop them from results where their condition does not hold")
    definitions: list[Definition] = Field(
        default_factory=list, description="extra training job definitions; the main one is "
        "named 'main' when there are several")
    prices: dict[str, float] = Field(
        default_factory=dict, description="USD per instance-hour, overriding the built-in table")
    raw: dict[str, Any] = Field(
        default_factory=dict, description="merged into the CreateHyperParameterTuningJob request")
    raw_training: dict[str, Any] = Field(
        default_factory=dict, description="merged into every training job definition")

    _s3_fields = field_validator("output_path", "checkpoint_s3_uri")(
        classmethod(lambda cls, v: _s3(v)))

    @field_validator("role_arn")
    @classmethod
    def _role_ok(cls, v: str) -> str:
        if not ROLE_ARN_RE.match(v):
            raise ValueError(f"must be an IAM role ARN like arn:aws:iam::123456789012:role/Name, "
                             f"got {v!r}")
        return v

    @field_validator("channels")
    @classmethod
    def _channels_ok(cls, v: dict[str, str]) -> dict[str, str]:
        if len(v) > 20:
            raise ValueError(f"SageMaker allows at most 20 channels, got {len(v)}")
        for name, uri in v.items():
            if not CHANNEL_RE.match(name):
                raise ValueError(f"channel name {name!r}: use 1-64 letters, digits, '.', '-', '_'")
            if not S3_RE.match(uri):
                raise ValueError(f"channel {name!r}: must be an S3 URI, got {uri!r}")
        return v

    @field_validator("environment")
    @classmethod
    def _env_ok(cls, v: dict[str, str]) -> dict[str, str]:
        if len(v) > 48:
            raise ValueError(f"SageMaker allows at most 48 environment variables, got {len(v)}")
        return v

    @field_validator("prices")
    @classmethod
    def _prices_ok(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, p in v.items() if not p >= 0]
        if bad:
            raise ValueError(f"prices must be >= 0 USD per hour; check {bad}")
        return v

    @model_validator(mode="after")
    def _combinations(self):
        if self.image is None:
            raise ValueError("sagemaker.image is required: the training image (for script mode, "
                             "a framework image together with entry_point and source_dir)")
        if (self.entry_point is None) != (self.source_dir is None):
            raise ValueError("script mode needs both sagemaker.entry_point and sagemaker.source_dir")
        if bool(self.subnets) != bool(self.security_group_ids):
            raise ValueError("a VPC needs both sagemaker.subnets and sagemaker.security_group_ids")
        if self.max_wait_seconds is not None and not self.spot:
            raise ValueError("sagemaker.max_wait_seconds only applies with spot: true")
        names = [d.name for d in self.definitions]
        if len(set(names)) != len(names) or "main" in names:
            raise ValueError(f"sagemaker.definitions names must be unique and not 'main': {names}")
        return self


def _path(loc: tuple) -> str:
    out = "sagemaker"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _fields_of(loc: tuple) -> list[str]:
    model: Any = SageMakerOptions
    for part in loc:
        if part == "definitions":
            model = Definition
    return list(model.model_fields)


def parse_options(raw: dict[str, Any] | None) -> SageMakerOptions:
    """Validate the ``sagemaker:`` mapping; raise SpecError naming each bad field."""
    if raw is None:
        raise SpecError("is required for backend sagemaker: give at least role_arn, image and "
                        "output_path", field="sagemaker")
    try:
        return SageMakerOptions.model_validate(raw)
    except ValidationError as exc:
        problems: list[tuple[str, str]] = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                valid = _fields_of(loc[:-1])
                close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                msg = f"unknown field{hint} Valid fields: {', '.join(valid)}"
            elif err["type"] == "missing":
                msg = "is required"
            field = _path(loc)
            if not loc and msg.startswith("sagemaker."):
                field, _, _ = msg.partition(" ")
            problems.append((field, msg))
        raise SpecError(problems) from None
