
from pipetune.components._image import pipetune_component


@pipetune_component
def prepare_shared_study(
    job_name: str,
    spec: str = "",
    spec_dict: dict = {},
    pipetune_home: str = "",
    backend: str = "local",
    backend_options: dict = {},
) -> str:
    """Creates a shared study once, before a fan-out of tuning workers: a local-engine
    job, or a Vertex AI Vizier study (``vertex.mode: vizier`` in the spec).

    Idempotent: a retry with the same name and spec attaches to the existing job. Every
    worker must reach the study's storage: set ``storage`` in the spec to a database URL
    (``postgresql://...``) for workers on several machines; a journal file in a shared
    directory works on one machine.

    Args:
        job_name: Name of the shared tuning job.
        spec: The tuning spec as YAML or JSON text. Give this or ``spec_dict``.
        spec_dict: The tuning spec as a dict. Give this or ``spec``.
        pipetune_home: Directory that holds the job's files (``job.json``, trial
            directories), shared by the workers; empty means ``$PIPETUNE_HOME`` or
            ``./.pipetune`` (local backend).
        backend: ``local`` or ``vertex``.
        backend_options: Keyword arguments of the backend (vertex: project, location).

    Returns:
        The job handle as JSON: the input of ``tuning_worker`` and of
        ``get_best_hyperparameters`` once the workers are done.
    """
    from pipetune import steps
    from pipetune.worker import prepare

    with steps.user_errors():
        tuning_spec = steps.spec_from_inputs(spec, spec_dict)
        ref = prepare(tuning_spec, job_name, backend=backend, root=pipetune_home or None,
                      backend_options=backend_options)
        print(f"prepared shared study {ref.name!r}")
        return ref.to_json()
