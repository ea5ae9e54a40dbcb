"""pipetune.airflow.triggers."""
