"""A real Airflow 3.3 for the provider's tests: its own home and SQLite DB in a temp dir.

The environment is set at import time, before anything imports airflow. Two local DAG
bundles are configured: the ready DAGs of pipelines/airflow and the test DAGs here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIPELINES = ROOT / "pipelines" / "airflow"
TEST_DAGS = Path(__file__).resolve().parent / "dags"
ASSETS = Path(__file__).resolve().parent / "assets"

_TMP = Path(tempfile.mkdtemp(prefix="pipetune-airflow-tests-"))
AIRFLOW_HOME = _TMP / "airflow"
PIPETUNE_HOME = _TMP / "pipetune"
AIRFLOW_HOME.mkdir()
PIPETUNE_HOME.mkdir()

_BUNDLES = [
    {"name": "pipelines", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
     "kwargs": {"path": str(PIPELINES), "refresh_interval": 0}},
    {"name": "tests", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
     "kwargs": {"path": str(TEST_DAGS), "refresh_interval": 0}},
]
os.environ.update({
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(PIPELINES),
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(_BUNDLES),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "PIPETUNE_HOME": str(PIPETUNE_HOME),
    # the trial commands say `python`: the venv's, as on an Airflow worker
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
})


@pytest.fixture(scope="session", autouse=True)
def airflow_db() -> Path:
    """`airflow db migrate` once per session (about 3 s on SQLite)."""
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run([str(airflow), "db", "migrate"], check=True, env=os.environ.copy(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return AIRFLOW_HOME


@pytest.fixture
def pipetune_home(tmp_path, monkeypatch) -> Path:
    """A fresh PIPETUNE_HOME per test."""
    home = tmp_path / "pipetune"
    home.mkdir()
    monkeypatch.setenv("PIPETUNE_HOME", str(home))
    return home


def load_dag(path: Path, dag_id: str):
    """Import a DAG file the way the DAG processor does (by path) and return one DAG."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"dagfile_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return getattr(module, "dag", None) if dag_id is None else _find(module, dag_id)


def _find(module, dag_id: str):
    from airflow.sdk import DAG

    for value in vars(module).values():
        if isinstance(value, DAG) and value.dag_id == dag_id:
            return value
    raise LookupError(f"no DAG {dag_id!r} in {module.__file__}")


def task_states(dr) -> dict[str, str]:
    from airflow.utils.session import create_session

    with create_session() as session:
        return {ti.task_id: str(ti.state) for ti in dr.get_task_instances(session=session)}


def xcom(dr, task_id: str, key: str = "return_value"):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.query(XComModel).filter_by(dag_id=dr.dag_id, run_id=dr.run_id,
                                                 task_id=task_id, key=key).one_or_none()
        return None if row is None else XComModel.deserialize_value(row)


def try_numbers(dr) -> dict[str, int]:
    from airflow.utils.session import create_session

    with create_session() as session:
        return {ti.task_id: ti.try_number for ti in dr.get_task_instances(session=session)}


def start_dates(dr) -> dict:
    from airflow.utils.session import create_session

    with create_session() as session:
        return {ti.task_id: ti.start_date for ti in dr.get_task_instances(session=session)}
