"""pipetune.airflow.hooks."""
