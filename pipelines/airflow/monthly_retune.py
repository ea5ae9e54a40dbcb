"""Monthly retune, warm-started from the last successful run's job.

``previous_job`` pulls the ``best`` result of the most recent earlier run that got that
far (``include_prior_dates``): only a completed job has one. The new job warm-starts from
it (its trials seed the new search), tunes, and publishes its typed best parameters.

Runs on the local backend out of the box; set the ``backend`` param (and a ``spec`` and
``conn_id`` for that backend) to retune on SageMaker or Vertex AI.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, Param, task

from pipetune.airflow.operators.best import PipetuneBestParamsOperator
from pipetune.airflow.operators.tuning import PipetuneTuningOperator

ASSETS = Path(__file__).resolve().parent / "assets"


def _steps():
    import importlib.util

    spec = importlib.util.spec_from_file_location("pipetune_dag_steps", ASSETS / "steps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


with DAG(
    dag_id="pipetune_monthly_retune",
    description="retune every month, warm-starting from the last successful job",
    schedule="@monthly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["pipetune", "retune"],
    params={
        "backend": Param("local", enum=["local", "sagemaker", "vertex"]),
        "conn_id": Param(None, type=["null", "string"]),
        "spec": Param(str(ASSETS / "spec.yaml"), type="string"),
        "data": Param("", type="string", description="training CSV; empty: the bundled data set"),
        "max_trials": Param(10, type="integer", minimum=1),
    },
) as dag:

    @task
    def prepare_data(data: str, dag_id: str) -> str:
        return _steps().prepare_data(data, dag_id)

    @task
    def previous_job(**context) -> str | None:
        """The job of the last run whose tuning completed, or None on the first run."""
        last = context["ti"].xcom_pull(task_ids="best", include_prior_dates=True)
        if isinstance(last, dict) and last.get("job"):
            print(f"warm-starting from {last['job']} (best {last['objective']}={last['value']})")
            return last["job"]
        print("no earlier successful run: starting cold")
        return None

    data = prepare_data("{{ params.data }}", "{{ dag.dag_id }}")
    parent = previous_job()
    tune = PipetuneTuningOperator(
        task_id="tune",
        spec="{{ params.spec }}",
        backend="{{ params.backend }}",
        conn_id="{{ params.conn_id }}",
        job_name="retune",
        static={"data": data},
        spec_overrides={"budget": {"max_trials": "{{ params.max_trials }}", "max_parallel": 1}},
        warm_start_from=parent,
        wait=True,
        deferrable=True,
        poll_interval=2.0,
    )
    best = PipetuneBestParamsOperator(task_id="best", job=tune.output, conn_id="{{ params.conn_id }}")
    tune >> best
