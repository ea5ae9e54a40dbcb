"""``early_stopping`` defaults to ``auto`` (issue 21) without changing the fingerprint of a
spec that does not mention it: a job launched before the change attaches again."""

from __future__ import annotations

import json

from pipetune.spec import load_spec

BASE = {
    "parameters": [
        {"name": "lr", "type": "continuous", "min": 1e-4, "max": 0.1, "scaling": "log"},
        {"name": "opt", "type": "categorical", "values": ["sgd", "adam"]},
        {"name": "momentum", "type": "continuous", "min": 0.5, "max": 0.99,
         "condition": {"parent": "opt", "values": ["sgd"]}},
    ],
    "objectives": [{"metric": "acc", "goal": "maximize"}],
    "metrics": [{"name": "acc", "regex": "acc=([0-9.]+)"}],
    "trial": {"command": ["python", "train.py"]},
}
SAGEMAKER = {**BASE, "sagemaker": {"image": "img", "role": "arn:aws:iam::1:role/r"},
             "budget": {"max_trials": 9, "max_parallel": 3}}

# Computed with pipetune at commit 21cc5ae, the last one whose default was ``none``.
BEFORE = {
    "not given": ("edc19b6640dc3c96", BASE),
    "not given, sagemaker options": ("b1a05a8ae11b86bf", SAGEMAKER),
    "none": ("edc19b6640dc3c96", {**BASE, "early_stopping": {"type": "none"}}),
    "auto": ("d923b5774c26b05e", {**BASE, "early_stopping": {"type": "auto"}}),
    "median": ("50eac1f7af0798d0", {**BASE, "early_stopping": {"type": "median",
                                                               "warmup_steps": 3}}),
}


def test_the_default_is_auto():
    assert load_spec(BASE).early_stopping.type == "auto"


def test_fingerprints_are_those_from_before_the_default_changed():
    for case, (fingerprint, body) in BEFORE.items():
        assert load_spec(body).fingerprint() == fingerprint, case


def test_the_default_survives_round_trips_and_overrides():
    spec = load_spec(BASE)
    assert "early_stopping" not in spec.to_dict()
    again = load_spec(json.loads(json.dumps(spec.to_dict())))
    assert again.early_stopping.type == "auto" and again.fingerprint() == spec.fingerprint()
    moved = spec.with_overrides(budget={"max_trials": 99}).with_overrides(budget={"max_trials": 20})
    assert moved.fingerprint() == spec.fingerprint()
    given = load_spec({**BASE, "early_stopping": {"type": "none"}})
    assert given.to_dict()["early_stopping"]["type"] == "none"
    assert load_spec(given.to_dict()).early_stopping.type == "none"


def test_a_change_of_early_stopping_still_changes_the_fingerprint():
    base = load_spec(BASE).fingerprint()
    for es in ({"type": "auto"}, {"type": "median"}, {"type": "none", "startup_trials": 9},
               {"type": "successive_halving"}):
        assert load_spec({**BASE, "early_stopping": es}).fingerprint() != base, es
