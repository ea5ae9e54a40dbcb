"""Heartbeats of the processes running a study's trials, and finding trials left behind.

Every engine (the coordinator, or any ``pipetune worker``) stamps each trial it asks with
its owner (host, pid namespace, pid, process start time) and beats for it every
``interval`` seconds while the trial runs: Optuna's own heartbeat table on a database
(``RDBStorage.record_heartbeat``; staleness judged on the database server's clock), a trial
user attribute on a journal file. A running trial is *stale* when its owner is a dead
process this machine can see, or when its heartbeat is older than ``grace`` seconds.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState

from pipetune.backends.local.jobstore import ATTR_HEARTBEAT, ATTR_WORKER_PREFIX, T_HEARTBEAT, T_OWNER
from pipetune.trials.process import start_time

ENV_INTERVAL = "PIPETUNE_HEARTBEAT_INTERVAL"
ENV_GRACE = "PIPETUNE_HEARTBEAT_GRACE"


@dataclass(frozen=True)
class Settings:
    """How often owners beat, and how long a silent trial is presumed alive."""

    interval: float = 10.0
    grace: float = 30.0

    @classmethod
    def from_env(cls) -> "Settings":
        """The settings from ``PIPETUNE_HEARTBEAT_INTERVAL`` (default 10 s) and
        ``PIPETUNE_HEARTBEAT_GRACE`` (default three intervals); the interval is at least 0.05 s
        and the grace at least two intervals.

        Raises:
            ValueError: either variable is not a number.
        """
        interval = float(os.environ.get(ENV_INTERVAL, "10"))
        grace = float(os.environ.get(ENV_GRACE, str(3 * interval)))
        return cls(max(interval, 0.05), max(grace, 2 * interval))

    @classmethod
    def for_study(cls, study: optuna.Study) -> "Settings":
        """The study's settings; the first engine to run records its own (from the env), so
        every worker of a job, on any machine, judges staleness alike."""
        recorded = study.user_attrs.get(ATTR_HEARTBEAT)
        if isinstance(recorded, dict):
            return cls(float(recorded["interval"]), float(recorded["grace"]))
        settings = cls.from_env()
        study.set_user_attr(ATTR_HEARTBEAT, {"interval": settings.interval, "grace": settings.grace})
        return settings


# ---- who owns a trial --------------------------------------------------------------------------
def _process_scope() -> str:
    """Identifies the set of pids this process can see: the boot and the pid namespace."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as fh:
            boot = fh.read().strip()
        return f"{boot}:{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return f"host:{socket.gethostname()}"


def this_process() -> dict[str, Any]:
    """The owner stamp of this process: ``id`` (host:pid), ``scope`` (which pids it can
    see), ``pid`` and ``start`` (its start time, which tells a reused pid apart)."""
    pid = os.getpid()
    return {"id": f"{socket.gethostname()}:{pid}", "scope": _process_scope(), "pid": pid,
            "start": start_time(pid)}


def owner_alive_here(owner: dict[str, Any]) -> bool:
    """True when the owner is a process of this machine that still runs (the very process:
    its start time matches, so a reused pid is not taken for it)."""
    if owner.get("scope") != _process_scope() or not owner.get("pid"):
        return False
    start = start_time(int(owner["pid"]))
    return start is not None and (owner.get("start") is None or start == owner["start"])


def owner_dead(owner: dict[str, Any]) -> bool:
    """True only when the owner is certainly gone: a process of this machine that has exited."""
    if owner.get("scope") != _process_scope() or not owner.get("pid"):
        return False
    start = start_time(int(owner["pid"]))
    return start is None or (owner.get("start") is not None and start != owner["start"])


# ---- beating ---------------------------------------------------------------------------------
def rdb_of(storage: optuna.storages.BaseStorage) -> RDBStorage | None:
    """The RDBStorage under ``storage`` (Optuna wraps it in a cache), or None."""
    if isinstance(storage, RDBStorage):
        return storage
    inner = getattr(storage, "_backend", None)
    return inner if isinstance(inner, RDBStorage) else None


