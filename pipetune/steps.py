"""What a pipeline step does, once, for every workflow adapter (KFP components, Airflow
operators): read a spec handed over as text or a dict, launch, wait (resuming a local job
whose coordinator died with its container), and read the typed best result.

Everything here returns plain JSON-able values, so an adapter only moves them around.

Example:
    >>> spec = spec_from_inputs(spec_dict={                  # doctest: +SKIP
    ...     "parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
    ...     "objectives": [{"metric": "loss", "goal": "minimize"}],
    ...     "trial": {"callable": "math:fabs"}})
    >>> ref = launch(spec, job_name="nightly")              # doctest: +SKIP
    >>> wait(ref).state                                     # doctest: +SKIP
    >>> best_outputs(ref)["params"]                         # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import Any

from pipetune.backends import Backend, get_backend
from pipetune.backends.base import raise_for_terminal
from pipetune.errors import SpecError, UsageError
from pipetune.job import JobRef, JobState, JobStatus
from pipetune.results import BestResult, TrialRecord
from pipetune.spec import TuningSpec, load_spec


def spec_from_inputs(spec: str | None = None, spec_dict: dict[str, Any] | None = None) -> TuningSpec:
    """The spec from exactly one of a YAML/JSON string (or a path) and a dict."""
    text = (spec or "").strip()
    if bool(text) == bool(spec_dict):
        raise SpecError("give exactly one of `spec` (YAML or JSON text) and `spec_dict`",
                        field="spec")
    return load_spec(dict(spec_dict) if spec_dict else text)


def backend_for(name: str, options: dict[str, Any] | None = None) -> Backend:
    """A backend by name; ``options`` are its constructor's keyword arguments."""
    options = dict(options or {})
    try:
        return get_backend(name, **options)
    except TypeError as exc:
        raise UsageError(f"backend_options: {exc} (for the {name} backend)") from None


def parse_job(job: "str | dict[str, Any] | JobRef") -> JobRef:
    """A JobRef from the JSON a launch step wrote; a clear error for anything else."""
    try:
        return JobRef.from_json(job)
    except Exception as exc:  # pydantic or JSON errors: the user passed the wrong value
        raise UsageError(f"job: not a pipetune job handle ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0]}); pass the `job` output of a launch step"
                         ) from None


def launch(spec: TuningSpec, *, job_name: str = "", backend: str = "",
           backend_options: dict[str, Any] | None = None) -> JobRef:
    """Launch (or, on a retry, attach to) the job; returns at once."""
    name = (job_name or spec.name or "").strip()
    if not name:
        raise SpecError("no job name: pass job_name or set `name` in the spec", field="name")
    backend_name = backend or spec.backend
    if backend_name != spec.backend:
        spec = spec.with_overrides(backend=backend_name)
    return backend_for(backend_name, backend_options).launch(spec, name, detach=True)


def wait(ref: JobRef, *, backend_options: dict[str, Any] | None = None,
         poll_seconds: float = 10.0, timeout: float | None = None,
         resume_interrupted: bool = True, on_not_converging: str = "ignore") -> JobStatus:
    """Block until the job ends; raise JobFailed/JobStopped/WaitTimeout unless it completed.

    A local job whose coordinator is gone (the launch step's container ended) is resumed in
    this process when ``resume_interrupted``: the step that waits does the work, and trials
    the dead coordinator left running are retried once, never counted twice.

    ``on_not_converging`` (``ignore``, ``warn``, ``fail``) checks the convergence rule of
    docs/observability.md each time more trials have finished, and when the job ends.
    """
    be = backend_for(ref.backend, backend_options)
    check = _convergence_check(ref, be, on_not_converging)
    if resume_interrupted and hasattr(be, "resume"):
        st = be.status(ref)
        if st.state == JobState.INTERRUPTED:
            be.resume(ref, detach=False)
            st = raise_for_terminal(be.status(ref))
            check(st)
            return st
    st = be.wait(ref, poll_seconds=poll_seconds, timeout=timeout or None, on_status=check)
    check(st)
    return st


