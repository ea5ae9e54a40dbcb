"""The spec's ``vertex:`` section: where and how a job runs on Vertex AI.

:class:`~pipetune.spec.TuningSpec` keeps the section as a plain dict so the core does not
depend on this backend; :func:`parse_options` validates it (with the constructor's project
and location as defaults) and raises :class:`~pipetune.errors.SpecError` naming fields such
as ``vertex.project``.

Example:
    >>> opts = parse_options({"project": "my-proj", "location": "us-central1",
    ...                       "container": {"image_uri": "gcr.io/my-proj/train:1"}})
    >>> opts.mode, opts.machine_type
    ('hyperparameter_tuning_job', 'n1-standard-4')
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipetune.errors import SpecError

PROJECT_RE = re.compile(r"^([a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20})$")
LOCATION_RE = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
LABEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE_RE = re.compile(r"^[a-z0-9_-]{0,63}$")
KMS_RE = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
MAX_DISPLAY_NAME = 128
RESERVED_LABELS = ("pipetune-managed", "pipetune-fingerprint")

Mode = Literal["hyperparameter_tuning_job", "vizier"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContainerTrial(_Model):
    """A custom container; ``command`` defaults to the spec's ``trial.command``."""

    image_uri: str = Field(min_length=1)
    command: list[str] | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)


class PythonPackageTrial(_Model):
    """A Python source distribution run on a prebuilt training image."""

    executor_image_uri: str = Field(min_length=1)
    package_uris: list[str] = Field(min_length=1)
    python_module: str = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)

    @field_validator("package_uris")
    @classmethod
    def _gcs(cls, v: list[str]) -> list[str]:
        bad = [u for u in v if not u.startswith("gs://")]
        if bad:
            raise ValueError(f"must be gs:// URIs, got {bad}")
        return v


class Prices(_Model):
    """Prices used by the cost estimate (USD). Defaults: us-central1 list prices, 2026."""

    trial_fee_usd: float | None = Field(default=None, ge=0,
                                        description="per trial; default 0 for "
                                        "hyperparameter_tuning_job, 1.0 for vizier")
    machine_hour_usd: dict[str, float] = Field(default_factory=dict)
    accelerator_hour_usd: dict[str, float] = Field(default_factory=dict)


class VertexOptions(_Model):
    """Everything Vertex AI needs beyond the backend-neutral spec."""

    mode: Mode = "hyperparameter_tuning_job"
    project: str | None = None
    location: str | None = None
    # trial job (mode hyperparameter_tuning_job)
    container: ContainerTrial | None = None
    python_package: PythonPackageTrial | None = None
    machine_type: str = "n1-standard-4"
    accelerator_type: str | None = None
    accelerator_count: int = Field(default=0, ge=0)
    replica_count: int = Field(default=1, ge=1)
    spot: bool = False
    service_account: str | None = None
    network: str | None = None
    encryption_key: str | None = Field(default=None, description="CMEK key resource name")
    base_output_directory: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    # study (the scoring rule is the spec's own ``measurement``, for every backend)
    automated_stopping: Literal["none", "median", "decay_curve"] | None = Field(
        default=None, description="default: median when early_stopping.type is median")
    prices: Prices = Field(default_factory=Prices)

    @field_validator("project")
    @classmethod
    def _project_ok(cls, v: str | None) -> str | None:
        if v is not None and not PROJECT_RE.match(v):
            raise ValueError(f"{v!r} is not a project ID: 6-30 lowercase letters, digits or "
                             "hyphens, starting with a letter (or a numeric project number)")
        return v

    @field_validator("location")
    @classmethod
    def _location_ok(cls, v: str | None) -> str | None:
        if v is not None and not LOCATION_RE.match(v):
            raise ValueError(f"{v!r} is not a Vertex AI region such as us-central1 or europe-west4")
        return v

    @field_validator("labels")
    @classmethod
    def _labels_ok(cls, v: dict[str, str]) -> dict[str, str]:
        for key, value in v.items():
            if not LABEL_KEY_RE.match(key):
                raise ValueError(f"label key {key!r} must start with a lowercase letter and hold "
                                 "at most 63 lowercase letters, digits, '_' or '-'")
            if not isinstance(value, str) or not LABEL_VALUE_RE.match(value):
                raise ValueError(f"label {key!r}: value {value!r} must hold at most 63 "
                                 "lowercase letters, digits, '_' or '-'")
            if key in RESERVED_LABELS:
                raise ValueError(f"label {key!r} is set by pipetune; choose another key")
        if len(v) > 64 - len(RESERVED_LABELS):
            raise ValueError(f"at most {64 - len(RESERVED_LABELS)} labels (Vertex allows 64, "
                             "pipetune uses 2)")
        return v

    @field_validator("encryption_key")
    @classmethod
    def _kms_ok(cls, v: str | None) -> str | None:
        if v is not None and not KMS_RE.match(v):
            raise ValueError("must look like projects/P/locations/L/keyRings/R/cryptoKeys/K")
        return v

    @field_validator("base_output_directory")
    @classmethod
    def _gcs_ok(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("gs://"):
            raise ValueError(f"must be a gs:// URI, got {v!r}")
        return v

    @model_validator(mode="after")
    def _accelerators(self):
        if (self.accelerator_type is None) != (self.accelerator_count == 0):
            raise ValueError("give accelerator_type and accelerator_count (>= 1) together")
        return self


def parse_options(raw: dict[str, Any] | None, *, project: str | None = None,
                  location: str | None = None) -> VertexOptions:
    """Validate the ``vertex:`` section; the constructor's project/location fill gaps."""
    body = dict(raw or {})
    if "measurement_selection" in body:
        raise SpecError("moved out of vertex: write the spec's measurement: final or best "
                        "(it applies to every backend)", field="vertex.measurement_selection")
    if project is not None and body.get("project") is None:
        body["project"] = project
    if location is not None and body.get("location") is None:
        body["location"] = location
    try:
        opts = VertexOptions.model_validate(body)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = ".".join(str(p) for p in ("vertex", *err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = f"unknown field; valid: {', '.join(_fields_at(err['loc'][:-1]))}"
            elif err["type"] == "literal_error":
                msg = f"got {err.get('input')!r}; {msg.lower()}"
            problems.append((path, msg))
        raise SpecError(problems) from None
    missing = []
    if opts.project is None:
        missing.append(("vertex.project", "is required: set vertex.project in the spec or "
                        "pass project= to VertexBackend (e.g. my-gcp-project)"))
    if opts.location is None:
        missing.append(("vertex.location", "is required: set vertex.location in the spec or "
                        "pass location= to VertexBackend (e.g. us-central1)"))
    if missing:
        raise SpecError(missing)
    return opts


def _fields_at(loc: tuple) -> list[str]:
    model: Any = VertexOptions
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            break
        inner = [a for a in getattr(field.annotation, "__args__", (field.annotation,))
                 if isinstance(a, type) and issubclass(a, BaseModel)]
        if not inner:
            break
        model = inner[0]
    return list(model.model_fields)
