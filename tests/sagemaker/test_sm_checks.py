"""Bad input is refused before any AWS call, naming the field and what would be valid."""

from __future__ import annotations

import pytest

from pipetune.backends.sagemaker.backend import SageMakerBackend
from pipetune.backends.sagemaker.naming import tuning_job_name
from pipetune.errors import SpecError
from pipetune.spec import load_spec


class NoCallClient:
    """Any attribute access means pipetune tried to call AWS."""

    class meta:
        region_name = "us-east-1"

    def __getattr__(self, name):
        raise AssertionError(f"AWS was called ({name}) before validation finished")


def _refused(body: dict, field: str, words: str, name: str = "job") -> None:
    backend = SageMakerBackend(client=NoCallClient())
    with pytest.raises(SpecError) as info:
        backend.launch(load_spec(body), name)
    fields = [f for f, _ in info.value.problems]
    assert field in fields, info.value.problems
    assert words in str(info.value)


def test_missing_section(minimal):
    del minimal["sagemaker"]
    _refused(minimal, "sagemaker", "role_arn, image and output_path")


@pytest.mark.parametrize("key,field,words", [
    ("role_arn", "sagemaker.role_arn", "is required"),
    ("output_path", "sagemaker.output_path", "is required"),
    ("image", "sagemaker.image", "the training image"),
])
def test_missing_role_image_output(minimal, key, field, words):
    del minimal["sagemaker"][key]
    _refused(minimal, field, words)


def test_bad_role_and_output(minimal):
    minimal["sagemaker"].update(role_arn="SageMakerRole", output_path="/tmp/out")
    _refused(minimal, "sagemaker.role_arn", "arn:aws:iam::123456789012:role/Name")
    _refused(minimal, "sagemaker.output_path", "S3 URI")


def test_unknown_field_gets_a_hint(minimal):
    minimal["sagemaker"]["instance_typ"] = "ml.m5.large"
    _refused(minimal, "sagemaker.instance_typ", "did you mean 'instance_type'")


def test_more_than_30_hyperparameters(minimal):
    minimal["parameters"] = [{"name": f"p{i}", "type": "continuous", "min": 0, "max": 1} for i in range(31)]
    _refused(minimal, "parameters", "at most 30 hyperparameters, got 31")


def test_parallelism_and_job_count_limits(minimal):
    minimal["budget"] = {"max_trials": 800, "max_parallel": 101}
    _refused(minimal, "budget.max_trials", "at most 750")
    _refused(minimal, "budget.max_parallel", "at most 100")


def test_metric_regex_needs_one_group(minimal):
    minimal["metrics"][0]["regex"] = r"(auc):([0-9.]+)"
    with pytest.raises(SpecError) as info:
        load_spec(minimal)
    assert info.value.problems[0][0] == "metrics[0].regex"
    assert "exactly one capture group" in str(info.value)


def test_warm_start_over_5_parents(minimal):
    minimal["warm_start"] = {"parents": [f"p{i}" for i in range(6)]}
    _refused(minimal, "warm_start.parents", "at most 5 parent jobs, got 6")


@pytest.mark.parametrize("job_name,words", [
    ("x" * 33, "33 characters; SageMaker allows at most 32"),
    ("bad_name", "not a valid SageMaker job name"),
])
def test_explicit_job_name_is_checked(minimal, job_name, words):
    minimal["sagemaker"]["job_name"] = job_name
    _refused(minimal, "sagemaker.job_name", words)


def test_derived_name_needs_a_letter_or_digit(minimal):
    _refused(minimal, "name", "no letter or digit", name="__--__")


def test_conditions_refused_unless_flattened(minimal):
    minimal["parameters"].append({"name": "k", "type": "integer", "min": 1, "max": 3,
                                  "condition": {"parent": "max_depth", "values": [3]}})
    _refused(minimal, "parameters[2].condition", "conditional_parameters: flatten")


def test_several_objectives_and_other_metric_sources(minimal):
    minimal["objectives"].append({"metric": "loss", "goal": "minimize"})
    minimal["metrics"].append({"name": "loss", "regex": "loss=([0-9.]+)"})
    _refused(minimal, "objectives", "tunes one objective")


def test_hypertune_metric_source_refused(minimal):
    minimal["trial"]["metric_source"] = "hypertune"
    _refused(minimal, "trial.metric_source", "by regex only")


def test_strategy_without_an_amt_equivalent(minimal):
    minimal["strategy"] = "cmaes"
    _refused(minimal, "strategy", "valid: auto, tpe or gp (Bayesian), random, grid, hyperband")


def test_hyperband_needs_integer_max_resource(minimal):
    minimal["strategy"] = "hyperband"
    minimal["early_stopping"] = {"type": "hyperband"}
    _refused(minimal, "early_stopping.max_resource", "integer max_resource")


def test_too_many_grid_values(minimal):
    minimal["parameters"][1] = {"name": "max_depth", "type": "integer", "min": 1, "max": 40, "step": 1}
    minimal["parameters"][0] = {"name": "eta", "type": "discrete", "values": [0.1, 0.2]}
    minimal["strategy"] = "grid"
    _refused(minimal, "parameters[1]", "categorical list of 40 values")


def test_spot_conflicts(minimal):
    minimal["sagemaker"].update(spot=True, keep_alive_seconds=600)
    _refused(minimal, "sagemaker.keep_alive_seconds", "warm pools do not work with managed spot")


def test_cost_budget_needs_a_price(minimal):
    minimal["budget"]["max_cost_usd"] = 10
    minimal["sagemaker"]["instance_type"] = "ml.trn1.2xlarge"
    _refused(minimal, "sagemaker.prices", "no price known for 'ml.trn1.2xlarge'")


def test_many_problems_reported_at_once(minimal):
    minimal["budget"] = {"max_trials": 800, "max_parallel": 101}
    minimal["strategy"] = "nsga2"
    minimal["objectives"].append({"metric": "loss", "goal": "minimize"})
    minimal["metrics"].append({"name": "loss", "regex": "loss=([0-9.]+)"})
    with pytest.raises(SpecError) as info:
        SageMakerBackend(client=NoCallClient()).validate(load_spec(minimal))
    assert {f for f, _ in info.value.problems} >= {"budget.max_trials", "budget.max_parallel",
                                                    "strategy", "objectives"}


@pytest.mark.parametrize("name", ["nightly", "a" * 32, "x-1-y"])
def test_valid_names_are_kept(name):
    assert tuning_job_name(name) == name


@pytest.mark.parametrize("name", ["a" * 33, "my_job", "job.v2", "-lead", "trail-", "a--b" * 10])
def test_derived_names_are_valid_and_stable(name):
    import re

    derived = tuning_job_name(name)
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}", derived), derived
    assert tuning_job_name(name) == derived


def test_cleaned_names_do_not_collide():
    assert tuning_job_name("a_b") != tuning_job_name("a.b")
