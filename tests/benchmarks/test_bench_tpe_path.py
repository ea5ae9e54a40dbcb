"""The TPE-path benchmark (issue 21 item 4) compares like with like: the engine and the plain
loop draw the same trials, or the benchmark refuses to report a time."""

from benchmarks import tpe_path


def test_the_engine_and_plain_optuna_draw_the_same_tpe_trials():
    result = tpe_path.measure(("bbob/f6/d2/i1",), trials=15, repeats=1)
    (row,) = result["rows"]
    assert row["same_trials"] and row["engine_s"] > 0 and row["plain_s"] > 0 and row["floor_s"] > 0
    assert result["median_ratio"] == row["ratio"]
    assert result["median_floor_ratio"] == row["floor_ratio"] == row["floor_s"] / row["plain_s"]
    assert "| bbob/f6/d2/i1 |" in tpe_path.markdown(result)


def test_a_run_that_draws_other_trials_is_refused(monkeypatch):
    import pytest

    real = tpe_path.plain_tpe

    def shifted(problem_id, seed, budget, storage=None):
        return real(problem_id, seed + 1, budget, storage)

    monkeypatch.setattr(tpe_path, "plain_tpe", shifted)
    with pytest.raises(AssertionError, match="different trials"):
        tpe_path.measure(("bbob/f6/d2/i1",), trials=12, repeats=1)
