"""A running job's coordinator answers reads of that job, so that a command reading it
imports neither Optuna nor the study.

Reading a job still running means opening its study: Optuna's import, the journal's replay
from its checkpoints, every trial's record (about 1.2 s for ``pipetune status`` on a
10,000-trial job). Its coordinator has that study open and its records built. While it
runs, it listens on a Unix socket in the job's directory (:data:`SOCKET_NAME`); a reader in
another process asks it one of :data:`QUESTIONS` and gets the answer's JSON text, the same
text the reader would have built from the journal. The journal stays the source of truth:
the coordinator answers from the study it keeps in step with the journal, other processes'
lines included.

Only the job's owner can ask: the job's directory is owner-only, the socket is made
owner-only, and each connection's peer user is checked where the system tells it
(``SO_PEERCRED``). A request is one short line naming a question, nothing else is read from
it. Anything that goes wrong (no socket, a coordinator gone, a timeout, an error while
answering) makes :func:`ask` return None, and the reader reads the journal as before.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / SOCKET_NAME
    >>> server = Answerer(path, lambda question: '{"asked": "%s"}' % question).start()
    >>> ask(path, "status")
    '{"asked": "status"}'
    >>> ask(path, "anything else") is None
    True
    >>> server.close()
    >>> ask(path, "status") is None
    True
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from pipetune.observability.snapshot import OBSERVED_STATUS

if TYPE_CHECKING:  # pragma: no cover
    import optuna

    from pipetune.backends.local.jobstore import JobDir

log = logging.getLogger(__name__)

SOCKET_NAME = "answers.sock"
#: what a reader may ask: the backend's reads, and the observed status `pipetune status` shows
#: (the key it is remembered under)
QUESTIONS = ("status", "best", "trials", OBSERVED_STATUS)
#: seconds a reader waits for an answer before it reads the journal itself
TIMEOUT = 3.0
_MAX_PATH = 100  # AF_UNIX paths hold 104-108 bytes, depending on the system
_MAX_REQUEST = 64


class Answerer:
    """A thread answering :data:`QUESTIONS` on the Unix socket ``path`` with
    ``answer(question)`` (JSON text), one connection at a time, until :meth:`close`."""

    def __init__(self, path: Path, answer: Callable[[str], str]) -> None:
        self.path = path
        self._answer = answer
        self._sock: socket.socket | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "Answerer | None":
        """Listen; None (nobody is answered, readers read the journal) when the socket's path
        is too long for the system or it cannot be made."""
        if not hasattr(socket, "AF_UNIX") or len(os.fsencode(self.path)) > _MAX_PATH:
            return None
        try:
            self.path.unlink(missing_ok=True)  # left by a coordinator that died
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            old = os.umask(0o177)  # owner-only from the moment it exists
            try:
                sock.bind(str(self.path))
            finally:
                os.umask(old)
            sock.listen(8)
            self._wake = socket.socketpair()  # close() writes to it: the job's end never waits
        except OSError as exc:
            log.debug("no answering socket at %s: %s", self.path, exc)
            return None
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="pipetune-answers", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop answering and remove the socket (an answer being sent is finished first)."""
        if self._sock is None or self._wake is None:
            return
        self.path.unlink(missing_ok=True)  # no new reader finds it
        self._wake[1].send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT + 1)
        self._sock.close()
        for end in self._wake:
            end.close()
        self._sock = None

    def _serve(self) -> None:
        import select

        assert self._sock is not None and self._wake is not None
        while True:
            ready, _, _ = select.select([self._sock, self._wake[0]], [], [])
            if self._wake[0] in ready:
                return
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                try:
                    self._reply(conn)
                except Exception:  # a reader's trouble must not end the job
                    log.debug("answering a reader failed", exc_info=True)

    def _reply(self, conn: socket.socket) -> None:
        conn.settimeout(TIMEOUT)
        if not _same_user(conn):
            return
        request = b""
        while b"\n" not in request and len(request) <= _MAX_REQUEST:
            chunk = conn.recv(_MAX_REQUEST)
            if not chunk:
                break
            request += chunk
        question = request.split(b"\n", 1)[0].decode("ascii", "replace")
        if question not in QUESTIONS:
            return
        try:
            text = self._answer(question)
        except Exception as exc:  # e.g. no trial completed yet for `best`: the reader says so
            log.debug("no answer to %s: %s", question, exc)
            return
        conn.sendall(text.encode() + b"\n")


def _same_user(conn: socket.socket) -> bool:
    """Whether the peer runs as this process's user (True where the system cannot tell:
    the owner-only directory and socket are then the check)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, option,
                                                          struct.calcsize("3i")))
    return uid == os.getuid()


def ask(path: Path, question: str, timeout: float = TIMEOUT) -> str | None:
    """The answer's JSON text from the coordinator listening at ``path``; None when there is
    none (then read the journal)."""
    if question not in QUESTIONS:
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(question.encode() + b"\n")
            chunks = []
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    except OSError:
        return None
    data = b"".join(chunks)
    if not data.endswith(b"\n"):
        return None  # the coordinator stopped mid-answer
    return data[:-1].decode()


def serve(job: "JobDir", study: "optuna.Study") -> Answerer | None:
    """Answer reads of ``job`` from ``study`` (its coordinator's, open and in step with the
    journal) until the returned answerer is closed; None when it cannot listen."""
    def answer(question: str) -> str:
        from pipetune.backends.local.backend import LocalBackend
        from pipetune.backends.local.jobstore import _open_journals

        url = job.storage_url()
        if url.startswith("journal://"):
            _open_journals.put(job.name, url, study)  # its reads use this study: no replay
        backend = LocalBackend(job.root)
        if question == "status":
            return backend.status(job.name).model_dump_json()
        if question == "best":
            return backend.best(job.name).model_dump_json()
        if question == OBSERVED_STATUS:
            from pipetune.observability.snapshot import observed_status_text

            return observed_status_text(backend.ref(job.name), backend, backend.status(job.name))
        return backend.trials_json(job.name)

    return Answerer(job.path / SOCKET_NAME, answer).start()


def asked(job: "JobDir", question: str) -> str | None:
    """``question``'s answer from ``job``'s coordinator when another live process of this
    machine coordinates it; else None (read the journal)."""
    info = job.coordinator()
    pid = info.get("pid")
    if not pid or pid == os.getpid() or info.get("host") != socket.gethostname():
        return None
    path = job.path / SOCKET_NAME
    if not path.exists():
        return None
    return ask(path, question)


__all__ = ["Answerer", "QUESTIONS", "SOCKET_NAME", "ask", "asked", "serve"]
