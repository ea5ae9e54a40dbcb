"""Mode 1 against the fake Vertex AI: exact requests, lifecycle, typed results."""

from __future__ import annotations

import asyncio

import pytest
from fake_vertex import JobPlan, score, values_of
from google.cloud.aiplatform_v1 import types as t

from pipetune.errors import JobConflict, JobFailed, JobStopped
from pipetune.job import JobRef, JobState
from pipetune.spec import load_spec

PS = t.StudySpec.ParameterSpec


def make_spec(**changes):
    body = {
        "parameters": [
            {"name": "lr", "type": "continuous", "min": 1e-4, "max": 1e-1, "scaling": "log"},
            {"name": "momentum", "type": "continuous", "min": 0.5, "max": 0.99,
             "scaling": "reverse_log"},
            {"name": "depth", "type": "integer", "min": 2, "max": 12},
            {"name": "batch", "type": "discrete", "values": [16, 32, 64]},
            {"name": "booster", "type": "categorical", "values": ["gbtree", "dart"]},
            {"name": "rate_drop", "type": "continuous", "min": 0.0, "max": 0.5,
             "condition": {"parent": "booster", "values": ["dart"]}},
        ],
        "static": {"epochs": 3},
        "objectives": [{"metric": "auc", "goal": "maximize"}],
        "budget": {"max_trials": 6, "max_parallel": 2, "max_failed": 3, "trial_timeout": 900},
        "early_stopping": {"type": "median"},
        "trial": {"command": ["python", "train.py"], "contract": "vertex"},
        "vertex": {
            "container": {"image_uri": "us-docker.pkg.dev/demo-proj/train/xgb:1"},
            "machine_type": "n1-standard-8", "accelerator_type": "NVIDIA_TESLA_T4",
            "accelerator_count": 1, "service_account": "tuner@demo-proj.iam.gserviceaccount.com",
            "network": "projects/123/global/networks/vpc",
            "encryption_key": "projects/demo-proj/locations/us-central1/keyRings/r/cryptoKeys/k",
            "base_output_directory": "gs://demo-bucket/tuning", "labels": {"team": "ml"},
        },
        "measurement": "best",
    }
    body.update(changes)
    return load_spec(body)


def test_launch_sends_the_exact_study_and_worker_pool_spec(backend, fake_vertex):
    spec = make_spec()
    ref = backend.launch(spec, "nightly-xgb")
    (req,) = fake_vertex.calls("CreateHyperparameterTuningJob")
    assert req.parent == "projects/demo-proj/locations/us-central1"
    job = req.hyperparameter_tuning_job
    assert job.display_name == "nightly-xgb"
    assert (job.max_trial_count, job.parallel_trial_count, job.max_failed_trial_count) == (6, 2, 3)
    assert dict(job.labels) == {"team": "ml", "pipetune-managed": "true",
                                "pipetune-fingerprint": spec.fingerprint()}
    assert job.encryption_spec.kms_key_name.endswith("/cryptoKeys/k")
    ss = job.study_spec
    assert [(m.metric_id, m.goal) for m in ss.metrics] == [("auc", t.StudySpec.MetricSpec.GoalType.MAXIMIZE)]
    assert ss.algorithm == t.StudySpec.Algorithm.ALGORITHM_UNSPECIFIED
    assert ss.measurement_selection_type == t.StudySpec.MeasurementSelectionType.BEST_MEASUREMENT
    assert "median_automated_stopping_spec" in ss
    by_id = {p.parameter_id: p for p in ss.parameters}
    assert list(by_id) == ["lr", "momentum", "depth", "batch", "booster"]  # rate_drop nested
    assert by_id["lr"].scale_type == PS.ScaleType.UNIT_LOG_SCALE
    assert (by_id["lr"].double_value_spec.min_value, by_id["lr"].double_value_spec.max_value) == (1e-4, 1e-1)
    assert by_id["momentum"].scale_type == PS.ScaleType.UNIT_REVERSE_LOG_SCALE
    assert by_id["depth"].integer_value_spec.max_value == 12
    assert list(by_id["batch"].discrete_value_spec.values) == [16.0, 32.0, 64.0]
    assert list(by_id["booster"].categorical_value_spec.values) == ["gbtree", "dart"]
    (cond,) = by_id["booster"].conditional_parameter_specs
    assert list(cond.parent_categorical_values.values) == ["dart"]
    assert cond.parameter_spec.parameter_id == "rate_drop"
    pool = job.trial_job_spec.worker_pool_specs[0]
    assert pool.container_spec.image_uri == "us-docker.pkg.dev/demo-proj/train/xgb:1"
    assert list(pool.container_spec.command) == ["python", "train.py"]
    assert list(pool.container_spec.args) == ["--epochs=3"]
    assert (pool.machine_spec.machine_type, pool.machine_spec.accelerator_type,
            pool.machine_spec.accelerator_count, pool.replica_count) == (
        "n1-standard-8", t.AcceleratorType.NVIDIA_TESLA_T4, 1, 1)
    js = job.trial_job_spec
    assert js.service_account == "tuner@demo-proj.iam.gserviceaccount.com"
    assert js.network == "projects/123/global/networks/vpc"
    assert js.base_output_directory.output_uri_prefix == "gs://demo-bucket/tuning"
    assert js.scheduling.timeout.total_seconds() == 900
    assert ref.extra["mode"] == "hyperparameter_tuning_job"
    assert ref.id.startswith("projects/demo-proj/locations/us-central1/hyperparameterTuningJobs/")


