"""Self-hosted scale-out: N tuning workers, fanned out by ``dsl.ParallelFor``, complete one
shared study (the local engine's, or a Vertex AI Vizier study); then the best parameters
are read once.

    prepare the shared study -> ParallelFor(workers): tuning_worker -> best hyperparameters

Every worker must reach the study: put ``storage: postgresql://...`` in the spec (or, on
one machine, a journal file in a shared directory) and a shared ``pipetune_home``.
Compile: ``python pipelines/kfp/parallel_tuning.py`` (writes parallel_tuning.yaml).
"""

from kfp import dsl

from pipetune.components import get_best_hyperparameters, prepare_shared_study, tuning_worker


@dsl.pipeline(name="pipetune-parallel-tuning",
              description="A ParallelFor fan-out of tuning workers on one shared study.")
def parallel_tuning(
    spec: str,
    job_name: str,
    pipetune_home: str = "",
    workers: list = [0, 1, 2],
    backend: str = "local",
    backend_options: dict = {},
) -> str:
    """Args:
        spec: The tuning spec (YAML); ``storage`` names the shared study's database.
        job_name: Name of the shared job.
        pipetune_home: Directory every worker can read (job files, trial directories).
        workers: One item per worker (their indices).
        backend: ``local`` (shared database) or ``vertex`` (a Vizier study; the spec says
            ``vertex: {mode: vizier}``).
        backend_options: Backend keyword arguments (vertex: project, location).
    """
    prepared = prepare_shared_study(job_name=job_name, spec=spec, pipetune_home=pipetune_home,
                                    backend=backend, backend_options=backend_options)
    # Workers find the job by name rather than by the handle output above: kfp.local
    # 2.17.3 hands the loop item to every loop-task input that is an outside task's output.
    with dsl.ParallelFor(workers, name="workers") as index:
        worker = tuning_worker(job_name=job_name, pipetune_home=pipetune_home,
                               worker_index=index, backend=backend, spec=spec,
                               backend_options=backend_options).after(prepared)
    best = get_best_hyperparameters(job=prepared.output, backend_options=backend_options
                                    ).after(worker)
    return best.outputs["params_json"]


if __name__ == "__main__":
    from pathlib import Path

    from pipetune.components import compile_pipeline

    compile_pipeline(parallel_tuning, Path(__file__).with_name("parallel_tuning.yaml"))
