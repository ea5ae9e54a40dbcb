"""Helpers of the Airflow tests (a uniquely named module: other test folders have conftests)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIPELINES = ROOT / "pipelines" / "airflow"
TEST_DAGS = Path(__file__).resolve().parent / "dags"


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
