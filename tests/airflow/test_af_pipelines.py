"""dag.test() of every ready DAG in pipelines/airflow on the local backend, real trials."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from af_helpers import PIPELINES, load_dag, task_states, xcom


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


def test_monthly_retune_warm_starts_from_last_success(pipetune_home):
    from pipetune.backends.local import LocalBackend

    dag = load_dag(PIPELINES / "monthly_retune.py", "pipetune_monthly_retune")
    dr1 = dag.test(run_conf={"max_trials": 3}, logical_date=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert set(task_states(dr1).values()) == {"success"}, task_states(dr1)
    assert xcom(dr1, "previous_job") is None
    first = xcom(dr1, "best")["job"]

    dr2 = dag.test(run_conf={"max_trials": 6}, logical_date=datetime(2026, 2, 1, tzinfo=timezone.utc))
    assert set(task_states(dr2).values()) == {"success"}, task_states(dr2)
    assert xcom(dr2, "previous_job") == first
    second = xcom(dr2, "best")["job"]
    assert second != first
    backend = LocalBackend()
    spec = backend._job(second).spec()
    assert spec.warm_start is not None and spec.warm_start.parents == [first]
    parent_params = [t.params for t in backend.trials(first)]
    child = backend.trials(second)
    # the parent's 3 completed trials seed the child's study; its own budget is 6 new trials
    seeded = [t for t in child if t.warm_start_from]
    own = [t for t in child if not t.warm_start_from]
    assert [t.params for t in seeded] == parent_params
    assert len(own) == 6
    assert xcom(dr2, "best")["trial"] in {t.id for t in own}


def test_tiered_tuning_dev_tier(pipetune_home):
    from pipetune.backends.local import LocalBackend

    dag = load_dag(PIPELINES / "tiered_tuning.py", "pipetune_tiered_tuning")
    dr = dag.test(run_conf={"tier": "dev"})
    assert set(task_states(dr).values()) == {"success"}, task_states(dr)
    assert xcom(dr, "tier_overrides")["budget"]["max_trials"] == 5
    best = xcom(dr, "best")
    assert best["job"].startswith("dev-")
    spec = LocalBackend()._job(best["job"]).spec()
    assert spec.strategy == "random" and spec.budget.max_trials == 5
    assert best["trials_total"] == 5


def test_tier_table():
    tiers = load_dag(PIPELINES / "tiered_tuning.py", "pipetune_tiered_tuning")  # no side effects
    import importlib.util

    mod_spec = importlib.util.spec_from_file_location("tiers_mod", PIPELINES / "tiered_tuning.py")
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    assert {k: (v["budget"]["max_trials"], v["strategy"]) for k, v in module.TIERS.items()} == {
        "dev": (5, "random"), "staging": (20, "tpe"), "prod": (100, "auto")}
    assert tiers.params["tier"] == "dev"
    from pipetune.spec import load_spec

    for overrides in module.TIERS.values():  # every tier makes a valid spec
        load_spec(str(PIPELINES / "assets" / "spec.yaml")).with_overrides(**overrides)
