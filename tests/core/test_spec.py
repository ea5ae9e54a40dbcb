"""Spec validation: every error names the field and says what would be valid."""

import copy
import json

import pytest

from pipetune.errors import SpecError
from pipetune.spec import json_schema, load_spec

BASE = {
    "parameters": [
        {"name": "lr", "type": "continuous", "min": 1e-4, "max": 0.1, "scaling": "log"},
        {"name": "opt", "type": "categorical", "values": ["sgd", "adam"]},
        {"name": "momentum", "type": "continuous", "min": 0.5, "max": 0.99,
         "condition": {"parent": "opt", "values": ["sgd"]}},
    ],
    "objectives": [{"metric": "acc", "goal": "maximize"}],
    "metrics": [{"name": "acc", "regex": "acc=([0-9.]+)"}],
    "trial": {"command": ["python", "train.py"]},
}


def _apply(change):
    body = copy.deepcopy(BASE)
    change(body)
    return body


BAD = [
    (lambda d: d["parameters"][0].update(min=1.0), "parameters[0]", "less than max"),
    (lambda d: d["parameters"][0].update(min=0.0), "parameters[0]", "log scaling needs min > 0"),
    (lambda d: d.update(paramters=[]), "paramters", "did you mean 'parameters'"),
    (lambda d: d["parameters"][0].update(maxx=1), "parameters[0].maxx", "did you mean 'max'"),
    (lambda d: d["parameters"][0].update(type="float"), "parameters[0].type", "continuous, integer"),
    (lambda d: d["parameters"][1].update(values=[]), "parameters[1].values", "at least one"),
    (lambda d: d["parameters"][1].update(values=["a", "a"]), "parameters[1].values", "duplicate"),
    (lambda d: d["parameters"].append({"name": "lr", "type": "integer", "min": 1, "max": 2}),
     "parameters[3].name", "duplicate parameter name"),
    (lambda d: d.update(budget={"max_trials": 2, "max_parallel": 4}), "budget", "cannot exceed"),
    (lambda d: d["metrics"][0].update(regex="acc=[0-9.]+"), "metrics[0].regex", "exactly one capture group"),
    (lambda d: d["metrics"][0].update(regex="acc=(([0-9]))"), "metrics[0].regex", "has 2"),
    (lambda d: d["metrics"][0].update(regex="acc=([0-9"), "metrics[0].regex", "does not compile"),
    (lambda d: d["trial"].update(command="python train.py"), "trial.command", "list of arguments"),
    (lambda d: d["parameters"][0].update(min="tiny"), "parameters[0].min", "valid number"),
    (lambda d: d.update(strategy="bayes"), "strategy", "'tpe'"),
    (lambda d: d["parameters"][2]["condition"].update(values=["rmsprop"]),
     "parameters[2].condition.values", "not values of 'opt'"),
    (lambda d: d["parameters"][2]["condition"].update(parent="nope"),
     "parameters[2].condition.parent", "no parameter 'nope'"),
    (lambda d: d["objectives"][0].update(metric="loss"), "objectives[0].metric", "no regex for 'loss'"),
    (lambda d: d["parameters"][0].update(scaling="reverse_log", max=1.0), "parameters[0]", "0 <= min < max < 1"),
    (lambda d: d.update(strategy="grid"), "parameters[0].step", "needs a step"),
    (lambda d: d.update(static={"lr": 1}), "static.lr", "also a tuned parameter"),
    (lambda d: d["trial"].update(callable="mod:fn"), "trial", "exactly one of"),
    (lambda d: d.pop("trial"), "trial", "is required"),
]


@pytest.mark.parametrize("change,field,words", BAD)
def test_bad_spec_names_the_field(change, field, words):
    with pytest.raises(SpecError) as err:
        load_spec(_apply(change))
    fields = [f for f, _ in err.value.problems]
    assert field in fields, err.value.problems
    assert words in str(err.value)


def test_yaml_errors_give_line_and_column(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("parameters:\n  - name: x\n   type: [\n")
    with pytest.raises(SpecError, match="malformed YAML at line"):
        load_spec(path)
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "missing.yaml")


def test_round_trip_and_fingerprint_ignores_name():
    spec = load_spec(BASE)
    again = load_spec(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert spec.with_overrides(name="other").fingerprint() == spec.fingerprint()
    assert spec.with_overrides(budget={"max_trials": 99}).fingerprint() != spec.fingerprint()


def test_json_schema_describes_parameters():
    schema = json_schema()
    assert schema["title"] == "pipetune tuning spec"
    assert "parameters" in schema["properties"]
    kinds = json.dumps(schema["$defs"])
    for kind in ("continuous", "integer", "categorical", "discrete"):
        assert kind in kinds


def test_relative_workdir_in_a_file_is_the_files_folder_whatever_the_cwd(tmp_path, monkeypatch):
    project = tmp_path / "project" / "tuning"
    (project / "src").mkdir(parents=True)
    body = copy.deepcopy(BASE)
    (project / "default.json").write_text(json.dumps(body))
    body["trial"]["workdir"] = "src"
    (project / "relative.json").write_text(json.dumps(body))
    body["trial"]["workdir"] = str(tmp_path)
    (project / "absolute.json").write_text(json.dumps(body))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    assert load_spec(str(project / "default.json")).trial.workdir == str(project.resolve())
    assert load_spec(project / "relative.json").trial.workdir == str((project / "src").resolve())
    assert load_spec(str(project / "absolute.json")).trial.workdir == str(tmp_path)
    # a spec given as text or a dict has no folder: its paths stay relative to the cwd
    body["trial"]["workdir"] = "src"
    assert load_spec(json.dumps(body)).trial.workdir == "src"
    assert load_spec(body).trial.workdir == "src"
