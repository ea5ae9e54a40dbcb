"""The ``auto`` strategy rule that the benchmarks chose (docs/benchmarks.md), both with and
without the optional ``gp`` extra."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipetune.backends.local import space
from pipetune.spec import load_spec


def _spec(**changes):
    body = {
        "parameters": [
            {"name": "x", "type": "continuous", "min": -5.0, "max": 5.0},
            {"name": "n", "type": "integer", "min": 1, "max": 50},
        ],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "trial": {"callable": "benchmarks.problems:engine_objective"},
        "budget": {"max_trials": 100},
    }
    body.update(changes)
    return load_spec(body)


@pytest.mark.parametrize("changes, with_gp, expected", [
    ({}, True, "gp"),
    ({}, False, "tpe"),
    ({"budget": {"max_trials": space.GP_MAX_TRIALS + 1}}, True, "tpe"),
    ({"early_stopping": {"type": "median"}}, True, "tpe"),
    ({"parameters": [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0},
                     {"name": "kind", "type": "categorical", "values": ["a", "b"]}]}, True, "tpe"),
    ({"parameters": [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0},
                     {"name": "batch", "type": "discrete", "values": [16, 32, 64]}]}, True, "tpe"),
    ({"objectives": [{"metric": "a"}, {"metric": "b"}]}, True, "nsga2"),
    ({"parameters": [{"name": "k", "type": "categorical", "values": ["a", "b", "c"]}]}, True, "grid"),
    ({"parameters": [
        {"name": "kind", "type": "categorical", "values": ["a", "b"]},
        {"name": "x", "type": "continuous", "min": 0.0, "max": 1.0,
         "condition": {"parent": "kind", "values": ["a"]}},
    ]}, True, "tpe"),
])
def test_auto_rule(monkeypatch, changes, with_gp, expected):
    monkeypatch.setattr(space, "gp_available", lambda: with_gp)
    assert space.resolve_strategy(_spec(**changes)) == expected


def test_auto_without_torch_falls_back_to_tpe_and_never_imports_torch(tmp_path):
    """A process where torch cannot be imported: ``auto`` builds a TPE sampler, core imports."""
    (tmp_path / "sitecustomize.py").write_text("import sys; sys.modules['torch'] = None\n")
    code = (
        "import sys, optuna\n"
        "from pipetune.backends.local import space\n"
        "from pipetune.spec import load_spec\n"
        "spec = load_spec({'parameters': [{'name': 'x', 'type': 'continuous', 'min': 0, 'max': 1}],"
        " 'objectives': [{'metric': 'loss'}], 'trial': {'callable': 'm:f'}})\n"
        "assert not space.gp_available()\n"
        "assert isinstance(space.make_sampler(spec), optuna.samplers.TPESampler)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
    assert "'gp' extra is not installed" in proc.stderr


def test_gp_sampler_when_installed_starts_after_warm_start_trials():
    """With the extra, auto's GP sampler uses the budget-scaled start-up (warm starts count)."""
    if not space.gp_available():
        with pytest.raises(Exception, match="gp"):
            space.make_sampler(_spec(strategy="gp"))
        return
    sampler = space.make_sampler(_spec(budget={"max_trials": 20}))
    assert type(sampler).__name__ == "GPSampler" and sampler._n_startup_trials == 4
