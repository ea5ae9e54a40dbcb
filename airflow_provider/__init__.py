"""The pipetune Airflow provider (imported as ``pipetune.airflow``)."""


def get_provider_info() -> dict:
    return {
        "package-name": "pipetune",
        "name": "pipetune",
        "description": "Hyperparameter tuning as a DAG step: launch, wait, best parameters, proxy-data tuning.",
        "versions": ["0.1.0"],
    }
