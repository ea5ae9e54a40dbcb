"""dag.test() of every ready DAG in pipelines/airflow on the local backend, real trials."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from conftest import PIPELINES, load_dag, task_states, xcom


def test_continuous_training_promotes_then_gates(pipetune_home):
    from pipetune.backends.local import LocalBackend

    dag = load_dag(PIPELINES / "continuous_training.py", "pipetune_continuous_training")
    conf = {"max_trials": 3, "fraction": 0.5}
    dr = dag.test(run_conf=conf, logical_date=datetime(2026, 1, 5, tzinfo=timezone.utc))
    states = task_states(dr)
    assert set(states.values()) == {"success"}, states
    best = xcom(dr, "proxy_tuning.best")
    sample = xcom(dr, "proxy_tuning.sample")
    assert sample["manifest"]["rows_in"] == 569 and sample["manifest"]["rows_out"] in (284, 285)
    job = LocalBackend().trials(best["job"])
    assert len(job) == 3 and best["value"] == max(t.metrics["accuracy"] for t in job)
    # tuned on the sample, not the full data
    assert LocalBackend()._job(best["job"]).spec().static["data"] == sample["sample"]
    assert isinstance(best["params"]["max_depth"], int)
    candidate = xcom(dr, "train_full")
    assert candidate["params"] == best["params"] and 0.8 < candidate["score"] <= 1.0
    champion = pipetune_home / "registry" / "pipetune_continuous_training" / "champion"
    assert json.loads((champion / "champion.json").read_text())["score"] == candidate["score"]

    # next run: the same data and budget give a model no better than the champion -> gated
    dr2 = dag.test(run_conf=conf, logical_date=datetime(2026, 1, 12, tzinfo=timezone.utc))
    states2 = task_states(dr2)
    cand2 = xcom(dr2, "train_full")
    if cand2["score"] > candidate["score"]:
        assert states2["promote"] == "success"
    else:
        assert states2["promote"] == "skipped", states2
        assert json.loads((champion / "champion.json").read_text())["job"] == best["job"]
