"""The SageMaker lifecycle through the Airflow sensor, the service answered by botocore's
Stubber (requests and answers checked against the real service model).

The test puts a ``SageMakerBackend(client=<stubbed boto3 client>)`` in ``STUBBED``; the
hook subclass below hands it out instead of building one from a connection. That fakes
the cloud only: the sensor, the hook's calls and the backend are pipetune's own."""

from __future__ import annotations

import sys
import types
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG

sys.path.insert(0, str(Path(__file__).parent))
from af_dag_common import record_failure  # noqa: E402

from pipetune.airflow.hooks.pipetune import PipetuneHook  # noqa: E402
from pipetune.airflow.sensors.tuning import PipetuneTuningSensor  # noqa: E402

# one registry however many times this file is imported (the DAG file is imported twice)
STUBBED: dict = sys.modules.setdefault(
    "pt_sm_stubber_registry", types.ModuleType("pt_sm_stubber_registry")).__dict__.setdefault(
    "backends", {})


class StubbedSageMakerHook(PipetuneHook):
    def get_conn(self):
        return STUBBED["sagemaker"]


class StubbedSensor(PipetuneTuningSensor):
    def make_hook(self, backend: str) -> PipetuneHook:
        return StubbedSageMakerHook(backend=backend)


with DAG("pt_sm_stubber", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
         default_args={"on_failure_callback": record_failure}) as dag:
    StubbedSensor(task_id="wait", job="nightly-xgb", backend="sagemaker", poll_interval=0.05,
                  mode="poke", timeout=30)
