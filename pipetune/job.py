"""The job handle that passes between pipeline steps, and a job's status."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobState(str, Enum):
    """Backend-neutral job states. Only ``COMPLETED`` is success."""

    PENDING = "pending"
    RUNNING = "running"
    STOPPING = "stopping"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"  # local engine: the coordinator died; `pipetune resume` goes on

    @property
    def terminal(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.STOPPED)


class JobRef(BaseModel):
    """A small JSON handle: ``{"backend": "local", "id": "nightly", ...}``.

    It is what an Airflow task pushes to XCom, a KFP component outputs, and a GitHub step
    sets as an output; every backend can rebuild its view of the job from it.

    Example:
        >>> ref = JobRef(backend="local", id="nightly", name="nightly")
        >>> JobRef.from_json(ref.to_json()) == ref
        True
    """

    model_config = ConfigDict(extra="allow")

    backend: str
    id: str
    name: str
    extra: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, value: "str | dict[str, Any] | JobRef") -> "JobRef":
        if isinstance(value, JobRef):
            return value
        if isinstance(value, str):
            value = json.loads(value)
        return cls.model_validate(value)


class TrialCounts(BaseModel):
    running: int = 0
    complete: int = 0
    failed: int = 0
    pruned: int = 0
    infeasible: int = 0

    @property
    def finished(self) -> int:
        return self.complete + self.failed + self.pruned + self.infeasible


class JobStatus(BaseModel):
    ref: JobRef
    state: JobState
    reason: str | None = None
    trials: TrialCounts = Field(default_factory=TrialCounts)
    max_trials: int | None = None
    best_value: float | None = None
    elapsed_seconds: float | None = None
    # filled by pipetune.observability.snapshot.observe (None when not computed)
    cost_usd: float | None = None
    converging: bool | None = None
    convergence_reason: str | None = None

    @property
    def done(self) -> bool:
        return self.state.terminal
