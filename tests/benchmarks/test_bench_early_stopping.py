"""The early-stopping benchmark's plumbing (issue 21): seeds as a parameter, the long-curve
benchmark through the real engine, merging per-seed runs. Small sizes; no timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import early_stopping, long_curve
from benchmarks.run import _seeds

REPO = Path(__file__).resolve().parents[2]
PARAMS = {"hidden": 16, "learning_rate_init": 3e-3, "alpha": 1e-4, "batch_size": 256,
          "activation": "tanh"}


@pytest.fixture(scope="module")
def long_quick() -> dict:
    return early_stopping.run(quick=True, workers=1, modes=["auto"], seeds=[3], curve="long")


def test_long_curve_is_deterministic_and_stops_when_told():
    data = early_stopping._data(2000)
    curves: list[list[float]] = [[], []]
    for curve in curves:
        long_curve.train(PARAMS, data, 12, lambda e, a, c=curve: c.append(a) and False)
    assert curves[0] == curves[1] and len(curves[0]) == 12
    assert curves[0][-1] > curves[0][0]  # it learns
    seen: list[int] = []
    last = long_curve.train(PARAMS, data, 12, lambda e, a: seen.append(e) or e == 4)
    assert seen == [1, 2, 3, 4] and last == curves[0][3]


def test_long_benchmark_runs_through_the_engine_on_the_seeds_given(long_quick):
    es = long_quick
    assert es["curve"] == "long" and es["epochs"] == 27 and es["target_saving"] == 5.0
    assert es["seed_list"] == [3] and [r["seed"] for r in es["per_seed"]] == [3]
    assert set(es["summary"]) == {"none", "auto"}
    row = es["per_seed"][0]
    assert row["none"]["trials"] == es["trials"] and row["none"]["pruned"] == 0
    assert row["none"]["total_epochs"] == es["trials"] * es["epochs"]  # none runs every epoch
    assert row["none"]["epochs_to_target"] is not None
    assert 0 < row["auto"]["total_epochs"] and row["auto"]["trials"] <= es["pruning_trial_cap"]


def test_merge_rescores_over_all_seeds_and_refuses_mixed_runs(long_quick):
    other = json.loads(json.dumps(long_quick))
    for row in other["per_seed"]:
        row["seed"] = 7
    merged = early_stopping.merge([other, long_quick])
    assert merged["seed_list"] == [3, 7] and merged["seeds"] == 2
    assert merged["summary"] == early_stopping.summarise(merged["per_seed"], ["none", "auto"])
    with pytest.raises(ValueError, match="share seeds"):
        early_stopping.merge([long_quick, long_quick])
    with pytest.raises(ValueError, match="differ in \\['curve'\\]"):
        early_stopping.merge([long_quick, {**other, "curve": "mlp81"}])


def test_seed_option_and_unknown_curve():
    assert _seeds("5-14") == list(range(5, 15)) and _seeds("5,9") == [5, 9]
    with pytest.raises(ValueError, match="integers"):
        _seeds("a-b")
    with pytest.raises(ValueError, match="valid: mlp81, long"):
        early_stopping.run(quick=True, workers=1, curve="longer")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--only", "early_stopping",
                           "--es-seeds", "-3", "--quick"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "seeds >= 0" in proc.stderr and "Traceback" not in proc.stderr
