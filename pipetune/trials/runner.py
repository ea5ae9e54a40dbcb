"""Run one trial, whatever its kind, and say how it ended and why.

Every backend that runs trials on this machine (the local engine, the Vertex Vizier worker)
calls :func:`run_trial`; it never raises for a trial's own failure, it records it.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from pipetune.spec import TuningSpec
from pipetune.trials.contracts import PreparedTrial, prepare
from pipetune.trials.metrics import HypertuneStream, RegexScanner, scored
from pipetune.trials.process import run_process

# names a trial's process (pid and start time), so an orphan of a dead engine can be found
PIDFILE = "trial.pid"
# a finished command trial's outcome, written before the engine records it: an engine that
# dies in between leaves it for the next one (see pipetune.trials.recovery)
RESULT_FILE = "trial.result.json"

#: how often a running trial's hypertune file is read (it holds the last 100 reports only)
HYPERTUNE_POLL_SECONDS = 0.005

log = logging.getLogger(__name__)

# report(step, value) -> True when the trial should stop early (pruned)
Reporter = Callable[[int, float], bool]


class HostFailure(Exception):
    """The host failed a command trial before it started: its directory or logs could not be
    written (a full disk, a path in the way) or its process could not be spawned. Not the
    trial's own failure, so :func:`run_trial` raises it; the engine does not charge it."""


class TrialPruned(Exception):
    """Raise from an in-process trial when :meth:`TrialContext.should_prune` says so."""


@dataclass
class TrialOutcome:
    """How one trial ended: ``state`` (complete, failed, infeasible, pruned or stopped), its
    final ``metrics``, why it did not complete (``reason``), its duration in seconds, its
    intermediate ``(step, value)`` pairs, where its artifacts are, and the ``step`` whose
    value scored it."""

    state: str  # complete | failed | infeasible | pruned | stopped
    metrics: dict[str, float] = field(default_factory=dict)
    reason: str | None = None
    duration: float = 0.0
    intermediate: list[tuple[int, float]] = field(default_factory=list)
    artifacts: str | None = None
    #: the step of the objective's value that scored the trial (see ``TuningSpec.measurement``)
    step: int | None = None


class TrialContext:
    """What an in-process trial function receives besides its parameters.

    Example:
        >>> def objective(params, ctx):
        ...     for epoch in range(3):
        ...         ctx.report(epoch, 1.0 / (epoch + 1))
        ...         if ctx.should_prune():
        ...             raise TrialPruned()
        ...     return {"loss": 1.0 / 3}
    """

    def __init__(self, number: int, trial_dir: Path | None, reporter: Reporter | None):
        self.number = number
        self.trial_dir = trial_dir
        self._reporter = reporter
        self._prune = False
        self.intermediate: list[tuple[int, float]] = []

    def report(self, step: int, value: float) -> None:
        """Record ``value`` of the primary metric at ``step``; the engine may then judge the trial
        worth pruning (see :meth:`should_prune`)."""
        self.intermediate.append((int(step), float(value)))
        if self._reporter is not None and self._reporter(int(step), float(value)):
            self._prune = True

    def should_prune(self) -> bool:
        """True once a reported value made the pruner stop this trial: the trial should raise
        :class:`TrialPruned`."""
        return self._prune


def load_callable(path: str) -> Callable[..., Any]:
    """The object ``path`` names, ``"package.module:function"`` (the part after the colon
    may be dotted, e.g. ``module:Class.method``).

    Raises:
        ImportError: the module cannot be imported.
        AttributeError: the module has no such attribute.
    """
    module_name, _, attr = path.partition(":")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _check_values(spec: TuningSpec, metrics: dict[str, float]) -> tuple[str, str | None]:
    for o in spec.objectives:
        if o.metric not in metrics:
            return "failed", f"no value for objective {o.metric!r}"
        v = metrics[o.metric]
        if math.isnan(v) or math.isinf(v):
            return "infeasible", f"objective {o.metric!r} is {v}"
    return "complete", None


