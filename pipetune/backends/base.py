"""The interface every backend implements."""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Protocol, runtime_checkable

from pipetune.errors import JobFailed, JobStopped, WaitTimeout
from pipetune.job import JobRef, JobState, JobStatus
from pipetune.results import BestResult, TrialRecord
from pipetune.spec import TuningSpec

if TYPE_CHECKING:
    from pipetune.observability.cost import CostEstimate


class Backend(abc.ABC):
    """Where a tuning spec runs: launch, watch and read a tuning job.

    Every adapter (the CLI, the Python API, the Airflow provider, the KFP components, the
    GitHub step) talks to a backend only through this interface, by way of the step
    runtime (:mod:`pipetune.runtime`): what differs between backends is a method here,
    never an ``if backend == ...`` in the caller. A method with a default below works for
    a backend that does not override it.

    ``launch`` is idempotent: the same name with the same spec attaches to the existing job;
    the same name with a different spec raises :class:`~pipetune.errors.JobConflict`.

    Example:
        >>> from pipetune import get_backend, load_spec              # doctest: +SKIP
        >>> backend = get_backend("local")                           # doctest: +SKIP
        >>> ref = backend.launch(load_spec("spec.yaml"), "nightly")   # doctest: +SKIP
        >>> backend.wait(ref).state                                  # doctest: +SKIP
        <JobState.COMPLETED: 'completed'>
        >>> backend.best(ref).params                                 # doctest: +SKIP
        {'lr': 0.012, 'depth': 6}
    """

    #: the name ``get_backend`` knows the backend by (and ``JobRef.backend`` carries)
    name: ClassVar[str] = ""
    #: the kind of credentials an adapter's connection must provide: ``"aws"``, ``"gcp"``,
    #: or None (none needed)
    credentials: ClassVar[str | None] = None
    #: the label of the job's page in the backend's console (None: the backend has none)
    console_label: ClassVar[str | None] = None
    #: the spec's guards that whatever runs the job enforces itself (of
    #: :data:`pipetune.runtime.guards.GUARDS`); every poller enforces the others
    #: (:func:`pipetune.runtime.guards.check_guards`)
    enforced_guards: ClassVar[frozenset[str]] = frozenset({"max_trials"})
    #: True when a job lives in files on the machine that runs it (under ``PIPETUNE_HOME``),
    #: so a job made elsewhere must be copied here before it can be read or warm-started from
    keeps_files: ClassVar[bool] = False

    # ---- launching --------------------------------------------------------------------------
    def validate(self, spec: TuningSpec) -> None:
        """Refuse, before any call to the backend's service, a spec it cannot run.

        Raises:
            SpecError: naming the field and what would be valid.
        """

    @abc.abstractmethod
    def launch(self, spec: TuningSpec, name: str, *, detach: bool = True) -> JobRef:
        """Start job ``name``, or attach to it when it exists with the same spec.

        Args:
            spec: The validated tuning spec.
            name: The job's name: the key that makes a retried step attach.
            detach: Return at once (True) or see the job to its end first.

        Returns:
            The job's handle, the JSON-able value adapters pass between steps.

        Raises:
            JobConflict: a job named ``name`` exists with a different spec.
        """

    def run_here(self, spec: TuningSpec, name: str, *,
                 on_status: Callable[[JobStatus], None] | None = None) -> JobRef:
        """Launch or attach, running the trials in this process where the backend runs
        them on this machine (the local engine, unless a coordinator runs the job
        already). Returns when the job has ended or runs elsewhere; ``on_status`` hears
        of each finished trial. Default: launch detached (the service runs the trials)."""
        return self.launch(spec, name, detach=True)

    def find(self, name: str) -> JobRef | None:
        """The handle of job ``name`` when the backend can find a job by its name alone
        (the local engine: its job files), else None (a cloud job's handle must be kept,
        e.g. in ``.pipetune/refs/``). Default: None."""
        return None

    # ---- watching ---------------------------------------------------------------------------
    @abc.abstractmethod
    def status(self, ref: JobRef) -> JobStatus:
        """The job's state, trial counts and best value so far; one read, no waiting."""

    async def astatus(self, ref: JobRef) -> JobStatus:
        """Status without blocking an event loop (deferrable waits). Override with a native
        async client where the backend has one."""
        import asyncio  # here: a synchronous reader need not import it

        return await asyncio.to_thread(self.status, ref)

    def poll(self, ref: JobRef, *, poll_seconds: float, timeout: float | None) -> Iterator[JobStatus]:
        """Statuses of the job, one per poll, at the backend's cadence: the first after at
        most one second, then 1.5x longer each time up to ``poll_seconds``. Backends with
        throttled APIs override it (backoff, jitter). The caller stops iterating.

        Raises:
            WaitTimeout: after ``timeout`` seconds; the job goes on.
        """
        start = time.monotonic()
        delay = min(poll_seconds, 1.0)
        while True:
            st = self.status(ref)
            yield st
            if timeout is not None and time.monotonic() - start > timeout:
                raise WaitTimeout(f"job {ref.name!r} still {st.state.value} after {timeout:.0f}s; "
                                  "it goes on running")
            time.sleep(delay)
            delay = min(poll_seconds, delay * 1.5)

    def wait(
        self,
        ref: JobRef,
        *,
        poll_seconds: float = 5.0,
        timeout: float | None = None,
        on_status: Callable[[JobStatus], None] | None = None,
    ) -> JobStatus:
        """Block until the job ends, enforcing the spec's guards on every poll where the
        backend does not (:func:`pipetune.runtime.guards.check_guards`).

        Returns:
            The final status when the job completed.

        Raises:
            JobFailed: the job failed, or was interrupted (nothing runs it any more; the
                step runtime resumes such a job instead, see :func:`pipetune.runtime.wait`).
            JobStopped: the job was stopped, by request or by a guard, with the reason.
            WaitTimeout: after ``timeout`` seconds; the job goes on.
        """
        from pipetune.runtime.waiting import wait_for

        return wait_for(self, ref, poll_seconds=poll_seconds, timeout=timeout,
                        on_status=on_status, resume_interrupted=False)

    @abc.abstractmethod
    def stop(self, ref: JobRef) -> None:
        """Ask the job to stop: no new trial starts, running ones are stopped. A no-op for
        a job that has ended."""

    def resume(self, ref: JobRef, *, detach: bool = True) -> JobRef:
        """Continue an interrupted job (what ran it died). ``detach=False`` runs it here to
        its end. Default: refused, the backend's service runs its jobs to their end.

        Raises:
            UsageError: the backend cannot resume a job.
        """
        from pipetune.errors import UsageError

        raise UsageError(f"job: {ref.name!r} is a {self.name} job; its service runs it to its "
                         "end, so there is nothing to resume (launch it again under the same "
                         "name to attach)")

    # ---- reading ----------------------------------------------------------------------------
    @abc.abstractmethod
    def trials(self, ref: JobRef) -> list[TrialRecord]:
        """Every trial of the job so far, oldest first, with typed parameters."""

    def trials_json(self, ref: JobRef) -> str:
        """:meth:`trials` as one line of JSON (pydantic's writer): what ``pipetune trials
        --json`` prints on a pipe. The local backend answers an ended job's from the text it
        kept, without building a record."""
        from pydantic import TypeAdapter

        return TypeAdapter(list[TrialRecord]).dump_json(self.trials(ref)).decode()

    @abc.abstractmethod
    def best(self, ref: JobRef) -> BestResult:
        """The best trial so far, parameters cast to the spec's types.

        Raises:
            JobFailed: no trial finished with a value.
        """

    def remember(self, ref: JobRef, key: str, compute: Callable[[], str]) -> str:
        """``compute()``: a JSON text derived from the job alone (its spec and trials; no
        clock, no credentials), such as the observed status ``pipetune status`` prints. A
        backend may keep it once the job has ended and answer later calls, in this process
        or another, without computing; this base class keeps nothing. ``key`` names the
        answer: lowercase letters, digits and dashes."""
        return compute()

    def spec_of(self, ref: JobRef) -> TuningSpec:
        """The spec the job runs. Cloud backends carry it in the handle ``launch`` returned."""
        from pipetune.errors import UsageError
        from pipetune.spec import load_spec

        body = ref.extra.get("spec")
        if not body:
            raise UsageError(f"the handle of {ref.name!r} carries no spec; use the handle "
                             "that launch returned")
        return load_spec(body)

    def estimate_cost(self, ref: JobRef, *, spec: TuningSpec | None = None,
                      trials: list[TrialRecord] | None = None) -> "CostEstimate | None":
        """What the job has cost so far, from the backend's prices; ``spec`` and ``trials``
        skip a read when the caller has them. Default: None (unknown)."""
        return None

    @classmethod
    def cost_from_trials(cls, spec: TuningSpec,
                         trials: list[TrialRecord]) -> "CostEstimate | None":
        """What trials cost from their records alone, with no call to a service (the local
        engine: CPU-seconds at the comparison price). Default: None."""
        return None

    @classmethod
    def console_url(cls, ref: JobRef) -> str | None:
        """The job's page in the backend's console; None when it has none (default).
        Needs no client: a class method."""
        return None

    # ---- adapting a spec --------------------------------------------------------------------
    @classmethod
    def with_run_settings(cls, spec: TuningSpec, *, identity: str = "",
                          output_location: str = "") -> TuningSpec:
        """The spec with a pipeline run's identity (a service account, a role) and output
        location applied where the backend takes them. Default: the spec unchanged (the
        local engine needs neither)."""
        return spec

    # ---- shared-study workers ---------------------------------------------------------------
    def prepare_shared(self, spec: TuningSpec, name: str) -> JobRef:
        """Create, once, a job that a fan-out of workers (:meth:`serve_shared`) runs
        together; idempotent. Default: refused.

        Raises:
            UsageError: the backend has no shared-study workers.
        """
        raise self._no_workers()

    def serve_shared(self, name: str, *, spec: TuningSpec | None = None,
                     trial_root: str | Path | None = None,
                     storage_url: str | None = None) -> "WorkerReport":
        """Serve the shared job ``name`` as one worker until its budget is spent.
        Default: refused.

        Raises:
            UsageError: the backend has no shared-study workers.
        """
        raise self._no_workers()

    def _no_workers(self) -> Exception:
        from pipetune.errors import UsageError

        return UsageError(f"backend: the {self.name} backend has no shared-study workers "
                          "(the local engine and Vertex Vizier studies have)")


