"""The convergence rule, the share warning and tiered profiles: edge cases, validation
errors that name the field, and --profile on a real local job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from obs_helpers import script_spec

from pipetune.errors import SpecError
from pipetune.observability.budget import tuning_share_warning
from pipetune.observability.convergence import check_convergence
from pipetune.observability.cost import local_cost
from pipetune.observability.tiers import select_profile
from pipetune.results import TrialRecord
from pipetune.spec import ConvergenceSettings, load_spec

PIPETUNE = str(Path(sys.executable).parent / "pipetune")


def records(values, metric="loss"):
    """Trial records in trial order; None stands for a failed trial."""
    return [TrialRecord(id=str(i), number=i, state="complete" if v is not None else "failed",
                        params={"x": 0.5}, metrics={metric: v} if v is not None else {})
            for i, v in enumerate(values)]


def test_minimize_rule_measures_from_the_median_trial():
    spec = load_spec(script_spec("obs_sleepy.py"))  # minimize loss
    rule = ConvergenceSettings(window=2, min_trials=6, fraction=0.5)
    # best 0.1; median 0.8; recent best 0.7 is (0.8-0.7)/(0.8-0.1) = 14% of the way
    stuck = check_convergence(spec, records([0.1, 0.9, 0.8, 0.8, 0.9, 0.7]), rule)
    assert stuck.converging is False and stuck.progress == pytest.approx(0.1 / 0.7)
    assert stuck.best == 0.1 and stuck.recent_best == 0.7 and stuck.baseline == 0.8
    # recent best 0.2 is (0.8-0.2)/(0.8-0.1) = 86%: converging
    fine = check_convergence(spec, records([0.1, 0.9, 0.8, 0.8, 0.9, 0.2]), rule)
    assert fine.converging is True and fine.progress == pytest.approx(0.6 / 0.7)


def test_too_early_and_all_recent_trials_failing():
    spec = load_spec(script_spec("obs_sleepy.py"))
    rule = ConvergenceSettings(window=3, min_trials=5)
    early = check_convergence(spec, records([0.1, 0.2, 0.3, 0.4]), rule)
    assert early.converging is None and "4 of 5" in early.reason and not early.not_converging
    failing = check_convergence(spec, records([0.1, 0.2, None, None, None]), rule)
    assert failing.converging is False and "none of the last 3" in failing.reason
    # the default rule waits for 20 finished trials
    assert check_convergence(spec, records([0.5] * 19)).converging is None


def test_zero_baseline_is_a_plain_ratio_to_the_best():
    spec = load_spec(script_spec("obs_lucky.py", metric="score", goal="maximize"))
    rule = ConvergenceSettings(window=2, min_trials=4, fraction=0.9, baseline="zero")
    verdict = check_convergence(spec, records([0.9, 0.5, 0.85, 0.8], "score"), rule)
    assert verdict.progress == pytest.approx(0.85 / 0.9) and verdict.converging is True
    verdict = check_convergence(spec, records([0.9, 0.5, 0.7, 0.8], "score"), rule)
    assert verdict.progress == pytest.approx(0.8 / 0.9) and verdict.converging is False
    negative = check_convergence(spec, records([-1.0, -2.0, -3.0, -4.0], "score"), rule)
    assert negative.converging is None and "baseline: median" in negative.reason


@pytest.mark.parametrize("section, field, words", [
    ({"convergence": {"window": 30}}, "convergence", "cannot exceed min_trials"),
    ({"convergence": {"fraction": 1.5}}, "convergence.fraction", "less than or equal to 1"),
    ({"convergence": {"windows": 3}}, "convergence.windows", "did you mean 'window'"),
    ({"cost": {"cpu_hour_usd": -1}}, "cost.cpu_hour_usd", "greater than 0"),
    ({"profiles": {"prod": {"budget": {"max_trials": 0}}}}, "profiles.prod.budget.max_trials",
     "greater than or equal to 1"),
    ({"profiles": {"prod": {"budgit": {}}}}, "profiles.prod.budgit", "did you mean 'budget'"),
    ({"profiles": {"dev": {"profile": "prod"}}}, "profiles.dev.profile", "cannot set"),
    ({"profiles": {"dev": {}}, "profile": "qa"}, "profile", "valid: dev"),
])
def test_bad_settings_name_the_field(section, field, words):
    with pytest.raises(SpecError) as err:
        load_spec(script_spec("obs_sleepy.py", **section))
    fields = [f for f, _ in err.value.problems]
    assert field in fields, err.value.problems
    assert words in dict(err.value.problems)[field]


def test_profiles_merge_over_the_base_and_are_chosen_in_order(monkeypatch):
    spec = load_spec(script_spec("obs_sleepy.py", budget={"max_trials": 6, "max_parallel": 2},
                                 profiles={"dev": {"budget": {"max_trials": 2}},
                                           "prod": {"budget": {"max_trials": 40, "max_cost_usd": 5},
                                                    "seed": 11}}))
    dev = select_profile(spec, "dev")
    assert (dev.budget.max_trials, dev.budget.max_parallel, dev.profile) == (2, 2, "dev")
    assert dev.profiles is None and select_profile(dev, "dev") is dev
    monkeypatch.setenv("PIPETUNE_PROFILE", "prod")
    prod = select_profile(spec)
    assert (prod.budget.max_trials, prod.budget.max_cost_usd, prod.seed) == (40, 5, 11)
    assert select_profile(spec, "dev").profile == "dev"  # the flag beats the environment
    with pytest.raises(SpecError, match="no profile 'qa'.*valid: dev, prod") as err:
        select_profile(spec, "qa")
    assert err.value.problems[0][0] == "profile"
    monkeypatch.delenv("PIPETUNE_PROFILE")
    assert select_profile(spec) is spec  # no choice: the top-level values


def test_share_of_training_compute_warning():
    spec = load_spec(script_spec("obs_sleepy.py", cost={"cpu_hour_usd": 36.0,
                                                        "training_cost_usd": 1.0}))
    trials = [TrialRecord(id=str(i), number=i, state="complete", params={"x": 0.1},
                          duration_seconds=10.0) for i in range(3)]  # 30 CPU-s = $0.30
    est = local_cost(spec, trials)
    assert est.usd == pytest.approx(0.3) and est.share_of_training == pytest.approx(0.3)
    assert "30% of the training compute" in est.warning and "at most 20%" in est.warning
    assert tuning_share_warning(spec, 0.15) == (pytest.approx(0.15), None)
    assert tuning_share_warning(load_spec(script_spec("obs_sleepy.py")), 99.0) == (None, None)


def test_cli_profile_flag_runs_the_chosen_tier(home):
    body = script_spec("obs_sleepy.py", budget={"max_trials": 6},
                       profiles={"dev": {"budget": {"max_trials": 2}},
                                 "prod": {"budget": {"max_trials": 4}}})
    (home / "spec.yaml").write_text(yaml.safe_dump(body))
    env = dict(os.environ, PIPETUNE_HOME=str(home / ".pipetune"), COLUMNS="200")

    def run(*args):
        return subprocess.run([PIPETUNE, *args], cwd=home, env=env, capture_output=True,
                              text=True, timeout=120)

    done = run("tune", "spec.yaml", "--name", "tiered", "--profile", "dev", "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(run("status", "tiered", "--json").stdout)
    assert status["trials"]["complete"] == 2 and status["max_trials"] == 2
    stored = json.loads((home / ".pipetune/jobs/tiered/job.json").read_text())["spec"]
    assert stored["profile"] == "dev" and "profiles" not in stored
    bad = run("launch", "spec.yaml", "--name", "x", "--profile", "qa")
    assert bad.returncode == 2 and "profile: no profile 'qa'" in bad.stderr
    assert "Traceback" not in bad.stderr
