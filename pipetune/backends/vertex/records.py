"""Vertex trials as pipetune :class:`~pipetune.results.TrialRecord` s.

Vertex has one failure state, ``INFEASIBLE``. The Vizier worker writes the cause as a
prefix of ``infeasible_reason`` (``failed: exit code 1``, ``infeasible: loss is nan``,
``stopped: ...``) so the counts tell a crashed trial from a truly infeasible one; trials
Vertex itself marks infeasible count as infeasible.
"""

from __future__ import annotations

from google.cloud.aiplatform_v1.types import Trial

from pipetune.backends.vertex.study_spec import measurement_values, trial_params
from pipetune.results import TrialRecord
from pipetune.spec import TuningSpec

STOP_CLIENT_ID = "pipetune-stop"  # the marker trial `stop` leaves in a Vizier study
_PREFIXES = ("failed", "infeasible", "stopped")


def is_marker(trial: Trial) -> bool:
    """Whether ``trial`` is the marker trial ``stop`` leaves in a Vizier study (not a trial
    of the job)."""
    return trial.client_id == STOP_CLIENT_ID


def record(spec: TuningSpec, trial: Trial, artifacts: str | None = None) -> TrialRecord:
    """The Vertex ``trial`` as a :class:`~pipetune.results.TrialRecord`, parameters typed by
    ``spec``.

    The state comes from the cause the Vizier worker wrote in ``infeasible_reason``
    (``failed``, ``infeasible``; ``stopped`` counts as failed); any other infeasible trial
    is ``infeasible``, an unfinished one ``running``. Metrics are read only from a complete
    trial's final measurement; ``intermediate`` maps each measurement's step to its
    primary-metric value.

    Args:
        spec: The job's spec.
        trial: The Vertex trial.
        artifacts: Where the trial's outputs are, when known.
    """
    state, reason = _state(trial)
    metrics = measurement_values(trial.final_measurement) if state == "complete" else {}
    values = [metrics[o.metric] for o in spec.objectives] if all(
        o.metric in metrics for o in spec.objectives) and metrics else None
    primary = spec.primary.metric
    intermediate = {int(m.step_count): v for m in trial.measurements
                    for k, v in measurement_values(m).items() if k == primary}
    start = trial.start_time if "start_time" in trial else None
    end = trial.end_time if "end_time" in trial else None
    return TrialRecord(
        id=trial.id, number=int(trial.id) if trial.id.isdigit() else 0, state=state,
        params=trial_params(spec, trial), metrics=metrics, values=values, reason=reason,
        artifacts=artifacts,
        started_at=start.isoformat() if start else None,
        finished_at=end.isoformat() if end else None,
        duration_seconds=(end - start).total_seconds() if start and end else None,
        intermediate=intermediate,
    )


def _state(trial: Trial) -> tuple[str, str | None]:
    s = trial.state
    if s == Trial.State.SUCCEEDED and not trial.infeasible_reason:
        return "complete", None
    if s in (Trial.State.SUCCEEDED, Trial.State.INFEASIBLE):
        reason = trial.infeasible_reason or None
        head, sep, tail = (reason or "").partition(": ")
        if sep and head in _PREFIXES:
            return ("failed" if head == "stopped" else head), reason
        return "infeasible", reason
    return "running", None
