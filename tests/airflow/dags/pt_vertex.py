"""The Vertex AI path: launch through a `google_cloud_platform` connection, deferrable
sensor, typed best parameters. The endpoint of the fake Vertex AI comes in the run's conf."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG

sys.path.insert(0, str(Path(__file__).parent))
from af_dag_common import record_failure  # noqa: E402

from pipetune.airflow.operators.best import PipetuneBestParamsOperator  # noqa: E402
from pipetune.airflow.operators.tuning import PipetuneTuningOperator  # noqa: E402
from pipetune.airflow.sensors.tuning import PipetuneTuningSensor  # noqa: E402

SPEC = {
    "backend": "vertex",
    "parameters": [
        {"name": "lr", "type": "continuous", "min": 1e-4, "max": 1e-1, "scaling": "log"},
        {"name": "depth", "type": "integer", "min": 2, "max": 12},
        {"name": "batch", "type": "discrete", "values": [16, 32, 64]},
        {"name": "booster", "type": "categorical", "values": ["gbtree", "dart"]},
    ],
    "static": {"epochs": 3},
    "objectives": [{"metric": "auc", "goal": "maximize"}],
    "budget": {"max_trials": 4, "max_parallel": 2, "max_failed": 3, "trial_timeout": 900},
    "trial": {"command": ["python", "train.py"], "contract": "vertex"},
    "vertex": {
        "container": {"image_uri": "us-docker.pkg.dev/demo-proj/train/xgb:1"},
        "machine_type": "n1-standard-8",
        "base_output_directory": "gs://demo-bucket/tuning",
    },
}
OPTIONS = {"api_endpoint": "{{ dag_run.conf['api_endpoint'] }}", "location": "us-central1"}
START = datetime(2026, 1, 1)


def _dag(dag_id: str, job_name: str, exact: bool) -> DAG:
    with DAG(dag_id, schedule=None, start_date=START, catchup=False,
             default_args={"on_failure_callback": record_failure}) as dag:
        launch = PipetuneTuningOperator(task_id="launch", spec=SPEC, conn_id="gcp_fake",
                                        backend_options=OPTIONS, job_name=job_name,
                                        exact_job_name=exact)
        wait = PipetuneTuningSensor(task_id="wait", job=launch.output, conn_id="gcp_fake",
                                    backend_options=OPTIONS, deferrable=True, poll_interval=0.2,
                                    timeout=60)
        best = PipetuneBestParamsOperator(task_id="best", job=launch.output, conn_id="gcp_fake",
                                          backend_options=OPTIONS)
        launch >> wait >> best
    return dag


dag = _dag("pt_vertex", "vx", exact=False)
failed = _dag("pt_vertex_failed", "vx-broken", exact=True)
