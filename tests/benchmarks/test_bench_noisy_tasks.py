"""Issue 21's mixed, conditional and noisy scikit-learn tasks, and how noisy runs are scored:
by the noise-free value of the trial a tuner recommends (its best observed trial), never by
its luckiest draw. Tiny sizes: a few trials per run."""

from __future__ import annotations

import argparse
import copy
import json
import math
from pathlib import Path

import optuna
import pytest

from benchmarks import contenders, problems, report, run, scoring, search_quality, tasks
from benchmarks.search_quality import PLANS, with_options
from pipetune.backends.local import space
from pipetune.spec import load_spec

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
NOISY_PID = "sklearn/forest_diabetes_noisy"  # the cheapest noisy task (~0.04 s a draw)


def _random_configs(problem: problems.Problem, n: int, seed: int = 3) -> list[dict]:
    spec = load_spec(problems.spec_body(problem, budget=n, strategy="random", seed=seed))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    return [space.suggest(spec, study.ask()) for _ in range(n)]


def test_six_new_tasks_cover_categorical_conditional_and_noisy_spaces():
    new = [problems.get(f"sklearn/{t}") for t in problems.TASKS_21]
    assert len(new) >= 6 and not set(problems.TASKS_21) & set(problems.SKLEARN_TASKS)
    assert sum(p.conditional for p in new) >= 3
    assert sum(p.noisy for p in new) >= 3
    assert sum(p.categorical for p in new) >= 5
    assert any(p.noisy and p.conditional for p in new)
    assert any(p.noisy and not p.categorical for p in new)  # auto's GP branch under noise


@pytest.mark.parametrize("task", problems.TASKS_21)
def test_each_task_is_a_valid_space_and_its_noise_comes_from_the_evaluation_seed(task):
    problem = problems.get(f"sklearn/{task}")
    config = _random_configs(problem, 1)[0]
    draws = [problem.observe(config, run_seed=0, trial_number=k) for k in (0, 1, 2)]
    assert all(math.isfinite(d) and d >= 0 for d in draws)
    assert problem.observe(config, 0, 1) == draws[1]  # the same seed, the same draw
    if problem.noisy:
        assert len(set(draws)) > 1
    else:
        assert len(set(draws)) == 1 and draws[0] == problem.true_value(config)


def test_a_noisy_tasks_true_value_is_the_mean_over_fixed_unseen_seeds():
    problem = problems.get(NOISY_PID)
    config = _random_configs(problem, 1)[0]
    seeds = tasks.true_seeds()
    assert len(seeds) == tasks.TRUE_SEEDS and len(set(seeds)) == len(seeds)
    seen = {tasks.evaluation_seed(s, k) for s in range(5) for k in range(100)}
    assert not seen & set(seeds)
    expected = sum(problem.noise(config, s) for s in seeds) / len(seeds)
    assert problem.true_value(config) == pytest.approx(expected, rel=1e-12)


def test_the_incumbent_is_the_first_best_observed_trial():
    assert scoring.incumbent([3.0, None, 1.0, 1.0, 0.5], 4) == 2
    assert scoring.incumbent([3.0, None, 1.0, 1.0, 0.5], 5) == 4
    assert scoring.incumbent([None, math.inf], 2) is None


@pytest.mark.parametrize("contender", ["random", "auto"])
def test_a_noisy_run_is_judged_by_its_recommended_configs_noise_free_value(contender):
    """Plain loop and pipetune's engine: both see the same draws (run seed, trial number), and
    the stored score is the true value of the best observed trial, not the best draw."""
    problem = problems.get(NOISY_PID)
    r = search_quality.run_job(contender, NOISY_PID, 1, 5, (3, 5))
    assert r["values"] == [problem.observe(c, 1, k) for k, c in enumerate(r["params"])]
    stored = search_quality._stored(r, [3, 5])
    for b in (3, 5):
        i = scoring.incumbent(r["values"], b)
        assert stored["observed"][str(b)] == min(r["values"][:b])
        assert stored["best"][str(b)] == pytest.approx(problem.true_value(r["params"][i]))
        assert stored["best"][str(b)] != stored["observed"][str(b)]
    assert stored["incumbent"] == r["params"][scoring.incumbent(r["values"], 5)]
    json.dumps(stored)  # a result file can hold it


def test_a_deterministic_run_is_stored_as_before():
    r = search_quality.run_job("random", "sklearn/features_diabetes", 0, 4, (2, 4))
    stored = search_quality._stored(r, [2, 4])
    assert "true_best" not in r and "observed" not in stored
    assert stored["best"] == {"2": min(r["values"][:2]), "4": min(r["values"])}


