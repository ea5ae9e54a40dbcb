"""The step runtime: what every adapter does with a job, once, in the core.

The CLI, the Python API, the Airflow hook, operators, sensor and trigger, the KFP
components and the GitHub step each translate their idioms into these calls and nothing
more: build the backend (:func:`backend_for`), read a job handle (:func:`parse_job`),
launch or attach (:func:`launch`), run a job here to its end (:func:`run`), wait with the
guards, resuming an interrupted job (:func:`wait`), and read the typed best result
(:func:`best`).

Example:
    >>> from pipetune import load_spec, runtime                      # doctest: +SKIP
    >>> spec = load_spec("examples/quickstart/spec.yaml")             # doctest: +SKIP
    >>> ref = runtime.launch(spec, job_name="qs")                     # doctest: +SKIP
    >>> runtime.wait(ref, poll_seconds=5).state                       # doctest: +SKIP
    <JobState.COMPLETED: 'completed'>
    >>> runtime.best(ref).params                                      # doctest: +SKIP
    {'learning_rate': 0.08, 'max_depth': 5, ...}
"""

from __future__ import annotations

from typing import Any, Callable

from pipetune.backends import Backend, get_backend
from pipetune.errors import SpecError, UsageError
from pipetune.job import JobRef, JobStatus, parse_job_ref
from pipetune.results import BestResult, TrialRecord
from pipetune.runtime.waiting import wait_for
from pipetune.spec import TuningSpec


def backend_for(name: str, options: dict[str, Any] | None = None) -> Backend:
    """A backend by name; ``options`` are its constructor's keyword arguments."""
    if options is not None and not isinstance(options, dict):
        raise UsageError(f"backend_options: must be a mapping, got {type(options).__name__}")
    try:
        return get_backend(name, **dict(options or {}))
    except TypeError as exc:
        raise UsageError(f"backend_options: {exc} (for the {name} backend)") from None


def parse_job(job: Any, *, backend: str | None = None, field: str = "job") -> JobRef:
    """A JobRef from what a launch step output (its JSON, dict or repr), or a bare job name
    with ``backend``; a clear UsageError naming ``field`` for anything else."""
    return parse_job_ref(job, backend=backend, field=field)


def _named(spec: TuningSpec, job_name: str, backend: str) -> tuple[TuningSpec, str]:
    name = (job_name or spec.name or "").strip()
    if not name:
        raise SpecError("no job name: pass job_name or set `name` in the spec", field="name")
    if backend and backend != spec.backend:
        spec = spec.with_overrides(backend=backend)
    return spec, name


def launch(spec: TuningSpec, *, job_name: str = "", backend: str = "",
           backend_options: dict[str, Any] | None = None,
           using: Backend | None = None) -> JobRef:
    """Launch job ``job_name`` (default the spec's name), or attach to it when it exists
    with the same spec (a retried step); returns at once. The backend's checks run first,
    before any call to its service. ``using`` is a backend built already (an Airflow
    connection's); else ``backend`` (default the spec's) with ``backend_options``."""
    spec, name = _named(spec, job_name, backend)
    be = using or backend_for(spec.backend, backend_options)
    be.validate(spec)
    return be.launch(spec, name, detach=True)


def run(spec: TuningSpec, *, job_name: str = "", backend: str = "",
        backend_options: dict[str, Any] | None = None, using: Backend | None = None,
        poll_seconds: float = 5.0, timeout: float | None = None,
        on_status: Callable[[JobStatus], None] | None = None,
        on_launched: Callable[[JobRef], None] | None = None,
        on_not_converging: str = "ignore") -> JobRef:
    """Launch or attach, and see the job to its end from here: the local engine runs the
    trials in this process (unless a coordinator runs the job already), a cloud job is
    waited for. Returns the handle of the completed job; raises as :func:`wait`.

    ``on_launched`` hears of the handle as soon as it exists (for a cloud job, before the
    wait; for a job run here, when it has ended)."""
    spec, name = _named(spec, job_name, backend)
    be = using or backend_for(spec.backend, backend_options)
    be.validate(spec)
    ref = be.run_here(spec, name, on_status=on_status)
    if on_launched is not None:
        on_launched(ref)
    wait(ref, using=be, poll_seconds=poll_seconds, timeout=timeout, on_status=on_status,
         on_not_converging=on_not_converging)
    return ref


