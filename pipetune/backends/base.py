"""The interface every backend implements."""

from __future__ import annotations

import abc
import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol, runtime_checkable

from pipetune.errors import JobFailed, JobStopped, WaitTimeout
from pipetune.job import JobRef, JobState, JobStatus
from pipetune.results import BestResult, TrialRecord
from pipetune.spec import TuningSpec


class Backend(abc.ABC):
    """Launch, watch and read a tuning job.

    ``launch`` is idempotent: the same name with the same spec attaches to the existing job;
    the same name with a different spec raises :class:`~pipetune.errors.JobConflict`.
    """

    name: str = ""

    def validate(self, spec: TuningSpec) -> None:
        """Backend-specific checks, run before any call; raise SpecError."""

    @abc.abstractmethod
    def launch(self, spec: TuningSpec, name: str, *, detach: bool = True) -> JobRef: ...

    @abc.abstractmethod
    def status(self, ref: JobRef) -> JobStatus: ...

    @abc.abstractmethod
    def stop(self, ref: JobRef) -> None: ...

    @abc.abstractmethod
    def trials(self, ref: JobRef) -> list[TrialRecord]: ...

    @abc.abstractmethod
    def best(self, ref: JobRef) -> BestResult: ...

    def spec_of(self, ref: JobRef) -> TuningSpec:
        """The spec the job runs. Cloud backends carry it in the handle ``launch`` returned."""
        from pipetune.errors import UsageError
        from pipetune.spec import load_spec

        body = ref.extra.get("spec")
        if not body:
            raise UsageError(f"the handle of {ref.name!r} carries no spec; use the handle "
                             "that launch returned")
        return load_spec(body)

    async def astatus(self, ref: JobRef) -> JobStatus:
        """Status without blocking an event loop (deferrable waits). Override with a native
        async client where the backend has one."""
        return await asyncio.to_thread(self.status, ref)

    def wait(
        self,
        ref: JobRef,
        *,
        poll_seconds: float = 5.0,
        timeout: float | None = None,
        on_status: Callable[[JobStatus], None] | None = None,
    ) -> JobStatus:
        """Block until the job ends. Completed returns; Failed and Stopped raise."""
        for st in self.poll(ref, poll_seconds=poll_seconds, timeout=timeout):
            if on_status:
                on_status(st)
            if st.state.terminal or st.state == JobState.INTERRUPTED:
                return raise_for_terminal(st)
        raise AssertionError("unreachable: Backend.poll never ends by itself")

    def poll(self, ref: JobRef, *, poll_seconds: float, timeout: float | None) -> Iterator[JobStatus]:
        """Statuses of the job, one per poll, at the backend's cadence: the first at once,
        the next after at most one second, then 1.5x longer each time up to
        ``poll_seconds``. Backends override it (throttled APIs back off; the local backend
        watches the job's files). The caller stops iterating.

        Raises:
            WaitTimeout: after ``timeout`` seconds; the job goes on.
        """
        start = time.monotonic()
        delay = min(poll_seconds, 1.0)
        while True:
            st = self.status(ref)
            yield st
            if timeout is not None and time.monotonic() - start > timeout:
                raise WaitTimeout(f"job {ref.name!r} still {st.state.value} after {timeout:.0f}s")
            time.sleep(delay)
            delay = min(poll_seconds, delay * 1.5)


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
