"""Optuna's ``JournalStorage`` with the two things a long job needs: flat asks, cheap opens.

- **Waiting trials are indexed.** ``study.ask()`` first looks for an enqueued (waiting)
  trial, and Optuna's journal answers that by scanning every trial of the study: the
  longer the job, the slower each ask. This storage remembers which trials were created
  waiting (by any process: it sees them as it replays the journal) and looks only at
  those, so an ask costs the same at trial 10 and at trial 10,000.
- **Checkpoints.** Opening a job's journal replays every line of it: a second or more for
  a 10,000-trial job, on every ``status``, ``best`` and ``trials`` and every poll of a
  sensor. The engine that writes the journal also saves a checkpoint of the replayed state
  now and then (geometrically spaced, so their total cost stays proportional to the job)
  and when the job ends; opening then loads the checkpoint and replays only the lines
  written after it. See :meth:`FlockJournalBackend.save_checkpoint` for how a checkpoint is
  tied to its journal.

The journal file stays the source of truth: a missing, stale or damaged checkpoint is
ignored and the journal replayed in full.

Example:
    >>> import optuna, tempfile, os
    >>> from pipetune.storages.journal import FlockJournalBackend
    >>> path = os.path.join(tempfile.mkdtemp(), "journal.log")
    >>> storage = IndexedJournalStorage(FlockJournalBackend(path))
    >>> study = optuna.create_study(storage=storage)
    >>> study.enqueue_trial({"x": 0.5})
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    >>> storage.checkpoint()
    >>> reopened = IndexedJournalStorage(FlockJournalBackend(path))
    >>> [t.params["x"] for t in reopened.get_all_trials(0)][0]
    0.5
"""

from __future__ import annotations

import gc
import json
import pickle
from contextlib import contextmanager
from typing import Any, Container, Iterator

from optuna.storages import JournalStorage
from optuna.trial import FrozenTrial, TrialState

from pipetune.storages.journal import FlockJournalBackend

_OWNER = "pipetune.owner"  # the trial's owner stamp (pipetune.backends.local.jobstore.T_OWNER)

#: the first checkpoint is saved once the journal holds this many lines (~250 trials)
FIRST_CHECKPOINT_LINES = 2_000
#: each later one once the journal has grown by this factor since the last
CHECKPOINT_GROWTH = 1.5


