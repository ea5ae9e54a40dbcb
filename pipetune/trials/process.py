"""Process control for one trial: its own session, output to files, timeout, stop.

A stop is SIGTERM to the trial's whole process group, then SIGKILL after a grace period:
a training script gets the chance to write a checkpoint, a hung one cannot block the job.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psutil

from pipetune.errors import SpecError


@dataclass
class ProcessResult:
    """How a trial's process ended: its ``returncode`` (negative: killed by that signal),
    the ``reason`` when it did not exit by itself (timed out, stopped, killed by a signal;
    None when it did) and how long it ran, in seconds."""

    returncode: int
    reason: str | None  # None when the process exited by itself
    duration: float


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_process(
    argv: list[str],
    *,
    cwd: str,
    env: dict[str, str],
    stdout: Path,
    stderr: Path,
    timeout: float | None = None,
    grace_period: float = 10.0,
    poll: Callable[[], str | None] | None = None,
    poll_interval: float = 0.5,
    on_start: Callable[[], None] | None = None,
    pidfile: Path | None = None,
) -> ProcessResult:
    """Run ``argv`` (never through a shell) and wait for it.

    ``poll`` is called every ``poll_interval`` seconds while the process runs; when it returns
    a reason string, the process is stopped and that reason is returned. ``on_start`` is
    called once the process has been started. ``pidfile`` is written to name it (pid and
    start time), so that :func:`kill_orphan` can end it if this process dies first. It is
    left behind when the process ends (removing it would delay the next trial's start, and
    the start time tells a stale file apart). The process also inherits a descriptor holding
    a lock on ``pidfile`` (see :func:`lock_held`): should this process die between the spawn
    and writing the pid, the lock still tells that the trial started and runs.
    """
    start = time.monotonic()
    lock = _lock(pidfile) if pidfile is not None else None
    try:
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            try:
                proc = subprocess.Popen(
                    argv, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                    start_new_session=True, close_fds=True,
                    pass_fds=(lock,) if lock is not None else (),
                )
            except FileNotFoundError:
                raise SpecError(f"command not found: {argv[0]!r} (looked in PATH and {cwd})",
                                field="trial.command") from None
            except PermissionError:
                raise SpecError(f"command is not executable: {argv[0]!r}",
                                field="trial.command") from None
        if pidfile is not None:
            _write_pidfile(pidfile, proc.pid)
    finally:
        if lock is not None:
            os.close(lock)  # the child's copy keeps the lock while it (or its own children) run
    if on_start is not None:
        on_start()
    reason: str | None = None
    deadline = start + timeout if timeout else None
    pidfd = _pidfd(proc)
    try:
        while True:
            wait_for = poll_interval if poll else None
            if deadline is not None:
                left = deadline - time.monotonic()
                wait_for = left if wait_for is None else min(wait_for, left)
            if _wait(proc, pidfd, wait_for if wait_for is None or wait_for > 0 else 0):
                break
            if deadline is not None and time.monotonic() >= deadline:
                reason = f"timed out after {timeout:g}s"
                break
            if poll is not None:
                reason = poll()
                if reason:
                    break
        if reason is not None:
            terminate(proc, grace_period)
    except BaseException:
        terminate(proc, min(grace_period, 2.0))
        raise
    finally:
        if pidfd is not None:
            os.close(pidfd)
    rc = proc.returncode if proc.returncode is not None else -9
    if reason is None and rc < 0:
        sig = -rc
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        reason = f"killed by signal {name}" + (" (out of memory?)" if sig == signal.SIGKILL else "")
    return ProcessResult(rc, reason, time.monotonic() - start)


def start_time(pid: int) -> float | None:
    """Start time of ``pid`` in seconds since the epoch, as the OS records it (tells a reused
    pid apart); None when there is no such live process."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _write_pidfile(path: Path, pid: int) -> None:
    # the spawn time, not the process's start time: reading /proc/<pid> while the child
    # is still in exec waits for it (~3.6 ms here) and slowed every trial
    try:
        path.write_text(f"{pid} {time.time():.3f}\n")
    except OSError:
        pass


def _started_at(pid: int) -> tuple[float, int] | None:
    """Wall-clock start of ``pid`` and its process group; None when there is no such live
    process."""
    started = start_time(pid)
    if started is None:
        return None
    try:
        return started, os.getpgid(pid)
    except OSError:
        return None


