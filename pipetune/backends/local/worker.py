"""``pipetune worker``: one more process serving a local-engine job's study.

A job whose study lives in a database (``storage: postgresql+psycopg://...``) can be served
by any number of workers on any machines; each needs only the storage URL and the job name,
since the job's spec is stored in the study itself. The workers share the budget exactly and
take over the trials of a worker that dies (see :mod:`.engine` and :mod:`.heartbeat`).

Example:
    >>> summary = run_worker("nightly", storage_url="postgresql+psycopg://tuner@db/hpo")  # doctest: +SKIP
    >>> summary.trials_recorded                                                           # doctest: +SKIP
    7
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import optuna

from pipetune.backends.local.engine import Engine
from pipetune.backends.local.jobstore import ATTR_SPEC, JobDir, mask_url
from pipetune.errors import JobNotFound, SpecError, UsageError
from pipetune.spec import load_spec
from pipetune.storages import open_storage


@dataclass
class WorkerSummary:
    """What one worker did; JSON-safe (the storage URL is masked)."""

    job: str
    worker: str
    state: str
    trials_recorded: int
    trials_lost: int
    storage: str

    def to_dict(self) -> dict[str, Any]:
        """The summary as a JSON-able dict, one key per field."""
        return asdict(self)


def join_job(name: str, *, storage_url: str | None = None, root: str | Path | None = None) -> JobDir:
    """This machine's view of job ``name``: the local job directory when there is one,
    otherwise one made from the study found at ``storage_url``."""
    job = JobDir(name, Path(root) if root else None)
    if storage_url is None:
        if not job.exists():
            raise UsageError(f"no local job named {name!r} under {job.root}; a worker on "
                             "another machine needs --storage URL (the job's database)")
        return job
    try:
        study = optuna.load_study(study_name=name, storage=open_storage(storage_url))
    except KeyError:
        raise JobNotFound(f"no job named {name!r} in {mask_url(storage_url)}; launch it first "
                          "(`pipetune launch SPEC --name NAME` with `storage:` set)") from None
    except (ValueError, ImportError) as exc:
        raise SpecError(f"cannot open storage {mask_url(storage_url)}: "
                        f"{type(exc).__name__}", field="storage") from None
    spec_body = study.user_attrs.get(ATTR_SPEC)
    if not isinstance(spec_body, dict):
        raise UsageError(f"the study {name!r} in {mask_url(storage_url)} was not made by "
                         "pipetune (no spec in its attributes)")
    job.join(load_spec(spec_body), storage_url)
    return job


def run_worker(name: str, *, storage_url: str | None = None,
               root: str | Path | None = None) -> WorkerSummary:
    """Serve job ``name`` until its budget is spent (or it is stopped, or it ends)."""
    job = join_job(name, storage_url=storage_url, root=root)
    spec = job.spec()
    if spec.trial.workdir and spec.trial.workdir not in sys.path:
        sys.path.insert(0, spec.trial.workdir)
    engine = Engine(job, spec, role="worker")
    state = engine.run()
    return WorkerSummary(job=name, worker=engine.worker, state=state.value,
                         trials_recorded=engine.recorded, trials_lost=engine.lost,
                         storage=mask_url(job.storage_url()))


__all__ = ["WorkerSummary", "join_job", "run_worker"]
