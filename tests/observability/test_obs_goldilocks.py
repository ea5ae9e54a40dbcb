"""The post-run Goldilocks check on real local jobs with callable trials: best trials at a
range's edge, a flat objective; shown by `lint --job`, `status` and the report."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipetune import get_backend, load_spec
from pipetune.observability.convergence import check_convergence
from pipetune.observability.goldilocks import check_ranges
from pipetune.observability.snapshot import NotConverging, enforce_convergence, observe
from pipetune.observability.summary import convergence_line

PIPETUNE = str(Path(sys.executable).parent / "pipetune")

OBJECTIVES = '''
import math

def corner(params, ctx):          # best at x = max, y = max
    return params["x"] + params["y"]

def inside(params, ctx):          # best at x = 0.5, lr = 0.003: inside on the log scale
    return -(params["x"] - 0.5) ** 2 - (math.log10(params["lr"]) + 2.5) ** 2

def big_lr(params, ctx):          # the larger the learning rate the better
    return math.log10(params["lr"]) + 0.01 * params["depth"]

def flat(params, ctx):
    return 0.5
'''


def _run(tmp_path: Path, name: str, fn: str, parameters: list, trials: int = 20, **extra):
    (tmp_path / f"objs_{name}.py").write_text(textwrap.dedent(OBJECTIVES))  # a fresh module
    spec = load_spec({
        "parameters": parameters, "objectives": [{"metric": "score", "goal": "maximize"}],
        "trial": {"callable": f"objs_{name}:{fn}", "workdir": str(tmp_path)},
        "strategy": "tpe", "seed": 7, "budget": {"max_trials": trials}, **extra})
    be = get_backend("local")
    ref = be.launch(spec, name, detach=False)
    return be, ref, spec


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PIPETUNE, *args], capture_output=True, text=True, timeout=120)


XY = [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0},
      {"name": "y", "type": "continuous", "min": 0.0, "max": 1.0}]


def test_best_trials_in_a_corner_are_reported_by_lint_status_and_report(home):
    be, ref, spec = _run(home, "corner", "corner", XY)
    found = {w.parameter: w for w in check_ranges(spec, be.trials(ref))}
    assert set(found) == {"x", "y"}
    for name, w in found.items():
        assert (w.edge, w.widen_to, w.field) == ("upper", 1.5, f"parameters[{'xy'.index(name)}].max")
        assert w.message.startswith(f"{name}: best trials at the upper edge 1 (")
        assert w.message.endswith("; widen max to 1.5")

    lint = _cli("lint", "--job", "corner")
    assert lint.returncode == 0, lint.stderr
    assert "parameters[0].max: x: best trials at the upper edge 1" in lint.stdout
    assert "parameters[1].max: y: best trials at the upper edge 1" in lint.stdout
    assert _cli("lint", "--job", "corner", "--strict").returncode == 1
    as_json = json.loads(_cli("lint", "--job", "corner", "--json").stdout)
    assert {w["field"] for w in as_json} == {"parameters[0].max", "parameters[1].max"}

    status = _cli("status", "corner")
    assert status.returncode == 0, status.stderr
    assert "warning x: best trials at the upper edge 1" in status.stdout
    ranges = json.loads(_cli("status", "corner", "--json").stdout)["range_warnings"]
    assert [(w["parameter"], w["edge"], w["widen_to"]) for w in ranges] == [
        ("x", "upper", 1.5), ("y", "upper", 1.5)]

    report = _cli("report", "corner", "--out", str(home / "rep"))
    assert report.returncode == 0, report.stderr
    text = (home / "rep" / "report.md").read_text()
    assert "## Search ranges" in text and "- Warning: x: best trials at the upper edge 1" in text


def test_an_optimum_inside_the_ranges_gives_no_warning_on_their_own_scale(home):
    params = [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0},
              {"name": "lr", "type": "continuous", "min": 1e-4, "max": 1e-1, "scaling": "log"}]
    be, ref, spec = _run(home, "inside", "inside", params, trials=30)
    best = be.best(ref).params
    assert best["lr"] < 0.05 * 0.1  # near the lower edge on a linear scale, not on a log one
    assert check_ranges(spec, be.trials(ref)) == []
    assert _cli("lint", "--job", "inside").stdout.strip() == "no warnings"


def test_log_and_integer_edges_widen_on_their_own_scale(home):
    params = [{"name": "lr", "type": "continuous", "min": 1e-4, "max": 1e-1, "scaling": "log"},
              {"name": "depth", "type": "integer", "min": 2, "max": 8}]
    be, ref, spec = _run(home, "biglr", "big_lr", params, trials=25)
    found = {w.parameter: w for w in check_ranges(spec, be.trials(ref))}
    assert found["lr"].edge == "upper"
    assert found["lr"].widen_to == pytest.approx(0.57)  # 0.1 x 1000 ** 0.25, rounded up
    assert found["lr"].message.endswith("widen max to 0.57")
    if "depth" in found:  # a small bonus: reported only when the top trials lean that way
        assert found["depth"].edge == "upper" and found["depth"].widen_to == 11.0


def test_a_flat_objective_is_not_informative_never_converging(home):
    be, ref, spec = _run(home, "flat", "flat", XY, trials=8,
                         convergence={"min_trials": 5, "window": 3})
    trials = be.trials(ref)
    [w] = check_ranges(spec, trials)
    assert w.field == "objectives" and w.parameter is None
    assert w.message.startswith("score: every complete trial (8) gave 0.5; nothing was learned")
    verdict = check_convergence(spec, trials)
    assert verdict.flat and verdict.converging is None and not verdict.not_converging
    assert verdict.reason.startswith("not informative: every complete trial gave 0.5")
    assert "converging" not in verdict.reason.replace("not informative", "")
    assert convergence_line(verdict).startswith("Convergence: not informative (every complete")

    status = _cli("status", "flat")
    assert "converging" not in status.stdout, status.stdout
    assert "warning score: every complete trial (8) gave 0.5" in status.stdout
    assert json.loads(_cli("status", "flat", "--json").stdout)["converging"] is None


def test_the_not_converging_message_says_it_once(home):
    (home / "objs_lucky.py").write_text(textwrap.dedent(OBJECTIVES) + textwrap.dedent('''
        def lucky(params, ctx):   # one lucky trial first, nothing close since
            return 1.0 if ctx.number == 0 else 0.1 * params["x"]
        '''))
    spec = load_spec({
        "parameters": XY, "objectives": [{"metric": "score", "goal": "maximize"}],
        "trial": {"callable": "objs_lucky:lucky", "workdir": str(home)}, "strategy": "random",
        "seed": 1, "budget": {"max_trials": 8}, "convergence": {"min_trials": 6, "window": 3}})
    be = get_backend("local")
    ref = be.launch(spec, "lucky", detach=False)
    snap = observe(ref, be)
    assert snap.convergence.not_converging
    with pytest.raises(NotConverging) as err:
        enforce_convergence(snap, action="fail")
    message = str(err.value)
    assert message.count("not converging") == 1, message
    assert message.startswith("tuning job 'lucky' is not converging: the best of the last 3")


def _records(name: str, values: list, score) -> list:
    from pipetune.results import TrialRecord

    return [TrialRecord(id=str(i), number=i, state="complete", params={name: v},
                        metrics={"score": score(v)}) for i, v in enumerate(values)]


@pytest.mark.parametrize("param, values, edge, widen_to, advice", [
    ({"type": "continuous", "min": 0.0, "max": 0.5}, [0.0, 0.1, 0.2, 0.3, 0.45], "lower", None,
     "min cannot be widened that way"),                        # a range starting at 0
    ({"type": "continuous", "min": 0.2, "max": 1.0}, [0.2, 0.5, 0.6, 0.8, 0.9], "lower", 0.0,
     "widen min to 0"),
    ({"type": "integer", "min": 1, "max": 6}, [1, 3, 4, 5, 6], "lower", None,
     "min cannot be widened that way"),                        # counts start at 1
    ({"type": "integer", "min": 4, "max": 12}, [4, 6, 8, 10, 12], "lower", 1.0, "widen min to 1"),
    ({"type": "continuous", "min": 1e-4, "max": 1e-1, "scaling": "log"},
     [1e-4, 1e-3, 1e-2, 3e-2, 9e-2], "lower", 1.7e-5, "widen min to 1.7e-05"),
    ({"type": "continuous", "min": 0.9, "max": 0.999, "scaling": "reverse_log"},
     [0.9, 0.95, 0.99, 0.995, 0.999], "upper", 0.9995, "widen max to 0.9995"),
    ({"type": "discrete", "values": [50, 100, 200]}, [50, 100, 200, 100, 200], "upper", 275.0,
     "add values beyond it, e.g. 275"),
])
def test_the_bound_to_widen_to_follows_the_scale(param, values, edge, widen_to, advice):
    spec = load_spec({"parameters": [{"name": "p", **param}],
                      "objectives": [{"metric": "score", "goal": "maximize"}],
                      "trial": {"callable": "m:f"}})
    toward = (lambda v: -v) if edge == "lower" else (lambda v: v)
    [w] = check_ranges(spec, _records("p", values, toward))
    assert w.edge == edge and w.parameter == "p"
    assert w.widen_to == (pytest.approx(widen_to) if widen_to is not None else None)
    assert w.message.endswith(advice) or advice in w.message, w.message


def test_categorical_parameters_and_interior_optima_give_no_edge_warning():
    spec = load_spec({"parameters": [{"name": "p", "type": "continuous", "min": 0, "max": 1},
                                     {"name": "c", "type": "categorical", "values": ["a", "b"]}],
                      "objectives": [{"metric": "score", "goal": "maximize"}],
                      "trial": {"callable": "m:f"}})
    from pipetune.results import TrialRecord

    trials = [TrialRecord(id=str(i), number=i, state="complete", params={"p": v, "c": "b"},
                          metrics={"score": -abs(v - 0.5)})
              for i, v in enumerate([0.0, 0.2, 0.45, 0.5, 0.55, 0.8, 1.0])]
    assert check_ranges(spec, trials) == []
    assert check_ranges(spec, trials[:4]) == []  # fewer than 5 complete trials: not judged
