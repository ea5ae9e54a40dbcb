"""The core helpers the components call (pipetune.compare, pipetune.steps)."""

import math

import pytest
import yaml
from kfp_helpers import trial_spec

from pipetune import steps
from pipetune.compare import is_improvement
from pipetune.errors import SpecError, UsageError
from pipetune.spec import load_spec


def test_is_improvement_rules():
    assert is_improvement(0.9, 0.8)
    assert not is_improvement(0.8, 0.8)  # equal is not better
    assert is_improvement(0.82, 0.8, min_delta=0.1, relative=True) is False
    assert is_improvement(0.89, 0.8, min_delta=0.1, relative=True) is True
    assert is_improvement(1.0, float("nan"))
    assert not is_improvement(float("nan"), 0.5)
    assert not is_improvement(math.inf, 0.5, goal="maximize")
    with pytest.raises(UsageError, match="min_delta"):
        is_improvement(1.0, 0.5, min_delta=-1)
    with pytest.raises(UsageError, match="baseline"):
        is_improvement(1.0, "high")


def test_spec_from_inputs_takes_exactly_one_form():
    body = trial_spec()
    assert steps.spec_from_inputs(yaml.safe_dump(body)) == steps.spec_from_inputs(spec_dict=body)
    with pytest.raises(SpecError, match="exactly one"):
        steps.spec_from_inputs("", {})
    with pytest.raises(SpecError, match="exactly one"):
        steps.spec_from_inputs(yaml.safe_dump(body), body)
    with pytest.raises(SpecError, match="malformed YAML"):
        steps.spec_from_inputs("parameters: [")


def test_parse_job_rejects_what_is_not_a_handle():
    with pytest.raises(UsageError, match="job: a bare job name .* needs the backend"):
        steps.parse_job("accuracy=0.9")
    with pytest.raises(UsageError, match="job: not a job handle, missing or invalid"):
        steps.parse_job('{"id": "x"}')


def test_with_data_and_run_settings():
    spec = load_spec(trial_spec())
    assert steps.with_data(spec, "/d/s.csv").static == {"data": "/d/s.csv"}
    assert steps.with_data(spec, "/d/s.csv", data_param="train").static == {"train": "/d/s.csv"}
    with pytest.raises(SpecError, match="proxy.data_param"):
        steps.with_data(spec, "/d", data_param="max_depth")
    vertex = steps.with_run_settings(spec, backend="vertex", service_account="sa@p.iam",
                                     output_root="gs://b/root/", job_name="j1")
    assert vertex.vertex == {"service_account": "sa@p.iam",
                             "base_output_directory": "gs://b/root/j1"}
    assert steps.with_run_settings(spec, backend="local", service_account="x") == spec
    sagemaker = steps.with_run_settings(spec, backend="sagemaker", service_account="arn:role",
                                        output_root="s3://b/root", job_name="j1")
    assert sagemaker.sagemaker == {"role_arn": "arn:role", "output_path": "s3://b/root/j1"}


def test_launch_needs_a_name(home):
    with pytest.raises(SpecError, match="no job name"):
        steps.launch(load_spec(trial_spec()), job_name="")


def test_wait_warns_or_fails_on_a_job_that_is_not_converging(home, caplog):
    import sys
    from pathlib import Path

    from pipetune.observability.snapshot import NotConverging

    body = {
        "parameters": [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0}],
        "objectives": [{"metric": "score", "goal": "maximize"}],
        "metrics": [{"name": "score", "regex": r"score=([0-9.]+)"}],
        "trial": {"command": [sys.executable, str(Path(__file__).parent / "lucky_trial.py")]},
        "budget": {"max_trials": 6, "max_parallel": 1},
        "convergence": {"window": 3, "min_trials": 5},
    }
    ref = steps.launch(load_spec(body), job_name="stuck", backend="local")
    with pytest.raises(NotConverging, match="stuck"):
        steps.wait(ref, poll_seconds=0.3, on_not_converging="fail")
    st = steps.wait(ref, poll_seconds=0.3, on_not_converging="warn")  # ended: warn only
    assert st.state.value == "completed"
    assert any("not converging" in r.getMessage().lower() for r in caplog.records)
    with pytest.raises(UsageError, match="on_not_converging"):
        steps.wait(ref, on_not_converging="explode")
