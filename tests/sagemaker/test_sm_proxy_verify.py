"""Proxy tuning on SageMaker: the candidates are verified as SageMaker training jobs (not on
this machine). SageMaker through botocore's Stubber (requests and answers checked against
the real service model); the data, the sample and its manifest on moto's S3."""

from __future__ import annotations

import copy
import datetime as dt
import re

import boto3
import pytest
from botocore.stub import ANY, Stubber

from pipetune.backends.sagemaker.backend import SageMakerBackend
from pipetune.errors import SpecError
from pipetune.proxy import run_proxy_tuning
from sm_fixtures import IMAGE, MINIMAL, T0, describe_answer, summary, training_request

JOB = "nightly"
TUNING_ARN = f"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{JOB}"
FULL = "s3://proxy-test/full"
# the proxy's trials: (params as AMT reports them, proxy value), best first after ranking
PROXY_TRIALS = [({"eta": "0.05", "max_depth": "4"}, 0.80),
                ({"eta": "0.2", "max_depth": "8"}, 0.90),
                ({"eta": "0.01", "max_depth": "2"}, 0.70),
                ({"eta": "0.1", "max_depth": "6"}, 0.85)]
# the top 3 by proxy value, i.e. the candidates of ranks 1, 2, 3
RANKED = [PROXY_TRIALS[1], PROXY_TRIALS[3], PROXY_TRIALS[0]]


@pytest.fixture
def s3_options(moto_server):
    import s3fs

    options = {"client_kwargs": {"endpoint_url": moto_server}, "key": "testing",
               "secret": "testing", "use_listings_cache": False}
    fs = s3fs.S3FileSystem(**options)
    fs.mkdir("proxy-test")
    rows = "\n".join(f"{i},{i % 3}" for i in range(400))
    fs.pipe(f"{FULL}/train.csv", f"x,label\n{rows}\n".encode())
    yield options
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture
def sm():
    """(backend, stubber, calls): ``calls`` records (operation, params) of every request."""
    client = boto3.client("sagemaker", region_name="us-east-1")
    calls: list[tuple[str, dict]] = []
    client.meta.events.register(
        "before-parameter-build.sagemaker.*",
        lambda params, model, **_: calls.append((model.name, copy.deepcopy(params))))
    stub = Stubber(client)
    with stub:
        yield SageMakerBackend(client=client), stub, calls
        stub.assert_no_pending_responses()


def _spec(**proxy) -> dict:
    body = copy.deepcopy(MINIMAL)
    body["static"] = {"objective": "binary:logistic"}
    body["trial"]["channels"] = {"train": FULL}
    body["budget"] = {"max_trials": 4, "max_parallel": 1}
    body["proxy"] = {"data": f"{FULL}/train.csv", "data_channel": "train", "fraction": 0.25,
                     "verify_top_k": 3, "output": f"s3://proxy-test/proxy/{JOB}", **proxy}
    return body


def _tuning(stub, *, exists: bool = False, fingerprint: str | None = None) -> None:
    """The proxy tuning job on the sample: created (or found), completed, its 4 trials."""
    describe = {"HyperParameterTuningJobName": JOB}
    best = summary(f"{JOB}-002-bbbbbbbb", "Completed", PROXY_TRIALS[1][0], 0.90)
    if exists:
        stub.add_response("describe_hyper_parameter_tuning_job",
                          describe_answer(JOB, "Completed", best=best), describe)
        stub.add_response("list_tags", {"Tags": [{"Key": "pipetune:fingerprint",
                                                  "Value": fingerprint}]},
                          {"ResourceArn": TUNING_ARN})
    else:
        stub.add_client_error("describe_hyper_parameter_tuning_job", "ResourceNotFound",
                              "Amazon SageMaker can't find a tuning job", expected_params=describe)
        stub.add_response("create_hyper_parameter_tuning_job",
                          {"HyperParameterTuningJobArn": TUNING_ARN})
    stub.add_response("describe_hyper_parameter_tuning_job",
                      describe_answer(JOB, "Completed", best=best), describe)
    stub.add_response("list_training_jobs_for_hyper_parameter_tuning_job", {
        "TrainingJobSummaries": [summary(f"{JOB}-{i + 1:03d}-{'abcd'[i] * 8}", "Completed", p, v)
                                 for i, (p, v) in enumerate(PROXY_TRIALS)]},
        {"HyperParameterTuningJobName": JOB, "MaxResults": 100, "SortBy": "CreationTime",
         "SortOrder": "Ascending"})


