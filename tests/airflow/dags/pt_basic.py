"""launch -> deferrable sensor -> best -> tasks that use the typed best parameters."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, task
from airflow.providers.standard.operators.python import PythonOperator

sys.path.insert(0, str(Path(__file__).parent))
from af_dag_common import quad_spec  # noqa: E402

from pipetune.airflow.operators.best import PipetuneBestParamsOperator  # noqa: E402
from pipetune.airflow.operators.tuning import PipetuneTuningOperator  # noqa: E402
from pipetune.airflow.sensors.tuning import PipetuneTuningSensor  # noqa: E402


def _echo(x_times_2: str, y_plus_1: str, job: str) -> dict:
    return {"x_times_2": x_times_2, "y_plus_1": y_plus_1, "job": job}


with DAG("pt_basic", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
         params={"prefix": "basic", "offset": 7}) as dag:
    launch = PipetuneTuningOperator(
        task_id="launch", spec=quad_spec(4), job_name="{{ params.prefix }}",
        static={"offset": "{{ params.offset }}", "run": "{{ run_id }}"},
    )
    wait = PipetuneTuningSensor(task_id="wait", job=launch.output, deferrable=True,
                                poll_interval=0.5)
    best = PipetuneBestParamsOperator(task_id="best", job=launch.output)
    templated = PythonOperator(
        task_id="templated", python_callable=_echo,
        op_kwargs={
            "x_times_2": "{{ ti.xcom_pull(task_ids='best')['params']['x'] * 2 }}",
            "y_plus_1": "{{ ti.xcom_pull(task_ids='best')['params']['y'] + 1 }}",
            "job": "{{ ti.xcom_pull(task_ids='launch')['name'] }}",
        },
    )

    @task
    def types(result: dict) -> dict:
        return {"x": type(result["params"]["x"]).__name__, "y": type(result["params"]["y"]).__name__,
                "value": type(result["value"]).__name__}

    launch >> wait >> best >> templated
    types(best.output)
