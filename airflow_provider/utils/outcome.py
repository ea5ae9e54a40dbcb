"""One rule for every waiting path (sync wait, sensor poke, trigger event): only
``completed`` is success; failed, stopped, interrupted and errors fail the task with the
backend's reason.

Where a retry cannot help, the task fails at once, without retry
(:class:`~airflow.sdk.exceptions.AirflowFailException`): the job failed or was stopped
(a retry polling it would find it so again), it is not converging, or the input is wrong
(a spec error, an unknown job, a missing extra). An error reading the job's status stays
retryable. The launching operator decides for itself: with ``relaunch_failed`` its retry
launches a fresh job, which may help (``check_outcome(..., retryable=True)``).

Example:
    >>> check_outcome("completed", None, "nightly")
    >>> check_outcome("stopped", "stopped on request", "nightly")
    Traceback (most recent call last):
    ...
    airflow.sdk.exceptions.AirflowFailException: tuning job 'nightly' was stopped: stopped on request
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from airflow.sdk.exceptions import AirflowFailException

from pipetune.backends.base import raise_for_state
from pipetune.errors import JobFailed, JobStopped, MissingExtra, PipetuneError, SpecError, UsageError
from pipetune.job import JobState


class TriggerError(PipetuneError):
    """The trigger could not read the job's status."""


#: a user's mistake: no retry changes the input
USER_ERRORS: tuple[type[Exception], ...] = (SpecError, UsageError, MissingExtra)


def _final_errors() -> tuple[type[Exception], ...]:
    from pipetune.observability.snapshot import NotConverging

    return (*USER_ERRORS, JobFailed, JobStopped, NotConverging)


@contextlib.contextmanager
def no_retry(*, job_outcome: bool = True) -> Iterator[None]:
    """Turn what no retry can change into :class:`AirflowFailException` (the task fails at
    once, with pipetune's one-line message): a user's mistake and, with ``job_outcome``, a
    job that failed, was stopped or is not converging. Anything else passes unchanged."""
    final = _final_errors() if job_outcome else USER_ERRORS
    try:
        yield
    except final as exc:
        raise AirflowFailException(str(exc)) from None


def check_outcome(state: str, reason: str | None, job_name: str, *, retryable: bool = False) -> None:
    """Return for ``completed``; raise with the reason for anything else. A failed,
    stopped, interrupted or not-converging job raises :class:`AirflowFailException`,
    unless ``retryable`` (a retry that would launch a fresh job): then the pipetune error
    itself (JobFailed, JobStopped, NotConverging)."""
    if state == "error":
        raise TriggerError(f"waiting for tuning job {job_name!r} failed: {reason}")
    try:
        job_state = JobState(state)
    except ValueError:
        job_state = None
    if state != "not_converging" and (job_state is None or not job_state.ended):
        raise PipetuneError(f"tuning job {job_name!r} is still {state}; it has not ended")
    with no_retry(job_outcome=not retryable):
        if state == "not_converging":
            from pipetune.observability.snapshot import NotConverging

            raise NotConverging(job_name, reason or "not converging")
        if job_state == JobState.INTERRUPTED and not reason:
            reason = "interrupted: the process running the trials is gone"
        assert job_state is not None
        raise_for_state(job_state, reason, job_name)
