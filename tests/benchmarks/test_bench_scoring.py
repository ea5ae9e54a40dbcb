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