def test_plan_tasks_runs_the_new_tasks_and_leaves_the_held_out_plan_alone():
    plan = PLANS["tasks"]
    assert plan.tasks == problems.TASKS_21 and plan.task_seeds == 5
    assert plan.functions == [] and plan.budgets == [50, 100]
    assert set(plan.contenders) == {"auto", "optuna_gp", "optuna_tpe", "optuna_cmaes", "random",
                                    "pipetune_tpe", "cand_gp_tpe"}
    assert all(pid.startswith("sklearn/") for pid, _ in plan.problem_runs())
    for name in ("full", "default", "bbob5", "full10"):
        assert PLANS[name].tasks == list(problems.SKLEARN_TASKS)
    bbob_body = problems.spec_body(problems.get("sklearn/svm_breast_cancer"), budget=5,
                                   strategy="auto", seed=2)
    assert bbob_body["static"] == {"problem": "sklearn/svm_breast_cancer"}  # as before


def test_task_options_and_their_errors():
    ns = argparse.Namespace(instances=None, functions=None, dims=None, bbob_budgets=None,
                            contenders="auto,random", tasks="pipeline_digits,hgb_diabetes_noisy",
                            task_seeds=2, budgets="15,30")
    options = run._plan_options(ns)
    assert options == {"names": ["auto", "random"], "budgets": [15, 30], "task_seeds": 2,
                       "tasks": ["pipeline_digits", "hgb_diabetes_noisy"]}
    plan = with_options(PLANS["tasks"], **options)
    assert plan.problem_runs() == [("sklearn/pipeline_digits", 0), ("sklearn/pipeline_digits", 1),
                                   ("sklearn/hgb_diabetes_noisy", 0),
                                   ("sklearn/hgb_diabetes_noisy", 1)]
    for bad, message in (({"tasks": ["nope"]}, "unknown tasks"), ({"task_seeds": 0}, "at least 1"),
                         ({"budgets": [0]}, "positive")):
        with pytest.raises(ValueError, match=message):
            with_options(PLANS["tasks"], **bad)


def test_a_tiny_tasks_run_scores_noisy_and_conditional_groups_and_renders():
    plan = with_options(PLANS["tasks"], tasks=["features_diabetes", "forest_diabetes_noisy"],
                        task_seeds=1, budgets=[2, 4], names=["random", "optuna_tpe"])
    pids = ["sklearn/features_diabetes", NOISY_PID]
    # the random-point scale is taken as given (64 noise-free points would take a minute)
    sq = search_quality.run(plan, workers=1, reuse={"runs": [], "f_ref": {p: 1.0 for p in pids}})
    assert sq["problem_tags"] == {"sklearn/features_diabetes": ["sklearn/conditional"],
                                  NOISY_PID: ["sklearn/noisy"]}
    summ = sq["summary"]
    assert summ["sklearn/noisy"]["problems"] == 2 and summ["sklearn/conditional@4"]["problems"] == 1
    noisy = [r for r in sq["runs"] if r["problem"] == NOISY_PID]
    assert len(noisy) == 2 and all("observed" in r and "incumbent" in r for r in noisy)
    before = copy.deepcopy(sq["summary"])
    search_quality.rescore(sq)
    assert sq["summary"] == before
    md = report.markdown({"meta": {"command": "test", "date": "d", "machine": "m",
                                   "load_start": "0", "versions": "v"}, "search_quality": sq})
    assert "No BBOB" in md and "Noisy tasks (sklearn/forest_diabetes_noisy)" in md


@pytest.mark.parametrize("name", ["search_bbob5.json", "search_full.json"])
def test_stored_results_rescore_unchanged(name):
    """Every figure the file holds comes back the same; the only addition is ``beats_random``
    (added to the scoring after these files were written), and no tag group appears."""
    sq = json.loads((RESULTS / name).read_text())["search_quality"]
    before = copy.deepcopy(sq["summary"])
    search_quality.rescore(sq)
    assert set(sq["summary"]) == set(before)
    for group, figures in before.items():
        assert set(sq["summary"][group]) - set(figures) <= {"beats_random"}
        assert {k: sq["summary"][group][k] for k in figures} == figures, group


def test_every_contender_of_the_tasks_plan_is_known():
    assert set(PLANS["tasks"].contenders) <= set(contenders.KNOWN)


def test_first_task_seed_runs_held_out_task_seeds():
    ns = argparse.Namespace(instances=None, functions=None, dims=None, bbob_budgets=None,
                            contenders=None, tasks="pipeline_digits", task_seeds=5,
                            first_task_seed=5, budgets=None)
    options = run._plan_options(ns)
    assert options == {"tasks": ["pipeline_digits"], "task_seeds": 5, "first_task_seed": 5}
    plan = with_options(PLANS["tasks"], **options)
    assert plan.problem_runs() == [("sklearn/pipeline_digits", s) for s in range(5, 10)]
    assert PLANS["tasks"].task_seed_list == [0, 1, 2, 3, 4]  # unchanged without the flag
    with pytest.raises(ValueError, match="at least 0"):
        with_options(PLANS["tasks"], first_task_seed=-1)
