"""Process control for one trial: its own session, output to files, timeout, stop.

A stop is SIGTERM to the trial's whole process group, then SIGKILL after a grace period:
a training script gets the chance to write a checkpoint, a hung one cannot block the job.
"""

from __future__ import annotations

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
    the start time tells a stale file apart).
    """
    start = time.monotonic()
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        try:
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                start_new_session=True, close_fds=True,
            )
        except FileNotFoundError:
            raise SpecError(f"command not found: {argv[0]!r} (looked in PATH and {cwd})",
                            field="trial.command") from None
        except PermissionError:
            raise SpecError(f"command is not executable: {argv[0]!r}", field="trial.command") from None
    if on_start is not None:
        on_start()
    if pidfile is not None:
        _write_pidfile(pidfile, proc.pid)
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


def kill_orphan(pidfile: Path, tolerance: float = 2.0) -> bool:
    """SIGKILL the process group named in ``pidfile`` if that very process still runs.

    A trial runs in its own session, so it outlives an engine that is SIGKILLed. The engine
    that later finds the trial left behind calls this before retrying it, so the abandoned
    run does not go on using the machine next to its retry. The process must lead its own
    group and have started within ``tolerance`` seconds of the recorded spawn, so a reused
    pid is never hit. True when it killed something."""
    try:
        pid_text, spawned_text = pidfile.read_text().split()
        pid, spawned = int(pid_text), float(spawned_text)
    except (OSError, ValueError):
        return False
    found = _started_at(pid)
    if found is None or found[1] != pid or abs(found[0] - spawned) > tolerance:
        return False  # gone, or the pid now belongs to another process
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


def _wait(proc: subprocess.Popen, pidfd: int | None, timeout: float | None) -> bool:
    """Wait up to ``timeout`` seconds (None: for ever); True once the process has exited.

    ``Popen.wait(timeout)`` polls with sleeps that grow to 50 ms, so a short trial would be
    seen to end late; waiting on a pidfd wakes the moment it exits."""
    if timeout is None:
        proc.wait()
        return True
    if pidfd is not None:
        ready, _, _ = select.select([pidfd], [], [], timeout)
        return bool(ready) and proc.wait() is not None
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
