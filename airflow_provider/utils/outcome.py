"""One rule for every waiting path (sync wait, sensor poke, trigger event): only
``completed`` is success; failed, stopped, interrupted and errors fail the task with the
backend's reason.

Example:
    >>> check_outcome("completed", None, "nightly")
    >>> check_outcome("stopped", "stopped on request", "nightly")
    Traceback (most recent call last):
    ...
    pipetune.errors.JobStopped: tuning job 'nightly' was stopped: stopped on request
"""

from __future__ import annotations

from pipetune.backends.base import raise_for_state
from pipetune.errors import PipetuneError
from pipetune.job import JobState


class TriggerError(PipetuneError):
    """The trigger could not read the job's status."""


def check_outcome(state: str, reason: str | None, job_name: str) -> None:
    """Return for ``completed``; raise with the reason for anything else."""
    if state == "error":
        raise TriggerError(f"waiting for tuning job {job_name!r} failed: {reason}")
    if state == "not_converging":
        from pipetune.observability.snapshot import NotConverging

        raise NotConverging(job_name, reason or "not converging")
    try:
        job_state = JobState(state)
    except ValueError:
        job_state = None
    if job_state is None or not job_state.ended:
        raise PipetuneError(f"tuning job {job_name!r} is still {state}; it has not ended")
    if job_state == JobState.INTERRUPTED and not reason:
        reason = "interrupted: the process running the trials is gone"
    raise_for_state(job_state, reason, job_name)