@dataclass
class WorkerReport:
    """What one shared-study worker did: the job, its id, trials it ran, the job's state."""

    job: JobRef
    worker: str
    trials_run: int
    state: str


@dataclass
class TrainingOutcome:
    """How one training with fixed hyperparameters ended where the backend runs it.

    ``state`` uses the trial states (complete, failed, stopped); ``where`` names the run
    (for SageMaker, the training job's ARN).
    """

    state: str
    metrics: dict[str, float] = field(default_factory=dict)
    reason: str | None = None
    duration: float | None = None
    where: str | None = None


@runtime_checkable
class TrainingRunner(Protocol):
    """A backend that can also run a single training with given hyperparameters where it
    tunes (SageMaker: one training job with the tuning job's training definition). The
    proxy workflow verifies its candidates through it instead of on this machine."""

    #: URI schemes the runner's trainings can read data from (e.g. ``("s3://",)``)
    data_schemes: tuple[str, ...]

    def check_training(self, spec: TuningSpec) -> None:
        """Refuse, before any call, a spec whose training the runner cannot run."""

    def training_name(self, spec: TuningSpec, name: str, rank: int, params: dict[str, Any]) -> str:
        """The deterministic name of the training of ``params`` for run ``name``."""

    def run_training(self, spec: TuningSpec, params: dict[str, Any], job_name: str, *,
                     poll_seconds: float = 30.0) -> TrainingOutcome:
        """Run (or attach to) the training ``job_name`` and wait for it to end."""


def raise_for_terminal(st: JobStatus) -> JobStatus:
    """Turn a terminal status into a return (completed) or an exception."""
    raise_for_state(st.state, st.reason, st.ref.name)
    return st


def raise_for_state(state: JobState, reason: str | None, job: str) -> None:
    """The one rule for every waiting path: only ``completed`` is success; Stopped raises
    JobStopped; Failed and Interrupted (nothing runs the job any more, so waiting on would
    never end) raise JobFailed, with the backend's reason."""
    if state == JobState.COMPLETED:
        return
    if state == JobState.STOPPED:
        raise JobStopped(job, reason or "stopped")
    raise JobFailed(job, reason or state.value)
