"""Continuous training with pipetune: proxy tune -> full training -> promotion gate.

1. ``prepare_data``: the training data (default: scikit-learn's breast-cancer set, written
   to ``$PIPETUNE_HOME/data``; set the ``data`` param to your CSV).
2. ``proxy_tuning`` (task group): sample ``fraction`` of the rows, tune on the sample
   (``max_trials`` trials, deferrable wait), extract the typed best parameters.
3. ``train_full``: train on all the data with the best parameters, score on a hold-out.
4. ``gate``: re-score the current champion on the same hold-out; continue only if the new
   model beats it. 5. ``promote``: the new model becomes the champion.

Runs on the local backend out of the box; set ``backend`` to ``sagemaker`` or ``vertex``
(with a ``spec`` for that backend and a ``proxy_output`` in S3/GCS) to tune in the cloud.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, Param, task

from pipetune.airflow.task_groups.proxy import proxy_tuning

ASSETS = Path(__file__).resolve().parent / "assets"


def _steps():
    import importlib.util

    spec = importlib.util.spec_from_file_location("pipetune_dag_steps", ASSETS / "steps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


with DAG(
    dag_id="pipetune_continuous_training",
    description="proxy tune -> full training with the best params -> promote if better",
    schedule="@weekly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["pipetune", "continuous-training"],
    params={
        "backend": Param("local", enum=["local", "sagemaker", "vertex"]),
        "conn_id": Param(None, type=["null", "string"], description="aws / google_cloud_platform connection"),
        "spec": Param(str(ASSETS / "spec.yaml"), type="string"),
        "data": Param("", type="string", description="training CSV; empty: the bundled data set"),
        "fraction": Param(0.5, type="number", exclusiveMinimum=0, maximum=1),
        "max_trials": Param(6, type="integer", minimum=1),
        "proxy_output": Param("", type="string", description="where samples go; empty: PIPETUNE_HOME"),
        "registry": Param("", type="string", description="champion model folder; empty: PIPETUNE_HOME/registry"),
        "poll_interval": Param(2.0, type="number", exclusiveMinimum=0),
    },
) as dag:

    @task
    def prepare_data(data: str, dag_id: str) -> str:
        return _steps().prepare_data(data, dag_id)

    data = prepare_data("{{ params.data }}", "{{ dag.dag_id }}")

    tuned = proxy_tuning(
        spec="{{ params.spec }}",
        data=data,
        fraction="{{ params.fraction }}",
        output="{{ params.proxy_output }}",
        backend="{{ params.backend }}",
        conn_id="{{ params.conn_id }}",
        job_name="ct",
        spec_overrides={"budget": {"max_trials": "{{ params.max_trials }}", "max_parallel": 1}},
        deferrable=True,
        poll_interval=2.0,
    )

    @task
    def registry(path: str) -> str:
        return path or str(_steps().pipetune_home() / "registry" / "pipetune_continuous_training")

    @task
    def train_full(best: dict, data: str, registry: str, run: str) -> dict:
        import re

        model_dir = f"{registry}/candidates/{re.sub(r'[^A-Za-z0-9._-]+', '_', run)}"
        return _steps().train_full(best, data, model_dir)

    @task.short_circuit
    def gate(candidate: dict, data: str, registry: str) -> bool:
        current = _steps().champion_score(registry, data)
        print(f"candidate {candidate['score']:.5f} vs champion {current}")
        return current is None or candidate["score"] > current

    @task
    def promote(candidate: dict, registry: str) -> dict:
        return _steps().promote(candidate, registry)

    reg = registry("{{ params.registry }}")
    candidate = train_full(tuned.best.output, data, reg, "{{ run_id }}")
    gate(candidate, data, reg) >> promote(candidate, reg)
