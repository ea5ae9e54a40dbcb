"""``early_stopping: auto``: successive halving when the trial reports intermediate values,
a no-op otherwise; with the ``auto`` strategy's GP, TPE from the first reported value on.
Real engine runs, small budgets."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from pipetune import SpecError, get_backend, load_spec
from pipetune.backends.local import space

_TRIALS = '''
import math


def _final(params):
    return 1.0 - (params["x"] - 0.3) ** 2 - 0.5 * (params["y"] - 0.6) ** 2


def curve(params, ctx):
    """Reports a learning curve, step 1..27, that rises towards the final score."""
    final = _final(params)
    value = 0.0
    for step in range(1, 28):
        value = final * (1.0 - math.exp(-step / 4.0))
        ctx.report(step, value)
        if ctx.should_prune():
            from pipetune import TrialPruned
            raise TrialPruned()
    return value


def flat(params, ctx):
    """Reports nothing: the final score only."""
    return _final(params)
'''

NUMERIC = [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0},
           {"name": "y", "type": "continuous", "min": 0.0, "max": 1.0}]


def _body(home: Path, fn: str, es: str, *, trials: int = 16, **changes) -> dict:
    (home / "es_trials.py").write_text(_TRIALS)
    body = {"parameters": NUMERIC, "objectives": [{"metric": "score", "goal": "maximize"}],
            "trial": {"callable": f"es_trials:{fn}", "workdir": str(home)},
            "early_stopping": {"type": es}, "budget": {"max_trials": trials}, "seed": 5}
    body.update(changes)
    return body


def _run(name: str, body: dict):
    be = get_backend("local")
    ref = be.launch(load_spec(body), name, detach=False)
    return be.status(ref), be.trials(ref)


def test_auto_is_successive_halving_for_one_objective_and_nothing_for_several(tmp_path):
    one = load_spec(_body(tmp_path, "curve", "auto"))
    pruner = space.make_pruner(one)
    assert isinstance(pruner, optuna.pruners.SuccessiveHalvingPruner)
    assert pruner._min_resource == 1 and pruner._reduction_factor == 3
    two = load_spec(_body(tmp_path, "curve", "auto",
                          objectives=[{"metric": "a"}, {"metric": "b"}]))
    assert isinstance(space.make_pruner(two), optuna.pruners.NopPruner)
    hyper = load_spec(_body(tmp_path, "curve", "auto", strategy="hyperband"))
    assert isinstance(space.make_pruner(hyper), optuna.pruners.HyperbandPruner)
    with pytest.raises(SpecError, match="early stopping needs a single objective"):
        load_spec(_body(tmp_path, "curve", "median", objectives=[{"metric": "a"},
                                                                 {"metric": "b"}]))


def test_a_trial_that_reports_nothing_runs_as_without_early_stopping(home):
    """The same seed, the same sampler, the same parameters, nothing pruned."""
    st_none, none = _run("flat-none", _body(home, "flat", "none", trials=8))
    st_auto, auto = _run("flat-auto", _body(home, "flat", "auto", trials=8))
    assert [t.params for t in auto] == [t.params for t in none]
    assert st_auto.trials.pruned == 0 and st_auto.trials.complete == 8
    assert st_auto.sampler == st_none.sampler == ("gp" if space.gp_available() else "tpe")
    if space.gp_available():
        assert "early stopping auto (GP until a trial reports" in st_auto.sampler_reason


def test_a_trial_that_reports_is_pruned_and_auto_leaves_gp_for_tpe(home):
    st, trials = _run("curve-auto", _body(home, "curve", "auto"))
    assert st.state.value == "completed" and st.trials.pruned >= 3
    points = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(points)) == len(points)  # TPE after GP redraws none of GP's points
    pruned = [t for t in trials if t.state == "pruned"]
    assert all(len(t.intermediate) < 27 for t in pruned)
    assert st.sampler == "tpe"
    if space.gp_available():
        assert st.sampler_reason == space.TPE_ON_REPORT
    else:
        assert "the gp extra is not installed" in st.sampler_reason
    st_none, _ = _run("curve-none", _body(home, "curve", "none"))
    assert st_none.trials.pruned == 0  # the pruning came from auto


def test_explicit_strategies_keep_their_sampler_under_auto_early_stopping(home):
    st, _ = _run("curve-random", _body(home, "curve", "auto", strategy="random", trials=10))
    assert st.sampler == "random" and st.sampler_reason == "set in the spec (strategy: random)"
    assert st.trials.pruned >= 1


def test_trials_that_report_leave_gp_for_tpe_and_no_handover_to_cma_es_follows(home, monkeypatch):
    """A budget past ``auto``'s GP-to-CMA-ES handover (moved to trial 5 here), with trials
    that report: TPE takes over at the first reported value and keeps the job; no CMA-ES
    comes after, and status names TPE."""
    pytest.importorskip("cmaes")
    monkeypatch.setattr(space, "GP_TRIALS", 5)
    st, trials = _run("curve-long", _body(home, "curve", "auto", trials=12))
    assert st.state.value == "completed" and len(trials) == 12
    assert st.sampler == "tpe" and st.sampler_reason == space.TPE_ON_REPORT
