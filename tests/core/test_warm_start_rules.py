"""Warm start follows SageMaker AMT's rules on the local engine: static <-> tunable moves,
narrower ranges with the left-out parent trials counted, kinds and the change budget."""

import pytest

from pipetune import get_backend, load_spec
from pipetune.errors import SpecError
from pipetune.warm_start import ATTR_LEFT_OUT, Hyperparameter, amt_problems

from .conftest import script_spec

X = {"name": "x", "type": "continuous", "min": -2.0, "max": 2.0}
N = {"name": "n", "type": "integer", "min": 1, "max": 5}
KIND = {"name": "kind", "type": "categorical", "values": ["a", "b"]}


def _parent(be, name="parent", **changes):
    spec = load_spec(script_spec("quadratic.py", budget={"max_trials": 8, "max_parallel": 1},
                                 strategy="random", **changes))
    ref = be.launch(spec, name, detach=False)
    return {r.number: r for r in be.trials(ref)}


def _child(**changes):
    body = script_spec("quadratic.py", warm_start={"parents": ["parent"]},
                       budget={"max_trials": 2, "max_parallel": 1}, **changes)
    return load_spec(body)


def test_tunable_to_static_and_narrower_ranges_count_what_is_left_out(home):
    be = get_backend("local")
    parent = _parent(be)
    child = _child(parameters=[{**X, "min": 0.0, "max": 2.0}, KIND], static={"n": 3})
    ref = be.launch(child, "child", detach=False)
    seeded = [r for r in be.trials(ref) if r.warm_start_from]
    inside = [p for p in parent.values() if p.params["x"] >= 0.0]
    outside = len(parent) - len(inside)
    assert 0 < outside < len(parent)  # the seed makes both kinds of trial
    assert sorted(r.warm_start_from for r in seeded) == sorted(f"parent#{p.number}" for p in inside)
    assert all(set(r.params) == {"x", "kind"} for r in seeded)  # n is static now: dropped
    study = be._job(ref).load_study()
    assert study.user_attrs[ATTR_LEFT_OUT] == {"parent": outside}
    st = be.status(ref)  # reported where users look: status, and the CLI's status line
    assert st.warm_start == {"seeded": {"parent": len(inside)}, "left_out": {"parent": outside}}
    assert st.trials.finished == 2
    from typer.testing import CliRunner

    from pipetune.cli import app

    out = CliRunner().invoke(app, ["status", "child"]).output
    assert f"{len(inside)} parent trials seeded" in out and f"{outside} left out" in out, out


def test_static_to_tunable_takes_the_parents_static_value(home):
    be = get_backend("local")
    parent = _parent(be, parameters=[X, KIND], static={"n": 4})
    ref = be.launch(_child(parameters=[X, N, KIND]), "child", detach=False)
    seeded = [r for r in be.trials(ref) if r.warm_start_from]
    assert len(seeded) == len(parent)
    assert {r.params["n"] for r in seeded} == {4}
    by_origin = {r.warm_start_from: r for r in seeded}
    for p in parent.values():
        assert by_origin[f"parent#{p.number}"].values == pytest.approx(p.values)
    study = be._job(ref).load_study()
    assert study.user_attrs[ATTR_LEFT_OUT] == {"parent": 0}


def test_a_parent_static_value_outside_the_new_range_leaves_its_trials_out(home):
    be = get_backend("local")
    parent = _parent(be, parameters=[X, KIND], static={"n": 9})
    ref = be.launch(_child(parameters=[X, N, KIND]), "child", detach=False)
    assert not [r for r in be.trials(ref) if r.warm_start_from]
    assert be._job(ref).load_study().user_attrs[ATTR_LEFT_OUT] == {"parent": len(parent)}


def test_what_amt_refuses_is_refused_before_anything_is_created(home):
    be = get_backend("local")
    _parent(be)
    kind_changed = _child(parameters=[X, {"name": "n", "type": "continuous", "min": 1, "max": 5},
                                      KIND])
    with pytest.raises(SpecError, match="warm_start.parents\\[0\\].*'n' is continuous here but "
                       "integer in the parent"):
        be.launch(kind_changed, "c1")
    objective_changed = script_spec("quadratic.py", warm_start={"parents": ["parent"]},
                                    objectives=[{"metric": "acc"}],
                                    metrics=[{"name": "acc", "regex": "loss=([0-9.]+)"}])
    with pytest.raises(SpecError, match="objective is 'loss'"):
        be.launch(load_spec(objective_changed), "c2")
    assert not (home / ".pipetune/jobs/c1").exists() and not (home / ".pipetune/jobs/c2").exists()


def test_the_change_budget():
    categorical = {"color": Hyperparameter("categorical", choices=4)}
    statics = {f"s{i}": Hyperparameter("static", "1") for i in range(3)}
    moved = {"color": Hyperparameter("static", "red")}
    new_values = {f"s{i}": Hyperparameter("static", "2") for i in range(3)}
    # 4 (a categorical of four values made static) + 3 x 2 (static values changed) = 10
    assert amt_problems({**moved, **new_values}, {**categorical, **statics}) == []
    one_more = {"t": Hyperparameter("static", "1")}
    problems = amt_problems({**moved, **new_values, "t": Hyperparameter("static", "0")},
                            {**categorical, **statics, **one_more})
    assert problems == ["12 changes from tunable to static and of static values; AMT allows "
                        "at most 10"]
