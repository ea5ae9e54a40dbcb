"""The SageMaker path: launch through an Airflow `aws` connection, deferrable wait."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from pipetune.airflow.operators.tuning import PipetuneTuningOperator

SPEC = {
    "backend": "sagemaker",
    "parameters": [
        {"name": "eta", "type": "continuous", "min": 0.01, "max": 0.3, "scaling": "log"},
        {"name": "max_depth", "type": "integer", "min": 2, "max": 10},
    ],
    "objectives": [{"metric": "validation:auc", "goal": "maximize"}],
    "metrics": [{"name": "validation:auc", "regex": r"validation-auc:([0-9.]+)"}],
    "trial": {"command": ["python", "train.py"], "contract": "sagemaker"},
    "budget": {"max_trials": 4, "max_parallel": 2},
    "sagemaker": {"role_arn": "arn:aws:iam::123456789012:role/SageMakerTuning",
                  "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
                  "output_path": "s3://ml-bucket/tuning/out"},
}

with DAG("pt_sagemaker", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    PipetuneTuningOperator(task_id="launch", spec=SPEC, conn_id="aws_moto", job_name="sm",
                           static={"train_data": "{{ params.get('data', 's3://ml-bucket/train') }}"},
                           wait=True, deferrable=True, poll_interval=0.5)