def wait(ref: JobRef, *, backend_options: dict[str, Any] | None = None,
         using: Backend | None = None, poll_seconds: float = 10.0,
         timeout: float | None = None, resume_interrupted: bool = True,
         on_not_converging: str = "ignore",
         on_status: Callable[[JobStatus], None] | None = None) -> JobStatus:
    """Block until the job ends; raise JobFailed/JobStopped/WaitTimeout unless it completed.

    Every poll applies the guards (:func:`pipetune.runtime.guards.check_guards`). A job
    whose coordinator is gone (the launch step's container ended) is resumed in this
    process when ``resume_interrupted``: the step that waits does the work, and trials the
    dead coordinator left running are retried once, never counted twice.

    ``on_not_converging`` (``ignore``, ``warn``, ``fail``) applies the convergence rule of
    docs/observability.md on every poll and when the job ends.
    """
    be = using or backend_for(ref.backend, backend_options)
    return wait_for(be, ref, poll_seconds=poll_seconds, timeout=timeout or None,
                    on_status=on_status, resume_interrupted=resume_interrupted,
                    on_not_converging=on_not_converging)


def stop(ref: JobRef, *, backend_options: dict[str, Any] | None = None,
         using: Backend | None = None) -> JobStatus:
    """Ask the job to stop, unless it has ended already (completed, failed or stopped):
    then nothing is asked. Returns the status read before asking; ``.state.terminal``
    says the job had ended, and its ``reason`` why.

    Example:
        >>> st = runtime.stop(ref)                                     # doctest: +SKIP
        >>> "already ended" if st.state.terminal else "stop requested" # doctest: +SKIP
        'already ended'
    """
    be = using or backend_for(ref.backend, backend_options)
    st = be.status(ref)
    if not st.state.terminal:
        be.stop(ref)
    return st


def resume(ref: JobRef, *, detach: bool = True, backend_options: dict[str, Any] | None = None,
           using: Backend | None = None) -> JobStatus:
    """Continue an interrupted job (what ran it died), in the background or, with
    ``detach=False``, here to its end. A job whose coordinator lives is left as it is
    (the backend decides); the status after the call is returned.

    Raises:
        UsageError: the job has ended (completed, failed or stopped): there is nothing to
            resume, and the message says how to go on from its trials instead; or the
            backend cannot resume a job (its service runs it to its end).
    """
    be = using or backend_for(ref.backend, backend_options)
    if type(be).resume is Backend.resume:
        be.resume(ref, detach=detach)  # the contract's refusal, before any call to a service
    st = be.status(ref)
    if st.state.terminal:
        why = f" ({st.reason})" if st.reason else ""
        raise UsageError(
            f"job {ref.name!r} has ended: {st.state.value}{why}; only an interrupted job "
            "(what ran it died) can be resumed. To go on from its trials, launch the spec under "
            f"a new name with `warm_start: {{parents: [{ref.name}]}}`")
    be.resume(ref, detach=detach)  # the backend judges the rest: a live job is left alone
    return be.status(ref)


def best(ref: JobRef, *, backend_options: dict[str, Any] | None = None,
         using: Backend | None = None, spec: TuningSpec | None = None) -> BestResult:
    """The typed best result. With ``spec``, parameters are cast again to the spec's types
    (a guard for backends that return numbers as floats or strings)."""
    from pipetune.results import cast_params

    be = using or backend_for(ref.backend, backend_options)
    result = be.best(ref)
    if spec is not None:
        result = result.model_copy(update={"params": cast_params(spec, result.params)})
    return result


def best_outputs(ref: JobRef, *, backend_options: dict[str, Any] | None = None,
                 using: Backend | None = None,
                 spec: TuningSpec | None = None) -> tuple[BestResult, list[TrialRecord]]:
    """The typed best result (see :func:`best`) and the trial table."""
    be = using or backend_for(ref.backend, backend_options)
    return best(ref, using=be, spec=spec), be.trials(ref)
