"""What a pipeline step does, for the workflow adapters (KFP components, Airflow
operators): read a spec handed over as text or a dict, apply a run's data and settings,
launch, wait (resuming a local job whose coordinator died with its container), and read
the typed best result. The job itself is handled by the step runtime
(:mod:`pipetune.runtime`); this module keeps its names importable for the components.

Everything here returns plain JSON-able values, so an adapter only moves them around.

Example:
    >>> spec = spec_from_inputs(spec_dict={                  # doctest: +SKIP
    ...     "parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
    ...     "objectives": [{"metric": "loss", "goal": "minimize"}],
    ...     "trial": {"callable": "math:fabs"}})
    >>> ref = launch(spec, job_name="nightly")              # doctest: +SKIP
    >>> wait(ref).state                                     # doctest: +SKIP
    >>> best_outputs(ref)[0].params                         # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import Any

from pipetune import runtime
from pipetune.errors import SpecError
from pipetune.job import JobRef, JobStatus
from pipetune.results import BestResult
from pipetune.runtime import backend_for, best_outputs, parse_job
from pipetune.spec import TuningSpec, load_spec


def spec_from_inputs(spec: str | None = None, spec_dict: dict[str, Any] | None = None) -> TuningSpec:
    """The spec from exactly one of a YAML/JSON string (or a path) and a dict."""
    text = (spec or "").strip()
    if bool(text) == bool(spec_dict):
        raise SpecError("give exactly one of `spec` (YAML or JSON text) and `spec_dict`",
                        field="spec")
    return load_spec(dict(spec_dict) if spec_dict else text)


def launch(spec: TuningSpec, *, job_name: str = "", backend: str = "",
           backend_options: dict[str, Any] | None = None) -> JobRef:
    """Launch (or, on a retry, attach to) the job; returns at once (:func:`runtime.launch`)."""
    return runtime.launch(spec, job_name=job_name, backend=backend,
                          backend_options=backend_options)


def wait(ref: JobRef, *, backend_options: dict[str, Any] | None = None,
         poll_seconds: float = 10.0, timeout: float | None = None,
         resume_interrupted: bool = True, on_not_converging: str = "ignore") -> JobStatus:
    """Block until the job ends, with the guards, resuming an interrupted job
    (:func:`runtime.wait`)."""
    return runtime.wait(ref, backend_options=backend_options, poll_seconds=poll_seconds,
                        timeout=timeout, resume_interrupted=resume_interrupted,
                        on_not_converging=on_not_converging)


def params_json(best: BestResult, *, include_static: bool = True) -> str:
    """The best parameters as JSON text: integers stay integers, unlike a KFP dict."""
    params = {**best.static, **best.params} if include_static else dict(best.params)
    return json.dumps(params, sort_keys=True)


def spec_of(ref: JobRef, backend_options: dict[str, Any] | None = None) -> TuningSpec | None:
    """The spec a job runs, when its backend keeps it (local: the job files; cloud
    backends: the handle); None when the handle carries none."""
    from pipetune.errors import UsageError

    try:
        return backend_for(ref.backend, backend_options).spec_of(ref)
    except UsageError:
        return None


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
    """The spec with a pipeline run's identity and output location applied where the
    backend takes them (:meth:`Backend.with_run_settings`: Vertex ``service_account`` /
    ``base_output_directory``, SageMaker ``role_arn`` / ``output_path``; the local engine
    needs neither). The output location is ``<output_root>/<job_name>``."""
    from pipetune.backends import backend_class

    root = output_root.rstrip("/")
    where = f"{root}/{job_name}" if root and job_name else root
    return backend_class(backend or spec.backend).with_run_settings(
        spec, identity=service_account, output_location=where)


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


__all__ = ["backend_for", "best_outputs", "launch", "params_json", "parse_job", "spec_from_inputs",
           "spec_of", "user_errors", "wait", "with_data", "with_run_settings"]
