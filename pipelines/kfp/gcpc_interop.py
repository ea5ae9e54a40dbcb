"""gcpc's HyperparameterTuningJobRunOp followed by pipetune's typed best-parameter step.

google-cloud-pipeline-components 2.x runs a Vertex AI HyperparameterTuningJob but outputs
only ``gcp_resources``; ``vertex_tuning_results`` turns that into typed best parameters,
the trials and a report, and a training step receives the parameters with their types.

Compile: ``python pipelines/kfp/gcpc_interop.py`` (writes gcpc_interop.yaml).
"""

from google.cloud.aiplatform import hyperparameter_tuning as hpt
from google_cloud_pipeline_components.v1.hyperparameter_tuning_job import (
    HyperparameterTuningJobRunOp,
    serialize_metrics,
    serialize_parameters,
)
from kfp import dsl

from pipetune.components import vertex_tuning_results

#: The image of your own steps in this example: they do not need pipetune.
STEP_IMAGE = "python:3.11-slim"

#: The search space and metric, in gcpc's own terms (serialized at compile time).
STUDY_PARAMETERS = serialize_parameters({
    "learning_rate": hpt.DoubleParameterSpec(min=1e-4, max=1e-1, scale="log"),
    "max_depth": hpt.IntegerParameterSpec(min=2, max=10, scale="linear"),
    "batch_size": hpt.DiscreteParameterSpec(values=[16, 32, 64], scale="linear"),
})
STUDY_METRICS = serialize_metrics({"accuracy": "maximize"})


@dsl.component(base_image=STEP_IMAGE)
def train_with_best(hyperparameters: str) -> str:
    """Stands for your training step: receives the tuned parameters with their types.

    Args:
        hyperparameters: ``vertex_tuning_results``'s ``params_json``.

    Returns:
        The parameters with their Python type names, as JSON.
    """
    import json

    params = json.loads(hyperparameters)
    return json.dumps({k: [v, type(v).__name__] for k, v in params.items()})


@dsl.pipeline(name="pipetune-gcpc-interop",
              description="gcpc HyperparameterTuningJobRunOp -> pipetune typed best params.")
def gcpc_interop(
    project: str,
    trainer_image: str,
    location: str = "us-central1",
    pipeline_root: str = "",
    service_account: str = "",
    max_trial_count: int = 12,
    parallel_trial_count: int = 3,
) -> str:
    """Args:
        project: GCP project of the tuning job.
        trainer_image: Container image of the trial (reports ``accuracy`` via hypertune).
        location: Vertex AI region.
        pipeline_root: GCS folder for the tuning job's outputs (base output directory).
        service_account: Service account the trials run as.
        max_trial_count: Trials in total.
        parallel_trial_count: Trials at once.
    """
    tuning = HyperparameterTuningJobRunOp(
        display_name="pipetune-gcpc-interop",
        project=project,
        location=location,
        base_output_directory=pipeline_root,
        service_account=service_account,
        worker_pool_specs=[{
            "machine_spec": {"machine_type": "n1-standard-4"},
            "replica_count": 1,
            "container_spec": {"image_uri": trainer_image},
        }],
        study_spec_metrics=STUDY_METRICS,
        study_spec_parameters=STUDY_PARAMETERS,
        max_trial_count=max_trial_count,
        parallel_trial_count=parallel_trial_count,
    )
    best = vertex_tuning_results(gcp_resources=tuning.outputs["gcp_resources"])
    train = train_with_best(hyperparameters=best.outputs["params_json"])
    return train.output


if __name__ == "__main__":
    from pathlib import Path

    from pipetune.components import compile_pipeline

    compile_pipeline(gcpc_interop, Path(__file__).with_name("gcpc_interop.yaml"))
