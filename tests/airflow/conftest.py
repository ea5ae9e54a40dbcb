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
