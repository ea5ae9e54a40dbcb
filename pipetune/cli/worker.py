"""``pipetune worker JOB``: serve a local-engine job from this machine (scale-out)."""

from __future__ import annotations

from typing import Optional

import typer

from pipetune.cli._common import handle_errors, print_json


def register(app: typer.Typer) -> None:
    """Add the ``worker`` command to ``app``."""
    app.command("worker")(worker)


@handle_errors
def worker(
    job: str = typer.Argument(..., help="the job's name"),
    storage: Optional[str] = typer.Option(
        None, "--storage", envvar="PIPETUNE_STORAGE",
        help="the job's database URL, e.g. postgresql+psycopg://tuner@db/hpo (keep the "
             "password in PGPASSWORD, not in the URL); default: the local job's own"),
) -> None:
    """Run trials of JOB until its shared budget is spent; print a JSON summary.

    Start any number, on any machines (Airflow dynamic task mapping, KFP dsl.ParallelFor):
    together they run exactly budget.max_trials trials, and take over the trial of a
    worker that dies.
    """
    from pipetune.backends.local.jobstore import check_job_name
    from pipetune.backends.local.worker import run_worker

    check_job_name(job)
    print_json(run_worker(job, storage_url=storage).to_dict())