def _request(params: dict) -> dict:
    """The CreateTrainingJob request of one candidate: the tuning job's training definition
    with the full-data channel, candidate values plus static ones."""
    return training_request(ANY, {**params, "objective": "binary:logistic"}, FULL)


def _training_answer(params: dict, status: str, *, value: float | None = None,
                     reason: str | None = None, seconds: int = 1200) -> dict:
    """A DescribeTrainingJob answer (its name is checked through the recorded calls)."""
    body = {
        "TrainingJobName": "x", "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/x",
        "TrainingJobStatus": status, "SecondaryStatus": status,
        "ModelArtifacts": {"S3ModelArtifacts": "s3://ml-bucket/tuning/out/x/output/model.tar.gz"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400}, "CreationTime": T0,
        "TrainingStartTime": T0, "TrainingEndTime": T0 + dt.timedelta(seconds=seconds),
        "TrainingTimeInSeconds": seconds,
        "HyperParameters": {**params, "objective": "binary:logistic"},
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
    }
    if value is not None:
        body["FinalMetricDataList"] = [{"MetricName": "train:auc", "Value": 0.99, "Timestamp": T0},
                                       {"MetricName": "validation:auc", "Value": value,
                                        "Timestamp": T0}]
    if reason:
        body["FailureReason"] = reason
    return body


def _verification(stub, outcomes: list[tuple[str, float | None, str | None]], *,
                  existing: bool = False) -> None:
    for (params, _), (status, value, reason) in zip(RANKED, outcomes):
        answer = _training_answer(params, status, value=value, reason=reason)
        if not existing:
            stub.add_client_error("describe_training_job", "ValidationException",
                                  "Requested resource not found.",
                                  expected_params={"TrainingJobName": ANY})
            stub.add_response("create_training_job", {"TrainingJobArn": "arn:x"}, _request(params))
        stub.add_response("describe_training_job", answer, {"TrainingJobName": ANY})


def _names(calls, operation):
    return [p["TrainingJobName"] for op, p in calls if op == operation]


def test_candidates_are_verified_as_training_jobs_on_the_full_data(sm, s3_options):
    backend, stub, calls = sm
    _tuning(stub)
    _verification(stub, [("Completed", 0.81, None), ("Completed", 0.86, None),
                         ("Completed", 0.79, None)])
    result = run_proxy_tuning(_spec(), JOB, backend, storage_options=s3_options)

    # tuning ran on the sample (its own channel directory), verification on the full data
    tuning = next(p for op, p in calls if op == "CreateHyperParameterTuningJob")
    channel = tuning["TrainingJobDefinition"]["InputDataConfig"][0]["DataSource"]["S3DataSource"]
    assert channel["S3Uri"] == f"s3://proxy-test/proxy/{JOB}/sample"
    assert result.sample.rows_out == 100 and result.sample.sample.startswith("s3://")
    # one training job per candidate, named after the run and the rank, nothing else created
    created = _names(calls, "CreateTrainingJob")
    assert [re.fullmatch(rf"{JOB}-v{r}-[0-9a-f]{{8}}", n) is not None
            for r, n in zip((1, 2, 3), created)] == [True, True, True]
    assert _names(calls, "DescribeTrainingJob") == [n for n in created for _ in (0, 1)]
    assert [c.full_job for c in result.candidates] == [
        "arn:aws:sagemaker:us-east-1:123456789012:training-job/x"] * 3
    # the objective read from FinalMetricDataList decides the winner
    assert [c.full_value for c in result.candidates] == [0.81, 0.86, 0.79]
    assert all(c.full_state == "complete" and c.full_seconds == 1200.0 for c in result.candidates)
    assert result.candidates[0].full_metrics == {"train:auc": 0.99, "validation:auc": 0.81}
    assert result.verified_winner.rank == 2 and result.winner_changed
    assert result.best.params == {"eta": 0.1, "max_depth": 6} and result.best.value == 0.86
    assert result.best.backend == "sagemaker" and result.verify_seconds == 3600.0
    # nothing ran on this machine: no trial directory
    verify = backend_home(result) / "verify"
    assert sorted(p.name for p in verify.iterdir()) == ["results.json"]


def backend_home(result):
    import os
    from pathlib import Path

    return Path(os.environ["PIPETUNE_HOME"]) / "proxy" / result.job