def _convergence_check(ref: JobRef, be: Backend, action: str):
    from pipetune.observability.snapshot import enforce_convergence, observe

    if action not in ("ignore", "warn", "fail"):
        raise UsageError(f"on_not_converging must be ignore, warn or fail, got {action!r}")
    seen = [-1]

    def check(st: JobStatus) -> None:
        if action == "ignore" or st.trials.finished == seen[0]:
            return
        seen[0] = st.trials.finished
        enforce_convergence(observe(ref, be, status=st), action)  # type: ignore[arg-type]

    return check


def best_outputs(ref: JobRef, *, backend_options: dict[str, Any] | None = None,
                 spec: TuningSpec | None = None) -> tuple[BestResult, list[TrialRecord]]:
    """The typed best result and the trial table.

    With ``spec``, parameters are cast again to the spec's types (a guard for backends
    that return numbers as floats or strings).
    """
    from pipetune.results import cast_params

    be = backend_for(ref.backend, backend_options)
    best = be.best(ref)
    trials = be.trials(ref)
    if spec is not None:
        best = best.model_copy(update={"params": cast_params(spec, best.params)})
    return best, trials


def params_json(best: BestResult, *, include_static: bool = True) -> str:
    """The best parameters as JSON text: integers stay integers, unlike a KFP dict."""
    params = {**best.static, **best.params} if include_static else dict(best.params)
    return json.dumps(params, sort_keys=True)


def spec_of(ref: JobRef, backend_options: dict[str, Any] | None = None) -> TuningSpec | None:
    """The spec a job runs, when its backend keeps it (local: the job files; cloud
    backends: the handle)."""
    if ref.backend == "local":
        return backend_for("local", backend_options).spec_of(ref)
    body = ref.extra.get("spec")  # no client needed: cloud handles carry their spec
    return load_spec(body) if body else None


def with_data(spec: TuningSpec, path: str, *, data_param: str = "") -> TuningSpec:
    """The spec with a data set's path handed to every trial as the static hyperparameter
    ``data_param`` (default: ``proxy.data_param`` of the spec, else ``data``)."""
    name = data_param or (spec.proxy.data_param if spec.proxy else "data")
    if any(p.name == name for p in spec.parameters):
        raise SpecError(f"{name!r} is a tuned parameter; choose another data_param",
                        field="proxy.data_param")
    return spec.with_overrides(static={name: path})


def with_run_settings(spec: TuningSpec, *, backend: str = "", service_account: str = "",
                      output_root: str = "", job_name: str = "") -> TuningSpec:
    """The spec with a pipeline run's identity and output location applied to the backend
    that needs them: Vertex ``service_account`` / ``base_output_directory``, SageMaker
    ``role_arn`` / ``output_path``. The local engine needs neither: unchanged."""
    backend = backend or spec.backend
    root = output_root.rstrip("/")
    where = f"{root}/{job_name}" if root and job_name else root
    if backend == "vertex":
        extra = {k: v for k, v in (("service_account", service_account),
                                   ("base_output_directory", where)) if v}
        return spec.with_overrides(vertex={**(spec.vertex or {}), **extra}) if extra else spec
    if backend == "sagemaker":
        extra = {k: v for k, v in (("role_arn", service_account), ("output_path", where)) if v}
        return spec.with_overrides(sagemaker={**(spec.sagemaker or {}), **extra}) if extra else spec
    return spec



class user_errors:
    """Context manager for a step's body: a pipetune error (a user's mistake, or a job that
    failed) ends the step with its one-paragraph message and the error's exit code, no
    traceback; anything else propagates as the crash it is."""

    def __enter__(self) -> "user_errors":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        from pipetune.errors import PipetuneError

        if exc is not None and isinstance(exc, PipetuneError):
            import sys

            print(f"error: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(exc.exit_code) from None
        return False
