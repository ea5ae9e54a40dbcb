"""A running job's coordinator answers other processes' reads of it
(pipetune/backends/local/answering.py): the same answers the journal gives, without the
reader importing Optuna; and a reader that gets no answer reads the journal as before."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from pipetune import get_backend, load_spec
from pipetune.backends.local import answering
from pipetune.backends.local.jobstore import JobDir

from .conftest import cli

OBJECTIVE = textwrap.dedent('''
    import os, time
    def objective(params, ctx):
        if ctx.number >= 5:  # the last trial holds the job running until the test lets go
            while not os.path.exists(os.environ["RELEASE_FILE"]):
                time.sleep(0.05)
        return {"loss": (params["x"] - 1) ** 2, "width": float(params["n"])}
''')

READ = textwrap.dedent('''
    import json, sys
    from pipetune.backends.local import LocalBackend
    from pipetune.observability.snapshot import observed_status
    be = LocalBackend()
    st = be.status("live")
    observed, warnings = observed_status(be.ref("live"), be, st)
    out = {"status": json.loads(st.model_dump_json()), "observed": json.loads(observed.model_dump_json()),
           "warnings": warnings, "trials": json.loads(be.trials_json("live")),
           "best": json.loads(be.best("live").model_dump_json()),
           "imported": sorted(m for m in ("optuna", "numpy") if m in sys.modules)}
    print(json.dumps(out))
''')


@pytest.fixture
def home(monkeypatch):
    """A home with a short path, whatever this machine's temporary directory: a socket's
    path must fit in about 100 bytes (longer, a coordinator does not listen)."""
    path = Path(tempfile.mkdtemp(prefix="pt-", dir="/tmp"))
    monkeypatch.setenv("PIPETUNE_HOME", str(path / ".pipetune"))
    monkeypatch.chdir(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _running_job(home: Path, monkeypatch) -> JobDir:
    (home / "live_trial.py").write_text(OBJECTIVE)
    monkeypatch.setenv("RELEASE_FILE", str(home / "release"))
    spec = load_spec({
        "parameters": [{"name": "x", "type": "continuous", "min": -2.0, "max": 2.0},
                       {"name": "n", "type": "integer", "min": 1, "max": 5}],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "trial": {"callable": "live_trial:objective", "workdir": str(home)},
        "strategy": "random", "seed": 3, "budget": {"max_trials": 6},
    })
    get_backend("local").launch(spec, "live", detach=True)
    job = JobDir("live")
    assert len(os.fsencode(job.path / answering.SOCKET_NAME)) <= 100
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (job.path / answering.SOCKET_NAME).exists():
            st = json.loads(cli("status", "live", "--json", home=home).stdout)
            if st["trials"]["complete"] == 5 and st["trials"]["running"] == 1:
                return job
        time.sleep(0.1)
    raise AssertionError("the job did not reach its waiting trial")


def _read(home: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", READ], env=dict(os.environ), cwd=home,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _timeless(read: dict) -> dict:
    """A read without what the clock moves: the elapsed time, and the cost (the running
    trial's share grows with it)."""
    out = {k: v for k, v in read.items() if k != "imported"}
    for key in ("status", "observed"):
        assert out[key]["elapsed_seconds"] > 0
        out[key] = {k: v for k, v in out[key].items() if k not in ("elapsed_seconds", "cost_usd")}
    return out


def test_a_running_jobs_coordinator_answers_reads_as_the_journal_does(home, monkeypatch):
    job = _running_job(home, monkeypatch)
    try:
        answered = _read(home)
        assert answered["imported"] == []  # the reader opened no study
        assert answered["status"]["state"] == "running"
        assert [t["state"] for t in answered["trials"]].count("running") == 1

        monkeypatch.setattr(answering, "asked", lambda job, question: None)  # ask nobody
        be = get_backend("local")
        from pipetune.observability.snapshot import observed_status

        st = be.status("live")
        observed, warnings = observed_status(be.ref("live"), be, st)
        from_journal = {"status": json.loads(st.model_dump_json()),
                        "observed": json.loads(observed.model_dump_json()), "warnings": warnings,
                        "trials": json.loads(be.trials_json("live")),
                        "best": json.loads(be.best("live").model_dump_json())}
        assert answered["observed"]["cost_usd"] >= 0 and from_journal["observed"]["cost_usd"] >= 0
        assert _timeless(answered) == _timeless(from_journal)
    finally:
        (home / "release").touch()
    get_backend("local").wait("live", timeout=60)
    assert not (job.path / answering.SOCKET_NAME).exists()  # gone with the coordinator
    assert cli("status", "live", "--json", home=home).stdout  # read from the journal again


def test_a_dead_coordinators_socket_leaves_reads_to_the_journal(home, monkeypatch):
    job = _running_job(home, monkeypatch)
    os.kill(job.coordinator()["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while answering.ask(job.path / answering.SOCKET_NAME, "status", timeout=1) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (job.path / answering.SOCKET_NAME).exists()  # left behind: nobody answers on it
    st = json.loads(cli("status", "live", "--json", home=home).stdout)
    assert st["state"] == "interrupted" and st["trials"]["complete"] == 5


def test_a_reader_of_another_user_gets_no_answer(home, monkeypatch):
    path = home / answering.SOCKET_NAME
    server = answering.Answerer(path, lambda question: '{"state": "running"}').start()
    assert server is not None
    try:
        assert answering.ask(path, "status") == '{"state": "running"}'
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        if hasattr(socket, "SO_PEERCRED"):
            me = os.getuid()
            monkeypatch.setattr(answering.os, "getuid", lambda: me + 1)  # as if another user asked
            assert answering.ask(path, "status") is None
    finally:
        server.close()


def test_questions_outside_the_list_and_a_socket_path_too_long_are_refused(home):
    path = home / answering.SOCKET_NAME
    seen: list[str] = []
    server = answering.Answerer(path, lambda question: seen.append(question) or "{}").start()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(path))
            sock.sendall(b"status; rm -rf /\n")
            assert sock.recv(100) == b""  # closed without an answer
        assert seen == []
    finally:
        server.close()
    deep = home / ("d" * 120) / answering.SOCKET_NAME
    assert answering.Answerer(deep, lambda question: "{}").start() is None


def test_a_coordinator_never_asks_itself_another_process_does(home):
    job = JobDir("self")
    job.path.mkdir(parents=True)
    server = answering.Answerer(job.path / answering.SOCKET_NAME, lambda question: '"answered"').start()
    assert server is not None
    try:
        job.set_coordinator(os.getppid())  # another process of this machine coordinates
        assert answering.asked(job, "status") == '"answered"'
        job.set_coordinator(os.getpid())  # this process does: it reads its own study
        assert answering.asked(job, "status") is None
    finally:
        server.close()