def _lock(pidfile: Path) -> int | None:
    """A descriptor of ``pidfile`` holding an exclusive ``flock``; None if it cannot be had."""
    try:
        fd = os.open(pidfile, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def lock_held(pidfile: Path) -> bool:
    """True while a trial process started by :func:`run_process` with this ``pidfile`` (or a
    child of it that kept the inherited descriptor) still runs."""
    try:
        fd = os.open(pidfile, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # also releases the lock if we took it
    return False


def read_pidfile(pidfile: Path) -> tuple[int, float] | None:
    """``(pid, spawn time)`` from a trial's pidfile; None when it names no process yet (the
    trial never started) or cannot be read."""
    try:
        pid_text, spawned_text = pidfile.read_text().split()
        return int(pid_text), float(spawned_text)
    except (OSError, ValueError):
        return None


def orphan_pid(pidfile: Path, tolerance: float = 2.0) -> int | None:
    """The pid named in ``pidfile`` if that very process still runs, else None.

    The process must lead its own group and have started within ``tolerance`` seconds of
    the recorded spawn, so a reused pid is never taken for it."""
    named = read_pidfile(pidfile)
    if named is None:
        return None
    pid, spawned = named
    found = _started_at(pid)
    if found is None or found[1] != pid or abs(found[0] - spawned) > tolerance:
        return None  # gone, or the pid now belongs to another process
    return pid


def wait_orphan(pid: int, *, poll: Callable[[], str | None] | None = None,
                deadline: float | None = None, grace_period: float = 10.0,
                poll_interval: float = 0.5) -> str | None:
    """Wait for a process that is not our child (a trial whose engine died) to exit.

    ``poll`` and ``deadline`` (a ``time.time()``) work as in :func:`run_process`: when one
    fires, the process group gets SIGTERM, then SIGKILL after ``grace_period``; the reason
    is returned. None when the process ended by itself (its exit code is not ours to read).

    On Linux a pidfd wakes the wait the moment the process exits. Where there is none
    (macOS, or a kernel before 5.3) the process is looked up every
    :data:`ORPHAN_POLL_STEP` seconds: it has ended once it is gone, a zombie, or its pid
    names a process started at another time (the pid was reused).
    """
    started = start_time(pid)
    if started is None:
        return None  # already gone (or a zombie): nothing to wait for
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None

    def gone(timeout: float) -> bool:
        if pidfd is not None:
            return _readable(pidfd, timeout)
        return _gone_within(pid, started, timeout)

    try:
        reason: str | None = None
        while not gone(poll_interval if deadline is None
                       else min(poll_interval, deadline - time.time())):
            if deadline is not None and time.time() >= deadline:
                reason = "timed out"
            elif poll is not None:
                reason = poll()
            if reason:
                _signal_group(pid, signal.SIGTERM)
                end = time.monotonic() + grace_period
                while not gone(min(0.1, end - time.monotonic())) and time.monotonic() < end:
                    pass
                _signal_group(pid, signal.SIGKILL)
                return reason
        return None
    finally:
        if pidfd is not None:
            os.close(pidfd)


ORPHAN_POLL_STEP = 0.02
"""Seconds between two looks at a process :func:`wait_orphan` waits for without a pidfd."""


def _gone_within(pid: int, started: float, timeout: float) -> bool:
    """Whether the process ``pid`` that started at ``started`` ends within ``timeout``
    seconds, looked up every :data:`ORPHAN_POLL_STEP` seconds (no pidfd to wake us)."""
    end = time.monotonic() + max(0.0, timeout)
    while True:
        if start_time(pid) != started:  # exited, a zombie, or the pid is another process's
            return True
        left = end - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(ORPHAN_POLL_STEP, left))


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_orphan(pidfile: Path, tolerance: float = 2.0) -> bool:
    """SIGKILL the process group named in ``pidfile`` if that very process still runs.

    A trial runs in its own session, so it outlives an engine that is SIGKILLed. An engine
    that finds such a trial left behind and will not adopt it calls this, so the abandoned
    run does not go on using the machine next to its retry. True when it killed something."""
    pid = orphan_pid(pidfile, tolerance)
    if pid is None:
        return False
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _pidfd(proc: subprocess.Popen) -> int | None:
    """A descriptor that becomes readable when the process exits (Linux 5.3+)."""
    try:
        return os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        return None


def _readable(fd: int, timeout: float) -> bool:
    """Whether ``fd`` becomes readable within ``timeout`` seconds. ``poll``, not ``select``:
    select refuses descriptors numbered 1024 and up, which a busy process reaches."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(max(0.0, timeout) * 1000))


def _wait(proc: subprocess.Popen, pidfd: int | None, timeout: float | None) -> bool:
    """Wait up to ``timeout`` seconds (None: for ever); True once the process has exited.

    ``Popen.wait(timeout)`` polls with sleeps that grow to 50 ms, so a short trial would be
    seen to end late; waiting on a pidfd wakes the moment it exits."""
    if timeout is None:
        proc.wait()
        return True
    if pidfd is not None:
        return _readable(pidfd, timeout) and proc.wait() is not None
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def terminate(proc: subprocess.Popen, grace_period: float) -> None:
    """SIGTERM the process group, then SIGKILL after ``grace_period`` seconds."""
    if proc.poll() is not None:
        _kill_group(proc, signal.SIGKILL)  # stray children of a finished leader
        return
    _kill_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_period)
    except subprocess.TimeoutExpired:
        pass
    _kill_group(proc, signal.SIGKILL)
    proc.wait()
