from typing import Optional

from kfp.dsl import Dataset, Input

from pipetune.components._image import pipetune_component


@pipetune_component
def launch_tuning(
    job_name: str,
    spec: str = "",
    spec_dict: dict = {},
    backend: str = "",
    backend_options: dict = {},
    data: Optional[Input[Dataset]] = None,
    data_param: str = "",
    service_account: str = "",
    output_root: str = "",
) -> str:
    """Launches a pipetune tuning job and returns its handle at once.

    Launching is idempotent: a retried step with the same job name and spec attaches to
    the job it started before instead of starting a second one.

    Args:
        job_name: Name of the tuning job; the key that makes retries attach. Use a
            name unique per pipeline run, e.g. built from ``dsl.PIPELINE_JOB_NAME_PLACEHOLDER``.
        spec: The tuning spec as YAML or JSON text. Give this or ``spec_dict``.
        spec_dict: The tuning spec as a dict. Give this or ``spec``.
        backend: ``local``, ``sagemaker`` or ``vertex``; empty means the spec's ``backend``.
        backend_options: Keyword arguments of the backend, e.g. ``{"root": "/gcs/b/pt"}``
            for local (where jobs live) or ``{"project": ..., "location": ...}`` for vertex.
        data: Optional data set to tune on (e.g. ``sample_dataset``'s sample); its path is
            passed to every trial as the static hyperparameter ``data_param``.
        data_param: Name of that hyperparameter; default the spec's ``proxy.data_param``,
            else ``data``.
        service_account: Identity the cloud trials run as: the Vertex service account, or
            the SageMaker execution role ARN. Empty keeps the spec's; unused by local.
        output_root: Cloud folder for the trials' outputs (``gs://...`` or ``s3://...``;
            e.g. the pipeline root); the job writes under ``<output_root>/<job_name>``.

    Returns:
        The job handle as JSON (``{"backend": ..., "id": ..., "name": ...}``), the input of
        ``wait_for_tuning`` and ``get_best_hyperparameters``.
    """
    from pipetune import steps

    with steps.user_errors():
        tuning_spec = steps.spec_from_inputs(spec, spec_dict)
        if data is not None:
            tuning_spec = steps.with_data(tuning_spec, data.path, data_param=data_param)
        tuning_spec = steps.with_run_settings(tuning_spec, backend=backend,
                                              service_account=service_account,
                                              output_root=output_root, job_name=job_name)
        ref = steps.launch(tuning_spec, job_name=job_name, backend=backend,
                           backend_options=backend_options)
        print(f"launched {ref.backend} job {ref.name!r}")
        return ref.to_json()
