"""improved / unchanged / regressed against a baseline, with a threshold."""

from __future__ import annotations

import pytest

from pipetune.errors import UsageError
from pipetune.github.compare import Threshold, compare
from pipetune.results import BestResult


def best(value: float, goal: str = "maximize", objective: str = "accuracy") -> BestResult:
    return BestResult(job="j", backend="local", params={"depth": 3}, metrics={objective: value},
                      objective=objective, goal=goal, value=value, trial="j#0")


@pytest.mark.parametrize("text, value, relative", [
    ("0", 0.0, False), ("0.01", 0.01, False), (" 2.5 ", 2.5, False), ("1%", 0.01, True),
    ("0.5 %", 0.005, True), (None, 0.0, False), ("", 0.0, False), (0.2, 0.2, False),
])
def test_threshold_parsing(text, value, relative):
    t = Threshold.parse(text)
    assert t.value == pytest.approx(value) and t.relative is relative


@pytest.mark.parametrize("text", ["abc", "-1", "1%%", "nan", "inf", "%"])
def test_bad_threshold_names_the_field_and_what_is_valid(text):
    with pytest.raises(UsageError) as err:
        Threshold.parse(text)
    assert str(err.value).startswith("threshold:") and ("0.01" in str(err.value))


@pytest.mark.parametrize("goal, new, old, threshold, verdict", [
    ("maximize", 0.90, 0.85, "0.01", "improved"),
    ("maximize", 0.855, 0.85, "0.01", "unchanged"),
    ("maximize", 0.845, 0.85, "0.01", "unchanged"),
    ("maximize", 0.80, 0.85, "0.01", "regressed"),
    ("maximize", 0.86, 0.85, "0.01", "unchanged"),  # exactly the threshold is not a change
    ("maximize", 0.84, 0.85, "0.01", "unchanged"),
    ("maximize", 0.8501, 0.85, "0", "improved"),
    ("maximize", 0.85, 0.85, "0", "unchanged"),
    ("minimize", 0.10, 0.20, "0.05", "improved"),
    ("minimize", 0.30, 0.20, "0.05", "regressed"),
    ("minimize", 0.22, 0.20, "0.05", "unchanged"),
    ("minimize", 0.97, 1.00, "2%", "improved"),
    ("minimize", 0.99, 1.00, "2%", "unchanged"),
    ("minimize", 1.03, 1.00, "2%", "regressed"),
    ("minimize", -10.5, -10.0, "1%", "improved"),  # relative to |baseline| for negatives
    ("minimize", -9.5, -10.0, "1%", "regressed"),
])
def test_verdicts(goal, new, old, threshold, verdict):
    c = compare(best(new, goal), best(old, goal), Threshold.parse(threshold))
    assert c.verdict == verdict
    assert c.delta == pytest.approx(new - old)
    assert c.improved is (verdict == "improved")


def test_without_baseline_the_first_result_counts_as_improved():
    c = compare(best(0.7), None)
    assert c.verdict == "no-baseline" and c.improved and c.delta is None


def test_a_baseline_of_another_objective_is_not_compared():
    c = compare(best(0.7), best(0.1, "minimize", "loss"))
    assert c.verdict == "no-baseline" and c.baseline_value is None
    assert "loss (minimize)" in c.note and "accuracy (maximize)" in c.note


def test_relative_delta_and_zero_baseline():
    c = compare(best(0.9), best(0.75))
    assert c.relative_delta == pytest.approx(0.2)
    assert compare(best(0.1), best(0.0)).relative_delta is None
