"""Adopting an orphan trial waits for it portably (issue 20, item 5).

:func:`~pipetune.trials.process.wait_orphan` waits on a Linux pidfd when there is one;
macOS has no ``os.pidfd_open``, so there it looks the process up with psutil. Each test
runs both ways (``pidfd`` and ``no-pidfd``, where ``os.pidfd_open`` is taken away) on a
real orphan: a process started in its own session by a parent that has exited, so it is
nobody's child here, as a trial is once its engine died.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipetune.trials.process import orphan_pid, start_time, wait_orphan

# Waits while the file named by argv[1] exists (at most 30 s).
HOLD = ("import os, sys, time\n"
        "end = time.monotonic() + 30\n"
        "while os.path.exists(sys.argv[1]) and time.monotonic() < end: time.sleep(0.005)\n")

# Starts HOLD in its own session, writes its pidfile as run_process does, then exits.
LAUNCH = ("import subprocess, sys, time\n"
          "p = subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]],"
          " start_new_session=True, stdin=subprocess.DEVNULL)\n"
          "open(sys.argv[3], 'w').write(f'{p.pid} {time.time():.3f}\\n')\n")


@pytest.fixture(params=["pidfd", "no-pidfd"])
def pidfd(request, monkeypatch) -> str:
    """Run the test with ``os.pidfd_open`` as the OS has it, and once without it (macOS)."""
    if request.param == "no-pidfd":
        monkeypatch.delattr(os, "pidfd_open", raising=False)
        assert not hasattr(os, "pidfd_open")
    return request.param


def _orphan(tmp_path: Path, hold: Path) -> int:
    """Start HOLD as an orphan that runs while ``hold`` exists; its pid, from its pidfile."""
    pidfile = tmp_path / "trial.pid"
    subprocess.run([sys.executable, "-c", LAUNCH, HOLD, str(hold), str(pidfile)],
                   check=True, timeout=10)
    pid = orphan_pid(pidfile)  # the pid-reuse checks pass for a live orphan
    assert pid is not None and pid == int(pidfile.read_text().split()[0])
    return pid


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 5
    while start_time(pid) is not None:
        assert time.monotonic() < deadline, f"process {pid} did not end"
        time.sleep(0.01)


def test_waiting_for_a_live_orphan_returns_when_it_ends_and_not_before(tmp_path, pidfd):
    hold = tmp_path / "hold"
    hold.write_text("")
    pid = _orphan(tmp_path, hold)
    released: list[float] = []

    def release() -> None:
        released.append(time.monotonic())
        hold.unlink()

    timer = threading.Timer(0.6, release)  # mid-way through the second poll_interval
    timer.start()
    try:
        reason = wait_orphan(pid, poll_interval=0.5)
        returned = time.monotonic()
    finally:
        timer.cancel()
        if hold.exists():
            hold.unlink()
    assert reason is None  # it ended by itself
    assert released and returned >= released[0], "returned while the process still ran"
    assert start_time(pid) is None  # it has ended
    assert returned - released[0] < 0.2, f"woke {returned - released[0]:.3f}s after the end"


def test_waiting_for_a_dead_orphan_returns_at_once(tmp_path, pidfd):
    hold = tmp_path / "hold"
    hold.write_text("")
    pid = _orphan(tmp_path, hold)  # found alive first: its pidfile checks pass
    hold.unlink()
    _wait_gone(pid)
    began = time.monotonic()
    assert wait_orphan(pid, poll_interval=0.5) is None
    assert time.monotonic() - began < 0.25  # not one poll_interval


def test_waiting_for_a_reaped_child_returns_at_once(pidfd):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    began = time.monotonic()
    assert wait_orphan(child.pid, poll_interval=0.5) is None
    assert time.monotonic() - began < 0.25  # not one poll_interval


def test_a_live_orphan_past_its_deadline_is_ended(tmp_path, pidfd):
    hold = tmp_path / "hold"
    hold.write_text("")
    pid = _orphan(tmp_path, hold)
    try:
        began = time.time()
        reason = wait_orphan(pid, deadline=began + 0.3, grace_period=1.0, poll_interval=0.5)
        waited = time.time() - began
        assert reason == "timed out"
        assert waited >= 0.3, "gave up before the deadline"
        assert waited < 1.0  # SIGTERM ended it well within the grace period
        _wait_gone(pid)
    finally:
        hold.unlink()
