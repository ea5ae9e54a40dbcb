"""pipetune.airflow.utils."""
