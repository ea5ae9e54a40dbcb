from pipetune.lint import lint
from pipetune.spec import load_spec


def _spec(params, budget=None):
    return load_spec({"parameters": params, "objectives": [{"metric": "acc"}],
                      "metrics": [{"name": "acc", "regex": "acc=(.*)"}],
                      "trial": {"command": ["python", "t.py"]},
                      "budget": budget or {"max_trials": 50, "max_parallel": 1}})


def test_each_trap_is_reported_with_a_remedy():
    spec = _spec([
        {"name": "lr", "type": "continuous", "min": 1e-5, "max": 1e-1, "scaling": "linear"},
        {"name": "batch", "type": "integer", "min": 16, "max": 256},
        {"name": "act", "type": "categorical", "values": ["relu"]},
        {"name": "wd", "type": "continuous", "min": 0.5, "max": 0.501},
    ], budget={"max_trials": 20, "max_parallel": 5})
    found = {w.field: w.message for w in lint(spec)}
    assert "scaling: log" in found["parameters[0].scaling"]
    assert "[16, 32, 64, 128, 256]" in found["parameters[1].type"]
    assert "static" in found["parameters[2].values"]
    assert "narrow" in found["parameters[3].max"]
    assert "lower max_parallel to 2" in found["budget.max_parallel"]


def test_a_sound_space_has_no_warnings():
    spec = _spec([
        {"name": "lr", "type": "continuous", "min": 1e-5, "max": 1e-1, "scaling": "log"},
        {"name": "depth", "type": "integer", "min": 2, "max": 10},
    ])
    assert lint(spec) == []


def test_power_of_two_bounds_warn_only_for_sizes():
    spec = _spec([
        {"name": "depth", "type": "integer", "min": 1, "max": 8},
        {"name": "layers", "type": "integer", "min": 2, "max": 16},
        {"name": "max_depth", "type": "integer", "min": 1, "max": 32},
        {"name": "hidden_units", "type": "integer", "min": 4, "max": 256},
        {"name": "n", "type": "integer", "min": 32, "max": 1024},
    ])
    found = {w.field: w.message for w in lint(spec) if w.field.endswith(".type")}
    assert set(found) == {"parameters[3].type", "parameters[4].type"}, found
    assert "[4, 8, 16, 32, 64, 128, 256]" in found["parameters[3].type"]
    assert "'n' looks like a power of two (32..1024)" in found["parameters[4].type"]