def test_lifecycle_to_success_and_typed_best(backend, fake_vertex):
    spec = make_spec()
    ref = JobRef.from_json(backend.launch(spec, "lifecycle").to_json())  # as XCom would
    seen = []
    final = backend.wait(ref, poll_seconds=0.01, on_status=lambda s: seen.append(s.state))
    assert seen[0] == JobState.RUNNING and final.state == JobState.COMPLETED
    assert JobState.RUNNING in seen
    job = fake_vertex.jobs[ref.id].job
    infeasible = [tr for tr in job.trials if tr.state == t.Trial.State.INFEASIBLE]
    assert len(job.trials) == 6 and len(infeasible) == 1
    best = backend.best(ref)
    ok = [tr for tr in job.trials if tr.state == t.Trial.State.SUCCEEDED]
    winner = max(ok, key=lambda tr: score(job.study_spec, values_of(tr))["auc"])
    assert best.trial == winner.id
    assert best.value == pytest.approx(score(job.study_spec, values_of(winner))["auc"])
    assert isinstance(best.params["depth"], int) and best.params["batch"] in (16, 32, 64)
    assert isinstance(best.params["batch"], int)
    assert best.params["booster"] in ("gbtree", "dart")
    assert ("rate_drop" in best.params) == (best.params["booster"] == "dart")
    assert best.static == {"epochs": 3}
    assert (best.trials_total, best.trials_complete, best.trials_infeasible) == (6, 5, 1)
    assert best.artifacts == f"gs://demo-bucket/tuning/{winner.id}/model"
    # 6 trials x 30 min on n1-standard-8 + one T4
    assert best.cost_usd == pytest.approx(3.0 * (0.4370 + 0.4025), abs=1e-3)
    records = backend.trials(ref)
    assert {r.state for r in records} == {"complete", "infeasible"}
    assert next(r for r in records if r.id == winner.id).intermediate.keys() == {1, 2, 3}


def test_failed_job_raises_with_vertex_error(backend, fake_vertex):
    fake_vertex.plans["broken"] = JobPlan(fail_after_polls=2)
    ref = backend.launch(make_spec(), "broken")
    with pytest.raises(JobFailed, match="non-zero status of 1"):
        backend.wait(ref, poll_seconds=0.01)
    assert backend.status(ref).state == JobState.FAILED


def test_stop_cancels_and_wait_reports_stopped(backend, fake_vertex):
    ref = backend.launch(make_spec(), "to-cancel")
    assert backend.status(ref).state == JobState.RUNNING
    backend.stop(ref)
    assert fake_vertex.calls("CancelHyperparameterTuningJob")[0].name == ref.id
    assert backend.status(ref).state == JobState.STOPPED
    with pytest.raises(JobStopped):
        backend.wait(ref, poll_seconds=0.01)


def test_launch_is_idempotent_and_refuses_a_different_spec(backend, fake_vertex):
    spec = make_spec()
    first = backend.launch(spec, "retry-me")
    again = backend.launch(spec, "retry-me")
    assert again.id == first.id
    assert len(fake_vertex.calls("CreateHyperparameterTuningJob")) == 1
    (lookup,) = fake_vertex.calls("ListHyperparameterTuningJobs")[-1:]
    assert lookup.filter == 'display_name="retry-me" AND labels.pipetune-managed="true"'
    with pytest.raises(JobConflict, match="different spec"):
        backend.launch(make_spec(budget={"max_trials": 8, "max_parallel": 2}), "retry-me")
    assert len(fake_vertex.calls("CreateHyperparameterTuningJob")) == 1


def test_async_status_uses_the_async_client(backend, fake_vertex):
    ref = backend.launch(make_spec(), "deferred")
    st = asyncio.run(backend.astatus(ref))
    assert st.state == JobState.RUNNING and st.max_trials == 6


def test_grid_and_random_and_decay_curve(backend, fake_vertex):
    spec = make_spec(
        strategy="grid",
        parameters=[{"name": "lr", "type": "continuous", "min": 0.1, "max": 0.3, "step": 0.1},
                    {"name": "depth", "type": "integer", "min": 2, "max": 8, "step": 2},
                    {"name": "k", "type": "integer", "min": 1, "max": 3,
                     "condition": {"parent": "depth", "values": [4]}}],
        early_stopping={"type": "none"},
        vertex={"container": {"image_uri": "img"}, "automated_stopping": "decay_curve"})
    backend.launch(spec, "grid")
    ss = fake_vertex.calls("CreateHyperparameterTuningJob")[-1].hyperparameter_tuning_job.study_spec
    assert ss.algorithm == t.StudySpec.Algorithm.GRID_SEARCH
    assert list(ss.parameters[0].discrete_value_spec.values) == [0.1, 0.2, 0.3]
    assert list(ss.parameters[1].discrete_value_spec.values) == [2.0, 4.0, 6.0, 8.0]
    assert list(ss.parameters[1].conditional_parameter_specs[0].parent_discrete_values.values) == [4.0]
    assert "decay_curve_stopping_spec" in ss and "median_automated_stopping_spec" not in ss