def test_a_failing_training_job_fails_its_candidate_with_the_reason(sm, s3_options):
    backend, stub, _ = sm
    _tuning(stub)
    _verification(stub, [("Completed", 0.81, None),
                         ("Failed", None, "AlgorithmError: out of memory (exit code 137)"),
                         ("Completed", 0.79, None)])
    result = run_proxy_tuning(_spec(), JOB, backend, storage_options=s3_options)
    failed = result.candidates[1]
    assert failed.full_state == "failed" and failed.full_value is None
    assert failed.full_reason == "AlgorithmError: out of memory (exit code 137)"
    assert result.verified_winner.rank == 1
    assert any("#2 failed: AlgorithmError: out of memory" in w for w in result.warnings)


def test_a_retry_attaches_to_the_training_jobs_and_creates_none(sm, s3_options):
    backend, stub, calls = sm
    _tuning(stub)
    _verification(stub, [("Completed", 0.81, None), ("Completed", 0.86, None),
                         ("Completed", 0.79, None)])
    first = run_proxy_tuning(_spec(), JOB, backend, storage_options=s3_options)
    first_names = _names(calls, "CreateTrainingJob")
    tags = next(p for op, p in calls if op == "CreateHyperParameterTuningJob")["Tags"]
    fingerprint = next(t["Value"] for t in tags if t["Key"] == "pipetune:fingerprint")

    # same worker: the stored results are read back, no training job is even described
    calls.clear()
    _tuning(stub, exists=True, fingerprint=fingerprint)
    again = run_proxy_tuning(_spec(), JOB, SageMakerBackend(client=backend._client),
                             storage_options=s3_options)
    assert again.candidates == first.candidates
    assert not [op for op, _ in calls if "TrainingJob" in op and "HyperParameter" not in op]

    # another worker (no stored results): describes the same names, attaches, creates none
    (backend_home(first) / "verify" / "results.json").unlink()
    calls.clear()
    _tuning(stub, exists=True, fingerprint=fingerprint)
    _verification(stub, [("Completed", 0.81, None), ("Completed", 0.86, None),
                         ("Completed", 0.79, None)], existing=True)
    third = run_proxy_tuning(_spec(), JOB, SageMakerBackend(client=backend._client),
                             storage_options=s3_options)
    assert _names(calls, "CreateTrainingJob") == []
    assert _names(calls, "DescribeTrainingJob") == first_names
    assert third.candidates == first.candidates and third.best == first.best


@pytest.mark.parametrize("change, field", [
    (lambda s: s["proxy"].pop("output"), "proxy.output"),
    (lambda s: s["trial"]["channels"].update(train="/data/full"), "trial.channels.train"),
    (lambda s: s["sagemaker"].update(channels={"train": FULL}), "sagemaker.channels.train"),
    (lambda s: s["sagemaker"].update(definitions=[{"name": "b", "image": "other"}]),
     "sagemaker.definitions"),
    (lambda s: s["proxy"].update(data_channel=None, data="/data/full/train.csv"), "proxy.data"),
    (lambda s: (s["proxy"].update(data_channel=None, data=None),
                s["static"].update(data="/data/full/train.csv")), "static.data"),
])
def test_what_a_training_job_cannot_read_is_refused_before_any_call(sm, tmp_path, change, field):
    backend, _, calls = sm  # no answer queued: any SageMaker call would fail the test
    body = _spec()
    change(body)
    with pytest.raises(SpecError) as info:
        run_proxy_tuning(body, JOB, backend)
    assert field in [p[0] for p in info.value.problems], str(info.value)
    assert calls == []


def test_without_verification_local_full_data_is_fine_and_no_training_job_runs(
        sm, s3_options, tmp_path):
    backend, stub, calls = sm
    local = tmp_path / "train.csv"
    local.write_text("x,label\n" + "".join(f"{i},{i % 3}\n" for i in range(400)))
    body = _spec(verify_top_k=0, data=str(local), data_channel=None)  # static.data: local
    _tuning(stub)
    result = run_proxy_tuning(body, JOB, backend, storage_options=s3_options)
    assert result.verified_winner is None and result.candidates == [result.proxy_winner]
    assert result.best.params == {"eta": 0.2, "max_depth": 8}
    assert not [op for op, _ in calls if op in ("CreateTrainingJob", "DescribeTrainingJob")]
