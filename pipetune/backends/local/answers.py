"""What an ended local job answers, kept for the next process to read without replaying it.

A job that has ended (its recorded state completed, failed or stopped) with no trial left
running changes only if its journal does: a worker's late write, a job deleted and made
again under its name. Its status, trial records and best result are then written once to
``answers/`` in the job directory, each stamped with the identity of the journal file and
of ``job.json`` (inode, size, modification time). A later ``pipetune status``, ``best`` or
``trials`` in a new process reads them instead of loading the study and building every
record again (10,000 trials: see benchmarks/RESULTS.md, issue 19).

The journal stays the only source of truth:

- an answer whose stamp differs from the files' is ignored, and written again by the next
  read that finds the job ended;
- only a file this user owns and nobody else may write is read (a planted file could
  otherwise tell a pipeline which parameters won);
- an answer that cannot be written (read-only or full disk) is left out: reads never fail
  for it;
- a job whose study is in a database keeps nothing here (no file to stamp).

Example:
    >>> import json, tempfile
    >>> from pipetune import load_spec
    >>> from pipetune.backends.local import LocalBackend, answers
    >>> from pipetune.backends.local.jobstore import JobDir
    >>> backend = LocalBackend(tempfile.mkdtemp())
    >>> spec = load_spec({
    ...     "parameters": [{"name": "x", "type": "continuous", "min": -1, "max": 1}],
    ...     "objectives": [{"metric": "loss", "goal": "minimize"}],
    ...     "metrics": [{"name": "loss", "regex": "loss=([-0-9.eE+]+)"}],
    ...     "trial": {"command": ["python", "-c", "print('loss=1')"]},
    ...     "budget": {"max_trials": 2}})
    >>> ref = backend.launch(spec, "kept", detach=False)  # its answers kept as it ended
    >>> job = JobDir("kept", backend.root)
    >>> json.loads(answers.read(job, "status", answers.stamp(job)))["state"]
    'completed'
    >>> answers.read(job, "status", "1:2:3 4:5:6") is None  # another stamp: files changed
    True
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipetune.backends.local.jobstore import JobDir

log = logging.getLogger(__name__)

FOLDER = "answers"
KEY_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")  # what callers of Backend.remember may name
_JOURNAL = "journal://"


def stamp(job: "JobDir") -> str | None:
    """The identity of the files a job's answers derive from; None when the study is not in
    a journal file, or a file is missing."""
    url = job.storage_url()
    if not url.startswith(_JOURNAL):
        return None
    parts = []
    for path in (Path(url[len(_JOURNAL):]), job.meta_file):
        try:
            st = path.stat()
        except OSError:
            return None
        parts.append(f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
    return " ".join(parts)


def _path(job: "JobDir", name: str) -> Path:
    return job.path / FOLDER / f"{name}.json"


def read(job: "JobDir", name: str, current: str | None) -> str | None:
    """The kept answer ``name`` when it was written for ``current`` (see :func:`stamp`);
    else None."""
    if current is None:
        return None
    try:
        fd = os.open(_path(job, name), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, encoding="utf-8") as fh:
        st = os.fstat(fd)
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            log.debug("ignoring %s: not private to this user", _path(job, name))
            return None
        if fh.readline().rstrip("\n") != current:
            return None
        return fh.read()


def write(job: "JobDir", name: str, current: str | None, body: str) -> None:
    """Keep ``body`` as answer ``name`` for ``current``, the stamp taken before ``body`` was
    computed: only if the files still have it (nothing was written meanwhile).
    Owner-only, replaced whole, never half-written; a file that cannot be written is left
    out."""
    if current is None or stamp(job) != current:
        return
    folder = job.path / FOLDER
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(current + "\n")
            fh.write(body)
        os.replace(tmp, _path(job, name))
    except OSError as exc:
        log.debug("answer %s of job %s not kept: %s", name, job.name, exc)
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
