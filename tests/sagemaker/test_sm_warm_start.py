"""Warm start on SageMaker by AMT's rules (requests and answers checked by botocore's
Stubber): a hyperparameter may move between static and tunable; kinds and the objective
stay; anything else is refused before the create call, naming the parent."""

from __future__ import annotations

import pytest

from pipetune.errors import SpecError
from pipetune.spec import load_spec
from sm_fixtures import describe_answer

ARN = "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/child"


def _child(minimal):
    minimal["warm_start"] = {"parents": ["parent"], "type": "transfer_learning"}
    return load_spec(minimal)


def _launch(stubbed, spec, parent, created: bool):
    backend, stub = stubbed
    stub.add_client_error("describe_hyper_parameter_tuning_job", "ResourceNotFound",
                          expected_params={"HyperParameterTuningJobName": "child"})
    stub.add_response("describe_hyper_parameter_tuning_job", parent,
                      {"HyperParameterTuningJobName": "parent"})
    if created:
        stub.add_response("create_hyper_parameter_tuning_job",
                          {"HyperParameterTuningJobArn": ARN})
    return backend.launch(spec, "child")


def test_static_to_tunable_is_allowed_as_amt_allows_it(stubbed, minimal):
    parent = describe_answer("parent", "Completed")
    ranges = parent["HyperParameterTuningJobConfig"]["ParameterRanges"]
    ranges["IntegerParameterRanges"] = []  # the parent kept max_depth static
    parent["TrainingJobDefinition"]["StaticHyperParameters"] = {"max_depth": "6"}
    ref = _launch(stubbed, _child(minimal), parent, created=True)
    assert ref.id == "child"


def test_tunable_to_static_is_allowed_too(stubbed, minimal):
    minimal["parameters"] = minimal["parameters"][:1]
    minimal["static"] = {"max_depth": 6}
    ref = _launch(stubbed, _child(minimal), describe_answer("parent", "Completed"), created=True)
    assert ref.id == "child"


@pytest.mark.parametrize("change, words", [
    (lambda p: p["HyperParameterTuningJobConfig"]["ParameterRanges"].update(
        IntegerParameterRanges=[], ContinuousParameterRanges=[
            {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Auto"},
            {"Name": "max_depth", "MinValue": "2", "MaxValue": "10", "ScalingType": "Auto"}]),
     "'max_depth' is integer here but continuous in the parent"),
    (lambda p: p["TrainingJobDefinition"].update(StaticHyperParameters={"gamma": "1"}),
     "only in the parent ['gamma']"),
    (lambda p: p["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"].update(
        MetricName="validation:logloss"), "objective is 'validation:logloss'"),
])
def test_what_amt_refuses_is_refused_before_the_create(stubbed, minimal, change, words):
    parent = describe_answer("parent", "Completed")
    change(parent)
    with pytest.raises(SpecError) as err:
        _launch(stubbed, _child(minimal), parent, created=False)
    assert err.value.problems[0][0] == "warm_start.parents[0]"
    assert words in str(err.value)
