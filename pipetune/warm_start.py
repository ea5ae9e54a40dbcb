"""Warm start by SageMaker AMT's rules, for every backend that warm-starts.

AMT lets a child job change its parents' hyperparameters within these rules (both warm
start types), and pipetune applies the same ones to the local engine:

- the names, tunable plus static, stay the same set;
- a hyperparameter tunable in both keeps its kind (continuous, integer, categorical: a
  discrete parameter, or an integer with a step, is categorical on AMT);
- a hyperparameter may move between static and tunable. Moving one from tunable to static
  counts one change (a categorical: one per value), changing a static value counts two;
  at most :data:`MAX_CHANGES` changes in all;
- the objective metric stays the same.

When the local engine seeds a child with its parents' trials, a parameter that was static
in the parent takes the parent's static value, one that became static is dropped, and a
trial whose values fall outside the child's (narrower) ranges is left out and counted:
:class:`Transfer` says how many, per parent.

Example:
    >>> parent = {"lr": Hyperparameter("continuous"), "depth": Hyperparameter("static", "6")}
    >>> child = {"lr": Hyperparameter("continuous"), "depth": Hyperparameter("integer")}
    >>> amt_problems(child, parent)          # static -> tunable is allowed
    []
    >>> amt_problems({"lr": Hyperparameter("integer")}, {"lr": Hyperparameter("continuous")})
    ["hyperparameter 'lr' is integer here but continuous in the parent; kinds must not change"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipetune.spec import CategoricalParam, DiscreteParam, IntegerParam, TuningSpec

MAX_CHANGES = 10
#: study attribute (local engine) holding {parent: trials left out of the transfer}
ATTR_LEFT_OUT = "pipetune:warm_start_left_out"


@dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter as AMT compares them: its kind, a static one's value (as text),
    a categorical one's number of values."""

    kind: str  # continuous | integer | categorical | static
    value: Any = None
    choices: int = 0


def of_spec(spec: TuningSpec) -> dict[str, Hyperparameter]:
    """The spec's tunable and static hyperparameters, in AMT's kinds."""
    from pipetune.trials.contracts import render_value

    out = {p.name: _tunable(p) for p in spec.parameters}
    out.update({k: Hyperparameter("static", render_value(v)) for k, v in spec.static.items()})
    return out


def _tunable(p) -> Hyperparameter:
    if isinstance(p, (CategoricalParam, DiscreteParam)):
        return Hyperparameter("categorical", choices=len(p.values))
    if isinstance(p, IntegerParam):
        if p.step > 1:
            return Hyperparameter("categorical", choices=len(range(p.min, p.max + 1, p.step)))
        return Hyperparameter("integer")
    return Hyperparameter("continuous")


def amt_problems(mine: dict[str, Hyperparameter], theirs: dict[str, Hyperparameter],
                 my_objective: str | None = None,
                 their_objective: str | None = None) -> list[str]:
    """What AMT would refuse when warm-starting ``mine`` (the child) from ``theirs``."""
    problems = []
    if set(mine) != set(theirs):
        problems.append("the parent has other hyperparameters (tunable plus static must be the "
                        f"same set): only in this spec {sorted(set(mine) - set(theirs))}, only in the "
                        f"parent {sorted(set(theirs) - set(mine))}")
    both = sorted(set(mine) & set(theirs))
    changed = [n for n in both if "static" not in (mine[n].kind, theirs[n].kind)
               and mine[n].kind != theirs[n].kind]
    for n in changed:
        problems.append(f"hyperparameter {n!r} is {mine[n].kind} here but {theirs[n].kind} in "
                        "the parent; kinds must not change")
    changes = 0
    for n in both:
        if mine[n].kind == "static" and theirs[n].kind != "static":
            changes += max(1, theirs[n].choices)
        elif mine[n].kind == theirs[n].kind == "static" and mine[n].value != theirs[n].value:
            changes += 2
    if changes > MAX_CHANGES:
        problems.append(f"{changes} changes from tunable to static and of static values; AMT "
                        f"allows at most {MAX_CHANGES}")
    if my_objective is not None and their_objective is not None and my_objective != their_objective:
        problems.append(f"the parent's objective is {their_objective!r}, this spec's "
                        f"{my_objective!r}; it must stay the same")
    return problems


@dataclass
class Transfer:
    """Parent trials that seed a child, and how many were left out, per parent."""

    trials: list = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)

    def message(self) -> str | None:
        """One line on what was left out, or None."""
        parts = [f"{n} of {parent!r}" for parent, n in self.left_out.items() if n]
        if not parts:
            return None
        return (f"warm start left out {', '.join(parts)} parent trials: their values fall "
                "outside this spec's ranges")


def transfer(spec: TuningSpec, parent_name: str, parent_spec: TuningSpec, trials: list,
             out: Transfer) -> None:
    """Add to ``out`` the parent's complete Optuna trials as trials of ``spec``'s space.

    A parameter static in the parent takes the parent's static value; one static here is
    dropped; a trial with a value outside this spec's ranges is counted in
    ``out.left_out[parent_name]``."""
    import optuna

    from pipetune.backends.local import space
    from pipetune.backends.local.jobstore import T_EXCLUDED, T_INFO

    dists = {p.name: space.distribution(p) for p in spec.parameters}
    from_static = {p.name: space.to_internal_value(p, parent_spec.static[p.name])
                   for p in spec.parameters if p.name in parent_spec.static}
    left = out.left_out.setdefault(parent_name, 0)
    for t in trials:
        if len(t.values or []) != len(spec.objectives):
            continue
        params = {k: v for k, v in t.params.items() if k in dists}
        params.update({k: v for k, v in from_static.items() if k not in params})
        if not all(_contains(dists[k], v) for k, v in params.items()):
            left += 1  # outside this job's ranges
            continue
        out.trials.append(optuna.trial.create_trial(
            params=params, distributions={k: dists[k] for k in params}, values=t.values,
            # Seeds the sampler; like SageMaker's parent jobs, not this job's budget.
            user_attrs={T_EXCLUDED: True,
                        T_INFO: {**t.user_attrs.get(T_INFO, {}),
                                 "warm_start_from": f"{parent_name}#{t.number}"}},
        ))
    out.left_out[parent_name] = left


def _contains(dist, value: Any) -> bool:
    try:
        return bool(dist._contains(dist.to_internal_repr(value)))
    except (ValueError, TypeError):
        return False
