"""The benchmark-only samplers of issue 21 (benchmarks.candidates): IPOP CMA-ES restarts with a
doubled population, the Sobol start, and the per-trial switch between samplers."""

from __future__ import annotations

import optuna
import pytest
from scipy.stats import qmc

from benchmarks import botorch_loop, candidates, contenders, problems
from pipetune.spec import load_spec

optuna.logging.set_verbosity(optuna.logging.ERROR)


def _spec(params, budget=50):
    return load_spec({"parameters": params, "objectives": [{"metric": "loss"}],
                      "trial": {"callable": "m:f"}, "budget": {"max_trials": budget}})


def _xy(budget=50):
    return _spec([{"name": "x", "type": "continuous", "min": -5.0, "max": 5.0},
                  {"name": "y", "type": "continuous", "min": -5.0, "max": 5.0}], budget)


def test_ipop_cma_restarts_with_a_doubled_population_and_converges_on_a_sphere():
    sampler = candidates.make("cmaes_ipop", _xy(600), seed=3)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2
                   + (t.suggest_float("y", -5, 5) + 2) ** 2, n_trials=600)
    assert sampler.restarts >= 1 and sampler._popsize >= 12  # 2-D default popsize is 6
    assert study.best_value < 1e-6


def test_contenders_are_deterministic_per_seed_and_differ_across_seeds():
    for name in ("cmaes_ipop", "optuna_cmaes", "cand_gp_sobol"):
        a = contenders.run(name, "bbob/f1/d2/i1", 0, 14)["values"]
        assert a == contenders.run(name, "bbob/f1/d2/i1", 0, 14)["values"]
        assert a != contenders.run(name, "bbob/f1/d2/i1", 1, 14)["values"]


def test_sobol_start_takes_the_scrambled_sequence_then_hands_over_to_gp():
    spec = _xy(50)
    sampler = candidates.make("cand_gp_sobol", spec, seed=5)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", -5, 5) ** 2 + t.suggest_float("y", -5, 5) ** 2,
                   n_trials=12)
    u = qmc.Sobol(2, scramble=True, seed=5).random_base2(4)
    first = [(t.params["x"], t.params["y"]) for t in study.trials[:10]]
    assert first == [(-5 + 10 * a, -5 + 10 * b) for a, b in u[:10]]
    assert (study.trials[10].params["x"], study.trials[10].params["y"]) not in {
        (-5 + 10 * a, -5 + 10 * b) for a, b in u}


def test_sobol_start_maps_log_integer_and_categorical_parameters_into_their_domains():
    spec = _spec([{"name": "lr", "type": "continuous", "min": 1e-5, "max": 1.0, "scaling": "log"},
                  {"name": "n", "type": "integer", "min": 1, "max": 7},
                  {"name": "k", "type": "categorical", "values": ["a", "b", "c"]}])
    study = optuna.create_study(sampler=candidates.make("cand_gp_sobol", spec, seed=0))
    for _ in range(10):
        t = study.ask()
        lr, n, k = t.suggest_float("lr", 1e-5, 1.0, log=True), t.suggest_int("n", 1, 7), \
            t.suggest_categorical("k", ["a", "b", "c"])
        assert 1e-5 <= lr <= 1.0 and isinstance(n, int) and 1 <= n <= 7 and k in "abc"
        study.tell(t, lr)
    assert len({t.params["k"] for t in study.trials}) == 3


def test_gp_then_cma_switches_at_half_the_budget_around_the_best_point():
    sampler = candidates.make("cand_gp_cma", _xy(20), seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2
                   + t.suggest_float("y", -5, 5) ** 2, n_trials=20)
    best_first_half = min(study.trials[:10], key=lambda t: t.value)
    late = study.trials[10:]
    assert all("cma:generation" not in t.system_attrs for t in late)  # ours, not Optuna's
    # step 0.1 of the unit cube = 1.0 here: the second half stays near the incumbent
    assert max(abs(t.params["x"] - best_first_half.params["x"]) for t in late) < 5.0


def test_botorch_relaxation_decodes_every_parameter_kind():
    ps = problems.SKLEARN_TASKS["svm_breast_cancer"][0]
    lo = {p["name"]: botorch_loop._decode(p, 0.0) for p in ps}
    hi = {p["name"]: botorch_loop._decode(p, 1.0) for p in ps}
    assert lo == pytest.approx({"C": 1e-3, "gamma": 1e-5, "kernel": "rbf", "degree": 2,
                                "shrinking": True})
    assert hi["C"] == pytest.approx(1e3) and hi["kernel"] == "poly" and hi["degree"] == 5
    assert botorch_loop._decode(ps[3], 0.5) in (3, 4)


# --- cand_auto_tpe_nogroup (issue 21 item 2): auto's sampler, with TPE's group off ---------

def _attrs(sampler) -> dict:
    """A sampler's settings: plain attribute values, other objects by their type's name."""
    plain = (int, float, str, bool, type(None), tuple)
    return {k: (v if isinstance(v, plain) or k == "_parzen_estimator_parameters"
                else type(v).__name__)
            for k, v in vars(sampler).items()}


