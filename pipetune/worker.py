"""Fan-out: several workers, anywhere, complete one shared study.

A workflow engine fans the workers out (KFP ``dsl.ParallelFor``, Airflow dynamic task
mapping); pipetune has no scheduler of its own. :func:`prepare` creates the job and its
study once, before the fan-out; each :func:`work` then serves it until the job's budget is
spent. What a shared study is belongs to the backend (:meth:`Backend.prepare_shared`,
:meth:`Backend.serve_shared`): the local engine's study in a shared storage (N workers
together run exactly ``budget.max_trials`` trials), or a Vertex Vizier study.

The storage must be reachable by every worker: a journal file in a shared directory on one
machine, or a database URL (PostgreSQL) across machines (``spec.storage``).

Example:
    >>> ref = prepare_shared_job(spec, "nightly", root="/shared/pipetune")  # doctest: +SKIP
    >>> run_worker(ref)   # in each of N parallel steps                     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipetune.backends.base import Backend, WorkerReport
from pipetune.job import JobRef
from pipetune.spec import TuningSpec


def _backend(name: str, root: str | Path | None, backend_options: dict | None) -> Backend:
    from pipetune.backends import backend_class
    from pipetune.runtime import backend_for

    options: dict[str, Any] = dict(backend_options or {})
    if root and backend_class(name).keeps_files:
        options["root"] = str(root)  # where the job's files live; others have no such thing
    return backend_for(name, options)


def local_ref(name: str, root: str | Path | None = None) -> JobRef:
    """The handle of local job ``name`` under ``root`` (default ``$PIPETUNE_HOME``)."""
    from pipetune.backends.local import LocalBackend

    return LocalBackend(root).ref(name)


def prepare(spec: TuningSpec, name: str, *, backend: str = "", root: str | Path | None = None,
            backend_options: dict | None = None) -> JobRef:
    """Create the shared job once (idempotent: a retry with the same spec attaches)."""
    return _backend(backend or spec.backend, root, backend_options).prepare_shared(spec, name)


def work(name: str, *, backend: str = "", root: str | Path | None = None,
         spec: TuningSpec | None = None, backend_options: dict | None = None,
         trial_root: str | Path | None = None, storage_url: str | None = None) -> WorkerReport:
    """Serve the shared job ``name`` until its budget is spent."""
    be = _backend(backend or (spec.backend if spec is not None else "local"), root,
                  backend_options)
    return be.serve_shared(name, spec=spec, trial_root=trial_root, storage_url=storage_url)


def prepare_shared_job(spec: TuningSpec, name: str, *, root: str | Path | None = None) -> JobRef:
    """Create a local-engine job and its study (see :func:`prepare`)."""
    return prepare(spec, name, backend="local", root=root)


def run_worker(ref: "JobRef | str", *, root: str | Path | None = None,
               storage_url: str | None = None) -> WorkerReport:
    """Serve a prepared job, named by its handle, until its shared budget is spent.
    Without a shared job directory, ``storage_url`` (the study's database) is enough."""
    from pipetune.job import parse_job_ref

    ref = parse_job_ref(ref)
    return work(ref.id, backend=ref.backend, root=root or ref.extra.get("root"),
                storage_url=storage_url)


__all__ = ["WorkerReport", "local_ref", "prepare", "prepare_shared_job", "run_worker", "work"]
