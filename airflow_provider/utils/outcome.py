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

from pipetune.errors import JobFailed, JobStopped, PipetuneError


class TriggerError(PipetuneError):
    """The trigger could not read the job's status."""


def check_outcome(state: str, reason: str | None, job_name: str) -> None:
    if state == "completed":
        return
    if state == "stopped":
        raise JobStopped(job_name, reason or "stopped")
    if state == "failed":
        raise JobFailed(job_name, reason or "failed")
    if state == "interrupted":
        raise JobFailed(job_name, reason or "interrupted: the process running the trials is gone")
    if state == "error":
        raise TriggerError(f"waiting for tuning job {job_name!r} failed: {reason}")
    raise PipetuneError(f"tuning job {job_name!r} is still {state}; it has not ended")
