"""Tiered tuning: the ``tier`` param picks the budget and the search strategy.

=========  ======  ========================  =============================
tier       trials  strategy                  for
=========  ======  ========================  =============================
dev        5       random                    checking the pipeline works
staging    20      tpe (Bayesian)            a real search, cheaply
prod       100     auto (pipetune's choice)  the release model
=========  ======  ========================  =============================

Runs on the local backend out of the box; set ``backend`` (and ``spec``/``conn_id``) to run
the same tiers on SageMaker or Vertex AI.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, Param, task

from pipetune.airflow.operators.best import PipetuneBestParamsOperator
from pipetune.airflow.operators.tuning import PipetuneTuningOperator

ASSETS = Path(__file__).resolve().parent / "assets"

TIERS = {
    "dev": {"strategy": "random", "budget": {"max_trials": 5, "max_parallel": 1}},
    "staging": {"strategy": "tpe", "budget": {"max_trials": 20, "max_parallel": 2}},
    "prod": {"strategy": "auto", "budget": {"max_trials": 100, "max_parallel": 4}},
}


def _steps():
    import importlib.util

    spec = importlib.util.spec_from_file_location("pipetune_dag_steps", ASSETS / "steps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


with DAG(
    dag_id="pipetune_tiered_tuning",
    description="dev 5 random / staging 20 Bayesian / prod 100 trials, chosen by a param",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["pipetune", "tiers"],
    params={
        "tier": Param("dev", enum=list(TIERS)),
        "backend": Param("local", enum=["local", "sagemaker", "vertex"]),
        "conn_id": Param(None, type=["null", "string"]),
        "spec": Param(str(ASSETS / "spec.yaml"), type="string"),
        "data": Param("", type="string", description="training CSV; empty: the bundled data set"),
    },
) as dag:

    @task
    def prepare_data(data: str, dag_id: str) -> str:
        return _steps().prepare_data(data, dag_id)

    @task
    def tier_overrides(tier: str) -> dict:
        print(f"tier {tier}: {TIERS[tier]}")
        return TIERS[tier]

    data = prepare_data("{{ params.data }}", "{{ dag.dag_id }}")
    tune = PipetuneTuningOperator(
        task_id="tune",
        spec="{{ params.spec }}",
        backend="{{ params.backend }}",
        conn_id="{{ params.conn_id }}",
        job_name="{{ params.tier }}",
        static={"data": data},
        spec_overrides=tier_overrides("{{ params.tier }}"),
        wait=True,
        deferrable=True,
        poll_interval=2.0,
    )
    best = PipetuneBestParamsOperator(task_id="best", job=tune.output, conn_id="{{ params.conn_id }}")
    tune >> best
