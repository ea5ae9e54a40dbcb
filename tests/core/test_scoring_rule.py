"""One scoring rule (``measurement: final | best``), honoured by the local engine for every
metric source, sent to Vertex, refused by SageMaker; hypertune streams of any length."""

import json
import sys

import pytest

from pipetune import get_backend, load_spec
from pipetune.errors import SpecError
from pipetune.trials.runner import run_trial

from .conftest import SCRIPTS


def vertex_style(measurement=None, **overrides):
    body = {
        "parameters": [{"name": "x", "type": "continuous", "min": 0.5, "max": 0.6}],
        "objectives": [{"metric": "score", "goal": "maximize"}],
        "trial": {"command": [sys.executable, str(SCRIPTS / "hypertune_curve.py")],
                  "contract": "vertex"},
        "budget": {"max_trials": 1},
        "static": {"steps": 5, "shape": "peak"},
        "seed": 1,
        **overrides,
    }
    if measurement is not None:
        body["measurement"] = measurement
    return load_spec(body)


@pytest.mark.parametrize("measurement", [None, "final", "best"])
def test_local_engine_scores_a_vertex_style_script_by_the_rule(home, measurement):
    spec = vertex_style(measurement)
    be = get_backend("local")
    ref = be.launch(spec, f"rule-{measurement}", detach=False)
    (trial,) = be.trials(ref)
    x = trial.params["x"]
    curve = [x - abs(step - 2) / 5 for step in range(5)]  # best at step 2, last at step 4
    assert trial.intermediate == pytest.approx(dict(enumerate(curve)))
    expected = max(curve) if measurement == "best" else curve[-1]
    assert max(curve) - curve[-1] > 0.3  # the two rules really differ here
    assert be.best(ref).value == pytest.approx(expected)


def test_best_rule_with_regex_metrics(home, tmp_path):
    script = tmp_path / "curve.py"
    script.write_text("for v in (0.3, 0.1, 0.2):\n    print(f'loss={v}')\n")
    body = {
        "parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "metrics": [{"name": "loss", "regex": r"loss=([0-9.]+)"}],
        "trial": {"command": [sys.executable, str(script)]},
    }
    outcomes = {}
    for rule in ("final", "best"):
        spec = load_spec({**body, "measurement": rule})
        outcomes[rule] = run_trial(spec, {"x": 0.5}, number=0, trial_dir=tmp_path / rule)
    assert (outcomes["final"].metrics["loss"], outcomes["final"].step) == (0.2, 2)
    assert (outcomes["best"].metrics["loss"], outcomes["best"].step) == (0.1, 1)


def test_best_rule_with_a_callable_trial(home):
    body = {
        "parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
        "objectives": [{"metric": "acc", "goal": "maximize"}],
        "trial": {"callable": "tests.core.scripts.curve_fn:peak"},
    }
    final = run_trial(load_spec(body), {"x": 0.5}, number=0, trial_dir=None)
    best = run_trial(load_spec({**body, "measurement": "best"}), {"x": 0.5}, number=0,
                     trial_dir=None)
    assert final.metrics["acc"] == pytest.approx(0.6)  # what it returned
    assert (best.metrics["acc"], best.step) == (pytest.approx(0.9), 1)


def test_deprecated_vertex_alias_maps_to_measurement():
    base = {"parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
            "objectives": [{"metric": "score"}],
            "trial": {"command": ["python", "t.py"], "contract": "vertex"}}
    with pytest.warns(FutureWarning, match="measurement: final"):
        spec = load_spec({**base, "vertex": {"measurement_selection": "last"}})
    assert spec.measurement == "final" and "measurement_selection" not in spec.vertex
    with pytest.raises(SpecError, match="vertex.measurement_selection.*contradicts"):
        load_spec({**base, "measurement": "final", "vertex": {"measurement_selection": "best"}})


def test_best_needs_a_single_objective():
    with pytest.raises(SpecError, match="^invalid spec: measurement: best needs a single"):
        load_spec({"parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
                   "objectives": [{"metric": "a"}, {"metric": "b"}], "measurement": "best",
                   "metrics": [{"name": "a", "regex": "a=(.*)"}, {"name": "b", "regex": "b=(.*)"}],
                   "trial": {"command": ["python", "t.py"]}})


def test_sagemaker_refuses_best_naming_the_field():
    from pipetune.backends.sagemaker.checks import validated_options

    spec = load_spec({
        "backend": "sagemaker", "measurement": "best",
        "parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "metrics": [{"name": "loss", "regex": "loss=([0-9.]+)"}],
        "trial": {"command": ["python", "train.py"]},
        "sagemaker": {"role_arn": "arn:aws:iam::123456789012:role/R", "image": "img",
                      "output_path": "s3://b/o"}})
    with pytest.raises(SpecError) as err:
        validated_options(spec)
    assert [f for f, _ in err.value.problems] == ["measurement"]
    assert "last match" in str(err.value)


@pytest.mark.parametrize("steps", [150, 1000])
def test_every_step_of_a_long_hypertune_stream_reaches_the_pruner(tmp_path, steps):
    """cloudml-hypertune keeps only its last 100 entries: the reader follows global_step."""
    spec = vertex_style(static={"steps": steps, "shape": "ramp", "pace": 0.001})
    seen: list[tuple[int, float]] = []

    def slow_pruner(step: int, value: float) -> bool:
        seen.append((step, value))
        return False

    out = run_trial(spec, {"x": 0.5, **spec.static}, number=7, trial_dir=tmp_path / "t", report=slow_pruner)
    assert out.state == "complete", out.reason
    assert seen == [(s, s / 1000) for s in range(steps)]
    assert out.intermediate == seen
    assert (out.step, out.metrics["score"]) == (steps - 1, (steps - 1) / 1000)
    kept = (tmp_path / "t" / "hypertune" / "output.metrics").read_text().splitlines()
    assert len(kept) == 100 and json.loads(kept[0])["global_step"] == str(steps - 100)


def test_long_stream_is_recorded_per_step_by_the_engine(home):
    spec = vertex_style(static={"steps": 150, "shape": "ramp", "pace": 0.001},
                        early_stopping={"type": "median", "startup_trials": 5})
    be = get_backend("local")
    ref = be.launch(spec, "long-stream", detach=False)
    (trial,) = be.trials(ref)
    assert trial.intermediate == {s: s / 1000 for s in range(150)}
    assert be.best(ref).value == pytest.approx(0.149)


def test_stream_read_mid_rewrite_neither_loses_nor_repeats(tmp_path, monkeypatch):
    """What a reader can see while cloudml-hypertune rewrites its file (truncate, then the
    kept entries one line at a time): an empty file, a prefix, a half-written last line."""
    import hypertune

    from pipetune.trials.metrics import HypertuneStream

    path = tmp_path / "output.metrics"
    monkeypatch.setenv("CLOUD_ML_HP_METRIC_FILE", str(path))
    ht = hypertune.HyperTune()
    stream = HypertuneStream(path)
    for step in range(120):
        ht.report_hyperparameter_tuning_metric("loss", step / 10, global_step=step)
        full = path.read_text()
        if step % 7 == 0:  # states of the next rewrite, seen before the complete file
            for state in ("", full[: len(full) // 3], full[: len(full) // 2 + 5]):
                path.write_text(state)
                stream.poll()
            path.write_text(full)
        stream.poll()
    assert stream.series["loss"] == [(s, s / 10) for s in range(120)]
    assert not stream.overwritten
