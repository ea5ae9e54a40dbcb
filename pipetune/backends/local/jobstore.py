"""Where a local job lives on disk, and its study in Optuna storage.

``.pipetune/jobs/<name>/`` (``PIPETUNE_HOME`` moves ``.pipetune``) holds ``job.json`` (the
spec, its fingerprint, the storage URL), ``coordinator.json`` (pid of the process running
trials), ``coordinator.log``, a ``stop`` flag file, ``trials/<number>/`` per trial, and
once the job has ended ``answers/`` (its status, records and best, see :mod:`.answers`).
The study itself (trials, their results, the job's state) is in the Optuna storage: a
journal file in the job directory by default, or any database URL shared by many workers.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from pipetune.errors import JobConflict, JobNotFound, SpecError
from pipetune.secrets import redact_spec_dict, restore_spec_dict, secret_values
from pipetune.spec import TuningSpec, load_spec

if TYPE_CHECKING:  # Optuna is imported where a study is opened: an ended job's kept
    import optuna  # answers (see answers.py) are read without it

JOB_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

# study user attributes
ATTR_SPEC = "pipetune.spec"
ATTR_STATE = "pipetune.state"
ATTR_REASON = "pipetune.reason"
ATTR_STARTED = "pipetune.started_at"
ATTR_FINISHED = "pipetune.finished_at"
ATTR_STARTS = "pipetune.coordinator_starts"  # how many coordinators ran it (sampler seeds)
ATTR_SAMPLER = "pipetune.sampler"  # {"strategy", "sampler", "reason"}: what the engine ran
ATTR_STOP = "pipetune.stop_requested"  # seen by every worker, on any machine
ATTR_HEARTBEAT = "pipetune.heartbeat"  # {"interval": s, "grace": s}, shared by all workers
ATTR_WORKER_PREFIX = "pipetune.worker."  # + worker id: {"seen": time, "pid", "trials", "ended"}
# trial user attributes
# one dict per trial, written once: {metrics, duration, reason, artifacts, state}
# (state is failed | infeasible | stopped | discarded for Optuna FAIL trials)
T_INFO = "pipetune"
T_EXCLUDED = "pipetune.excluded"  # not counted against the budget (interrupted and retried)
T_RETRY_OF = "pipetune.retry_of"  # on a retry: the number of the interrupted trial it redoes
T_OWNER = "pipetune.owner"  # the process running the trial (see heartbeat.this_process)
T_HEARTBEAT = "pipetune.beat"  # journal storage: time of the owner's last heartbeat

_URL_SECRET_PARAM_RE = re.compile(r"(?i)(?P<head>[?&](?:password|passwd|pwd|secret|token|sslpassword)=)[^&\s]*")


def home() -> Path:
    """Where local jobs live: ``$PIPETUNE_HOME``, else ``./.pipetune``, as an absolute path."""
    return Path(os.environ.get("PIPETUNE_HOME", ".pipetune")).absolute()


def check_job_name(name: str) -> str:
    """``name`` when it is a valid job name (a file name: letters, digits, ``.``, ``_``, ``-``);
    raises :class:`~pipetune.errors.SpecError` on ``name`` otherwise."""
    if not isinstance(name, str) or not JOB_NAME_RE.match(name) or ".." in name:
        raise SpecError(
            f"invalid job name {name!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit", field="name")
    return name


def mask_url(url: str) -> str:
    """A storage URL fit for logs and reports: passwords (userinfo or query) become ``***``."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        # the last '@' ends the userinfo: an unencoded '@' or '/' in a password stays hidden
        userinfo, _, host = rest.rpartition("@")
        if ":" in userinfo:
            url = f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"
    return _URL_SECRET_PARAM_RE.sub(lambda m: m.group("head") + "***", url)


