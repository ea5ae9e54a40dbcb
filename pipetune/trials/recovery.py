"""What became of a command trial whose engine died: finished, still running, or never started.

A command trial runs in its own session, so it outlives an engine that is SIGKILLed. The
next engine looks in the trial's directory:

- ``trial.result.json`` (:data:`~pipetune.trials.runner.RESULT_FILE`): the trial finished
  and its engine judged it, then died before recording it. That outcome is recorded.
- a ``trial.pid`` naming a live process: the trial still runs. The engine adopts it, waits
  for it (honouring a stop and the trial timeout) and judges it from its logs.
- a ``trial.pid`` naming a process that has ended: the trial finished while no engine
  watched it. It is judged from its logs (stdout/stderr or the hypertune file), as its
  engine would have; only its exit code is unknown (not our child).
- an empty ``trial.pid`` whose lock a process holds: the engine died between spawning the
  trial and writing its pid. The trial runs; it is adopted (waited for by its lock).
- an empty, unlocked ``trial.pid`` and empty logs: the trial was asked ahead and never
  started. It was no attempt.

Example:
    >>> found = left_behind(spec, params, 3, job.trial_dir(3))      # doctest: +SKIP
    >>> found.kind                                               # doctest: +SKIP
    'running'
    >>> adopt(spec, params, 3, job.trial_dir(3), found.pid).state  # doctest: +SKIP
    'complete'
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

from pipetune.spec import TuningSpec
from pipetune.trials.contracts import prepare
from pipetune.trials.metrics import RegexScanner, read_hypertune
from pipetune.trials.process import (
    lock_held,
    orphan_pid,
    read_pidfile,
    start_time,
    wait_orphan,
)
from pipetune.trials.runner import (
    PIDFILE,
    TrialOutcome,
    _apply_rule,
    _check_values,
    read_outcome,
    write_outcome,
)

UNWATCHED = "finished while no engine watched it, so its exit code is not known"


@dataclass
class LeftBehind:
    """What :func:`left_behind` found: ``finished`` (with its ``outcome``), ``running`` (its
    ``pid``, None when only its lock says so), ``not_started``, or ``unknown`` (no directory
    here: it ran on another machine)."""

    kind: Literal["finished", "running", "not_started", "unknown"]
    outcome: TrialOutcome | None = None
    pid: int | None = None


def left_behind(spec: TuningSpec, params: dict[str, Any], number: int,
                trial_dir: Path) -> LeftBehind:
    """Look at a trial left behind by a dead engine. ``params``: tuned and static values."""
    if not trial_dir.is_dir():
        return LeftBehind("unknown")
    outcome = read_outcome(trial_dir)
    if outcome is not None:
        return LeftBehind("finished", outcome)
    named = read_pidfile(trial_dir / PIDFILE)
    if named is None:
        if lock_held(trial_dir / PIDFILE):
            return LeftBehind("running")
        if not _wrote(trial_dir):
            return LeftBehind("not_started")
        # spawned, then its engine died before writing the pid; it has ended since
        return LeftBehind("finished", judge_logs(spec, params, number, trial_dir, 0.0))
    pid = orphan_pid(trial_dir / PIDFILE)
    if pid is not None:
        return LeftBehind("running", pid=pid)
    if start_time(named[0]) is not None and lock_held(trial_dir / PIDFILE):
        # its start time did not match the spawn's (a very busy machine), yet the lock says
        # it runs: wait by the lock, never signal a pid that may be another process's
        return LeftBehind("running")
    ended = named[1]
    for log in (trial_dir / "stdout.log", trial_dir / "stderr.log"):
        try:
            ended = max(ended, log.stat().st_mtime)
        except OSError:
            pass
    return LeftBehind("finished", judge_logs(spec, params, number, trial_dir,
                                             max(0.0, ended - named[1])))


def adopt(spec: TuningSpec, params: dict[str, Any], number: int, trial_dir: Path,
          pid: int | None, stop_requested: Callable[[], bool] | None = None) -> TrialOutcome:
    """Wait for the still-running trial process ``pid`` to end, then judge it from its logs.
    A stop or the trial timeout ends it as the engine that started it would have. With no
    ``pid`` (never written), wait while the trial holds its pidfile's lock."""
    named = read_pidfile(trial_dir / PIDFILE)
    spawned = named[1] if named else time.time()
    timeout = spec.budget.trial_timeout
    poll = ((lambda: "stopped: the job was stopped" if stop_requested() else None)
            if stop_requested is not None else None)
    if pid is None:
        reason = None
        while reason is None and lock_held(trial_dir / PIDFILE):
            time.sleep(0.2)
            reason = poll() if poll is not None else None
    else:
        reason = wait_orphan(pid, deadline=spawned + timeout if timeout else None,
                             grace_period=spec.trial.grace_period, poll=poll)
    duration = max(0.0, time.time() - spawned)
    if reason is not None and reason.startswith("stopped"):
        outcome = TrialOutcome("stopped", reason=reason, duration=duration,
                               artifacts=str(trial_dir))
    elif reason is not None:
        outcome = TrialOutcome("failed", reason=f"timed out after {timeout:g}s", duration=duration,
                               artifacts=str(trial_dir))
    else:
        outcome = judge_logs(spec, params, number, trial_dir, duration)
    write_outcome(trial_dir, outcome)
    return outcome


def _wrote(trial_dir: Path) -> bool:
    """Whether the trial's process left any output (logs or a hypertune metric file)."""
    for log in (trial_dir / "stdout.log", trial_dir / "stderr.log",
                trial_dir / "hypertune" / "output.metrics"):
        try:
            if log.stat().st_size > 0:
                return True
        except OSError:
            pass
    return False


def judge_logs(spec: TuningSpec, params: dict[str, Any], number: int, trial_dir: Path,
               duration: float) -> TrialOutcome:
    """A finished trial's outcome from what it left on disk, as its engine would have judged
    it, but for the exit code: values for every objective make it complete."""
    prepared = prepare(spec, params, trial_dir, number)  # where its contract put things
    primary = spec.primary.metric
    if spec.resolved_metric_source() == "regex":
        scanner = RegexScanner(spec.metrics, [trial_dir / "stdout.log", trial_dir / "stderr.log"])
        scanner.poll(final=True)
        metrics = scanner.final()
        intermediate = list(enumerate(scanner.series.get(primary, [])))
    else:
        series = read_hypertune(prepared.metric_file) if prepared.metric_file else {}
        metrics = {k: v[-1][1] for k, v in series.items() if v}
        intermediate = list(series.get(primary, []))
    step = _apply_rule(spec, metrics, intermediate)  # the spec's measurement, as the runner
    state, reason = _check_values(spec, metrics)
    if reason is not None:
        reason += f" ({UNWATCHED})"
    artifacts = str(prepared.artifacts) if prepared.artifacts else str(trial_dir)
    return TrialOutcome(state, metrics, reason, duration, intermediate, artifacts, step)


__all__ = ["LeftBehind", "UNWATCHED", "adopt", "judge_logs", "left_behind"]
