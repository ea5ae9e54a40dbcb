"""The provider registers, its parts serialise, its fields template, its errors are clear."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import sys as _sys

from af_helpers import TEST_DAGS, load_dag

_sys.path.insert(0, str(TEST_DAGS))


def test_airflow_providers_list_shows_pipetune():
    airflow = Path(sys.executable).parent / "airflow"
    out = subprocess.run([str(airflow), "providers", "list", "-o", "plain"], check=True,
                         capture_output=True, text=True, env=os.environ.copy()).stdout
    assert "pipetune" in out
    triggers = subprocess.run([str(airflow), "providers", "triggers", "-o", "plain"], check=True,
                              capture_output=True, text=True, env=os.environ.copy()).stdout
    assert "pipetune.airflow.triggers.tuning" in triggers


def test_providers_manager_loads_links_and_hooks():
    from airflow.providers_manager import ProvidersManager

    pm = ProvidersManager()
    assert pm.providers["pipetune"].data["package-name"] == "pipetune"
    assert "pipetune.airflow.links.console.SageMakerTuningJobLink" in pm.extra_links_class_names
    assert "pipetune.airflow.links.console.VertexTuningJobLink" in pm.extra_links_class_names


def test_trigger_serialize_roundtrip():
    from pipetune.airflow.triggers.tuning import PipetuneJobTrigger
    from airflow.sdk.module_loading import import_string

    t = PipetuneJobTrigger(job={"backend": "local", "id": "n", "name": "n"}, backend="local",
                           backend_options={"root": "/x"}, poll_interval=7)
    path, kwargs = t.serialize()
    again = import_string(path)(**kwargs)
    assert again.serialize() == (path, kwargs) and again.poll_interval == 7.0


async def _events(trigger):
    return [e async for e in trigger.run()]


def test_trigger_reports_a_stopped_job_not_success(pipetune_home):
    """The trigger itself, on a real local job stopped while it polls."""
    import asyncio
    import threading
    import time

    from af_dag_common import quad_spec
    from pipetune.airflow.triggers.tuning import PipetuneJobTrigger
    from pipetune.backends.local import LocalBackend
    from pipetune.spec import load_spec

    backend = LocalBackend()
    ref = backend.launch(load_spec(quad_spec(2, sleep=30)), "trig-stop")
    threading.Timer(1.5, backend.stop, args=(ref,)).start()
    started = time.monotonic()
    events = asyncio.run(_events(PipetuneJobTrigger(job=ref.model_dump(mode="json"),
                                                    poll_interval=0.3)))
    assert len(events) == 1 and events[0].payload["status"] == "stopped"
    assert events[0].payload["reason"] == "stopped on request"
    assert time.monotonic() - started < 25


def test_template_fields_render():
    from pipetune.airflow.operators.tuning import PipetuneTuningOperator
    from pipetune.airflow.operators.best import PipetuneBestParamsOperator
    from pipetune.airflow.sensors.tuning import PipetuneTuningSensor

    assert {"spec", "job_name", "static", "channels", "spec_overrides", "warm_start_from",
            "backend", "conn_id", "backend_options"} <= set(PipetuneTuningOperator.template_fields)
    assert "job" in PipetuneBestParamsOperator.template_fields
    assert "job" in PipetuneTuningSensor.template_fields
    dag = load_dag(TEST_DAGS / "pt_basic.py", "pt_basic")
    op = dag.get_task("launch")
    import jinja2

    env = jinja2.Environment()
    ctx = {"params": {"prefix": "p1", "offset": 3}, "run_id": "r1"}
    op.render_template_fields(ctx, jinja_env=env)
    assert op.job_name == "p1" and op.static == {"offset": "3", "run": "r1"}


def test_bad_spec_fails_fast_naming_the_field(pipetune_home):
    from airflow.sdk.exceptions import AirflowFailException

    from af_dag_common import quad_spec
    from pipetune.airflow.operators.tuning import PipetuneTuningOperator

    bad = quad_spec(3)
    bad["parameters"][1]["max"] = -9  # below min
    op = PipetuneTuningOperator(task_id="t", spec=bad)
    with pytest.raises(AirflowFailException, match=r"parameters\[1\]"):
        op.execute({"ti": None, "run_id": "r"})
    assert not (pipetune_home / "jobs").exists() or not any((pipetune_home / "jobs").iterdir())
    with pytest.raises(ValueError, match="backend: unknown backend 'aws'"):
        PipetuneTuningOperator(task_id="t2", spec=quad_spec(3), backend="aws")


def test_job_names_are_deterministic_and_portable():
    from pipetune.airflow.utils.job_name import deterministic_job_name

    a = deterministic_job_name("dag", "tune", "scheduled__2026-01-01", prefix="Churn Model v2!")
    assert a == deterministic_job_name("dag", "tune", "scheduled__2026-01-01", prefix="Churn Model v2!")
    assert a != deterministic_job_name("dag", "tune", "scheduled__2026-01-02", prefix="Churn Model v2!")
    assert a != deterministic_job_name("dag", "tune", "scheduled__2026-01-01", prefix="Churn Model v2!",
                                       map_index=0)
    import re

    for name in (a, deterministic_job_name("d" * 300, "t" * 300, "r", prefix="x" * 99, attempt=12)):
        assert re.fullmatch(r"[a-z0-9](-*[a-z0-9]){0,31}", name), name


def test_job_ref_coercion_errors_name_the_field():
    from pipetune.airflow.utils.jobref import coerce_job_ref
    from pipetune.errors import UsageError

    with pytest.raises(UsageError, match="job: a bare job name"):
        coerce_job_ref("nightly")
    with pytest.raises(UsageError, match="job: not a job handle"):
        coerce_job_ref({"id": "x"})
