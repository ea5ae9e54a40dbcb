"""The job's journal storage: asks that do not scan every trial, and checkpoints that make a
long job cheap to open, never at the cost of what a full replay of the journal says."""

from __future__ import annotations

import os
import subprocess
import sys

import optuna
from optuna.trial import TrialState

from pipetune.storages.indexed import IndexedJournalStorage
from pipetune.storages.journal import FlockJournalBackend
from .conftest import inprocess_spec


def _open(path, **kw) -> IndexedJournalStorage:
    return IndexedJournalStorage(FlockJournalBackend(str(path)), **kw)


def _full_replay(path) -> list[optuna.trial.FrozenTrial]:
    """Optuna's own JournalStorage, replaying every line: the reference."""
    storage = optuna.storages.JournalStorage(FlockJournalBackend(str(path)))
    return storage.get_all_trials(0, deepcopy=False)


def _same(a, b) -> None:
    assert [(t.number, t.state, t.params, t.values, t.user_attrs, t.intermediate_values)
            for t in a] == [(t.number, t.state, t.params, t.values, t.user_attrs,
                             t.intermediate_values) for t in b]


def test_waiting_trials_enqueued_by_another_process_are_found(tmp_path):
    path = tmp_path / "journal.log"
    storage = _open(path)
    study = optuna.create_study(storage=storage, study_name="s")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=20)
    # another process enqueues two trials into the same journal
    code = ("import optuna, sys; from pipetune.storages.indexed import IndexedJournalStorage; "
            "from pipetune.storages.journal import FlockJournalBackend; "
            "s = optuna.load_study(study_name='s', storage=IndexedJournalStorage("
            "FlockJournalBackend(sys.argv[1]))); "
            "s.enqueue_trial({'x': 0.25}); s.enqueue_trial({'x': 0.75})")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)
    waiting = storage.get_all_trials(study._study_id, deepcopy=False, states=(TrialState.WAITING,))
    assert [t.system_attrs["fixed_params"] for t in waiting] == [{"x": 0.25}, {"x": 0.75}]
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    xs = [t.params["x"] for t in study.get_trials()[-3:]]
    assert xs[:2] == [0.25, 0.75]  # asked in order, then the sampler's own
    assert storage.get_all_trials(study._study_id, states=(TrialState.WAITING,)) == []
    _same(storage.get_all_trials(study._study_id, deepcopy=False), _full_replay(path))


def test_a_checkpoint_opens_to_what_a_full_replay_says(tmp_path):
    path = tmp_path / "journal.log"
    writer = _open(path, checkpoints=True)
    study = optuna.create_study(storage=writer, study_name="s")

    def objective(t: optuna.Trial) -> float:
        t.set_user_attr("note", {"n": t.number})
        t.report(0.5, 1)
        return t.suggest_float("x", 0, 1)

    study.optimize(objective, n_trials=850)  # 5 lines a trial: two checkpoint records
    checkpoint = path.with_name("journal.log.checkpoint")
    assert checkpoint.exists() and (checkpoint.stat().st_mode & 0o777) == 0o600
    lines, records = writer._backend.load_checkpoint()
    assert len(records) == 2 and lines == writer._checkpointed_at >= 4000
    running = study.ask()  # an open trial in the next record, finished after it
    running.suggest_float("x", 0, 1)
    writer.checkpoint()
    study.tell(running, 0.5)
    study.optimize(objective, n_trials=7)  # lines after the last record
    reader = _open(path)
    assert 0 < reader._checkpointed_at < reader._replay_result.log_number_read
    _same(reader.get_all_trials(0, deepcopy=False), _full_replay(path))
    # the reader keeps up with later writes like any journal reader
    study.optimize(objective, n_trials=2)
    _same(reader.get_all_trials(0, deepcopy=False), _full_replay(path))
    # a new writer (a resumed coordinator) starts its own file; the old one's appends stop
    resumed = _open(path, checkpoints=True)
    resumed.checkpoint()
    assert len(resumed._backend.load_checkpoint()[1]) == 1
    writer.checkpoint()
    assert len(resumed._backend.load_checkpoint()[1]) == 1
    _same(_open(path).get_all_trials(0, deepcopy=False), _full_replay(path))


def test_a_checkpoint_that_does_not_match_its_journal_is_ignored(tmp_path):
    path = tmp_path / "journal.log"
    writer = _open(path)
    study = optuna.create_study(storage=writer, study_name="s")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
    writer.checkpoint()
    checkpoint = path.with_name("journal.log.checkpoint")
    good = checkpoint.read_bytes()
    assert _open(path)._checkpointed_at > 0

    # the journal replaced by another one under the same name (a job deleted and made again)
    os.replace(path, tmp_path / "old.log")
    other = optuna.create_study(storage=_open(path), study_name="s")
    other.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    reader = _open(path)
    assert reader._checkpointed_at == 0
    _same(reader.get_all_trials(0, deepcopy=False), _full_replay(path))

    # damaged, or writable by others (it is a pickle): ignored, the journal replayed
    os.replace(tmp_path / "old.log", path)
    checkpoint.write_bytes(good[: len(good) // 2])
    assert _open(path)._checkpointed_at == 0
    checkpoint.write_bytes(good)
    checkpoint.chmod(0o666)
    assert _open(path)._checkpointed_at == 0
    checkpoint.chmod(0o600)
    reader = _open(path)
    assert reader._checkpointed_at > 0
    _same(reader.get_all_trials(0, deepcopy=False), _full_replay(path))


def test_the_engine_leaves_a_checkpoint_so_reading_an_ended_job_replays_nothing(home):
    from pipetune import get_backend

    backend = get_backend("local")
    spec = inprocess_spec(12)
    ref = backend.launch(spec, "ckpt", detach=False)
    url = backend._job(ref).storage_url()
    reader = _open(url.removeprefix("journal://"))
    assert reader._checkpointed_at == reader._replay_result.log_number_read > 0
    assert backend.status(ref).trials.complete == 12