@pytest.mark.parametrize("task", list(problems.SKLEARN_TASKS) + problems.TASKS_21)
@pytest.mark.parametrize("budget", [20, 50, 100])
def test_auto_tpe_nogroup_is_autos_sampler_since_it_was_adopted(task, budget):
    """The candidate changed one setting of auto's sampler (TPE's ``group`` off); issue 21
    adopted it, so the two are now the same sampler, setting for setting."""
    from pipetune.backends.local import space

    problem = problems.get(f"sklearn/{task}")
    auto_spec = load_spec(problems.spec_body(problem, budget=budget, strategy="auto", seed=3))
    # the plain loop hands candidates the spec with strategy random (contenders.run_plain)
    plain_spec = load_spec(problems.spec_body(problem, budget=budget, strategy="random", seed=3))
    auto = space.make_sampler(auto_spec)
    cand = candidates.make("cand_auto_tpe_nogroup", plain_spec, 3)
    assert isinstance(cand, type(auto))  # GP where auto is GP (hgb_diabetes_noisy), else TPE
    if isinstance(auto, optuna.samplers.TPESampler):
        assert auto._group is False and auto._group_decomposed_search_space is None
        assert auto._warn_independent_sampling is False  # Optuna 5's default: no log line
        assert auto._n_startup_trials == min(10, max(2, budget // 5))
    else:
        assert space.resolve_strategy(auto_spec) == "gp" and task == "hgb_diabetes_noisy"
    assert _attrs(auto) == _attrs(cand)  # every setting, the seed's generators included by type


def _conditional_spec(budget=50, strategy="auto"):
    return load_spec({
        "parameters": [
            {"name": "kind", "type": "categorical", "values": ["a", "b"]},
            {"name": "x", "type": "continuous", "min": -3.0, "max": 3.0},
            {"name": "ya", "type": "continuous", "min": -3.0, "max": 3.0,
             "condition": {"parent": "kind", "values": ["a"]}},
            {"name": "yb", "type": "integer", "min": 0, "max": 9,
             "condition": {"parent": "kind", "values": ["b"]}}],
        "objectives": [{"metric": "loss"}], "trial": {"callable": "m:f"},
        "budget": {"max_trials": budget}, "strategy": strategy, "seed": 4})


def _trajectory(sampler, spec, n=25):
    from pipetune.backends.local import space

    study = optuna.create_study(sampler=sampler)
    out = []
    for _ in range(n):
        trial = study.ask()
        params = space.suggest(spec, trial)
        study.tell(trial, (params["x"] - 1) ** 2 + params.get("ya", params.get("yb", 0)) ** 2
                   / 10 + (params["kind"] == "b"))
        out.append(params)
    return out


def test_auto_draws_as_optuna_default_tpe_on_a_conditional_space_at_50_trials():
    """At a budget of 50 or more, pipetune's TPE start-up is Optuna's default (10), and
    multivariate and constant liar are Optuna 5's defaults; with ``group`` off (adopted from
    ``cand_auto_tpe_nogroup``), ``auto`` on a conditional space is Optuna's default TPE,
    draw for draw."""
    from pipetune.backends.local import space

    spec = _conditional_spec(50)
    auto = _trajectory(space.make_sampler(spec), spec)
    assert auto == _trajectory(optuna.samplers.TPESampler(seed=4), spec)
    assert auto == _trajectory(candidates.make("cand_auto_tpe_nogroup", spec, 4), spec)
    grouped = optuna.samplers.TPESampler(seed=4, multivariate=True, group=True,
                                         constant_liar=True)
    assert auto[10:] != _trajectory(grouped, spec)[10:]  # what auto drew before: differs


def test_auto_tpe_nogroup_draws_as_auto_without_conditions():
    from pipetune.backends.local import space

    spec = load_spec({"parameters": [
        {"name": "kind", "type": "categorical", "values": ["a", "b"]},
        {"name": "x", "type": "continuous", "min": -3.0, "max": 3.0}],
        "objectives": [{"metric": "loss"}], "trial": {"callable": "m:f"},
        "budget": {"max_trials": 30}, "seed": 4})
    cand = _trajectory(candidates.make("cand_auto_tpe_nogroup", spec, 4), spec, 15)
    assert cand == _trajectory(space.make_sampler(spec), spec, 15)


def test_auto_runs_exactly_the_handover_candidate_the_benchmarks_measured(monkeypatch):
    """Issue 21 item 4 adopted ``cand_gp100_cma``: the engine's ``auto`` must draw the same
    trials as the candidate did (the handover moved to trial 8 on both, to keep it short)."""
    from pipetune.backends.local import space

    monkeypatch.setattr(space, "GP_TRIALS", 8)
    monkeypatch.setattr(candidates, "HANDOVER", 8)
    auto = contenders.run("auto", "bbob/f6/d2/i1", 0, 20)
    candidate = contenders.run("cand_gp100_cma", "bbob/f6/d2/i1", 0, 20)
    assert auto["values"] == candidate["values"]
    gp = contenders.run_engine("bbob/f6/d2/i1", 0, 20, strategy="gp")  # the same GP throughout
    assert auto["values"][:8] == gp["values"][:8] and auto["values"][8:] != gp["values"][8:]
