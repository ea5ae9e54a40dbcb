"""The durability floor's storage records every write, and nothing else changes Optuna's run."""

from __future__ import annotations

import json

import optuna

from benchmarks.floors import AppendingInMemoryStorage, _objective


def test_each_storage_write_is_one_appended_line_and_the_search_is_unchanged(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = tmp_path / "writes.log"
    appending = optuna.create_study(storage=AppendingInMemoryStorage(str(path)),
                                    sampler=optuna.samplers.RandomSampler(seed=3))
    appending.optimize(_objective, n_trials=7)
    plain = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    plain.optimize(_objective, n_trials=7)

    ops = [json.loads(line)["op"] for line in path.read_text().splitlines()]
    assert ops.count("create_new_study") == 1
    assert ops.count("create_new_trial") == 7
    assert ops.count("set_trial_param") == 7 * 3  # x, lr, depth
    assert ops.count("set_trial_state_values") == 7  # each trial's end, with its value
    assert [t.params for t in appending.trials] == [t.params for t in plain.trials]
    assert [t.value for t in appending.trials] == [t.value for t in plain.trials]
