from typing import NamedTuple


from pipetune.components._image import pipetune_component


@pipetune_component
def tuning_worker(
    job_name: str,
    pipetune_home: str = "",
    worker_index: int = 0,
    backend: str = "local",
    spec: str = "",
    backend_options: dict = {},
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
        backend: ``local`` (a study in a shared database) or ``vertex`` (a Vizier study).
        spec: The tuning spec (YAML or JSON text); needed by Vizier workers, which run
            the spec's trial themselves. Local workers read it from the prepared job.
        backend_options: Keyword arguments of the backend (vertex: project, location).

    Returns:
        job: The same job handle.
        worker: This worker's id (``host:pid``), recorded as the owner of each trial it ran.
        trials_run: Number of trials this worker finished.
    """
    from collections import namedtuple

    from pipetune import steps
    from pipetune.worker import work

    with steps.user_errors():
        tuning_spec = steps.spec_from_inputs(spec) if spec.strip() else None
        report = work(job_name, backend=backend, root=pipetune_home or None, spec=tuning_spec,
                      backend_options=backend_options)
        print(f"worker {worker_index} ({report.worker}) ran {report.trials_run} trials; "
              f"job {report.state}")
        outputs = namedtuple("Outputs", ["job", "worker", "trials_run"])
        return outputs(report.job.to_json(), report.worker, report.trials_run)
