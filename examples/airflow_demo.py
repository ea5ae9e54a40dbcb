"""Run the continuous-training DAG end to end on a real Airflow, on the local backend.

    python examples/airflow_demo.py [--max-trials 6] [--keep]

It makes a throw-away Airflow home (SQLite) and PIPETUNE_HOME in a temp dir, runs
``airflow db migrate``, then ``dag.test()`` of pipelines/airflow/continuous_training.py:
proxy-tune on a sample, train on all the data with the best parameters, promote if better.
It prints the best parameters and the final model's score.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIPELINES = ROOT / "pipelines" / "airflow"
DAG_ID = "pipetune_continuous_training"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-trials", type=int, default=6)
    parser.add_argument("--fraction", type=float, default=0.5)
    parser.add_argument("--keep", action="store_true", help="keep the temp Airflow home")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pipetune-airflow-demo-"))
    home = tmp / "airflow"
    home.mkdir()
    os.environ.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PIPELINES),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PIPETUNE_HOME": str(tmp / "pipetune"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    try:
        print(f"Airflow home: {home}\nmigrating the metadata DB ...", flush=True)
        subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], check=True,
                       stdout=subprocess.DEVNULL, env=os.environ.copy())
        import importlib.util

        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        spec = importlib.util.spec_from_file_location("ct_dag", PIPELINES / "continuous_training.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"running {DAG_ID} with dag.test() ({args.max_trials} trials on "
              f"{args.fraction:.0%} of the rows) ...", flush=True)
        dr = module.dag.test(run_conf={"max_trials": args.max_trials, "fraction": args.fraction})

        with create_session() as session:
            states = {ti.task_id: str(ti.state) for ti in dr.get_task_instances(session=session)}

            def pull(task_id):
                row = session.query(XComModel).filter_by(dag_id=DAG_ID, run_id=dr.run_id,
                                                         task_id=task_id, key="return_value").one_or_none()
                return None if row is None else XComModel.deserialize_value(row)

            best, candidate = pull("proxy_tuning.best"), pull("train_full")
        print("\ntask states:", json.dumps(states, indent=1))
        if str(dr.state) != "success" or best is None or candidate is None:
            print(f"the DAG run ended {dr.state}", file=sys.stderr)
            return 1
        print(f"\ntuning job {best['job']}: {best['trials_complete']}/{best['trials_total']} "
              f"trials complete")
        print(f"best parameters (typed): {json.dumps(best['params'])}")
        print(f"proxy {best['objective']} (on the sample): {best['value']:.4f}")
        print(f"final model accuracy (all the data, hold-out): {candidate['score']:.4f}")
        print(f"promoted: {states.get('promote') == 'success'}")
        return 0
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
