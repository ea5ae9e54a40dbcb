"""Continuous training with tuning as ordinary steps:

    sample the data -> tune on the sample -> best parameters -> train on all the data
    with them -> deploy only if the new model beats the baseline (dsl.If)

Compile: ``python pipelines/kfp/continuous_training.py`` (writes continuous_training.yaml).
Run on Vertex AI Pipelines with ``aiplatform.PipelineJob(template_path=...,
pipeline_root=..., parameter_values={...}).submit(service_account=...)``; the same
``pipeline_root`` and ``service_account`` go in as parameters so that the cloud tuning
backends write there and run as that identity.

``train_full_model`` and ``deploy_model`` stand for your own components: they show how a
step receives the best parameters with their types intact (``params_json``).
"""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output

from pipetune.components import (
    get_best_hyperparameters,
    is_improvement,
    launch_tuning,
    sample_dataset,
    wait_for_tuning,
)

#: The image of your own steps in this example: they do not need pipetune.
STEP_IMAGE = "python:3.11-slim"

#: An example spec for train_trial.py (baked into an image next to it); pass your own.
DEFAULT_SPEC = """\
parameters:
  - {name: max_depth, type: integer, min: 1, max: 5}
  - {name: n_estimators, type: integer, min: 10, max: 200}
  - {name: learning_rate, type: continuous, min: 0.01, max: 0.5, scaling: log}
objectives: [{metric: accuracy, goal: maximize}]
metrics: [{name: accuracy, regex: 'accuracy=([0-9.]+)'}]
trial: {command: [python, /app/train_trial.py]}
budget: {max_trials: 20, max_parallel: 2}
"""


@dsl.component(base_image=STEP_IMAGE, packages_to_install=["pandas", "scikit-learn"])
def train_full_model(
    data: Input[Dataset],
    hyperparameters: str,
    model: Output[Model],
    metrics: Output[Metrics],
    label: str = "label",
) -> NamedTuple("Outputs", accuracy=float, param_types=dict):
    """Trains the model on the full data with the tuned hyperparameters.

    Args:
        data: The full training data (CSV with a ``label`` column).
        hyperparameters: The best parameters as JSON (``get_best_hyperparameters``'s
            ``params_json``): integers arrive as integers.
        label: Name of the label column.

    Returns:
        model: The fitted model (pickle).
        metrics: Hold-out accuracy.
        accuracy: Hold-out accuracy of the fitted model.
        param_types: Python type name of each hyperparameter as this step received it.
    """
    import json
    import pickle
    from collections import namedtuple

    import pandas as pd
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import train_test_split

    params = json.loads(hyperparameters)
    frame = pd.read_csv(data.path)
    x, y = frame.drop(columns=[label]), frame[label]
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.3, random_state=1, stratify=y)
    # scikit-learn rejects max_depth=3.0 and n_estimators=20.0: floats would fail here.
    clf = GradientBoostingClassifier(max_depth=params["max_depth"],
                                     n_estimators=params["n_estimators"],
                                     learning_rate=params["learning_rate"], random_state=0)
    clf.fit(x_tr, y_tr)
    accuracy = float(clf.score(x_te, y_te))
    with open(model.path, "wb") as fh:
        pickle.dump(clf, fh)
    model.metadata["hyperparameters"] = params
    metrics.log_metric("accuracy", accuracy)
    outputs = namedtuple("Outputs", ["accuracy", "param_types"])
    return outputs(accuracy, {k: type(v).__name__ for k, v in params.items()})


@dsl.component(base_image=STEP_IMAGE)
def deploy_model(model: Input[Model], hyperparameters: str, accuracy: float) -> str:
    """Stands for the deployment (e.g. upload to Vertex AI Model Registry).

    Args:
        model: The model to deploy.
        hyperparameters: Its hyperparameters as JSON.
        accuracy: Its hold-out accuracy.

    Returns:
        A JSON record of the deployment: the model URI, its parameters and their types.
    """
    import json

    params = json.loads(hyperparameters)
    record = {"deployed": True, "model": model.uri, "accuracy": accuracy, "params": params,
              "param_types": {k: type(v).__name__ for k, v in params.items()}}
    print("deploying", record)
    return json.dumps(record)


@dsl.component(base_image=STEP_IMAGE)
def keep_current_model(accuracy: float) -> str:
    """The gate said no: the production model stays.

    Args:
        accuracy: The new model's hold-out accuracy, for the record.

    Returns:
        A JSON record saying nothing was deployed.
    """
    import json

    return json.dumps({"deployed": False, "accuracy": accuracy})


@dsl.pipeline(name="pipetune-continuous-training",
              description="Sample, tune, train with the best parameters, gate the deploy.")
def continuous_training(
    data_uri: str,
    spec: str = DEFAULT_SPEC,
    backend: str = "local",
    backend_options: dict = {},
    pipeline_root: str = "",
    service_account: str = "",
    sample_fraction: float = 0.3,
    sample_seed: int = 0,
    label: str = "label",
    baseline_accuracy: float = 0.0,
    min_delta: float = 0.0,
) -> str:
    """Args:
        data_uri: The full training data (CSV), e.g. gs://bucket/data/train.csv.
        spec: The tuning spec (YAML); its trials get ``--data=<sample path>``.
        backend: Tuning backend: local, vertex or sagemaker.
        backend_options: Backend keyword arguments (local: root; vertex: project, location).
        pipeline_root: Where cloud tuning jobs write (their base output directory).
        service_account: Identity of cloud trials (Vertex service account / SageMaker role).
        sample_fraction: Share of the rows to tune on.
        sample_seed: Seed of the sample.
        label: Label column.
        baseline_accuracy: The production model's accuracy; 0 deploys the first model.
        min_delta: How much better the new model must be to deploy.
    """
    full = dsl.importer(artifact_uri=data_uri, artifact_class=Dataset, reimport=False)
    sample = sample_dataset(data=full.output, fraction=sample_fraction, seed=sample_seed,
                            stratify=label, format="csv").set_display_name("sample data")
    launch = launch_tuning(job_name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER, spec=spec,
                           backend=backend, backend_options=backend_options,
                           data=sample.outputs["sample"], service_account=service_account,
                           output_root=pipeline_root).set_display_name("launch tuning")
    waited = wait_for_tuning(job=launch.output, backend_options=backend_options,
                             poll_seconds=2.0).set_display_name("wait for tuning")
    best = get_best_hyperparameters(job=waited.outputs["job"], backend_options=backend_options
                                    ).set_display_name("best hyperparameters")
    train = train_full_model(data=full.output, hyperparameters=best.outputs["params_json"],
                             label=label).set_display_name("train on full data")
    gate = is_improvement(candidate=train.outputs["accuracy"], baseline=baseline_accuracy,
                          goal="maximize", min_delta=min_delta).set_display_name("deploy gate")
    with dsl.If(gate.output == True, name="better-than-baseline"):  # noqa: E712
        deployed = deploy_model(model=train.outputs["model"],
                                hyperparameters=best.outputs["params_json"],
                                accuracy=train.outputs["accuracy"])
    with dsl.Else(name="not-better"):
        kept = keep_current_model(accuracy=train.outputs["accuracy"])
    return dsl.OneOf(deployed.output, kept.output)


if __name__ == "__main__":
    from pathlib import Path

    from pipetune.components import compile_pipeline

    compile_pipeline(continuous_training, Path(__file__).with_name("continuous_training.yaml"))
