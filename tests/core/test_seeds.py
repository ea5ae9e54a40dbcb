"""Issue 18: the spec's seed makes a single-process job reproducible, and every other sampler
instance (a resumed coordinator, a worker) draws its own sequence."""

from __future__ import annotations

import optuna

from pipetune import get_backend, load_spec
from pipetune.backends.local import space
from pipetune.backends.local.jobstore import ATTR_STARTS, JobDir

from .conftest import script_spec


def _spec(monkeypatch):
    monkeypatch.setenv("NAP_SECONDS", "0")
    return load_spec(script_spec("nap.py", strategy="random", seed=11,
                                 budget={"max_trials": 5, "max_parallel": 1}))


def test_same_seed_same_trials_for_a_single_uninterrupted_job(home, monkeypatch):
    be = get_backend("local")
    spec = _spec(monkeypatch)
    for name in ("first", "second"):
        be.launch(spec, name, detach=False)
    drawn = [[r.params for r in sorted(be.trials(n), key=lambda r: r.number)]
             for n in ("first", "second")]
    assert drawn[0] == drawn[1] and len(drawn[0]) == 5
    assert JobDir("first").load_study().user_attrs[ATTR_STARTS] == 1


def test_each_sampler_instance_draws_its_own_sequence(monkeypatch):
    spec = _spec(monkeypatch)
    assert space.instance_seed(11, None) == 11  # the job's first coordinator: the spec's seed
    seeds = {space.instance_seed(11, i) for i in
             ("coordinator/1", "coordinator/2", "worker/host:12/345", "worker/host:13/346")}
    assert len(seeds) == 4 and 11 not in seeds
    assert space.instance_seed(None, "coordinator/1") is None  # unseeded stays unseeded

    def draws(instance):
        study = optuna.create_study(sampler=space.make_sampler(spec, instance))
        return [study.ask().suggest_float("x", 0, 1) for _ in range(5)]

    assert draws(None) == draws(None)  # reproducible
    assert draws("coordinator/1") != draws(None)
    assert draws("coordinator/1") == draws("coordinator/1")
