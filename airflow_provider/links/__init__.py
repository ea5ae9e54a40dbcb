"""pipetune.airflow.links."""
