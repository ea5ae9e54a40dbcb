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
        """Completed, failed or stopped: the job is over for good."""
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.STOPPED)

    @property
    def ended(self) -> bool:
        """Terminal, or interrupted: nothing runs the job any more, so waiting on would
        never end. Every poller stops polling here (and resumes an interrupted job where
        it may)."""
        return self.terminal or self is JobState.INTERRUPTED


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
        """The handle as compact JSON text; :meth:`from_json` reads it back to an equal handle."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, value: "str | dict[str, Any] | JobRef") -> "JobRef":
        """The handle from its JSON, its dict or itself (see :func:`parse_job_ref`)."""
        return parse_job_ref(value)


def parse_job_ref(value: Any, *, backend: str | None = None, field: str = "job") -> JobRef:
    """The one parser of job handles, for every adapter.

    Accepted: a :class:`JobRef`, its dict (an XCom value, a KFP output), its JSON, the
    Python repr a Jinja template renders from a dict, or a bare job name when ``backend``
    is given. Anything else raises :class:`~pipetune.errors.UsageError` naming ``field``.

    Example:
        >>> parse_job_ref('{"backend": "local", "id": "n1", "name": "n1"}').name
        'n1'
        >>> parse_job_ref("{'backend': 'local', 'id': 'n1', 'name': 'n1'}").id
        'n1'
        >>> parse_job_ref("n2", backend="local").backend
        'local'
    """
    from pydantic import ValidationError

    from pipetune.errors import UsageError

    if isinstance(value, JobRef):
        return value
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise UsageError(f"{field}: is empty; pass the job handle a launch step output, "
                             "or a job name")
        if not text.startswith("{"):
            if not backend:
                raise UsageError(f"{field}: a bare job name ({text[:80]!r}) needs the backend "
                                 "as well; or pass the job handle a launch step output")
            return JobRef(backend=backend, id=text, name=text)
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            import ast

            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                raise UsageError(f"{field}: cannot read {text[:80]!r} as a job handle; pass "
                                 "the job handle a launch step output") from None
    if not isinstance(value, dict):
        raise UsageError(f"{field}: expected a job handle (dict or JSON) or a job name, "
                         f"got {type(value).__name__}")
    try:
        return JobRef.model_validate(value)
    except ValidationError as exc:
        missing = [".".join(map(str, e["loc"])) for e in exc.errors()]
        raise UsageError(f"{field}: not a job handle, missing or invalid {missing}; expected "
                         "{backend, id, name, ...}: pass the job handle a launch step "
                         "output") from None


class TrialCounts(BaseModel):
    """How many of a job's trials are in each state (warm-start parents' trials not counted)."""

    running: int = 0
    complete: int = 0
    failed: int = 0
    pruned: int = 0
    infeasible: int = 0

    @property
    def finished(self) -> int:
        """Trials that have ended, in any state: complete, failed, pruned and infeasible."""
        return self.complete + self.failed + self.pruned + self.infeasible


class JobStatus(BaseModel):
    """One reading of a job: its state (and why, once it has ended), trial counts and
    budget, best value so far, time elapsed, and the sampler and early stopping the local
    engine runs and why (``sampler``, ``sampler_reason``, ``pruner``, ``pruner_reason``; None
    on the cloud backends, whose service picks); the fields after ``pruner_reason`` are
    filled by :func:`pipetune.observability.snapshot.observe` and None when not computed."""

    ref: JobRef
    state: JobState
    reason: str | None = None
    trials: TrialCounts = Field(default_factory=TrialCounts)
    max_trials: int | None = None
    best_value: float | None = None
    elapsed_seconds: float | None = None
    #: the sampler the local engine runs (``gp``, ``tpe``, ``grid``, ``nsga2``, ``random``,
    #: ``cmaes``) and why: "set in the spec (...)" or "auto: <the rule's branch>"
    sampler: str | None = None
    sampler_reason: str | None = None
    #: the early stopping the local engine applies (``none``, ``median``, ``hyperband``,
    #: ``successive_halving``) and why; None on the cloud backends
    pruner: str | None = None
    pruner_reason: str | None = None
    # filled by pipetune.observability.snapshot.observe (None when not computed)
    #: a warm-started job's parents: ``{"seeded": {parent: trials}, "left_out": {parent:
    #: trials outside this spec's ranges}}`` (None without a warm start). Parent trials seed
    #: the sampler; they are never counted in ``trials`` nor in ``best_value``.
    warm_start: dict[str, dict[str, int]] | None = None
    cost_usd: float | None = None
    converging: bool | None = None
    convergence_reason: str | None = None

    @property
    def done(self) -> bool:
        """True once the job is over for good: completed, failed or stopped (see
        :attr:`JobState.terminal`)."""
        return self.state.terminal

    @property
    def ended(self) -> bool:
        """See :attr:`JobState.ended`."""
        return self.state.ended
