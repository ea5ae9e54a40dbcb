"""Fan-out: several workers, anywhere, complete one shared local-engine study.

A workflow engine fans the workers out (KFP ``dsl.ParallelFor``, Airflow dynamic task
mapping); pipetune has no scheduler of its own. :func:`prepare_shared_job` creates the job
and its study once, before the fan-out; each :func:`run_worker` then asks the shared
storage for trials until the job's budget is spent. The engine's budget check counts the
storage's trials, so N workers together run exactly ``budget.max_trials`` trials.

The storage must be reachable by every worker: a journal file in a shared directory on one
machine, or a database URL (PostgreSQL) across machines (``spec.storage``).

Example:
    >>> ref = prepare_shared_job(spec, "nightly", root="/shared/pipetune")  # doctest: +SKIP
    >>> run_worker(ref)   # in each of N parallel steps                     # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipetune.backends.local.jobstore import JobDir
from pipetune.errors import UsageError
from pipetune.job import JobRef
from pipetune.spec import TuningSpec


@dataclass
class WorkerReport:
    job: JobRef
    worker: str
    trials_run: int
    state: str


def _ref(job: JobDir) -> JobRef:
    return JobRef(backend="local", id=job.name, name=job.name, extra={"root": str(job.root)})


def local_ref(name: str, root: str | Path | None = None) -> JobRef:
    """The handle of local job ``name`` under ``root`` (default ``$PIPETUNE_HOME``)."""
    return _ref(JobDir(name, Path(root) if root else None))


def prepare_shared_job(spec: TuningSpec, name: str, *, root: str | Path | None = None) -> JobRef:
    """Create the job and its study (idempotent: a retry with the same spec attaches)."""
    from pipetune.backends.local import LocalBackend

    return LocalBackend(root).prepare(spec, name)


def run_worker(ref: "JobRef | str", *, root: str | Path | None = None,
               storage_url: str | None = None) -> WorkerReport:
    """Run trials of a prepared job until its shared budget is spent.

    The local engine's own worker (:mod:`pipetune.backends.local.worker`) does the work: it
    shares the budget exactly and takes over the trials of a worker that died. Without a
    shared job directory, ``storage_url`` (the study's database) is enough.
    """
    from pipetune.backends.local.worker import run_worker as serve_job

    ref = JobRef.from_json(ref) if not isinstance(ref, JobRef) else ref
    if ref.backend != "local":
        raise UsageError(f"job: a {ref.backend} job; the shared-study worker runs local-engine "
                         "jobs (for Vertex use a Vizier study worker)")
    job_root = root or ref.extra.get("root")
    summary = serve_job(ref.id, storage_url=storage_url or None, root=job_root)
    return WorkerReport(job=_ref(JobDir(ref.id, Path(job_root) if job_root else None)),
                        worker=summary.worker, trials_run=summary.trials_recorded,
                        state=summary.state)


# ---- any backend with shared-study workers: the local engine, or a Vertex Vizier study ----

SHARED_BACKENDS = ("local", "vertex")


def prepare(spec: TuningSpec, name: str, *, backend: str = "local", root: str | Path | None = None,
            backend_options: dict | None = None) -> JobRef:
    """Create the shared job once: a local study, or a Vertex Vizier study (``vertex.mode:
    vizier``) that the workers then serve."""
    backend = backend or spec.backend
    if backend == "local":
        return prepare_shared_job(spec, name, root=root)
    if backend == "vertex":
        be = _vertex(spec, backend_options)
        return be.launch(spec, name, detach=True)
    raise UsageError(f"backend: got {backend!r}; shared-study workers run on "
                     f"{', '.join(SHARED_BACKENDS)}")


def work(name: str, *, backend: str = "local", root: str | Path | None = None,
         spec: TuningSpec | None = None, backend_options: dict | None = None,
         trial_root: str | Path | None = None, storage_url: str | None = None) -> WorkerReport:
    """Serve the shared job ``name`` until its budget is spent."""
    if backend in ("", "local"):
        url = storage_url or (spec.storage if spec is not None else None)
        return run_worker(local_ref(name, root), storage_url=url)
    if backend == "vertex":
        import tempfile

        from pipetune.backends.vertex.vizier_worker import run_worker as serve_study

        if spec is None:
            from pipetune.errors import SpecError

            raise SpecError("a Vertex Vizier worker needs the spec", field="spec")
        be = _vertex(spec, backend_options)
        ref = be.launch(spec, name, detach=True)  # attaches to the prepared study
        where = Path(trial_root) if trial_root else Path(tempfile.mkdtemp(prefix=f"pipetune-{name}-"))
        summary = serve_study(be.vizier(ref), ref.id, spec, trial_root=where,
                              started=ref.extra.get("created"))
        return WorkerReport(job=ref, worker=summary.worker_id, trials_run=len(summary.trials),
                            state=summary.ended_because)
    raise UsageError(f"backend: got {backend!r}; shared-study workers run on "
                     f"{', '.join(SHARED_BACKENDS)}")


def _vertex(spec: TuningSpec, backend_options: dict | None):
    from pipetune.backends import get_backend
    from pipetune.errors import SpecError

    be = get_backend("vertex", **dict(backend_options or {}))
    if be.options(spec).mode != "vizier":
        raise SpecError("shared-study workers serve a Vizier study: set vertex.mode: vizier",
                        field="vertex.mode")
    return be


__all__ = ["WorkerReport", "local_ref", "prepare", "prepare_shared_job", "run_worker", "work"]
