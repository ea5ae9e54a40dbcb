from kfp import dsl

from pipetune.components._image import BASE_IMAGE, packages


@dsl.component(base_image=BASE_IMAGE, packages_to_install=packages())
def prepare_shared_study(
    job_name: str,
    spec: str = "",
    spec_dict: dict = {},
    pipetune_home: str = "",
) -> str:
    """Creates a local-engine job and its study once, before a fan-out of tuning workers.

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
            ``./.pipetune``.

    Returns:
        The job handle as JSON: the input of ``tuning_worker`` and of
        ``get_best_hyperparameters`` once the workers are done.
    """
    from pipetune import steps
    from pipetune.worker import prepare_shared_job

    with steps.user_errors():
        tuning_spec = steps.spec_from_inputs(spec, spec_dict)
        ref = prepare_shared_job(tuning_spec, job_name, root=pipetune_home or None)
        print(f"prepared shared study {ref.name!r}")
        return ref.to_json()
