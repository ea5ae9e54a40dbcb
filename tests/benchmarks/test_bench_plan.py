"""Search-quality plans (issue 21): the BBOB instance list is a parameter, tuning and held-out
instances are apart, the ``full`` grid has 5 dimensions and 2 budgets, and the command line
checks what it is given."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from benchmarks import contenders, problems, report, run, search_quality
from benchmarks.search_quality import PLANS, with_options

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def test_instances_replace_the_seed_counts_and_seed_is_instance_minus_one():
    plan = with_options(PLANS["quick"], instances=[11, 13], dims=[3, 20])
    runs = [r for r in plan.problem_runs() if r[0].startswith("bbob/")]
    assert runs[:2] == [("bbob/f1/d3/i11", 10), ("bbob/f1/d3/i13", 12)]
    assert {pid.split("/")[2] for pid, _ in runs} == {"d3", "d20"}
    assert len(runs) == len(plan.functions) * 2 * 2


def test_without_instances_a_plan_runs_instances_one_to_n_as_before():
    assert PLANS["bbob5"].instances is None
    runs = PLANS["bbob5"].problem_runs()
    assert ("bbob/f24/d10/i5", 4) in runs and ("bbob/f1/d2/i1", 0) in runs
    assert not any(pid.endswith("/i6") for pid, _ in runs)


def test_tuning_and_held_out_instances_are_disjoint_and_the_plans_use_them():
    assert not set(search_quality.TUNING_INSTANCES) & set(search_quality.HELD_OUT_INSTANCES)
    assert set(PLANS["tune"].instances) <= set(search_quality.TUNING_INSTANCES)
    full = PLANS["full"]
    assert full.instances == search_quality.HELD_OUT_INSTANCES and len(full.instances) >= 3
    assert sorted(full.dims) == [2, 3, 5, 10, 20] and full.functions == list(range(1, 25))
    assert full.budgets_of("bbob/f1/d2/i11") == [50, 100]
    assert {"auto", "optuna_gp", "optuna_tpe", "optuna_cmaes", "random"} <= set(full.contenders)


@pytest.mark.parametrize("options, message", [
    ({"instances": [0]}, "1..15"), ({"instances": [16]}, "1..15"), ({"instances": []}, "1..15"),
    ({"functions": [25]}, "1..24"), ({"names": ["auto", "nope"]}, "unknown contenders"),
])
def test_bad_plan_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        with_options(PLANS["tune"], **options)


def test_command_line_names_the_instance_sets_and_refuses_bad_values(capsys):
    ns = argparse.Namespace(instances="held_out", functions=None, dims="2,20",
                            bbob_budgets="50,100", contenders="auto,random,cmaes_ipop")
    assert run._plan_options(ns) == {"instances": search_quality.HELD_OUT_INSTANCES,
                                     "dims": [2, 20], "bbob_budgets": [50, 100],
                                     "names": ["auto", "random", "cmaes_ipop"]}
    with pytest.raises(SystemExit):
        run.main(["--only", "search_quality", "--instances", "1,x"])
    assert "comma-separated integers" in capsys.readouterr().err


def test_every_known_contender_has_a_runner():
    assert set(contenders.ALL) <= set(contenders.KNOWN)
    assert {"optuna_cmaes", "cmaes_ipop", "botorch_logei"} <= set(contenders.KNOWN)


def test_a_stored_result_from_before_issue_21_still_rescores_and_renders():
    """``search_bbob5.json`` has no instance list and no CMA-ES runs: it still scores."""
    result = json.loads((RESULTS / "search_bbob5.json").read_text())
    sq = result["search_quality"]
    before = sq["summary"]["all"]["win_tie_loss"]["auto vs random"]
    search_quality.rescore(sq)
    assert sq["summary"]["all"]["win_tie_loss"]["auto vs random"] == before
    assert sq["summary"]["bbob/d5"]["beats_random"]["auto"]["pairs"] == 24
    md = report.markdown(result)
    assert "Beats random" in md and "seeds (= instances)" in md


def test_problem_ids_of_instance_indices_past_five_are_coco_instances_71_to_80():
    assert problems._coco_problem(1, 2, 11).id == "bbob_f001_i76_d02"
    assert problems._coco_problem(1, 2, 5).id == "bbob_f001_i05_d02"


def test_a_budget_dependent_candidate_is_refused_where_budgets_are_read_from_one_run():
    plan = with_options(PLANS["tune"], functions=[1], dims=[2], bbob_budgets=[50, 100],
                        names=["random", "cand_gp_cma"])
    with pytest.raises(RuntimeError, match="depend on the budget"):
        search_quality._check_budget_independent(plan)
    search_quality._check_budget_independent(with_options(plan, bbob_budgets=[50]))
