"""Process control through psutil: live and dead owners, zombies, reused pids, orphans."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pipetune.backends.local.heartbeat import owner_dead, this_process
from pipetune.backends.local.jobstore import pid_alive
from pipetune.trials.process import kill_orphan, start_time


def _exited_child() -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc


def test_a_live_owner_is_not_dead():
    me = this_process()
    assert isinstance(me["start"], float)
    assert abs(me["start"] - time.time()) < 3600  # epoch seconds, not clock ticks
    assert not owner_dead(me)
    assert pid_alive(os.getpid())


def test_a_live_child_owner_is_not_dead_and_a_dead_one_is():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        owner = dict(this_process(), pid=child.pid, start=start_time(child.pid))
        assert owner["start"] is not None
        assert not owner_dead(owner)
    finally:
        child.kill()
        child.wait()
    assert owner_dead(owner)
    assert not pid_alive(child.pid)


def test_a_reused_pid_is_a_dead_owner():
    owner = dict(this_process())
    owner["start"] = owner["start"] - 100.0  # the recorded process started earlier: not us
    assert owner_dead(owner)


def test_an_owner_on_another_machine_is_never_judged_dead():
    owner = dict(this_process(), scope="another-host", pid=_exited_child().pid)
    assert not owner_dead(owner)


def test_a_zombie_is_dead():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while pid_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pid_alive(proc.pid), "an exited, unreaped child still counted as alive"
    assert start_time(proc.pid) is None
    proc.wait()


def test_kill_orphan_kills_only_the_recorded_process(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                             start_new_session=True)
    try:
        pidfile = tmp_path / "trial.pid"
        pidfile.write_text(f"{child.pid} {start_time(child.pid) - 500:.3f}\n")
        assert not kill_orphan(pidfile)  # recorded spawn far from its start: a reused pid
        assert child.poll() is None
        pidfile.write_text(f"{child.pid} {start_time(child.pid):.3f}\n")
        assert kill_orphan(pidfile)
        assert child.wait(timeout=10) == -9
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
