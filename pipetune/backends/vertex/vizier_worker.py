"""Mode 2: Vizier is the brain, this process is the muscle.

A worker loops: ask Vizier for a trial (``SuggestTrials`` with its client id), run it with
the same trial runner and contracts as the local engine, add each intermediate value as a
measurement and ask ``CheckTrialEarlyStoppingState`` (stopping the trial's process when
told), then ``CompleteTrial`` with the final measurement, or as infeasible with the reason.
It ends when the spec's budget is spent (see :mod:`~pipetune.backends.vertex.progress`).
Any number of workers, on any machines, can serve one study.

Vizier hands the same active trial back to the same client id, so a worker restarted with
its ``worker_id`` (e.g. an Airflow retry of the same mapped task) resumes its trial.

Example (``pipetune vertex-worker spec.yaml --name nightly`` does this)::

    backend = VertexBackend(project="my-proj", location="us-central1")
    ref = backend.launch(spec, "nightly")            # creates or finds the study
    run_worker(backend.vizier(ref), ref.id, spec, worker_id="w-0", trial_root=Path("trials"))
"""

from __future__ import annotations

import logging
import math
import socket
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from google.cloud.aiplatform_v1.services.vizier_service import VizierServiceClient
from google.cloud.aiplatform_v1.types import Trial

from pipetune.backends.vertex import progress
from pipetune.backends.vertex.clients import api_errors
from pipetune.backends.vertex.records import is_marker, record
from pipetune.backends.vertex.study_spec import measurement, trial_params
from pipetune.spec import TuningSpec
from pipetune.trials.runner import TrialOutcome, run_trial

log = logging.getLogger("pipetune.vertex.worker")
MAX_REASON = 500


@dataclass
class WorkerSummary:
    """What one Vizier worker did: the ids of the trials it ran, each one's outcome, and why
    it stopped asking for more."""
    worker_id: str
    trials: list[str] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)
    ended_because: str = ""


def default_worker_id() -> str:
    """This process's worker id, ``{hostname}-{pid}``: the Vizier ``client_id`` it asks
    suggestions under."""
    return f"{socket.gethostname()}-{os.getpid()}"


def run_worker(client: VizierServiceClient, study: str, spec: TuningSpec, *,
               worker_id: str | None = None, trial_root: Path, started: float | None = None,
               stop_poll_seconds: float = 2.0) -> WorkerSummary:
    """Serve ``study`` (its resource name) until the spec's budget is spent."""
    worker_id = worker_id or default_worker_id()
    summary = WorkerSummary(worker_id)
    while True:
        trials = _list(client, study)
        records = [record(spec, t) for t in trials if not is_marker(t)]
        stopped = any(is_marker(t) for t in trials)
        decided = progress.verdict(spec, records, stopped=stopped, started=started)
        mine_active = any(t.client_id == worker_id and t.state == Trial.State.ACTIVE for t in trials)
        if decided is not None:
            summary.ended_because = decided[1] or decided[0].value
            return summary
        if progress.budget_spent(spec, records, started) and not mine_active:
            summary.ended_because = "budget spent"
            return summary
        with api_errors(f"suggest trials for {study}"):
            response = client.suggest_trials(request={
                "parent": study, "suggestion_count": 1, "client_id": worker_id}).result()
        if not response.trials:
            summary.ended_because = "Vizier suggested no more trials"
            return summary
        trial = response.trials[0]
        if not _within_budget(client, study, spec, trial):
            with api_errors(f"delete surplus trial {trial.name}"):
                client.delete_trial(name=trial.name)
            summary.ended_because = "budget spent"
            return summary
        outcome = _run_one(client, spec, trial, trial_root, stop_poll_seconds)
        summary.trials.append(trial.id)
        summary.outcomes[trial.id] = outcome
        log.info("trial %s: %s", trial.id, outcome)


def _list(client: VizierServiceClient, study: str) -> list[Trial]:
    with api_errors(f"list trials of {study}"):
        return list(client.list_trials(parent=study))


def _within_budget(client: VizierServiceClient, study: str, spec: TuningSpec, trial: Trial) -> bool:
    """Workers race for the last trials; the first ``max_trials`` by id win, the rest go."""
    ids = sorted(int(t.id) for t in _list(client, study) if not is_marker(t) and t.id.isdigit())
    return int(trial.id) in ids[:spec.budget.max_trials]


def _run_one(client: VizierServiceClient, spec: TuningSpec, trial: Trial, trial_root: Path,
             stop_poll_seconds: float) -> str:
    params = {**spec.static, **trial_params(spec, trial)}
    early = _stopping_enabled(client, trial)
    pruned: list[bool] = []
    last_poll = [0.0]
    started = time.monotonic()

    def report(step: int, value: float) -> bool:
        if not math.isfinite(value):
            return False
        with api_errors(f"add a measurement to {trial.name}"):
            client.add_trial_measurement(request={
                "trial_name": trial.name,
                "measurement": measurement({spec.primary.metric: value}, step,
                                           time.monotonic() - started)})
            if early and client.check_trial_early_stopping_state(
                    request={"trial_name": trial.name}).result().should_stop:
                pruned.append(True)
                return True
        return False

    def stop_requested() -> bool:
        if pruned or time.monotonic() - last_poll[0] < stop_poll_seconds:
            return False
        last_poll[0] = time.monotonic()
        with api_errors(f"read {trial.name}"):
            return client.get_trial(name=trial.name).state == Trial.State.STOPPING

    outcome = run_trial(spec, params, number=int(trial.id),
                        trial_dir=trial_root / f"trial-{trial.id}", report=report,
                        stop_requested=stop_requested)
    _complete(client, spec, trial, outcome, time.monotonic() - started)
    return outcome.state


def _stopping_enabled(client: VizierServiceClient, trial: Trial) -> bool:
    study_name = trial.name.rsplit("/trials/", 1)[0]
    with api_errors(f"read {study_name}"):
        ss = client.get_study(name=study_name).study_spec
    return "median_automated_stopping_spec" in ss or "decay_curve_stopping_spec" in ss \
        or "convex_automated_stopping_spec" in ss


def _complete(client: VizierServiceClient, spec: TuningSpec, trial: Trial,
              outcome: TrialOutcome, elapsed: float) -> None:
    objective_names = [o.metric for o in spec.objectives]
    request: dict = {"name": trial.name}
    if outcome.state == "complete":
        request["final_measurement"] = measurement(
            {k: v for k, v in outcome.metrics.items() if k in objective_names},
            outcome.step, elapsed)
    elif outcome.state == "pruned" and outcome.intermediate:
        # Vizier's rule for a stopped trial: complete it with its last measurement.
        step, value = outcome.intermediate[-1]
        request["final_measurement"] = measurement({spec.primary.metric: value}, step, elapsed)
    else:
        state = "failed" if outcome.state == "pruned" else outcome.state
        reason = outcome.reason or state
        if not reason.startswith(f"{state}:") and not reason.startswith("stopped"):
            reason = f"{state}: {reason}"
        request.update(trial_infeasible=True, infeasible_reason=reason[:MAX_REASON])
    with api_errors(f"complete {trial.name}"):
        client.complete_trial(request=request)
