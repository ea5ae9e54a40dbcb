"""One backend-neutral view of a job for sensors, waits, the CLI and the exporter.

:func:`observe` reads a job once (status, trials, cost) and applies the convergence rule;
:func:`enforce_convergence` turns a "not converging" verdict into a warning or an error, the
option the Airflow sensor and the KFP wait step expose.

Example:
    >>> from pipetune.observability.snapshot import observe, enforce_convergence  # doctest: +SKIP
    >>> snap = observe(ref)                                    # doctest: +SKIP
    >>> snap.cost.usd, snap.convergence.converging             # doctest: +SKIP
    (0.42, True)
    >>> enforce_convergence(snap, action="fail")   # raises NotConverging  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pipetune.errors import PipetuneError, UsageError
from pipetune.job import JobRef, JobStatus
from pipetune.observability.convergence import (
    ConvergenceVerdict,
    LastImprovement,
    check_convergence,
    last_improvement,
)
from pipetune.observability.cost import CostEstimate, estimate_cost
from pipetune.results import TrialRecord, own_trials
from pipetune.spec import TuningSpec

if TYPE_CHECKING:
    from pipetune.backends.base import Backend

log = logging.getLogger("pipetune.observability")

ConvergenceAction = Literal["ignore", "warn", "fail"]


class NotConverging(PipetuneError):
    """A job was flagged "not converging" and the caller asked to fail on it."""

    exit_code = 3

    def __init__(self, job: str, reason: str):
        self.job, self.reason = job, reason
        detail = reason.removeprefix("not converging: ")
        super().__init__(f"tuning job {job!r} is not converging: {detail}")


@dataclass
class JobSnapshot:
    """Everything the exporter and the status line show about one job at one moment."""

    ref: JobRef
    status: JobStatus
    spec: TuningSpec
    trials: list[TrialRecord]
    convergence: ConvergenceVerdict
    improvement: LastImprovement | None
    cost: CostEstimate | None
    cost_error: str | None
    taken_at: float

    @property
    def seconds_since_improvement(self) -> float | None:
        """Seconds from the last improvement to when the snapshot was taken; None with no
        complete trial or no finish time."""
        return self.improvement.seconds_since(self.taken_at) if self.improvement else None


def spec_of(backend: "Backend", ref: JobRef) -> TuningSpec:
    """The spec a job runs, from whichever backend holds it."""
    return backend.spec_of(ref)


def observe(ref: "JobRef | str | dict", backend: "Backend | None" = None, *,
            status: JobStatus | None = None) -> JobSnapshot:
    """Read a job once: status, trials, cost estimate, convergence, last improvement.

    A cost that cannot be read (a price missing, an API the credentials may not call) leaves
    ``cost`` None with the cause in ``cost_error``; everything else raises. ``status`` reuses
    a status the caller has just read.
    """
    from pipetune.backends import get_backend

    ref = JobRef.from_json(ref) if not isinstance(ref, str) else _local_ref(ref)
    be = backend or get_backend(ref.backend)
    status = status or be.status(ref)
    spec = spec_of(be, ref)
    trials = own_trials(be.trials(ref))  # a warm start's parent trials are not the job's
    cost, cost_error = None, None
    try:
        cost = estimate_cost(ref, be, spec=spec, trials=trials)
    except PipetuneError as exc:
        cost_error = str(exc)
    except Exception as exc:  # a cloud API the caller may not be allowed to call
        cost_error = f"{type(exc).__name__}: {exc}"
        log.debug("cost of %s unavailable", ref.name, exc_info=True)
    verdict = check_convergence(spec, trials)
    status = status.model_copy(update={
        "cost_usd": cost.usd if cost else None, "converging": verdict.converging,
        "convergence_reason": verdict.reason})
    return JobSnapshot(ref, status, spec, trials, verdict, last_improvement(spec, trials), cost,
                       cost_error, time.time())


def observed_status(ref: JobRef, backend: "Backend",
                    status: JobStatus) -> tuple[JobStatus, list[dict]]:
    """``status`` with its cost and convergence, and the range warnings (as dicts): what
    ``pipetune status`` shows. The backend keeps it once the job has ended
    (:meth:`~pipetune.backends.base.Backend.remember`); a running local job's coordinator
    answers it (:mod:`pipetune.backends.local.answering`)."""
    import json

    observed = json.loads(backend.remember(ref, OBSERVED_STATUS,
                                           lambda: observed_status_text(ref, backend, status)))
    return JobStatus.model_validate(observed["status"]), observed["range_warnings"]


#: the key :func:`observed_status` is remembered under
OBSERVED_STATUS = "observed-status"


def observed_status_text(ref: JobRef, backend: "Backend", status: JobStatus) -> str:
    """What :func:`observed_status` returns, as the JSON text a backend remembers."""
    import json

    from pipetune.observability.goldilocks import check_ranges

    snap = observe(ref, backend, status=status)
    return json.dumps({"status": json.loads(snap.status.model_dump_json()),
                       "range_warnings": [w.to_dict() for w in check_ranges(snap.spec, snap.trials)]})


def _local_ref(name: str) -> JobRef:
    from pipetune.backends.local.backend import LocalBackend

    return LocalBackend().ref(name)


def enforce_convergence(snapshot: JobSnapshot, action: ConvergenceAction = "warn",
                        logger: logging.Logger | None = None) -> ConvergenceVerdict:
    """``warn``: log a warning when not converging; ``fail``: raise :class:`NotConverging`;
    ``ignore``: nothing. Returns the verdict either way."""
    if action not in ("ignore", "warn", "fail"):
        raise UsageError(f"on_not_converging must be ignore, warn or fail, got {action!r}")
    verdict = snapshot.convergence
    if verdict.not_converging:
        if action == "fail":
            raise NotConverging(snapshot.ref.name, verdict.reason)
        if action == "warn":
            (logger or log).warning("tuning job %s: %s", snapshot.ref.name, verdict.reason)
    return verdict
