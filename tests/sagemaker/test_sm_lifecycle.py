"""A tuning job's whole life against botocore's Stubber (requests and answers checked
against the real service model)."""

from __future__ import annotations

import asyncio

import pytest

from sm_fixtures import T0, describe_answer, summary
from pipetune.errors import JobConflict, JobFailed, JobNotFound, JobStopped
from pipetune.job import JobState
from pipetune.spec import load_spec

NAME = "nightly-xgb"
ARN = f"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{NAME}"
DESCRIBE = {"HyperParameterTuningJobName": NAME}


def _launch(backend, stub, spec):
    stub.add_client_error("describe_hyper_parameter_tuning_job", "ResourceNotFound",
                          "Amazon SageMaker can't find a tuning job", expected_params=DESCRIBE)
    stub.add_response("create_hyper_parameter_tuning_job", {"HyperParameterTuningJobArn": ARN})
    return backend.launch(spec, NAME)


def test_in_progress_then_completed(stubbed, minimal_spec):
    backend, stub = stubbed
    ref = _launch(backend, stub, minimal_spec)
    running = {"Completed": 2, "InProgress": 3, "RetryableError": 0, "NonRetryableError": 1, "Stopped": 0}
    stub.add_response("describe_hyper_parameter_tuning_job",
                      describe_answer(NAME, "InProgress", counters=running), DESCRIBE)
    best = summary(f"{NAME}-002-aa", "Completed", {"eta": "0.1", "max_depth": "6"}, 0.93)
    stub.add_response("describe_hyper_parameter_tuning_job",
                      describe_answer(NAME, "Completed", best=best), DESCRIBE)
    seen = []
    st = backend.wait(ref, poll_seconds=0.01, on_status=seen.append)
    assert [s.state for s in seen] == [JobState.RUNNING, JobState.COMPLETED]
    assert seen[0].trials.running == 3 and seen[0].trials.failed == 1 and seen[0].max_trials == 12
    assert st.best_value == 0.93 and st.elapsed_seconds == 3600


def test_failed_raises_with_the_failure_reason(stubbed, minimal_spec):
    backend, stub = stubbed
    ref = _launch(backend, stub, minimal_spec)
    stub.add_response("describe_hyper_parameter_tuning_job",
                      describe_answer(NAME, "Failed", reason="All training jobs failed: OOM"), DESCRIBE)
    with pytest.raises(JobFailed, match="All training jobs failed: OOM"):
        backend.wait(ref, poll_seconds=0.01)


def test_stopped_is_never_a_success(stubbed, minimal_spec):
    backend, stub = stubbed
    ref = _launch(backend, stub, minimal_spec)
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "Stopping"), DESCRIBE)
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "Stopped"), DESCRIBE)
    with pytest.raises(JobStopped):
        backend.wait(ref, poll_seconds=0.01)


def test_throttling_is_retried_then_succeeds(stubbed, minimal_spec):
    backend, stub = stubbed
    ref = _launch(backend, stub, minimal_spec)
    stub.add_client_error("describe_hyper_parameter_tuning_job", "ThrottlingException", "Rate exceeded",
                          http_status_code=400, expected_params=DESCRIBE)
    stub.add_client_error("describe_hyper_parameter_tuning_job", "ThrottlingException", "Rate exceeded",
                          http_status_code=400, expected_params=DESCRIBE)
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "Completed"), DESCRIBE)
    assert backend.wait(ref, poll_seconds=0.01).state == JobState.COMPLETED


def test_other_errors_are_not_swallowed(stubbed, minimal_spec):
    backend, stub = stubbed
    ref = _launch(backend, stub, minimal_spec)
    stub.add_client_error("describe_hyper_parameter_tuning_job", "AccessDeniedException", "no",
                          expected_params=DESCRIBE)
    with pytest.raises(Exception, match="AccessDenied"):
        backend.wait(ref, poll_seconds=0.01)


def test_relaunch_with_same_spec_attaches(stubbed, minimal_spec):
    backend, stub = stubbed
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "InProgress"), DESCRIBE)
    stub.add_response("list_tags", {"Tags": [{"Key": "pipetune:fingerprint",
                                              "Value": minimal_spec.fingerprint()}]},
                      {"ResourceArn": ARN})
    ref = backend.launch(minimal_spec, NAME)  # no create call is stubbed: it must not happen
    assert ref.id == NAME and ref.extra["arn"] == ARN


def test_relaunch_with_other_spec_is_a_conflict(stubbed, minimal):
    backend, stub = stubbed
    old = load_spec(minimal)
    minimal["budget"]["max_trials"] = 50
    new = load_spec(minimal)
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "Completed"), DESCRIBE)
    stub.add_response("list_tags", {"Tags": [{"Key": "pipetune:fingerprint", "Value": old.fingerprint()}]})
    with pytest.raises(JobConflict, match="different spec"):
        backend.launch(new, NAME)


def test_losing_the_create_race_attaches(stubbed, minimal_spec):
    backend, stub = stubbed
    stub.add_client_error("describe_hyper_parameter_tuning_job", "ResourceNotFound")
    stub.add_client_error("create_hyper_parameter_tuning_job", "ResourceInUse", "exists")
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "InProgress"), DESCRIBE)
    stub.add_response("list_tags", {"Tags": [{"Key": "pipetune:fingerprint",
                                              "Value": minimal_spec.fingerprint()}]})
    assert backend.launch(minimal_spec, NAME).id == NAME


def test_status_of_unknown_job(stubbed):
    backend, stub = stubbed
    stub.add_client_error("describe_hyper_parameter_tuning_job", "ResourceNotFound")
    with pytest.raises(JobNotFound):
        backend.status("nope")


