"""A verification training job against moto's server on loopback (real boto3, HTTP included).

What moto's SageMaker does with training jobs (moto 5.x): CreateTrainingJob stores the
request; DescribeTrainingJob answers it at once as Completed, echoing hyperparameters,
channels and resources, but with its own MetricDefinitions and a FinalMetricDataList of one
fixed metric, ``train:progress`` = 100.0; a missing job is a ValidationException "Could not
find training job"; a second create of the same name silently replaces the first. So the
objective is read from FinalMetricDataList only for that metric; any other objective is
correctly reported as missing.
"""

from __future__ import annotations

import copy

import boto3

from pipetune.backends.sagemaker.backend import SageMakerBackend
from pipetune.spec import load_spec
from sm_fixtures import IMAGE, MINIMAL, ROLE

PARAMS = {"eta": 0.05, "max_depth": 4}


def _spec(metric: str):
    body = copy.deepcopy(MINIMAL)
    body["objectives"] = [{"metric": metric, "goal": "maximize"}]
    body["metrics"] = [{"name": metric, "regex": "progress=([0-9.]+)"}]
    body["static"] = {"data": "s3://ml-bucket/full/train.csv"}
    body["trial"]["channels"] = {"train": "s3://ml-bucket/full/"}
    return load_spec(body)


def _backend(url: str) -> SageMakerBackend:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                            region_name="us-east-1")
    return SageMakerBackend(session=session, endpoint_url=url)


def test_create_describe_and_read_the_final_metric(moto_server):
    spec = _spec("train:progress")
    backend = _backend(moto_server)
    name = backend.training_name(spec, "moto-verify", 1, PARAMS)
    out = backend.run_training(spec, PARAMS, name, poll_seconds=0.01)
    assert out.state == "complete" and out.metrics == {"train:progress": 100.0}
    assert out.where == f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}"
    stored = boto3.client("sagemaker", region_name="us-east-1",
                          endpoint_url=moto_server).describe_training_job(TrainingJobName=name)
    assert stored["HyperParameters"] == {"eta": "0.05", "max_depth": "4",
                                         "data": "s3://ml-bucket/full/train.csv"}
    assert stored["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert stored["RoleArn"] == ROLE
    assert stored["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://ml-bucket/full/"
    assert stored["ResourceConfig"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                        "VolumeSizeInGB": 30}


def test_a_retry_from_another_worker_attaches(moto_server):
    spec = _spec("train:progress")
    name = _backend(moto_server).training_name(spec, "moto-verify", 2, PARAMS)
    _backend(moto_server).run_training(spec, PARAMS, name, poll_seconds=0.01)
    client = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_server)
    created = client.describe_training_job(TrainingJobName=name)["CreationTime"]
    again = _backend(moto_server).run_training(spec, PARAMS, name, poll_seconds=0.01)
    assert again.state == "complete"
    # moto replaces a job created twice (new CreationTime); an attach leaves it alone
    assert client.describe_training_job(TrainingJobName=name)["CreationTime"] == created
    assert [j["TrainingJobName"] for j in client.list_training_jobs()["TrainingJobSummaries"]] == [name]


def test_an_objective_missing_from_the_final_metrics_is_a_failure(moto_server):
    spec = _spec("validation:auc")
    backend = _backend(moto_server)
    out = backend.run_training(spec, PARAMS, backend.training_name(spec, "moto-verify", 1, PARAMS),
                               poll_seconds=0.01)
    assert out.state == "failed"
    assert "'validation:auc'" in out.reason and "train:progress" in out.reason



def test_candidates_verify_in_parallel_as_training_jobs(moto_server, tmp_path):
    """The workflow's verification step (moto has no ListTrainingJobsForHyperParameterTuningJob,
    so the proxy tuning job itself cannot run here): 3 candidates on 3 threads, one shared
    client, one training job each; a second pass reads the stored results."""
    from pipetune.proxy.workflow import Candidate, _verify

    spec = _spec("train:progress").with_overrides(budget={"max_parallel": 3})
    backend = _backend(moto_server)
    candidates = [Candidate(rank=r, trial=f"t{r}", params={"eta": 0.01 * r, "max_depth": r + 1},
                            proxy_value=1.0 - r / 10) for r in (1, 2, 3)]
    _verify(spec, candidates, tmp_path / "verify", runner=backend, name="moto-par")
    client = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_server)
    jobs = sorted(j["TrainingJobName"] for j in client.list_training_jobs()["TrainingJobSummaries"])
    assert jobs == sorted(backend.training_name(spec, "moto-par", c.rank, c.params)
                          for c in candidates)
    for c in candidates:
        name = backend.training_name(spec, "moto-par", c.rank, c.params)
        assert c.full_state == "complete" and c.full_value == 100.0
        assert c.full_job.endswith(f"training-job/{name}")
        stored = client.describe_training_job(TrainingJobName=name)
        assert stored["HyperParameters"]["eta"] == repr(0.01 * c.rank)
    again = [Candidate(rank=c.rank, trial=c.trial, params=c.params, proxy_value=c.proxy_value)
             for c in candidates]
    second = _backend(moto_server)
    made = []
    second.client("us-east-1").meta.events.register(
        "before-call.sagemaker.*", lambda model, **_: made.append(model.name))
    _verify(spec, again, tmp_path / "verify", runner=second, name="moto-par")
    assert again == candidates and made == []
