"""Which sampler ``auto`` chose, and why: the rule's reasons, recorded by the engine when it
starts and shown by ``status`` (Python, CLI, ``--json``) and the report. Real engine runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipetune import get_backend, load_spec
from pipetune.backends.local import space

from .conftest import cli

_TRIAL = '''
def objective(params, ctx):
    """A cheap closed form of whatever parameters the spec has."""
    total = 0.0
    for name, value in params.items():
        total += (value - 0.3) ** 2 if isinstance(value, (int, float)) else len(str(value))
    return total
'''


def _body(tmp_path: Path, parameters: list[dict], **changes) -> dict:
    (tmp_path / "choice_trial.py").write_text(_TRIAL)
    body = {
        "parameters": parameters,
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "trial": {"callable": "choice_trial:objective", "workdir": str(tmp_path)},
        "budget": {"max_trials": 6},
        "seed": 11,
    }
    body.update(changes)
    return body


CONTINUOUS = [{"name": "x", "type": "continuous", "min": -1.0, "max": 1.0},
              {"name": "lr", "type": "continuous", "min": 1e-4, "max": 1.0, "scaling": "log"},
              {"name": "depth", "type": "integer", "min": 1, "max": 40}]
CATEGORICAL = [{"name": "x", "type": "continuous", "min": -1.0, "max": 1.0},
               {"name": "opt", "type": "categorical", "values": ["adam", "sgd", "rmsprop"]}]
SMALL_GRID = [{"name": "opt", "type": "categorical", "values": ["adam", "sgd"]},
              {"name": "depth", "type": "integer", "min": 1, "max": 3}]


def _run(home: Path, name: str, body: dict):
    be = get_backend("local")
    ref = be.launch(load_spec(body), name, detach=False)
    return be, ref, be.status(ref)


# ---- the rule's reasons ----------------------------------------------------------------------
@pytest.mark.parametrize("changes, with_gp, strategy, words", [
    ({}, True, "gp", ["one objective", "3 continuous/integer parameters", "no conditions",
                      "no early stopping", "budget 6 ≤ 200 trials"]),
    ({}, False, "tpe", ["the gp extra is not installed", "pip install 'pipetune[gp]'"]),
    ({"parameters": CATEGORICAL}, True, "tpe",
     ["categorical parameter 'opt'", "GP needs continuous/integer parameters"]),
    ({"parameters": SMALL_GRID, "budget": {"max_trials": 20}}, True, "grid",
     ["all 6 combinations fit the 20-trial budget"]),
    ({"objectives": [{"metric": "a"}, {"metric": "b"}], "budget": {"max_trials": 100}}, True,
     "nsga2", ["2 objectives and 100 ≥ 100 trials"]),
    ({"objectives": [{"metric": "a"}, {"metric": "b"}]}, True, "tpe",
     ["2 objectives and 6 < 100 trials"]),
    ({"early_stopping": {"type": "median"}}, True, "tpe", ["early stopping median"]),
    ({"budget": {"max_trials": 300}}, True, "tpe", ["budget 300 > 200 trials"]),
    ({"budget": {"max_trials": 150}}, True, "gp",
     ["budget 150 ≤ 200 trials; GP chooses the first 100 trials, then CMA-ES (IPOP restarts) "
      "from the best point"]),
    ({"parameters": [{"name": "kind", "type": "categorical", "values": ["a", "b"]},
                     {"name": "x", "type": "continuous", "min": 0.0, "max": 1.0,
                      "condition": {"parent": "kind", "values": ["a"]}}]}, True, "tpe",
     ["categorical parameter 'kind'"]),
    ({"parameters": [{"name": "k", "type": "integer", "min": 1, "max": 9},
                      {"name": "x", "type": "continuous", "min": 0.0, "max": 1.0,
                       "condition": {"parent": "k", "values": [1]}}]}, True, "tpe",
     ["conditional parameter 'x'"]),
])
def test_explain_strategy_names_the_branch(tmp_path, monkeypatch, changes, with_gp, strategy,
                                           words):
    monkeypatch.setattr(space, "gp_available", lambda: with_gp)
    changes = dict(changes)
    spec = load_spec(_body(tmp_path, changes.pop("parameters", CONTINUOUS), **changes))
    choice = space.explain_strategy(spec)
    assert choice.strategy == strategy == space.resolve_strategy(spec)
    assert choice.reason.startswith("auto: ")
    for w in words:
        assert w in choice.reason, choice.reason


@pytest.mark.parametrize("strategy, sampler", [("tpe", "tpe"), ("random", "random"),
                                               ("hyperband", "tpe")])
def test_an_explicit_strategy_is_said_to_be_set_in_the_spec(tmp_path, strategy, sampler):
    choice = space.explain_strategy(load_spec(_body(tmp_path, CONTINUOUS, strategy=strategy)))
    assert (choice.strategy, choice.sampler) == (strategy, sampler)
    assert choice.reason.startswith(f"set in the spec (strategy: {strategy}")


# ---- recorded by the engine, shown by status -------------------------------------------------
def test_auto_on_continuous_parameters_status_says_gp_or_why_not(home):
    be, ref, st = _run(home, "cont", _body(home, CONTINUOUS))
    assert st.state.value == "completed"
    if space.gp_available():
        assert st.sampler == "gp"
        assert st.sampler_reason == ("auto: one objective, 3 continuous/integer parameters, no "
                                     "conditions, no early stopping, budget 6 ≤ 200 trials")
    else:
        assert st.sampler == "tpe"
        assert "the gp extra is not installed" in st.sampler_reason
    assert "not recorded yet" not in st.sampler_reason


def test_auto_with_a_categorical_parameter_status_says_tpe_and_why(home):
    _, _, st = _run(home, "cat", _body(home, CATEGORICAL))
    assert st.sampler == "tpe"
    assert st.sampler_reason == ("auto: categorical parameter 'opt' (GP needs "
                                 "continuous/integer parameters)")


def test_auto_on_a_small_finite_space_runs_the_grid(home):
    be, ref, st = _run(home, "grid", _body(home, SMALL_GRID, budget={"max_trials": 20}))
    assert st.sampler == "grid" and st.max_trials == 6
    assert st.sampler_reason == "auto: all 6 combinations fit the 20-trial budget"
    seen = {(t.params["opt"], t.params["depth"]) for t in be.trials(ref)}
    assert len(seen) == 6  # every combination once: the grid ran


def test_the_choice_of_the_machine_that_ran_is_shown_not_this_ones(home):
    """The job runs in a process where torch cannot be imported (no ``gp`` extra there): its
    status, read here, says TPE for want of the extra, whatever this machine has."""
    (home / "sitecustomize.py").write_text("import sys; sys.modules['torch'] = None\n")
    (home / "spec.json").write_text(json.dumps(_body(home, CONTINUOUS)))
    code = ("import json; from pipetune import get_backend, load_spec\n"
            "get_backend('local').launch(load_spec(json.load(open('spec.json'))), 'elsewhere', "
            "detach=False)\n")
    env = dict(os.environ, PIPETUNE_HOME=str(home / ".pipetune"), PYTHONPATH=str(home))
    proc = subprocess.run([sys.executable, "-c", code], cwd=home, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    st = get_backend("local").status("elsewhere")
    assert st.state.value == "completed" and st.sampler == "tpe"
    assert st.sampler_reason.startswith("auto: the gp extra is not installed")


def test_a_job_not_started_yet_says_the_choice_is_not_recorded(home):
    be = get_backend("local")
    ref = be.prepare(load_spec(_body(home, CATEGORICAL)), "prepared")
    st = be.status(ref)
    assert st.sampler == "tpe" and "not recorded yet" in st.sampler_reason


def test_run_here_statuses_carry_the_choice(home):
    be = get_backend("local")
    seen = []
    be.run_here(load_spec(_body(home, CATEGORICAL)), "live", on_status=seen.append)
    assert seen and {(s.sampler, s.sampler_reason) for s in seen} == {
        ("tpe", "auto: categorical parameter 'opt' (GP needs continuous/integer parameters)")}


# ---- the CLI and the report ------------------------------------------------------------------
def test_cli_status_json_and_report_say_which_sampler_and_why(home):
    (home / "spec.yaml").write_text(yaml.safe_dump(_body(home, CATEGORICAL)))
    cli("tune", "spec.yaml", "--name", "c", "--no-progress", home=home)
    reason = "auto: categorical parameter 'opt' (GP needs continuous/integer parameters)"
    status = json.loads(cli("status", "c", "--json", home=home).stdout)
    assert (status["sampler"], status["sampler_reason"]) == ("tpe", reason)
    assert f"sampler: tpe ({reason})" in cli("status", "c", home=home).stdout
    files = json.loads(cli("report", "c", "--out", "rep", home=home).stdout)
    assert f"Sampler: **tpe** ({reason})" in Path(files["markdown"]).read_text()
    html = Path(files["html"]).read_text()
    assert "Sampler: <strong>tpe</strong>" in html and "categorical parameter" in html


# ---- the early stopping, shown the same way --------------------------------------------------
@pytest.mark.parametrize("changes, pruner, words", [
    ({}, "none", ["set in the spec (early_stopping none)"]),
    ({"early_stopping": {"type": "auto"}}, "successive_halving",
     ["auto: acts only on trials that report intermediate values", "first rung 1 step(s)",
      "reduction factor 3"]),
    ({"early_stopping": {"type": "auto", "min_resource": 5, "reduction_factor": 4}},
     "successive_halving", ["first rung 5 step(s)", "reduction factor 4"]),
    ({"early_stopping": {"type": "auto"}, "objectives": [{"metric": "a"}, {"metric": "b"}]},
     "none", ["auto: several objectives"]),
    ({"early_stopping": {"type": "median"}}, "median", ["set in the spec (early_stopping median)"]),
    ({"strategy": "hyperband"}, "hyperband", ["strategy hyperband (early_stopping none)"]),
])
def test_explain_pruner_names_what_make_pruner_builds(tmp_path, changes, pruner, words):
    spec = load_spec(_body(tmp_path, CONTINUOUS, **changes))
    name, reason = space.explain_pruner(spec)
    assert name == pruner and all(w in reason for w in words), reason
    built = type(space.make_pruner(spec)).__name__
    expected = {"none": "NopPruner", "successive_halving": "SuccessiveHalvingPruner",
                "median": "MedianPruner", "hyperband": "HyperbandPruner"}[pruner]
    assert built == expected  # the explanation names the pruner that really runs


def test_cli_status_and_report_say_which_early_stopping(home):
    body = _body(home, CATEGORICAL, early_stopping={"type": "auto"})
    (home / "spec.yaml").write_text(yaml.safe_dump(body))
    cli("tune", "spec.yaml", "--name", "es", "--no-progress", home=home)
    status = json.loads(cli("status", "es", "--json", home=home).stdout)
    assert status["pruner"] == "successive_halving"
    assert status["pruner_reason"].startswith("auto: acts only on trials that report")
    line = "early stopping: successive_halving (auto: acts only"
    assert line in cli("status", "es", home=home).stdout
    files = json.loads(cli("report", "es", "--out", "rep", home=home).stdout)
    assert "Early stopping: **successive_halving** (auto:" in Path(files["markdown"]).read_text()
    # no early stopping: no line (nothing to explain), the JSON still says none
    (home / "plain.yaml").write_text(yaml.safe_dump(_body(home, CATEGORICAL)))
    cli("tune", "plain.yaml", "--name", "plain", "--no-progress", home=home)
    assert json.loads(cli("status", "plain", "--json", home=home).stdout)["pruner"] == "none"
    assert "early stopping:" not in cli("status", "plain", home=home).stdout


def test_tpe_on_a_conditional_space_is_built_and_samples_without_a_warning():
    """pipetune's TPE does not group the space (issue 21) and passes no deprecated argument:
    building it and sampling conditional children print nothing (Optuna 4.9 deprecated
    ``warn_independent_sampling``, whose mere passing warns)."""
    import warnings

    import optuna

    spec = load_spec({
        "parameters": [
            {"name": "kind", "type": "categorical", "values": ["a", "b"]},
            {"name": "ya", "type": "continuous", "min": -1.0, "max": 1.0,
             "condition": {"parent": "kind", "values": ["a"]}}],
        "objectives": [{"metric": "loss"}], "trial": {"callable": "m:f"},
        "budget": {"max_trials": 20}, "seed": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sampler = space.make_sampler(spec)
        study = optuna.create_study(sampler=sampler)
        for _ in range(12):
            trial = study.ask()
            params = space.suggest(spec, trial)
            study.tell(trial, params.get("ya", 0.5) ** 2)
    assert isinstance(sampler, optuna.samplers.TPESampler) and sampler._group is False


# ---- GP, then CMA-ES -----------------------------------------------------------------------
def test_auto_hands_gp_over_to_cma_es_only_past_100_trials(tmp_path):
    """Issue 21 item 4: past trial 100 a GP suggestion costs more than the 100 ms target, and
    CMA-ES from the best point was level with GP on 144 BBOB problems at 200 trials."""
    pytest.importorskip("cmaes")
    import optuna

    from pipetune.samplers import HandoverSampler

    long_auto = load_spec(_body(tmp_path, CONTINUOUS, budget={"max_trials": 150}))
    assert isinstance(space.make_sampler(long_auto), HandoverSampler)
    short_auto = load_spec(_body(tmp_path, CONTINUOUS, budget={"max_trials": 100}))
    assert isinstance(space.make_sampler(short_auto), optuna.samplers.GPSampler)
    gp_said = load_spec(_body(tmp_path, CONTINUOUS, strategy="gp", budget={"max_trials": 150}))
    assert isinstance(space.make_sampler(gp_said), optuna.samplers.GPSampler)  # as written
    assert "CMA-ES" not in space.explain_strategy(gp_said).reason


def test_a_job_past_the_handover_keeps_gps_trials_then_draws_cma_es_ones(home, monkeypatch):
    """The engine's job, with the handover at trial 12 instead of 100 to keep it short: the
    same trials as GP alone up to there, CMA-ES's after (status says so)."""
    pytest.importorskip("cmaes")
    monkeypatch.setattr(space, "GP_TRIALS", 12)
    params = [{"name": "x", "type": "continuous", "min": -5.0, "max": 5.0},
              {"name": "y", "type": "continuous", "min": -5.0, "max": 5.0}]
    body = _body(home, params, budget={"max_trials": 20}, seed=4)
    be, ref, st = _run(home, "handover", body)
    assert st.state.value == "completed" and st.trials.complete == 20
    assert st.sampler == "cmaes"  # the sampler choosing now, and why
    assert st.sampler_reason.startswith("auto: GP chose the first 12 trials; CMA-ES (IPOP ")
    be, gp_ref, gp_st = _run(home, "gp-only", {**body, "strategy": "gp"})  # GP throughout
    assert "CMA-ES" not in gp_st.sampler_reason

    def drawn(ref):
        return [(r.params["x"], r.params["y"]) for r in sorted(be.trials(ref), key=lambda r: r.number)]

    handed, gp_only = drawn(ref), drawn(gp_ref)
    assert handed[:12] == gp_only[:12]
    assert all(a != b for a, b in zip(handed[12:], gp_only[12:]))