def test_stop(stubbed, minimal_spec):
    backend, stub = stubbed
    ref = _launch(backend, stub, minimal_spec)
    stub.add_response("stop_hyper_parameter_tuning_job", {}, DESCRIBE)
    backend.stop(ref)


def _trial_pages(stub):
    page1 = [summary(f"{NAME}-001-aa", "Completed", {"eta": "0.05", "max_depth": "4"}, 0.91, minutes=30),
             summary(f"{NAME}-002-bb", "Failed", {"eta": "0.2", "max_depth": "9"}, None,
                     reason="AlgorithmError: boom")]
    page2 = [summary(f"{NAME}-003-cc", "Completed", {"eta": "0.1", "max_depth": "6"}, 0.95, minutes=60),
             summary(f"{NAME}-004-dd", "Stopped", {"eta": "0.3", "max_depth": "2"}, 0.61, minutes=5)]
    listing = {"HyperParameterTuningJobName": NAME, "MaxResults": 100, "SortBy": "CreationTime",
               "SortOrder": "Ascending"}
    stub.add_response("list_training_jobs_for_hyper_parameter_tuning_job",
                      {"TrainingJobSummaries": page1, "NextToken": "t2"}, listing)
    stub.add_response("list_training_jobs_for_hyper_parameter_tuning_job",
                      {"TrainingJobSummaries": page2}, {**listing, "NextToken": "t2"})
    return page1 + page2


def test_trials_are_paginated_and_typed(stubbed, minimal_spec):
    backend, stub = stubbed
    ref = _launch(backend, stub, minimal_spec)
    _trial_pages(stub)
    trials = backend.trials(ref)
    assert [t.state for t in trials] == ["complete", "failed", "complete", "pruned"]
    assert [t.number for t in trials] == [0, 1, 2, 3]
    assert trials[2].params == {"eta": 0.1, "max_depth": 6}
    assert isinstance(trials[2].params["max_depth"], int)
    assert trials[1].reason == "AlgorithmError: boom"
    assert trials[2].metrics == {"validation:auc": 0.95}
    assert trials[2].duration_seconds == 3600
    assert trials[0].artifacts == f"s3://ml-bucket/tuning/out/{NAME}-001-aa/output/model.tar.gz"


def _training_job(name: str, seconds: int, itype: str = "ml.m5.large", count: int = 1) -> dict:
    return {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        "ModelArtifacts": {"S3ModelArtifacts": f"s3://ml-bucket/tuning/out/{name}/output/model.tar.gz"},
        "TrainingJobStatus": "Completed", "SecondaryStatus": "Completed",
        "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceType": itype, "InstanceCount": count, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "CreationTime": T0, "BillableTimeInSeconds": seconds,
    }


def test_best_is_typed_with_artifacts_and_cost(stubbed, minimal_spec):
    backend, stub = stubbed
    ref = _launch(backend, stub, minimal_spec)
    best = summary(f"{NAME}-003-cc", "Completed", {"eta": "0.1", "max_depth": "6"}, 0.95)
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "Completed", best=best))
    summaries = _trial_pages(stub)
    stub.add_response("describe_training_job", _training_job(f"{NAME}-003-cc", 3600),
                      {"TrainingJobName": f"{NAME}-003-cc"})
    _trial_pages(stub)
    for s, seconds in zip(summaries, (1800, 600, 3600, 300)):
        stub.add_response("describe_training_job", _training_job(s["TrainingJobName"], seconds),
                          {"TrainingJobName": s["TrainingJobName"]})
    result = backend.best(ref)
    assert result.params == {"eta": 0.1, "max_depth": 6}
    assert result.value == 0.95 and result.trial == f"{NAME}-003-cc" and result.trial_number == 2
    assert result.artifacts == f"s3://ml-bucket/tuning/out/{NAME}-003-cc/output/model.tar.gz"
    assert (result.trials_total, result.trials_complete, result.trials_failed,
            result.trials_pruned) == (4, 2, 1, 1)
    # 6300 billable seconds on ml.m5.large at 0.115 USD per hour
    assert result.cost_usd == pytest.approx(6300 * 0.115 / 3600)


def test_cost_budget_stops_the_job(stubbed, minimal):
    backend, stub = stubbed
    minimal["budget"]["max_cost_usd"] = 1.0
    minimal["sagemaker"]["prices"] = {"ml.m5.large": 2.0}
    ref = _launch(backend, stub, load_spec(minimal))
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "InProgress"))
    one = summary(f"{NAME}-001-aa", "Completed", {"eta": "0.05", "max_depth": "4"}, 0.9)
    stub.add_response("list_training_jobs_for_hyper_parameter_tuning_job", {"TrainingJobSummaries": [one]})
    stub.add_response("describe_training_job", _training_job(one["TrainingJobName"], 3600))
    stub.add_response("stop_hyper_parameter_tuning_job", {}, DESCRIBE)
    # the guard reports the job stopped with its reason at once (pipetune.runtime.guards)
    with pytest.raises(JobStopped, match=r"estimated cost \$2.0000 passed budget.max_cost_usd \$1 "):
        backend.wait(ref, poll_seconds=0.01)


def test_async_status_with_an_injected_client(stubbed, minimal_spec):
    backend, stub = stubbed
    ref = _launch(backend, stub, minimal_spec)
    stub.add_response("describe_hyper_parameter_tuning_job", describe_answer(NAME, "InProgress"))
    assert asyncio.run(backend.astatus(ref)).state == JobState.RUNNING


def test_ref_round_trips_through_json(stubbed, minimal_spec):
    from pipetune.job import JobRef

    backend, stub = stubbed
    ref = _launch(backend, stub, minimal_spec)
    again = JobRef.from_json(ref.to_json())
    assert again == ref and again.extra["region"] == "us-east-1"
