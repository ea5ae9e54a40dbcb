"""pipetune.airflow.task_groups."""