class Heartbeat:
    """A daemon thread beating for the trials this process runs, and for the process itself
    (study attribute ``pipetune.worker.<id>``, read by ``status`` and ``live_workers``)."""

    def __init__(self, study: optuna.Study, settings: Settings, owner: dict[str, Any]):
        self.study = study
        self.settings = settings
        self.owner = owner
        self._storage = study._storage
        self._rdb = rdb_of(self._storage)
        if self._rdb is not None:
            self._rdb.heartbeat_interval = max(1, round(settings.interval))
            self._rdb.grace_period = settings.grace  # type: ignore[assignment]
        self._trials: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pipetune-heartbeat", daemon=True)

    def start(self) -> None:
        """Record this worker's first beat at once, then beat every interval on a daemon thread."""
        self._beat_worker()
        self._thread.start()

    def stop(self) -> None:
        """Stop beating; returns once the beating thread has ended (or after 5 s at most)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def add(self, trial: optuna.Trial) -> None:
        """Stamp a freshly asked trial with its owner (unless it was born with the stamp:
        see :meth:`pipetune.storages.indexed.IndexedJournalStorage.stamp_new_trials`) and
        beat for it from now on."""
        with self._lock:
            if self._rdb is not None:  # a journal's first beat is the trial's start time
                self._beat_trial(trial._trial_id)
            self._trials.add(trial._trial_id)
        if trial.user_attrs.get(T_OWNER) != self.owner:
            self._storage.set_trial_user_attr(trial._trial_id, T_OWNER, self.owner)

    def forget(self, trial: optuna.Trial) -> None:
        """Stop beating (before the trial is told: no beat may land on a finished trial)."""
        with self._lock:
            self._trials.discard(trial._trial_id)

    def _beat_trial(self, trial_id: int) -> None:
        if self._rdb is not None:
            self._rdb.record_heartbeat(trial_id)
        else:
            self._storage.set_trial_user_attr(trial_id, T_HEARTBEAT, time.time())

    def _beat_worker(self) -> None:
        self.study.set_user_attr(ATTR_WORKER_PREFIX + self.owner["id"],
                                 {"seen": time.time(), "owner": self.owner,
                                  "trials": len(self._trials)})

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.interval):
            with self._lock:
                for trial_id in list(self._trials):
                    try:
                        self._beat_trial(trial_id)
                    except Exception:  # a trial finished elsewhere; the engine hears of it
                        self._trials.discard(trial_id)
            try:
                self._beat_worker()
            except Exception:  # a database hiccup: the next beat retries
                pass


# ---- judging -----------------------------------------------------------------------------------
def stale_trials(study: optuna.Study, settings: Settings, me: str) -> list[FrozenTrial]:
    """Running trials of other owners that nobody runs any more."""
    running = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
               if t.user_attrs.get(T_OWNER, {}).get("id") != me]
    if not running:
        return []
    rdb = rdb_of(study._storage)
    expired_ids = set(rdb._get_stale_trial_ids(study._study_id)) if rdb is not None else set()
    now = time.time()
    out = []
    for t in running:
        owner = t.user_attrs.get(T_OWNER)
        started = t.datetime_start.timestamp() if t.datetime_start else now
        if owner is not None and owner_dead(owner):
            out.append(t)
        elif rdb is not None:
            # no heartbeat row at all means the owner died right after asking
            if t._trial_id in expired_ids or (owner is None and now - started > settings.grace):
                out.append(t)
        elif now - max(float(t.user_attrs.get(T_HEARTBEAT, 0.0)), started) > settings.grace:
            out.append(t)
    return out


def live_workers(study: optuna.Study) -> list[str]:
    """Ids of the engines that beat for this study within its grace period."""
    grace = Settings.for_study(study).grace if ATTR_HEARTBEAT in study.user_attrs else 30.0
    now = time.time()
    return [k[len(ATTR_WORKER_PREFIX):] for k, v in study.user_attrs.items()
            if k.startswith(ATTR_WORKER_PREFIX) and isinstance(v, dict) and not v.get("ended")
            and now - float(v.get("seen", 0)) <= grace and not owner_dead(v.get("owner") or {})]