def run_trial(
    spec: TuningSpec,
    params: dict[str, Any],
    *,
    number: int,
    trial_dir: Path | None,
    report: Reporter | None = None,
    stop_requested: Callable[[], bool] | None = None,
    on_start: Callable[[], None] | None = None,
    prepared: PreparedTrial | None = None,
) -> TrialOutcome:
    """Run the spec's trial with ``params`` (tuned and static values, typed).

    ``on_start`` is called once the trial has started: a command's process is running, or a
    callable is about to be called. Raises :class:`HostFailure` when the host keeps a command
    trial from starting. ``prepared``: what :func:`set_up` made ahead of time
    for this trial, if anything."""
    if spec.trial.callable is not None:
        if on_start is not None:
            on_start()
        return _run_callable(spec, params, number, trial_dir, report)
    assert trial_dir is not None
    outcome = _run_command(spec, params, number, trial_dir, report, stop_requested, on_start,
                           prepared)
    write_outcome(trial_dir, outcome)
    return outcome


def write_outcome(trial_dir: Path, outcome: TrialOutcome) -> None:
    """Keep ``outcome`` in the trial's directory (atomically; best effort: a full disk must
    not turn a finished trial into an error, the engine records it anyway)."""
    tmp = trial_dir / (RESULT_FILE + ".tmp")
    try:
        tmp.write_text(json.dumps(asdict(outcome)))
        os.replace(tmp, trial_dir / RESULT_FILE)
    except OSError:
        pass


def read_outcome(trial_dir: Path) -> TrialOutcome | None:
    """The outcome :func:`write_outcome` kept, or None."""
    try:
        body = json.loads((trial_dir / RESULT_FILE).read_text())
        body["intermediate"] = [(int(s), float(v)) for s, v in body.get("intermediate") or []]
        return TrialOutcome(**body)
    except (OSError, ValueError, TypeError):
        return None


def set_up(spec: TuningSpec, params: dict[str, Any], number: int, trial_dir: Path) -> PreparedTrial:
    """Lay out a command trial's directory: its contract's files and its (empty) logs.

    An engine that asks for the next trial while the current one runs calls this then, so
    that creating files (slow on some file systems) does not delay the trial's start."""
    trial_dir.mkdir(parents=True, exist_ok=True)
    prepared = prepare(spec, params, trial_dir, number)
    for name in ("stdout.log", "stderr.log", PIDFILE):
        (trial_dir / name).touch()
    return prepared


def _run_callable(spec, params, number, trial_dir, report) -> TrialOutcome:
    start = time.monotonic()
    if spec.trial.workdir and spec.trial.workdir not in sys.path:
        sys.path.insert(0, spec.trial.workdir)
    fn = load_callable(spec.trial.callable)
    ctx = TrialContext(number, trial_dir, report)
    try:
        result = fn(params, ctx)
    except TrialPruned:
        return TrialOutcome("pruned", reason="stopped early by the pruner",
                            duration=time.monotonic() - start, intermediate=ctx.intermediate)
    except Exception as exc:  # a trial's own error is recorded, never raised
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return TrialOutcome("failed", reason=f"raised {tb}", duration=time.monotonic() - start,
                            intermediate=ctx.intermediate)
    metrics = _as_metrics(spec, result)
    primary = spec.primary.metric
    reported = list(ctx.intermediate)
    if primary in metrics:  # the returned value is the final measurement
        reported.append((reported[-1][0] if reported else 0, metrics[primary]))
    step = _apply_rule(spec, metrics, reported)
    state, reason = _check_values(spec, metrics)
    return TrialOutcome(state, metrics, reason, time.monotonic() - start, ctx.intermediate,
                        str(trial_dir) if trial_dir else None, step)


def _apply_rule(spec: TuningSpec, metrics: dict[str, float],
                reported: list[tuple[int, float]]) -> int | None:
    """Score the primary objective by ``spec.measurement``; return the step that counts."""
    pick = scored(reported, spec.primary.goal, spec.measurement)
    if pick is None:
        return None
    if spec.measurement == "best" and spec.primary.metric in metrics:
        metrics[spec.primary.metric] = pick[1]
    return pick[0]


def _as_metrics(spec: TuningSpec, result: Any) -> dict[str, float]:
    names = [o.metric for o in spec.objectives]
    if isinstance(result, dict):
        out = {}
        for k, v in result.items():
            try:
                out[str(k)] = float(v)
            except (TypeError, ValueError):
                continue
        return out
    if isinstance(result, (list, tuple)):
        return {n: float(v) for n, v in zip(names, result)}
    try:
        return {names[0]: float(result)}
    except (TypeError, ValueError):
        return {}


