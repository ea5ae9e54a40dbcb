"""The cost estimate on the cloud backends: Vertex AI against the fake Vertex server (the
unchanged SDK over TLS), SageMaker from DescribeTrainingJob answers of a moto server."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pipetune.backends.sagemaker.cost import PRICES_USD_PER_HOUR
from pipetune.backends.vertex.cost import ACCELERATOR_HOUR_USD, MACHINE_HOUR_USD
from pipetune.observability.cost import estimate_cost, sagemaker_cost
from pipetune.observability.exporter import render
from pipetune.spec import load_spec


def vertex_spec(**changes):
    body = {
        "parameters": [
            {"name": "lr", "type": "continuous", "min": 1e-4, "max": 1e-1, "scaling": "log"},
            {"name": "depth", "type": "integer", "min": 2, "max": 12},
        ],
        "objectives": [{"metric": "auc", "goal": "maximize"}],
        "budget": {"max_trials": 6, "max_parallel": 2, "max_failed": 3},
        "trial": {"command": ["python", "train.py"], "contract": "vertex"},
        "vertex": {"container": {"image_uri": "us-docker.pkg.dev/demo-proj/train/xgb:1"},
                   "machine_type": "n1-standard-8", "accelerator_type": "NVIDIA_TESLA_T4",
                   "accelerator_count": 1},
    }
    body.update(changes)
    return load_spec(body)


def test_vertex_cost_is_machine_hours_plus_fees_and_is_exported(vertex):
    backend, fake = vertex
    ref = backend.launch(vertex_spec(), "costed")
    backend.status(ref)  # PENDING -> RUNNING: the first trials start
    backend.status(ref)
    running = estimate_cost(ref, backend)
    assert running.usd is not None and running.trials >= 1
    backend.wait(ref, poll_seconds=0.01)
    trials = backend.trials(ref)
    est = estimate_cost(ref, backend)
    # every fake trial runs 30 minutes on n1-standard-8 with one T4
    hourly = MACHINE_HOUR_USD["n1-standard-8"] + ACCELERATOR_HOUR_USD["NVIDIA_TESLA_T4"]
    assert est.trials == len(trials) == 6
    assert est.compute_seconds == pytest.approx(6 * 1800)
    assert est.usd == pytest.approx(6 * 0.5 * hourly, abs=1e-3)
    assert est.unit == "machine-seconds" and "n1-standard-8" in est.basis
    assert backend.best(ref).cost_usd == pytest.approx(est.usd)  # the backend's own figure
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(render([ref], backends={"vertex": backend}))
               for s in f.samples}
    lbl = (("backend", "vertex"), ("pipetune_job", "costed"))
    assert samples[("pipetune_estimated_cost_usd", lbl)] == pytest.approx(est.usd)
    for state in ("complete", "infeasible"):
        assert samples[("pipetune_trials", lbl + (("state", state),))] == \
            sum(t.state == state for t in trials)
    assert samples[("pipetune_job_state", lbl + (("state", "completed"),))] == 1


def test_vertex_vizier_mode_counts_per_trial_fees_only():
    from pipetune.backends.vertex.options import parse_options
    from pipetune.observability.cost import vertex_cost
    from pipetune.results import TrialRecord

    spec = vertex_spec(vertex={"mode": "vizier", "prices": {"trial_fee_usd": 0.5}})
    trials = [TrialRecord(id=str(i), number=i, state="complete", params={}, duration_seconds=60)
              for i in range(4)]
    est = vertex_cost(spec, trials, parse_options(spec.vertex, project="demo-proj",
                                                  location="us-central1"))
    assert est.usd == pytest.approx(2.0) and est.compute_seconds == 0 and "Vizier" in est.basis


def test_sagemaker_cost_from_moto_training_jobs(moto_server):
    sm = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_server)
    for name, itype, count in (("trial-a", "ml.m5.xlarge", 2), ("trial-b", "ml.g4dn.xlarge", 1)):
        sm.create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={"TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1",
                                    "TrainingInputMode": "File"},
            RoleArn="arn:aws:iam::123456789012:role/SageMakerTuning",
            OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
            ResourceConfig={"InstanceType": itype, "InstanceCount": count, "VolumeSizeInGB": 30},
            StoppingCondition={"MaxRuntimeInSeconds": 3600})
    a, b = (sm.describe_training_job(TrainingJobName=n) for n in ("trial-a", "trial-b"))
    # moto finishes a training job at once; give them a real job's times: A ran 25 minutes
    # with spot savings billed in BillableTimeInSeconds, B is still in progress
    start = a["TrainingStartTime"]
    a.update(TrainingEndTime=start + dt.timedelta(minutes=25), BillableTimeInSeconds=1200)
    b.update(TrainingJobStatus="InProgress", TrainingStartTime=start)
    b.pop("TrainingEndTime")
    jobs = [a, b]
    spec = load_spec({**vertex_spec().to_dict(), "backend": "sagemaker", "vertex": None,
                      "sagemaker": {"prices": {"ml.g4dn.xlarge": 0.5}}})
    now = start + dt.timedelta(minutes=30)
    est = sagemaker_cost(spec, jobs, now=now)

    def seconds(job):
        if job.get("BillableTimeInSeconds") is not None:
            return job["BillableTimeInSeconds"]
        return ((job.get("TrainingEndTime") or now) - job["TrainingStartTime"]).total_seconds()

    assert (seconds(a), seconds(b)) == (1200, 1800)
    expected = (seconds(a) * 2 * PRICES_USD_PER_HOUR["ml.m5.xlarge"] + seconds(b) * 0.5) / 3600
    assert est.usd == pytest.approx(expected, abs=1e-5) and est.usd > 0
    assert est.compute_seconds == pytest.approx(seconds(a) * 2 + seconds(b))
    assert est.unit == "instance-seconds" and "ml.g4dn.xlarge" in est.basis
    unpriced = sagemaker_cost(load_spec({**spec.to_dict(), "sagemaker": {}}),
                              [{**b, "ResourceConfig": {"InstanceType": "ml.x99.huge"}}], now=now)
    assert unpriced.usd is None and "unknown" in unpriced.describe()
