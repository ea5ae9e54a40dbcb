"""Search-quality scoring: win/tie/loss on the median Δf over seeds (COCO's precision), the
earlier regret criterion kept alongside, and runs kept only for complete (problem, seed) pairs."""

from __future__ import annotations

from benchmarks import scoring, search_quality


def _runs(values: dict[str, list[float]], problem: str = "bbob/f2/d2/i{}") -> list[dict]:
    return [{"contender": c, "problem": problem.format(s + 1), "seed": s, "best": {"50": v}}
            for c, vs in values.items() for s, v in enumerate(vs)]


def _summary(runs, f_opt=0.0, f_ref=1e6):
    pids = {r["problem"] for r in runs}
    rows = scoring.regrets(runs, [50], {p: f_opt for p in pids}, {p: f_ref for p in pids})
    return scoring.summary(rows, sorted({r["contender"] for r in runs}))["all"]


def test_ill_conditioned_gap_is_a_win_not_a_tie():
    # Δf 1e-3 vs 10 on a function whose random median is 1e6: regret differs by 1e-5
    s = _summary(_runs({"a": [1e-3] * 5, "b": [10.0] * 5}))
    assert s["win_tie_loss"]["a vs b"] == [1, 0, 0]
    assert s["win_tie_loss_regret"]["a vs b"] == [0, 1, 0]  # the earlier criterion: a tie
    assert s["significant"]["a vs b"] == [1, 0]  # 5 vs 5 seeds, all apart: p = 0.004


def test_solved_is_a_tie_and_the_median_decides():
    s = _summary(_runs({"a": [1e-9, 0.0, 5e-9], "b": [0.0, 2e-9, 0.0]}))
    assert s["win_tie_loss"]["a vs b"] == [0, 1, 0]  # both below 1e-8: solved
    s = _summary(_runs({"a": [0.1, 0.2, 100.0], "b": [0.3, 0.4, 0.5]}))
    assert s["win_tie_loss"]["a vs b"] == [1, 0, 0]  # median 0.2 < 0.4: one bad seed is one seed
    assert s["significant"]["a vs b"] == [0, 0]


def test_only_complete_problem_seed_pairs_are_scored():
    runs = _runs({"a": [1.0, 2.0], "b": [1.5, 2.5]})
    runs.append({"contender": "a", "problem": "bbob/f2/d2/i3", "seed": 2, "best": {"50": 0.0}})
    kept = search_quality.complete(runs, ["a", "b"])
    assert len(kept) == 4 and all(r["seed"] < 2 for r in kept)


def test_beats_random_is_per_function_dimension_pair_on_the_median_over_instances():
    # f2 in 2-D: a's median 1 < random's 3 (one bad instance of a does not matter): a win;
    # f2 in 5-D: both solved on every instance: a tie, not a win
    runs = _runs({"a": [1.0, 1.0, 50.0], "random": [3.0, 3.0, 3.0]})
    runs += _runs({"a": [0.0] * 3, "random": [0.0] * 3}, problem="bbob/f2/d5/i{}")
    pids = {r["problem"] for r in runs}
    rows = scoring.regrets(runs, [50], {p: 0.0 for p in pids}, {p: 1e6 for p in pids})
    s = scoring.summary(rows, ["a", "random"])
    assert s["all"]["beats_random"]["a"] == {"wins": 1, "pairs": 2, "rate": 0.5}
    assert s["bbob/d2"]["beats_random"]["a"]["rate"] == 1.0
    assert s["bbob/d5@50"]["beats_random"]["a"] == {"wins": 0, "pairs": 1, "rate": 0.0}
    assert "random" not in s["all"]["beats_random"]
