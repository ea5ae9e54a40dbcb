"""The guards every poller applies: one function, :func:`check_guards`, for the step
runtime's wait, the Airflow sensor's poke and the deferrable trigger alike.

Where the job runs enforces the spec's guards when it can: the local engine's coordinator
stops a job at ``budget.max_trials``, ``budget.max_failed``, ``budget.timeout`` and
``budget.max_cost_usd`` itself (its backend's ``enforced_guards``), so a job launched
by a step that never waits is guarded too, and ``convergence.stop`` stops a job flagged
"not converging". For a cloud job, whoever is polling it enforces what the service does
not: ``budget.max_failed``, ``budget.timeout``, the cost estimate against
``budget.max_cost_usd`` and ``convergence.stop``; the job is then stopped, and the poll
reports it ``failed`` (too many failures) or ``stopped`` with the reason. The convergence rule (docs/observability.md) is checked on every poll when the
caller asks for it (``on_not_converging``: ``warn`` or ``fail``).

Example:
    >>> from pipetune import get_backend                              # doctest: +SKIP
    >>> be = get_backend("sagemaker")                                 # doctest: +SKIP
    >>> st = check_guards(be, ref, be.status(ref), on_not_converging="fail")  # doctest: +SKIP
    >>> st.state, st.reason                                           # doctest: +SKIP
    (<JobState.STOPPED: 'stopped'>, 'stopped by pipetune: estimated cost $2.0100 passed budget.max_cost_usd $2 (...)')
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from pipetune.errors import UsageError
from pipetune.job import JobRef, JobState, JobStatus

if TYPE_CHECKING:
    from pipetune.backends.base import Backend
    from pipetune.spec import TuningSpec

#: the guards a spec can set; a backend's ``enforced_guards`` says which its service applies
GUARDS = frozenset({"max_trials", "max_failed", "timeout", "max_cost_usd", "convergence"})

ConvergenceAction = Literal["ignore", "warn", "fail"]
CONVERGENCE_ACTIONS = ("ignore", "warn", "fail")

log = logging.getLogger("pipetune.runtime")


def check_action(action: str) -> str:
    """``on_not_converging`` as given, or a UsageError naming the field."""
    if action not in CONVERGENCE_ACTIONS:
        raise UsageError(f"on_not_converging: must be ignore, warn or fail, got {action!r}")
    return action


def service_guard(spec: "TuningSpec", backend: "Backend", ref: JobRef,
                  st: JobStatus) -> tuple[JobState, str] | None:
    """Whether a running cloud job must be stopped now, and how it then ends: more trials
    failed than ``budget.max_failed`` (failed), it ran past ``budget.timeout``, its cost
    estimate passed ``budget.max_cost_usd``, or it is not converging under
    ``convergence.stop`` (stopped). None while it may go on. The reasons are worded as
    the local engine's."""
    budget, done = spec.budget, backend.enforced_guards
    if "max_failed" not in done and st.trials.failed > budget.effective_max_failed:
        failed = [t for t in backend.trials(ref) if t.state == "failed"]
        last = (failed[-1].reason if failed else None) or "unknown"
        return JobState.FAILED, (f"{st.trials.failed} trials failed, more than max_failed="
                                 f"{budget.effective_max_failed}; last failure: {last}")
    if "timeout" not in done and budget.timeout is not None \
            and st.elapsed_seconds is not None and st.elapsed_seconds > budget.timeout:
        return JobState.STOPPED, f"stopped by pipetune: job timeout of {budget.timeout:g}s reached"
    if "max_cost_usd" not in done and budget.max_cost_usd is not None:
        from pipetune.observability.budget import over_budget

        estimate = backend.estimate_cost(ref, spec=spec)
        reason = over_budget(spec, estimate) if estimate is not None else None
        if reason is not None:
            return JobState.STOPPED, reason
    if "convergence" not in done and spec.convergence is not None and spec.convergence.stop:
        from pipetune.observability.convergence import stop_reason

        reason = stop_reason(spec, backend.trials(ref))
        if reason is not None:
            return JobState.STOPPED, reason
    return None


def check_guards(backend: "Backend", ref: JobRef, st: JobStatus, *,
                 on_not_converging: str = "ignore",
                 logger: logging.Logger | None = None) -> JobStatus:
    """Apply the guards to one poll's status; returns the status to act on.

    A cloud job that breaks a guard is stopped and reported ``stopped`` (``failed`` past
    ``budget.max_failed``) with the reason, at once (the service may take a while to say
    so itself). With ``on_not_converging`` ``warn``
    a job flagged "not converging" is logged, with ``fail``
    :class:`~pipetune.observability.snapshot.NotConverging` is raised; a job that failed
    or was stopped is not judged.
    """
    check_action(on_not_converging)
    if not st.ended and not backend.enforced_guards >= GUARDS:
        spec = backend.spec_of(ref)
        verdict = service_guard(spec, backend, ref, st)
        if verdict is not None:
            backend.stop(ref)
            return st.model_copy(update={"state": verdict[0], "reason": verdict[1]})
    if on_not_converging != "ignore" and st.state not in (
            JobState.FAILED, JobState.STOPPED, JobState.INTERRUPTED):
        from pipetune.observability.snapshot import enforce_convergence, observe

        enforce_convergence(observe(ref, backend, status=st), on_not_converging,  # type: ignore[arg-type]
                            logger or log)
    return st
