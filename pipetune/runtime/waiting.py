"""Waiting for a job, the one way every adapter does: each poll resumes an interrupted
job (where the backend can), applies the guards (:mod:`.guards`), and a job that has ended
returns (completed) or raises with the backend's reason.

:func:`settle` is one poll's work, shared by the blocking wait (:func:`wait_for`), the
Airflow sensor's poke and the deferrable trigger (:func:`asettle`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Literal

from pipetune.job import JobRef, JobState, JobStatus

if TYPE_CHECKING:
    from pipetune.backends.base import Backend

#: what a poll does with an interrupted job: run it here to its end (a step that blocks
#: anyway), resume it in the background (a sensor or trigger that must not block), or
#: report it (it then fails with the reason)
ResumeMode = Literal["here", "detached", "no"]


def settle(backend: "Backend", ref: JobRef, st: JobStatus, *, resume: ResumeMode = "here",
           on_not_converging: str = "ignore",
           on_status: Callable[[JobStatus], None] | None = None) -> JobStatus:
    """One poll's work on the status ``st`` just read: resume an interrupted job
    (``resume``), then the guards. Returns the status to act on; ``.ended`` says whether
    to stop polling."""
    from pipetune.runtime.guards import check_guards

    if st.state == JobState.INTERRUPTED and resume != "no":
        if on_status is not None:
            on_status(st)
        backend.resume(ref, detach=resume == "detached")
        st = backend.status(ref)
    return check_guards(backend, ref, st, on_not_converging=on_not_converging)


async def asettle(backend: "Backend", ref: JobRef, *, resume: ResumeMode = "detached",
                  on_not_converging: str = "ignore") -> JobStatus:
    """:func:`settle` for an event loop: the status through the backend's async client,
    the rest (resume, guards, which may read trials and costs) in a thread."""
    from pipetune.runtime.guards import GUARDS

    st = await backend.astatus(ref)
    if st.state != JobState.INTERRUPTED and on_not_converging == "ignore" and (
            st.ended or backend.enforced_guards >= GUARDS):
        return st  # nothing more to do: no thread needed
    import asyncio  # here: a synchronous reader need not import it

    return await asyncio.to_thread(settle, backend, ref, st, resume=resume,
                                   on_not_converging=on_not_converging)


def wait_for(backend: "Backend", ref: JobRef, *, poll_seconds: float = 5.0,
             timeout: float | None = None, on_status: Callable[[JobStatus], None] | None = None,
             resume_interrupted: bool = True, on_not_converging: str = "ignore") -> JobStatus:
    """Block until the job ends, at the backend's polling cadence (:meth:`Backend.poll`).

    Returns the final status when the job completed; raises JobFailed or JobStopped with
    the reason, WaitTimeout after ``timeout`` seconds (the job goes on), NotConverging
    with ``on_not_converging="fail"``.
    """
    from pipetune.backends.base import raise_for_terminal
    from pipetune.runtime.guards import check_action

    check_action(on_not_converging)
    resume: ResumeMode = "here" if resume_interrupted else "no"
    for st in backend.poll(ref, poll_seconds=poll_seconds, timeout=timeout):
        st = settle(backend, ref, st, resume=resume, on_not_converging=on_not_converging,
                    on_status=on_status)
        if on_status is not None:
            on_status(st)
        if st.ended:
            return raise_for_terminal(st)
    raise AssertionError("unreachable: Backend.poll never ends by itself")