def _run_command(spec, params, number, trial_dir, report, stop_requested, on_start=None,
                 prepared=None) -> TrialOutcome:
    if prepared is None:
        try:
            prepared = set_up(spec, params, number, trial_dir)
        except OSError as exc:
            raise HostFailure(f"host failure: cannot lay out the trial directory {trial_dir}: "
                              f"{exc.strerror or exc}") from exc
    stdout, stderr = trial_dir / "stdout.log", trial_dir / "stderr.log"
    source = spec.resolved_metric_source()
    primary = spec.primary.metric
    scanner = RegexScanner(spec.metrics, [stdout, stderr]) if source == "regex" else None
    stream = HypertuneStream(prepared.metric_file) if (
        scanner is None and prepared.metric_file is not None) else None
    intermediate: list[tuple[int, float]] = []

    def feed_intermediate() -> bool:
        """Read new values; pass the primary metric's on to ``report``. True means prune."""
        if scanner is not None:
            new = [(len(intermediate) + i, v) for i, v in enumerate(scanner.poll().get(primary, []))]
        elif stream is not None:
            new = stream.take().get(primary, [])
        else:
            return False
        prune = False
        for step, value in new:
            intermediate.append((step, value))
            if report and report(step, value):
                prune = True
        return prune

    def poll() -> str | None:
        if stop_requested is not None and stop_requested():
            return "stopped: the job was stopped"
        if feed_intermediate():
            return "pruned"
        return None

    needs_poll = report is not None or stop_requested is not None
    if stream is not None:
        # A hypertune file keeps only its last 100 entries: read it often enough to see each
        # one, apart from how long the pruner takes with them.
        stream.follow(HYPERTUNE_POLL_SECONDS)
    try:
        result = run_process(
            prepared.argv, cwd=prepared.cwd, env=prepared.env, stdout=stdout, stderr=stderr,
            timeout=spec.budget.trial_timeout, grace_period=spec.trial.grace_period,
            poll=poll if needs_poll else None, on_start=on_start, pidfile=trial_dir / PIDFILE,
        )
    except OSError as exc:  # opening its logs or spawning it failed: the host, not the trial
        raise HostFailure(f"host failure: cannot start the trial in {trial_dir}: "
                          f"{exc.strerror or exc}") from exc
    finally:
        if stream is not None:
            stream.stop()
    artifacts = str(prepared.artifacts) if prepared.artifacts else str(trial_dir)
    if result.reason is None:
        feed_intermediate()  # values written after the last poll, before the process exited
    if stream is not None and stream.overwritten:
        log.warning("trial %s reported more than %d values between two reads of its hypertune "
                    "file; some intermediate values were overwritten before they were read",
                    number, HypertuneStream.KEPT)
    if result.reason == "pruned":
        return TrialOutcome("pruned", reason="stopped early by the pruner", duration=result.duration,
                            intermediate=intermediate, artifacts=artifacts)
    if result.reason and result.reason.startswith("stopped"):
        return TrialOutcome("stopped", reason=result.reason, duration=result.duration,
                            intermediate=intermediate, artifacts=artifacts)
    if scanner is not None:
        scanner.poll(final=True)
        metrics = scanner.final()
        intermediate = list(enumerate(scanner.series.get(primary, [])))
    elif stream is not None:
        metrics = stream.final()
    else:
        metrics = {}
    step = _apply_rule(spec, metrics, intermediate)
    if result.reason:
        return TrialOutcome("failed", metrics, result.reason, result.duration, intermediate,
                            artifacts, step)
    if result.returncode != 0:
        tail = _tail(stderr) or _tail(stdout)
        return TrialOutcome("failed", metrics, f"exit code {result.returncode}" +
                            (f": {tail}" if tail else ""), result.duration, intermediate,
                            artifacts, step)
    state, reason = _check_values(spec, metrics)
    if reason and scanner is not None and spec.primary.metric in scanner.unparsed:
        reason += f" (the regex matched {scanner.unparsed[spec.primary.metric]!r}, not a number)"
    if reason and state == "failed":
        reason += f" in {'the hypertune metric file' if source == 'hypertune' else 'stdout/stderr'}"
    return TrialOutcome(state, metrics, reason, result.duration, intermediate, artifacts, step)


def _tail(path: Path, limit: int = 300) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 4096))
            text = fh.read().decode("utf-8", errors="replace").strip()
    except OSError:
        return ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1][-limit:] if lines else ""
