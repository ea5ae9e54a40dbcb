from __future__ import annotations

from datetime import datetime, timezone

from af_helpers import TEST_DAGS, load_dag, task_states, xcom


def test_launch_wait_best_typed(pipetune_home):
    from pipetune.backends.local import LocalBackend

    dag = load_dag(TEST_DAGS / "pt_basic.py", "pt_basic")
    dr = dag.test(logical_date=datetime(2026, 2, 1, tzinfo=timezone.utc))
    states = task_states(dr)
    assert states == {k: "success" for k in ("launch", "wait", "best", "templated", "types")}, states
    handle = xcom(dr, "launch")
    assert handle["backend"] == "local" and handle["name"].startswith("basic-")
    best = xcom(dr, "best")
    # the job is real: its trials ran as processes, the best matches the backend's own view
    backend = LocalBackend()
    trials = backend.trials(handle["name"])
    assert len(trials) == 4 and all(t.state == "complete" for t in trials)
    assert best["value"] == min(t.metrics["loss"] for t in trials)
    assert isinstance(best["params"]["x"], float) and isinstance(best["params"]["y"], int)
    assert best["static"]["offset"] == "7"  # rendered template
    assert xcom(dr, "types") == {"x": "float", "y": "int", "value": "float"}
    rendered = xcom(dr, "templated")
    assert float(rendered["x_times_2"]) == best["params"]["x"] * 2
    assert int(rendered["y_plus_1"]) == best["params"]["y"] + 1
    assert rendered["job"] == handle["name"]
