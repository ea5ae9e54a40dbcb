"""The parity matrix's Airflow adapter: for each outcome, launch -> sensor -> best, with
the sensor waiting in the worker (``_sensor``) or in the triggerer (``_trigger``). For an
interrupted job the sensor gets the job by name (nothing launches it again)."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "airflow" / "dags"))
from af_dag_common import record_failure  # noqa: E402  (the Airflow tests' failure recorder)
from parity_helpers import OUTCOMES, job_name, spec_body  # noqa: E402

from pipetune.airflow.operators.best import PipetuneBestParamsOperator  # noqa: E402
from pipetune.airflow.operators.tuning import PipetuneTuningOperator  # noqa: E402
from pipetune.airflow.sensors.tuning import PipetuneTuningSensor  # noqa: E402


for _outcome in OUTCOMES:
    for _mode in ("sensor", "trigger"):
        with DAG(f"parity_{_outcome}_{_mode}", schedule=None, start_date=datetime(2026, 1, 1),
                 catchup=False, default_args={"on_failure_callback": record_failure}) as _dag:
            _name = job_name(_outcome)
            if _outcome == "interrupted":
                _job = _name
            else:
                _job = PipetuneTuningOperator(
                    task_id="launch", spec=spec_body(_outcome), job_name=_name,
                    exact_job_name=True, relaunch_failed=False).output
            _wait = PipetuneTuningSensor(task_id="wait", job=_job, backend="local",
                                         deferrable=_mode == "trigger", poll_interval=0.2)
            _best = PipetuneBestParamsOperator(task_id="best", job=_job, backend="local")
            _wait >> _best
        globals()[_dag.dag_id] = _dag


for _mode in ("sensor", "trigger"):  # on_not_converging="fail" on a job flagged "not converging"
    with DAG(f"parity_flagged_{_mode}", schedule=None, start_date=datetime(2026, 1, 1),
             catchup=False, default_args={"on_failure_callback": record_failure}) as _dag:
        _launch = PipetuneTuningOperator(task_id="launch", spec=spec_body("flagged"),
                                         job_name=job_name("flagged"), exact_job_name=True)
        PipetuneTuningSensor(task_id="wait", job=_launch.output, deferrable=_mode == "trigger",
                             poll_interval=0.2, on_not_converging="fail")
    globals()[_dag.dag_id] = _dag
