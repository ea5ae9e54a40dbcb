"""pipetune.airflow.operators."""
