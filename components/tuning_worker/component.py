from typing import NamedTuple

from kfp import dsl

from pipetune.components._image import BASE_IMAGE, packages


@dsl.component(base_image=BASE_IMAGE, packages_to_install=packages())
def tuning_worker(
    job_name: str,
    pipetune_home: str = "",
    worker_index: int = 0,
) -> NamedTuple("Outputs", job=str, worker=str, trials_run=int):
    """One ask/tell worker on a shared study; fan it out with ``dsl.ParallelFor``.

    Each worker asks the shared storage for trials and runs them until the job's budget
    (``budget.max_trials``) is spent; all workers together run exactly that many trials,
    none twice. Trials another worker is running are left alone.

    Args:
        job_name: Name of the shared job, as given to ``prepare_shared_study`` (run the
            worker ``.after()`` it).
        pipetune_home: The job files' directory, as given to ``prepare_shared_study``.
        worker_index: This worker's index in the fan-out (for logs only).

    Returns:
        job: The same job handle.
        worker: This worker's id (``host:pid``), recorded on each trial it ran.
        trials_run: Number of trials this worker finished.
    """
    from collections import namedtuple

    from pipetune import steps
    from pipetune.worker import local_ref, run_worker

    with steps.user_errors():
        report = run_worker(local_ref(job_name, pipetune_home or None))
        print(f"worker {worker_index} ({report.worker}) ran {report.trials_run} trials; "
              f"job {report.state}")
        outputs = namedtuple("Outputs", ["job", "worker", "trials_run"])
        return outputs(report.job.to_json(), report.worker, report.trials_run)