class IndexedJournalStorage(JournalStorage):
    """A :class:`optuna.storages.JournalStorage` on a :class:`FlockJournalBackend` whose asks
    do not slow down as the study grows and whose opening replays only recent lines.

    Args:
        backend: The journal file.
        checkpoints: Save checkpoints as trials are created (the engine's storage). Readers
            leave it off: they load checkpoints but never write one.
    """

    def __init__(self, backend: FlockJournalBackend, *, checkpoints: bool = False) -> None:
        self._restored = False
        self._waiting: dict[int, set[int]] = {}  # study id -> ids of trials created waiting
        self._known_trials = 0  # trial ids below this have been looked at for the index
        self._checkpoints = checkpoints
        self._checkpointed_at = 0  # the journal line of the last checkpoint saved or loaded
        self._shared: dict[int, FrozenTrial] = {}  # trials whose repeated values are shared
        self._canonical: dict[tuple, Any] = {}  # the one object of each repeated value
        super().__init__(backend)

    # ---- replay ---------------------------------------------------------------------------
    def _sync_with_backend(self) -> None:
        if not self._restored:
            self._restored = True
            self._restore()
        super()._sync_with_backend()
        trials = self._replay_result._trials
        for trial_id in range(self._known_trials, len(trials)):
            t = trials[trial_id]
            if t.state == TrialState.WAITING:
                study_id = self._replay_result._trial_id_to_study_id[trial_id]
                self._waiting.setdefault(study_id, set()).add(trial_id)
        self._known_trials = len(trials)

    def _restore(self) -> None:
        """Start from the journal's checkpoint, if it has a valid one."""
        backend = self._backend
        assert isinstance(backend, FlockJournalBackend)
        snapshot = backend.load_checkpoint()
        if snapshot is None:
            return
        log_number, payload = snapshot
        with _gc_paused():  # a pickle of many small objects: collecting while loading doubles the time
            self.restore_replay_result(payload)
        if self._replay_result.log_number_read != log_number:  # not ours: start over
            self._replay_result = type(self._replay_result)(self._worker_id_prefix)
            return
        self._checkpointed_at = log_number

    # ---- waiting trials -------------------------------------------------------------------
    def get_all_trials(self, study_id: int, deepcopy: bool = True,
                       states: Container[TrialState] | None = None) -> list[FrozenTrial]:
        """As :meth:`JournalStorage.get_all_trials`; asking only for waiting trials reads
        the index instead of every trial."""
        if states is None or not _only_waiting(states):
            return super().get_all_trials(study_id, deepcopy, states)
        with self._thread_lock:
            self._sync_with_backend()
            if study_id not in self._replay_result._studies:
                raise KeyError(f"study {study_id} not found")
            ids = self._waiting.get(study_id, set())
            trials = self._replay_result._trials
            left = sorted(i for i in ids if trials[i].state == TrialState.WAITING)
            self._waiting[study_id] = set(left)
            found = [trials[i] for i in left]
        if deepcopy:
            import copy

            return copy.deepcopy(found)
        return found

    # ---- checkpoints ----------------------------------------------------------------------
    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        """As :meth:`JournalStorage.create_new_trial`; may save a checkpoint (geometrically
        spaced) when this storage writes them."""
        trial_id = super().create_new_trial(study_id, template_trial)
        if self._checkpoints:
            lines = self._replay_result.log_number_read
            if lines >= max(FIRST_CHECKPOINT_LINES, CHECKPOINT_GROWTH * self._checkpointed_at):
                self.checkpoint()
        return trial_id

    def checkpoint(self) -> None:
        """Save the replayed state now, so the next opening replays only what follows."""
        backend = self._backend
        assert isinstance(backend, FlockJournalBackend)
        with self._thread_lock:
            self._sync_with_backend()
            lines = self._replay_result.log_number_read
            self._share_repeated_values()
            payload = pickle.dumps(self._replay_result, protocol=pickle.HIGHEST_PROTOCOL)
            backend.save_checkpoint(lines, payload)
            self._checkpointed_at = lines

    def _share_repeated_values(self) -> None:
        """Make the trials' equal distributions, and their equal owner stamps, one object
        each. The replay builds a new one per trial; the pickle keeps shared objects once,
        so the checkpoint is about half the size and loads five times faster. Only trials
        the replay has replaced since the last checkpoint are looked at (finished trials are
        never replaced again), and only new dicts are assigned: nothing shared is mutated."""
        for trial_id, trial in self._replay_result._trials.items():
            if self._shared.get(trial_id) is trial:
                continue
            distributions = {}
            for name, d in trial._distributions.items():
                try:
                    key = (name, type(d), tuple(sorted(vars(d).items())))
                    distributions[name] = self._canonical.setdefault(key, d)
                except TypeError:  # a value that cannot be a key: keep its own object
                    distributions[name] = d
            trial._distributions = distributions
            owner = trial._user_attrs.get(_OWNER)
            if isinstance(owner, dict):
                key = (_OWNER, json.dumps(owner, sort_keys=True, default=str))
                trial._user_attrs = {**trial._user_attrs,
                                     _OWNER: self._canonical.setdefault(key, owner)}
            self._shared[trial_id] = trial

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        for private in ("_waiting", "_shared", "_canonical"):
            state.pop(private, None)
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        self._restored = False
        self._waiting = {}
        self._known_trials = 0
        self._shared = {}
        self._canonical = {}


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _only_waiting(states: Container[TrialState]) -> bool:
    try:
        return tuple(states) == (TrialState.WAITING,)  # type: ignore[arg-type]
    except TypeError:
        return False
