"""Test DAGs for the unhappy paths: a failed job, a stopped job, a job stopped while the
task is deferred, a launch task that dies after launching and is retried."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG

sys.path.insert(0, str(Path(__file__).parent))
from af_dag_common import quad_spec, record_failure  # noqa: E402

from pipetune.airflow.operators.best import PipetuneBestParamsOperator  # noqa: E402
from pipetune.airflow.operators.stop import PipetuneStopOperator  # noqa: E402
from pipetune.airflow.operators.tuning import PipetuneTuningOperator  # noqa: E402
from pipetune.airflow.sensors.tuning import PipetuneTuningSensor  # noqa: E402

START = datetime(2026, 1, 1)
ARGS = {"on_failure_callback": record_failure}

with DAG("pt_failed", schedule=None, start_date=START, catchup=False, default_args=ARGS) as failed:
    PipetuneTuningOperator(task_id="launch", spec=quad_spec(2, fail=True), job_name="failing",
                           wait=True, deferrable=True, poll_interval=0.5)

with DAG("pt_stopped", schedule=None, start_date=START, catchup=False, default_args=ARGS) as stopped:
    launch = PipetuneTuningOperator(task_id="launch", spec=quad_spec(3, sleep=30), job_name="stopme")
    stop = PipetuneStopOperator(task_id="stop", job=launch.output)
    wait = PipetuneTuningSensor(task_id="wait", job=launch.output, deferrable=True, poll_interval=0.5)
    launch >> stop >> wait

with DAG("pt_stop_while_deferred", schedule=None, start_date=START, catchup=False,
         default_args=ARGS) as stop_while_deferred:
    PipetuneTuningOperator(task_id="launch", spec=quad_spec(3, sleep=30), job_name="deferred",
                           wait=True, deferrable=True, poll_interval=0.5)


class DiesAfterLaunch(PipetuneTuningOperator):
    """Launches, then 'the worker dies' on the first try, as a crashed worker would."""

    def execute(self, context):
        handle = super().execute(context)
        if context["ti"].try_number == 1:
            raise RuntimeError("worker lost after launching " + handle["name"])
        return handle


with DAG("pt_retry", schedule=None, start_date=START, catchup=False) as retry:
    launch = DiesAfterLaunch(task_id="launch", spec=quad_spec(3), job_name="retry",
                             retries=1, retry_delay=timedelta(seconds=0))
    wait = PipetuneTuningSensor(task_id="wait", job=launch.output, poll_interval=0.5)
    best = PipetuneBestParamsOperator(task_id="best", job=launch.output)
    launch >> wait >> best


def lucky_spec(max_trials: int) -> dict:
    """A job whose first trial is lucky and nothing later comes close: "not converging"."""
    spec = quad_spec(max_trials)
    spec.update(objectives=[{"metric": "score", "goal": "maximize"}],
                metrics=[{"name": "score", "regex": "score=([0-9.eE+-]+)"}],
                convergence={"window": 3, "min_trials": 5})
    spec["parameters"] = [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0}]
    spec["trial"] = {**spec["trial"], "command": ["python", "lucky.py"]}
    return spec


with DAG("pt_not_converging", schedule=None, start_date=START, catchup=False,
         default_args=ARGS) as not_converging:
    launch = PipetuneTuningOperator(task_id="launch", spec=lucky_spec(6), job_name="stuck",
                                    wait=True, poll_interval=0.5)
    warn = PipetuneTuningSensor(task_id="warn", job=launch.output, poll_interval=0.5,
                                on_not_converging="warn")
    fail = PipetuneTuningSensor(task_id="fail", job=launch.output, poll_interval=0.5,
                                on_not_converging="fail")
    launch >> warn >> fail


RETRY_NOW = {"retry_delay": timedelta(seconds=0)}

with DAG("pt_no_retry", schedule=None, start_date=START, catchup=False,
         default_args=ARGS) as no_retry:
    # a retry cannot help a task waiting on a job that failed: each fails on its first try
    launch = PipetuneTuningOperator(task_id="launch", spec=quad_spec(2, fail=True, sleep=1),
                                    job_name="doomed")
    deferred = PipetuneTuningSensor(task_id="deferred", job=launch.output, deferrable=True,
                                    poll_interval=0.2, retries=2, **RETRY_NOW)
    poke = PipetuneTuningSensor(task_id="poke", job=launch.output, poll_interval=0.2,
                                retries=2, trigger_rule="all_done", **RETRY_NOW)
    best = PipetuneBestParamsOperator(task_id="best", job=launch.output, retries=2,
                                      trigger_rule="all_done", **RETRY_NOW)
    # stopping a job that has ended is no error, and changes nothing
    stop = PipetuneStopOperator(task_id="stop", job=launch.output, trigger_rule="all_done")
    launch >> deferred >> [poke, best] >> stop

with DAG("pt_relaunch", schedule=None, start_date=START, catchup=False,
         default_args=ARGS) as relaunch:
    # relaunch_failed=False: a retry would attach to the same failed job, so none is made;
    # relaunch_failed (the default): the retry launches a fresh job, so it is made
    PipetuneTuningOperator(task_id="once", spec=quad_spec(2, fail=True), job_name="once",
                           wait=True, poll_interval=0.2, relaunch_failed=False, retries=1,
                           **RETRY_NOW)
    PipetuneTuningOperator(task_id="again", spec=quad_spec(2, fail=True), job_name="again",
                           wait=True, poll_interval=0.2, retries=1, **RETRY_NOW)
