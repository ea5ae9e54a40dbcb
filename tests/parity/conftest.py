"""The parity matrix runs real adapters: Airflow (its own home and SQLite DB, as in
tests/airflow), kfp.local, the CLI in a subprocess, the GitHub step. The Airflow environment
is set at import time, before anything imports airflow; when tests/airflow's conftest has
set one already, this folder's DAGs are added to it as one more bundle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from parity_helpers import *  # noqa: E402,F401,F403

_BUNDLE = {"name": "parity", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
           "kwargs": {"path": str(HERE / "dags"), "refresh_interval": 0}}
if "AIRFLOW_HOME" not in os.environ:
    _TMP = Path(tempfile.mkdtemp(prefix="pipetune-parity-"))
    (_TMP / "airflow").mkdir()
    os.environ.update({
        "AIRFLOW_HOME": str(_TMP / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(HERE / "dags"),
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps([_BUNDLE]),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_TMP / 'airflow' / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    })
else:
    bundles = json.loads(os.environ.get("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", "[]"))
    if not any(b.get("name") == "parity" for b in bundles):
        os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(bundles + [_BUNDLE])


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """`airflow db migrate` once per session (idempotent)."""
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run([str(airflow), "db", "migrate"], check=True, env=os.environ.copy(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh PIPETUNE_HOME per cell; the working directory is a temp dir too."""
    root = tmp_path / "pipetune"
    root.mkdir()
    monkeypatch.setenv("PIPETUNE_HOME", str(root))
    monkeypatch.chdir(tmp_path)
    return root
