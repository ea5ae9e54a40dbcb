"""The pipetune Airflow provider (imported as ``pipetune.airflow``).

Hyperparameter tuning as DAG steps on the local engine, SageMaker or Vertex AI:

- :class:`~pipetune.airflow.operators.tuning.PipetuneTuningOperator` launches (or, on a
  retry, re-attaches to) a tuning job and optionally waits, deferrably;
- :class:`~pipetune.airflow.sensors.tuning.PipetuneTuningSensor` waits for a job;
- :class:`~pipetune.airflow.operators.best.PipetuneBestParamsOperator` pushes the typed
  best parameters;
- :class:`~pipetune.airflow.operators.stop.PipetuneStopOperator` stops a job;
- :func:`~pipetune.airflow.task_groups.proxy.proxy_tuning` tunes on a sample of the data.

Example:
    >>> get_provider_info()["package-name"]
    'pipetune'
"""

from __future__ import annotations

__all__ = ["get_provider_info"]


def get_provider_info() -> dict:
    """What ``airflow providers list`` shows; registered by the ``apache_airflow_provider``
    entry point in pyproject.toml."""
    integration = "pipetune"
    return {
        "package-name": "pipetune",
        "name": "pipetune",
        "description": "Hyperparameter tuning as a DAG step: launch, wait, best parameters, "
                       "proxy-data tuning, on a local Optuna engine, SageMaker AMT or Vertex AI.",
        "versions": ["0.1.0"],
        "integrations": [
            {
                "integration-name": integration,
                "external-doc-url": "https://github.com/pipetune/pipetune/blob/main/docs/airflow.md",
                "tags": ["software"],
            }
        ],
        "operators": [
            {
                "integration-name": integration,
                "python-modules": [
                    "pipetune.airflow.operators.tuning",
                    "pipetune.airflow.operators.best",
                    "pipetune.airflow.operators.stop",
                ],
            }
        ],
        "sensors": [
            {"integration-name": integration, "python-modules": ["pipetune.airflow.sensors.tuning"]}
        ],
        "triggers": [
            {"integration-name": integration, "python-modules": ["pipetune.airflow.triggers.tuning"]}
        ],
        "hooks": [
            {"integration-name": integration, "python-modules": ["pipetune.airflow.hooks.pipetune"]}
        ],
        "extra-links": [
            "pipetune.airflow.links.console.SageMakerTuningJobLink",
            "pipetune.airflow.links.console.VertexTuningJobLink",
        ],
    }
