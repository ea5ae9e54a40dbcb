"""pipetune.airflow.sensors."""