def test_parallel_trials_and_a_resume_run_through_the_handover(home, monkeypatch):
    """Parallel trials keep working through the new ``auto``: three at a time across the
    handover (moved to trial 6). A sampler built anew over a study past the handover (what a
    resumed coordinator does) starts CMA-ES at the best trial so far."""
    pytest.importorskip("cmaes")
    monkeypatch.setattr(space, "GP_TRIALS", 6)
    params = [{"name": "x", "type": "continuous", "min": -5.0, "max": 5.0},
              {"name": "k", "type": "integer", "min": 0, "max": 20}]
    body = _body(home, params, budget={"max_trials": 24, "max_parallel": 3}, seed=2)
    be, ref, st = _run(home, "parallel", body)
    assert st.state.value == "completed" and st.trials.complete == 24, st.reason
    assert "CMA-ES" in st.sampler_reason

    body["budget"]["max_trials"] = 30
    from pipetune.backends.local.jobstore import JobDir

    study = JobDir("parallel").load_study()
    assert len(study.trials) == 24
    sampler = space.make_sampler(load_spec(body))
    study.sampler = sampler
    for _ in range(6):
        trial = study.ask()
        values = space.suggest(load_spec(body), trial)
        study.tell(trial, (values["x"] - 0.3) ** 2 + (values["k"] - 0.3) ** 2)
    best = min(t.value for t in study.trials[:24])
    assert sampler._second is not None and sampler._second._start[0] == next(
        t.params for t in study.trials[:24] if t.value == best)