def worker_id() -> str:
    """This process as a worker: ``<hostname>:<pid>``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def pid_alive(pid: int | None) -> bool:
    """True when process ``pid`` of this machine runs (a zombie counts as dead)."""
    if not pid:
        return False
    try:  # a zombie is dead for our purposes
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _write_json_atomic(path: Path, body: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    # owner-only: job.json holds the storage URL, which may carry a database password
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(body, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except BaseException:  # e.g. a full disk: no half-written file left behind
        tmp.unlink(missing_ok=True)
        raise


class JobDir:
    """The files of one local job. Creating one writes nothing; :meth:`create` does."""

    def __init__(self, name: str, root: Path | None = None):
        self.name = check_job_name(name)
        self.root = (root or home()).absolute()
        self.path = self.root / "jobs" / name

    @property
    def meta_file(self) -> Path:
        """``job.json``: the spec (secrets redacted), its fingerprint and the storage URL."""
        return self.path / "job.json"

    @property
    def coordinator_file(self) -> Path:
        """``coordinator.json``: the pid and host of the process running the job's trials."""
        return self.path / "coordinator.json"

    @property
    def stop_file(self) -> Path:
        """The stop flag: present once a stop was requested."""
        return self.path / "stop"

    @property
    def log_file(self) -> Path:
        """``coordinator.log``: what a detached coordinator printed."""
        return self.path / "coordinator.log"

    def trial_dir(self, number: int) -> Path:
        """The directory of trial ``number`` (its logs, result file and pidfile)."""
        return self.path / "trials" / f"{number:05d}"

    def exists(self) -> bool:
        """True when the job was created (its ``job.json`` exists)."""
        return self.meta_file.is_file()

    def meta(self) -> dict[str, Any]:
        """The content of ``job.json``; raises :class:`~pipetune.errors.JobNotFound` (saying
        where it looked) when there is no such job."""
        if not self.exists():
            raise JobNotFound(f"no local job named {self.name!r} under {self.root} "
                              "(list them with `ls .pipetune/jobs`, or set PIPETUNE_HOME)")
        return json.loads(self.meta_file.read_text())

    @property
    def secrets_file(self) -> Path:
        """``secrets.json`` (owner-only): the secret ``trial.env`` values kept out of the study."""
        return self.path / "secrets.json"

    def spec(self) -> TuningSpec:
        """The job's spec, with the secret ``trial.env`` values this machine holds."""
        try:
            secrets = json.loads(self.secrets_file.read_text())
        except FileNotFoundError:
            secrets = {}
        return load_spec(restore_spec_dict(self.meta()["spec"], secrets))

    def _make_dirs(self) -> None:
        """The job's folders, owner-only (0700): trials' files and logs live there."""
        for folder in (self.path, self.path / "trials"):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(folder, 0o700)

    def storage_url(self) -> str:
        """The URL of the job's study: its journal file, or a shared database."""
        return self.meta()["storage"]

    def create(self, spec: TuningSpec) -> None:
        """Lay out the job's directory (owner-only) and write ``job.json`` (and
        ``secrets.json`` when the spec has secret values). The study is made by the caller."""
        self._make_dirs()
        storage = spec.storage or f"journal://{self.path / 'journal.log'}"
        body = spec.to_dict()
        secrets = secret_values(body)
        if secrets:  # outside the study and job.json; see pipetune.secrets
            _write_json_atomic(self.secrets_file, secrets)
        _write_json_atomic(self.meta_file, {
            "name": self.name, "spec": redact_spec_dict(body), "fingerprint": spec.fingerprint(),
            "storage": storage, "created_at": time.time(), "backend": "local",
        })

    def join(self, spec: TuningSpec, storage_url: str) -> None:
        """Make this machine's copy of a job that lives in a shared database: the spec (read
        from the study) and the URL, so trials here get their directories and logs."""
        if self.exists():
            if self.meta()["fingerprint"] != spec.fingerprint():
                raise JobConflict(f"a local job named {self.name!r} exists with a different "
                                  f"spec than the study in {mask_url(storage_url)}; use another "
                                  "PIPETUNE_HOME or remove " + str(self.path))
            return
        self._make_dirs()
        _write_json_atomic(self.meta_file, {
            "name": self.name, "spec": redact_spec_dict(spec.to_dict()),
            "fingerprint": spec.fingerprint(),
            "storage": storage_url, "created_at": time.time(), "backend": "local",
            "joined": True,
        })

    def coordinator(self) -> dict[str, Any]:
        """The recorded coordinator (``pid``, ``host``, ``started_at``); empty when none is."""
        try:
            return json.loads(self.coordinator_file.read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    def set_coordinator(self, pid: int | None) -> None:
        """Record ``pid`` of this host as the job's coordinator (atomically)."""
        _write_json_atomic(self.coordinator_file, {"pid": pid, "host": socket.gethostname(),
                                                   "started_at": time.time()})

    def coordinator_alive(self) -> bool:
        """True when the recorded coordinator runs; a coordinator on another host is trusted
        to be alive (this machine cannot tell)."""
        info = self.coordinator()
        if info.get("host") not in (None, socket.gethostname()):
            return True  # cannot tell for another machine; trust the recorded state
        return pid_alive(info.get("pid"))

    def storage(self, *, checkpoints: bool = False) -> optuna.storages.BaseStorage:
        """The job's study storage; ``checkpoints`` for the engine that writes it (see
        :mod:`pipetune.storages.indexed`)."""
        from pipetune.storages import open_storage

        return open_storage(self.storage_url(), checkpoints=checkpoints)

    def load_study(self) -> optuna.Study:
        """The job's study, for reading (and small writes such as a stop request).

        A study on a journal file stays open in this process (see :func:`_open_journals`):
        the next call reads only the lines written since, so a sensor or a wait step that
        polls a long job does not replay it each time."""
        import optuna

        url = self.storage_url()
        try:
            if url.startswith("journal://"):
                return _open_journals.get(self.name, url)
            return optuna.load_study(study_name=self.name, storage=self.storage())
        except KeyError:
            raise JobNotFound(f"job {self.name!r} has no study in {mask_url(url)}") from None


class _OpenJournals:
    """Studies on journal files kept open by this process: the most recently used, at most
    ``size`` of them and (the last one aside) ``max_trials`` trials in all, so a worker
    polling many large jobs keeps a bounded memory (10,000 trials take ~30 MB, and ~17 MB
    more once their records are read: they are kept with the study). One whose
    file was replaced or removed since (a job deleted and made again under its name) is
    opened afresh."""

    def __init__(self, size: int = 16, max_trials: int = 50_000) -> None:
        self._size = size
        self._max_trials = max_trials
        self._studies: "OrderedDict[tuple[str, str], optuna.Study]" = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str, url: str) -> optuna.Study:
        key = (name, url)
        path = url[len("journal://"):]
        with self._lock:
            study = self._studies.get(key)
            if study is not None and _same_file(study, path):
                self._studies.move_to_end(key)
                return study
        import optuna

        from pipetune.storages import open_storage

        study = optuna.load_study(study_name=name, storage=open_storage(url))
        self.put(name, url, study)
        return study

    def put(self, name: str, url: str, study: optuna.Study) -> None:
        """Keep ``study`` (open on ``url`` already, e.g. the engine's that just ran the job)
        for the next reads of job ``name`` in this process: they then replay nothing."""
        with self._lock:
            self._studies[(name, url)] = study
            self._studies.move_to_end((name, url))
            while len(self._studies) > 1 and (len(self._studies) > self._size
                                              or self._trials() > self._max_trials):
                self._studies.popitem(last=False)  # its descriptor closes when let go

    def _trials(self) -> int:
        replays = (getattr(s._storage, "_replay_result", None) for s in self._studies.values())
        return sum(len(r._trials) for r in replays if r is not None)

    def clear(self) -> None:
        """Forget every open study (their descriptors close when let go)."""
        with self._lock:
            self._studies.clear()


def _same_file(study: optuna.Study, path: str) -> bool:
    backend = getattr(study._storage, "_backend", None)
    fd = getattr(backend, "_fd", -1)
    try:
        return fd >= 0 and os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        return False


_open_journals = _OpenJournals()
