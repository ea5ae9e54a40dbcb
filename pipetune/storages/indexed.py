"""Optuna's ``JournalStorage`` with the two things a long job needs: flat asks, cheap opens.

- **Waiting trials are indexed.** ``study.ask()`` first looks for an enqueued (waiting)
  trial, and Optuna's journal answers that by scanning every trial of the study: the
  longer the job, the slower each ask. This storage remembers which trials were created
  waiting (by any process: it sees them as it replays the journal) and looks only at
  those, so an ask costs the same at trial 10 and at trial 10,000.
- **Checkpoints.** Opening a job's journal replays every line of it: a second or more for
  a 10,000-trial job, on every ``status``, ``best`` and ``trials`` and every poll of a
  sensor. The engine that writes the journal also saves checkpoints of the replayed state
  every ``CHECKPOINT_LINES`` lines and when the job ends; opening then loads them and
  replays only the lines written after the last. A checkpoint is a record appended to one
  file, holding only the trials that finished since the record before (a finished trial
  never changes) and the few still open: each costs the same whatever the job's size, so
  the engine never pauses to pickle the whole study. See
  :meth:`FlockJournalBackend.append_checkpoint` for how records are tied to their journal.

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

import copy
import gc
import json
import pickle
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Container, Iterator

from optuna.storages import JournalStorage
from optuna.storages.journal._storage import JournalOperation
from optuna.trial import FrozenTrial, TrialState

from pipetune.storages.journal import FlockJournalBackend

_OWNER = "pipetune.owner"  # the trial's owner stamp (pipetune.backends.local.jobstore.T_OWNER)

#: a checkpoint record is appended each time the journal has grown by this many lines
#: (about 250 trials of the local engine)
CHECKPOINT_LINES = 2_000


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
        self._saved_below = 0  # trial ids below this are finished and in this file's records
        self._saved: set[int] = set()  # finished trials at or above it that are saved too
        self._writing = False  # this storage started its own checkpoint file
        self._canonical: dict[tuple, Any] = {}  # the one object of each repeated value
        self._stamp: dict[str, Any] | None = None  # user attributes every new trial is born with
        super().__init__(backend)

    def stamp_new_trials(self, user_attrs: dict[str, Any]) -> None:
        """Give every trial this storage creates afresh (``study.ask()`` with nothing
        enqueued) these user attributes in the journal line that creates it: no reader ever
        sees the trial without them, and it costs no extra write."""
        self._stamp = dict(user_attrs)

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
        """Start from the journal's checkpoint records, if they are valid."""
        backend = self._backend
        assert isinstance(backend, FlockJournalBackend)
        found = backend.load_checkpoint()
        if found is None:
            return
        lines, payloads = found
        trials: dict[int, FrozenTrial] = {}
        with _gc_paused():  # many small objects: collecting while loading doubles the time
            try:
                for payload in payloads:
                    record = pickle.loads(payload)
                    trials.update(record["finished"])
                state = record["state"]
                state._trials = {**trials, **record["open"]}
            except Exception:  # a record pickled by another version: replay instead
                return
        if (not isinstance(state, type(self._replay_result)) or state.log_number_read != lines
                or len(state._trials) != len(state._trial_id_to_study_id)):
            return
        state._worker_id_prefix = self._worker_id_prefix
        state._worker_id_to_owned_trial_id = {}
        state._last_created_trial_id_by_this_process = -1
        self._replay_result = state
        self._checkpointed_at = lines

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
            return copy.deepcopy(found)
        return found

    # ---- checkpoints ----------------------------------------------------------------------
    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        """As :meth:`JournalStorage.create_new_trial`; appends a checkpoint record every
        ``CHECKPOINT_LINES`` lines when this storage writes them."""
        if template_trial is None and self._stamp:
            log = {"study_id": study_id, "user_attrs": self._stamp,
                   "datetime_start": datetime.now(tz=timezone.utc).isoformat(timespec="microseconds")}
            with self._thread_lock:
                self._write_log(JournalOperation.CREATE_TRIAL, log)
                self._sync_with_backend()
                trial_id = self._replay_result._last_created_trial_id_by_this_process
        else:
            trial_id = super().create_new_trial(study_id, template_trial)
        if self._checkpoints and (self._replay_result.log_number_read
                                  >= self._checkpointed_at + CHECKPOINT_LINES):
            self.checkpoint()
        return trial_id

    def checkpoint(self) -> None:
        """Save the replayed state now, so the next opening replays only what follows.

        The first checkpoint of this storage starts a new file with every finished trial
        (so one writer appends to a file at a time: a resumed coordinator starts afresh);
        each later one appends a record with the trials finished since."""
        backend = self._backend
        assert isinstance(backend, FlockJournalBackend)
        with self._thread_lock:
            self._sync_with_backend()
            replay = self._replay_result
            lines = replay.log_number_read
            if not self._writing:
                self._saved_below, self._saved = 0, set()
            finished: dict[int, FrozenTrial] = {}
            still_open: dict[int, FrozenTrial] = {}
            for trial_id in range(self._saved_below, len(replay._trials)):
                if trial_id in self._saved:
                    continue
                trial = replay._trials[trial_id]
                if trial.state.is_finished():
                    finished[trial_id] = self._shared_values(trial)
                    self._saved.add(trial_id)
                else:
                    still_open[trial_id] = trial
            while self._saved_below in self._saved:  # keep the set to the open frontier
                self._saved.discard(self._saved_below)
                self._saved_below += 1
            state = copy.copy(replay)
            state._trials = {}
            state._worker_id_to_owned_trial_id = {}
            payload = pickle.dumps({"finished": finished, "open": still_open, "state": state},
                                   protocol=pickle.HIGHEST_PROTOCOL)
            self._writing = backend.append_checkpoint(lines, payload, fresh=not self._writing)
            if self._writing:
                self._checkpointed_at = lines

    def final_checkpoint(self) -> None:
        """Save a last checkpoint and write no more (the job has ended): its file is closed,
        so a process that keeps this study open for reads holds one descriptor, not two."""
        self.checkpoint()
        self._checkpoints = self._writing = False
        backend = self._backend
        assert isinstance(backend, FlockJournalBackend)
        backend._close_checkpoint()

    def _shared_values(self, trial: FrozenTrial) -> FrozenTrial:
        """``trial`` with its distributions, and its owner stamp, replaced by the one equal
        object this storage keeps of each: the replay builds new ones per trial, the pickle
        keeps a shared object once, so a record is about half the size and loads five times
        faster. Only new dicts are assigned to the trial: nothing shared is mutated."""
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
            trial._user_attrs = {**trial._user_attrs, _OWNER: self._canonical.setdefault(key, owner)}
        return trial

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        for private in ("_waiting", "_saved", "_canonical"):
            state.pop(private, None)
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        self._restored = False
        self._waiting = {}
        self._known_trials = 0
        self._saved_below, self._saved, self._writing = 0, set(), False
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
