"""The suggestion-cost benchmark (issue 21 item 4) compares what it says: ``auto`` as the
engine builds it, against its GP throughout, each timed per suggestion."""

import optuna

from benchmarks import suggest_cost
from pipetune.backends.local import space
from pipetune.samplers import HandoverSampler


def test_it_times_autos_sampler_against_gp_throughout(monkeypatch):
    spec = suggest_cost._spec(3, 150)
    assert isinstance(suggest_cost.sampler(spec, handover=True), HandoverSampler)
    assert isinstance(suggest_cost.sampler(spec, handover=False), optuna.samplers.GPSampler)

    monkeypatch.setattr(space, "GP_TRIALS", 12)
    result = suggest_cost.measure([2], trials=24)
    (row,) = result["rows"]
    assert row["dim"] == 2 and result["target_ms"] == 100
    for name in ("auto", "gp"):
        assert row[name]["middle_ms"] > 0 and row[name]["late_ms"] > 0 and row[name]["run_s"] > 0
    assert "| 2 |" in suggest_cost.markdown(result)
