"""The Vertex AI backend behind the :class:`~pipetune.backends.base.Backend` interface.

Two modes, chosen by ``vertex.mode`` in the spec:

- ``hyperparameter_tuning_job`` (default): Vertex runs the trials (:mod:`.hp_job`).
- ``vizier``: a Vizier study is the brain, ``pipetune vertex-worker`` processes run the
  trials (:mod:`.vizier_worker`).

Example:
    >>> from pipetune import load_spec                                   # doctest: +SKIP
    >>> backend = VertexBackend(project="my-proj", location="us-central1")  # doctest: +SKIP
    >>> ref = backend.launch(load_spec("examples/vertex/spec.yaml"), "nightly")  # doctest: +SKIP
    >>> backend.wait(ref); backend.best(ref).params                      # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud.aiplatform_v1.types import HyperparameterTuningJob, JobState as VJobState, Study

from pipetune.backends.base import Backend
from pipetune.backends.vertex import cost, hp_job, progress, study_spec
from pipetune.backends.vertex.clients import (
    api_errors,
    job_async_client,
    job_client,
    resolve_credentials,
    vizier_client,
)
from pipetune.backends.vertex.options import MAX_DISPLAY_NAME, VertexOptions, parse_options
from pipetune.backends.vertex.records import STOP_CLIENT_ID, is_marker, record
from pipetune.errors import JobConflict, SpecError, UsageError
from pipetune.job import JobRef, JobState, JobStatus, TrialCounts
from pipetune.results import BestResult, TrialRecord, build_best, cast_value
from pipetune.secrets import redact_spec_dict
from pipetune.spec import TuningSpec, load_spec
from pipetune.warm_start import Transfer

log = logging.getLogger(__name__)

#: the environment variable naming the Vertex AI API endpoint (host:port)
ENDPOINT_ENV = "PIPETUNE_VERTEX_ENDPOINT"
MODE_HP_JOB = "hyperparameter_tuning_job"
MODE_VIZIER = "vizier"

_JOB_STATES = {
    VJobState.JOB_STATE_QUEUED: JobState.PENDING, VJobState.JOB_STATE_PENDING: JobState.PENDING,
    VJobState.JOB_STATE_RUNNING: JobState.RUNNING, VJobState.JOB_STATE_UPDATING: JobState.RUNNING,
    VJobState.JOB_STATE_PAUSED: JobState.RUNNING, VJobState.JOB_STATE_CANCELLING: JobState.STOPPING,
    VJobState.JOB_STATE_SUCCEEDED: JobState.COMPLETED,
    VJobState.JOB_STATE_PARTIALLY_SUCCEEDED: JobState.COMPLETED,
    VJobState.JOB_STATE_FAILED: JobState.FAILED, VJobState.JOB_STATE_EXPIRED: JobState.FAILED,
    VJobState.JOB_STATE_CANCELLED: JobState.STOPPED,
}


def _fits(spec: TuningSpec, params, given: int) -> bool:
    """A parent trial's parameters are exactly this spec's (the active ones) and each value
    lies in this spec's range."""
    if given != len(params):
        return False  # the parent tuned parameters this spec does not
    values = {}
    for tp in params:
        param = spec.parameter(tp.parameter_id)
        try:
            values[param.name] = cast_value(param, tp.value)
        except ValueError:
            return False
        v = values[param.name]
        if hasattr(param, "min") and not param.min <= v <= param.max:
            return False
    roots = [p.name for p in spec.parameters if p.condition is None]
    return all(r in values for r in roots)


class VertexBackend(Backend):
    """Vertex AI: ``HyperparameterTuningJob`` or a Vizier study served by your workers.

    ``credentials`` default to Application Default Credentials; ``api_endpoint`` defaults to
    ``$PIPETUNE_VERTEX_ENDPOINT``, else the regional endpoint
    ``{location}-aiplatform.googleapis.com`` (so every CLI command reaches a Private Service
    Connect endpoint or a test server, as ``AWS_ENDPOINT_URL`` does for SageMaker).
    """

    name = "vertex"
    credentials = "gcp"
    console_label = "Vertex AI Tuning Job"
    # a tuning job: max_trial_count, max_failed_trial_count (it refuses budget.timeout); a
    # study: its status applies the same rules and budget.timeout (progress.verdict)
    enforced_guards = frozenset({"max_trials", "max_failed", "timeout"})

    def __init__(self, project: str | None = None, location: str | None = None,
                 credentials: Any = None, api_endpoint: str | None = None):
        self.project = project
        self.location = location
        self.credentials = credentials
        self.api_endpoint = api_endpoint or os.environ.get(ENDPOINT_ENV) or None
        self._clients: dict[tuple[str, str], Any] = {}
        self._resolved_credentials: Any = None

    # ---- clients ------------------------------------------------------------------------
    def jobs(self, location: str):
        """The ``JobServiceClient`` for ``location``, made once per location and kept."""
        return self._client("job", location, job_client)

    def vizier(self, ref_or_location: "JobRef | str"):
        """The ``VizierServiceClient`` for a location, or for the location a handle records;
        made once per location and kept."""
        location = (ref_or_location.extra["location"] if isinstance(ref_or_location, JobRef)
                    else ref_or_location)
        return self._client("vizier", location, vizier_client)

    def _client(self, kind: str, location: str, factory):
        key = (kind, location)
        if key not in self._clients:
            self._clients[key] = factory(location, self._credentials(), self.api_endpoint)
        return self._clients[key]

    def _credentials(self) -> Any:
        """The credentials given, else Application Default Credentials, found once."""
        if self._resolved_credentials is None:
            self._resolved_credentials = resolve_credentials(self.credentials)
        return self._resolved_credentials

    # ---- validation ---------------------------------------------------------------------
    def options(self, spec: TuningSpec) -> VertexOptions:
        """The spec's validated ``vertex:`` section, this backend's project and location filling
        what it leaves out.

        Raises:
            SpecError: the section is invalid.
        """
        return parse_options(spec.vertex, project=self.project, location=self.location)

    def validate(self, spec: TuningSpec, name: str | None = None) -> None:
        """Refuse, before any call to Vertex AI, a spec (and a job name) Vertex cannot run.

        Args:
            spec: The tuning spec.
            name: The job's name, checked as a Vertex display name when given.

        Raises:
            SpecError: naming each field Vertex cannot take and what would be valid.
        """
        opts = self.options(spec)
        study_spec.check(spec, opts)
        if opts.mode == MODE_HP_JOB:
            hp_job.check(spec, opts)
        if name is not None:
            check_display_name(name)

    # ---- launch -------------------------------------------------------------------------
    def launch(self, spec: TuningSpec, name: str, *, detach: bool = True,
               trial_root: Path | None = None) -> JobRef:
        """Create the job or study ``name``, or attach to it. ``detach=False`` waits for a
        tuning job, and runs a Vizier worker here until the budget is spent."""
        self.validate(spec, name)
        opts = self.options(spec)
        if opts.mode == MODE_HP_JOB:
            ref = self._launch_hp_job(spec, opts, name)
            if not detach:
                self.wait(ref)
            return ref
        ref = self._launch_study(spec, opts, name)
        if not detach:
            from pipetune.backends.vertex.vizier_worker import run_worker

            root = trial_root or Path(tempfile.mkdtemp(prefix=f"pipetune-{name}-"))
            run_worker(self.vizier(ref), ref.id, spec, trial_root=root,
                       started=ref.extra.get("created"))
        return ref

    def _ref(self, spec: TuningSpec, opts: VertexOptions, name: str, resource: str,
             created: float | None = None) -> JobRef:
        return JobRef(backend="vertex", id=resource, name=name, extra={
            "mode": opts.mode, "project": opts.project, "location": opts.location,
            "resource": resource, "fingerprint": spec.fingerprint(), "created": created,
            "spec": redact_spec_dict(spec.to_dict())})  # no secret in a handle

    def _launch_hp_job(self, spec: TuningSpec, opts: VertexOptions, name: str) -> JobRef:
        client = self.jobs(opts.location)
        parent = f"projects/{opts.project}/locations/{opts.location}"
        found = self._find_hp_job(client, parent, name)
        if found is not None:
            theirs = found.labels.get(hp_job.LABEL_FINGERPRINT)
            if theirs != spec.fingerprint():
                raise JobConflict(
                    f"a Vertex tuning job named {name!r} ({found.name}) exists with a "
                    f"different spec (fingerprint {theirs}, this spec {spec.fingerprint()}); "
                    "choose another name")
            return self._ref(spec, opts, name, found.name, found.create_time.timestamp())
        job = hp_job.build_hp_job(spec, opts, name)
        with api_errors(f"create tuning job {name!r}"):
            created = client.create_hyperparameter_tuning_job(
                parent=parent, hyperparameter_tuning_job=job)
        return self._ref(spec, opts, name, created.name, time.time())

    @staticmethod
    def _find_hp_job(client, parent: str, name: str) -> HyperparameterTuningJob | None:
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        filt = f'display_name="{escaped}" AND labels.{hp_job.LABEL_MANAGED}="true"'
        with api_errors(f"look up tuning job {name!r}"):
            for job in client.list_hyperparameter_tuning_jobs(
                    request={"parent": parent, "filter": filt}):
                # The filter is the server's business; never trust it to attach to a stranger.
                if job.display_name == name and job.labels.get(hp_job.LABEL_MANAGED) == "true":
                    return job
        return None

    def _launch_study(self, spec: TuningSpec, opts: VertexOptions, name: str) -> JobRef:
        client = self.vizier(opts.location)
        parent = f"projects/{opts.project}/locations/{opts.location}"
        wanted = study_spec.build_study_spec(spec, opts)
        warm = self._warm_start_trials(spec, opts, client, parent) if spec.warm_start else []
        study = self._lookup_study(client, parent, name)
        if study is None:
            try:
                with api_errors(f"create study {name!r}"):
                    study = client.create_study(parent=parent, study=Study(
                        display_name=name, study_spec=wanted))
            except Exception:
                study = self._lookup_study(client, parent, name)  # created by a racing launch
                if study is None:
                    raise
            else:
                for t in warm:
                    with api_errors(f"seed study {name!r}"):
                        client.create_trial(parent=study.name, trial=t)
        if Study.pb(study).study_spec != Study.pb(Study(study_spec=wanted)).study_spec:
            raise JobConflict(
                f"a Vizier study named {name!r} ({study.name}) exists with a different "
                "search space, metrics or algorithm; choose another name")
        return self._ref(spec, opts, name, study.name, study.create_time.timestamp())

    @staticmethod
    def _lookup_study(client, parent: str, name: str) -> Study | None:
        try:
            return client.lookup_study(request={"parent": parent, "display_name": name})
        except gexc.NotFound:
            return None

    def _warm_start_trials(self, spec, opts, client, parent):
        """The parents' succeeded trials that fit this spec's space; the others are left
        out and counted (logged), not dropped silently."""
        from google.cloud.aiplatform_v1.types import Trial

        out = []
        left_out: dict[str, int] = {}
        names = {p.name: p for p in spec.parameters}
        for i, parent_name in enumerate(spec.warm_start.parents):
            study = self._lookup_study(client, parent, parent_name)
            if study is None:
                raise SpecError(f"no Vizier study named {parent_name!r} in {parent} to "
                                "warm-start from", field=f"warm_start.parents[{i}]")
            with api_errors(f"list trials of {study.name}"):
                trials = list(client.list_trials(parent=study.name))
            left_out[parent_name] = 0
            for t in trials:
                if t.state != Trial.State.SUCCEEDED or t.infeasible_reason or is_marker(t):
                    continue
                params = [p for p in t.parameters if p.parameter_id in names]
                if not _fits(spec, params, len(t.parameters)):
                    left_out[parent_name] += 1  # other parameters, or outside the ranges
                    continue
                out.append(Trial(parameters=params, final_measurement=t.final_measurement))
        message = Transfer(left_out=left_out).message()
        if message:
            log.warning("%s", message)
        return out

    # ---- reading ------------------------------------------------------------------------
    @staticmethod
    def spec_of(ref: JobRef) -> TuningSpec:
        """The spec the job runs, from its handle.

        Raises:
            UsageError: the handle carries no spec (only the one ``launch`` returned does).
        """
        body = ref.extra.get("spec")
        if not body:
            raise UsageError(f"job ref {ref.name!r} carries no spec; use the ref launch returned")
        return load_spec(body)

    def _hp_job(self, ref: JobRef) -> HyperparameterTuningJob:
        with api_errors(f"tuning job {ref.name!r}"):
            return self.jobs(ref.extra["location"]).get_hyperparameter_tuning_job(name=ref.id)

    def _study_trials(self, ref: JobRef):
        with api_errors(f"trials of study {ref.name!r}"):
            return list(self.vizier(ref).list_trials(parent=ref.id))

    def status(self, ref: JobRef) -> JobStatus:
        """The job's state, trial counts and best value, from one read of Vertex AI.

        A tuning job's state is Vertex's; a Vizier study has none, so its state is the verdict
        of the spec's budget on its trials (:func:`pipetune.backends.vertex.progress.verdict`),
        the same one the workers reach.

        Raises:
            UsageError: the handle carries no spec.
            JobNotFound: Vertex AI has no such job or study.
            VertexAPIError: Vertex AI refused the call.
        """
        ref = JobRef.from_json(ref)
        spec = self.spec_of(ref)
        if ref.extra["mode"] == MODE_HP_JOB:
            return self._hp_status(ref, spec, self._hp_job(ref))
        return self._study_status(ref, spec, self._study_trials(ref))

    async def astatus(self, ref: JobRef) -> JobStatus:
        """Native async for tuning jobs; Vizier studies read in a thread."""
        ref = JobRef.from_json(ref)
        if ref.extra["mode"] != MODE_HP_JOB:
            return await super().astatus(ref)
        client = job_async_client(ref.extra["location"], self._credentials(), self.api_endpoint)
        with api_errors(f"tuning job {ref.name!r}"):
            job = await client.get_hyperparameter_tuning_job(name=ref.id)
        return self._hp_status(ref, self.spec_of(ref), job)

    def _hp_status(self, ref: JobRef, spec: TuningSpec, job: HyperparameterTuningJob) -> JobStatus:
        state = _JOB_STATES.get(job.state, JobState.PENDING)
        reason = None
        if state == JobState.FAILED:
            reason = job.error.message or f"Vertex job state {job.state.name}"
        elif state == JobState.STOPPED:
            reason = job.error.message or "cancelled"
        records = [record(spec, t) for t in job.trials]
        start = job.start_time if "start_time" in job else None
        end = job.end_time if "end_time" in job else None
        elapsed = ((end.timestamp() if end else time.time()) - start.timestamp()) if start else None
        return JobStatus(ref=ref, state=state, reason=reason, trials=progress.counts(records),
                         max_trials=job.max_trial_count, best_value=progress.best_value(spec, records),
                         elapsed_seconds=elapsed)

    def _study_status(self, ref: JobRef, spec: TuningSpec, trials) -> JobStatus:
        stopped = any(is_marker(t) for t in trials)
        records = [record(spec, t) for t in trials if not is_marker(t)]
        counts: TrialCounts = progress.counts(records)
        decided = progress.verdict(spec, records, stopped=stopped, started=ref.extra.get("created"))
        if decided is None:
            state, reason = (JobState.RUNNING if records else JobState.PENDING), None
        elif counts.running:
            state, reason = (JobState.STOPPING if stopped else JobState.RUNNING), None
        else:
            state, reason = decided
        created = ref.extra.get("created")
        return JobStatus(ref=ref, state=state, reason=reason, trials=counts,
                         max_trials=spec.budget.max_trials,
                         best_value=progress.best_value(spec, records),
                         elapsed_seconds=time.time() - created if created else None)

    def stop(self, ref: JobRef) -> None:
        """Cancel a tuning job; for a study, stop its active trials and leave a stop marker
        every worker obeys."""
        ref = JobRef.from_json(ref)
        if ref.extra["mode"] == MODE_HP_JOB:
            with api_errors(f"cancel tuning job {ref.name!r}"):
                self.jobs(ref.extra["location"]).cancel_hyperparameter_tuning_job(name=ref.id)
            return
        from google.cloud.aiplatform_v1.types import Trial

        client = self.vizier(ref)
        trials = self._study_trials(ref)
        if any(is_marker(t) for t in trials):
            return
        with api_errors(f"stop study {ref.name!r}"):
            for t in trials:
                if t.state in (Trial.State.ACTIVE, Trial.State.REQUESTED):
                    client.stop_trial(request={"name": t.name})
            marker = client.suggest_trials(request={
                "parent": ref.id, "suggestion_count": 1, "client_id": STOP_CLIENT_ID}).result()
            for t in marker.trials:
                client.complete_trial(request={"name": t.name, "trial_infeasible": True,
                                               "infeasible_reason": "stopped: stop requested"})

    def trials(self, ref: JobRef) -> list[TrialRecord]:
        """Every trial of the job, typed by the spec, in Vertex's order; a tuning job's trials
        carry their model directory as ``artifacts``, a study's stop marker is left out.

        Raises:
            UsageError: the handle carries no spec.
            JobNotFound: Vertex AI has no such job or study.
            VertexAPIError: Vertex AI refused the call.
        """
        ref = JobRef.from_json(ref)
        spec = self.spec_of(ref)
        if ref.extra["mode"] == MODE_HP_JOB:
            job = self._hp_job(ref)
            base = job.trial_job_spec.base_output_directory.output_uri_prefix
            return [record(spec, t, f"{base.rstrip('/')}/{t.id}/model" if base else None)
                    for t in job.trials]
        return [record(spec, t) for t in self._study_trials(ref) if not is_marker(t)]

    def best(self, ref: JobRef) -> BestResult:
        """The best trial, typed; with several objectives, the Pareto front."""
        ref = JobRef.from_json(ref)
        spec = self.spec_of(ref)
        opts = self.options(spec)
        records = self.trials(ref)
        seconds = [r.duration_seconds or 0.0 for r in records if r.state != "running"]
        result = build_best(spec, ref.name, "vertex", records, cost.estimate(opts, seconds))
        if spec.multi_objective and ref.extra["mode"] == MODE_VIZIER:
            with api_errors(f"optimal trials of {ref.name!r}"):
                optimal = self.vizier(ref).list_optimal_trials(request={"parent": ref.id})
            ids = {t.id for t in optimal.optimal_trials}
            result.pareto_front = [r for r in records if r.id in ids]
        return result

    # ---- the rest of the Backend contract -------------------------------------------------
    def estimate_cost(self, ref: JobRef, *, spec: TuningSpec | None = None,
                      trials: list[TrialRecord] | None = None):
        """Machine hours of every trial plus the per-trial fee (``vertex.prices``)."""
        from pipetune.observability.cost import vertex_cost

        ref = JobRef.from_json(ref)
        spec = spec or self.spec_of(ref)
        return vertex_cost(spec, trials if trials is not None else self.trials(ref),
                           self.options(spec))

    @classmethod
    def console_url(cls, ref: JobRef) -> str | None:
        """The tuning job's page in the Google Cloud console (None for a Vizier study)."""
        m = _CONSOLE_RESOURCE.match(ref.id) or _CONSOLE_RESOURCE.match(
            str(ref.extra.get("resource_name") or (ref.model_extra or {}).get("resource_name") or ""))
        if m:
            return CONSOLE_URL.format(**m.groupdict())
        project = ref.extra.get("project") or (ref.model_extra or {}).get("project")
        location = ref.extra.get("location") or (ref.model_extra or {}).get("location")
        if project and location and "/" not in ref.id:
            return CONSOLE_URL.format(project=project, location=location, job_id=ref.id)
        return None

    @classmethod
    def with_run_settings(cls, spec: TuningSpec, *, identity: str = "",
                          output_location: str = "") -> TuningSpec:
        """``identity`` as ``vertex.service_account``, ``output_location`` as
        ``vertex.base_output_directory``."""
        extra = {k: v for k, v in (("service_account", identity),
                                   ("base_output_directory", output_location)) if v}
        return spec.with_overrides(vertex={**(spec.vertex or {}), **extra}) if extra else spec

    def _vizier_mode(self, spec: TuningSpec) -> None:
        if self.options(spec).mode != MODE_VIZIER:
            raise SpecError("shared-study workers serve a Vizier study: set vertex.mode: vizier",
                            field="vertex.mode")

    def prepare_shared(self, spec: TuningSpec, name: str) -> JobRef:
        """The Vizier study (``vertex.mode: vizier``) the workers then serve."""
        self._vizier_mode(spec)
        return self.launch(spec, name, detach=True)

    def serve_shared(self, name: str, *, spec: TuningSpec | None = None,
                     trial_root: "str | Path | None" = None, storage_url: str | None = None):
        """Serve the prepared Vizier study ``name``: ask, run the spec's trial here, report,
        until the budget is spent."""
        from pipetune.backends.base import WorkerReport
        from pipetune.backends.vertex.vizier_worker import run_worker

        if spec is None:
            raise SpecError("a Vertex Vizier worker needs the spec", field="spec")
        self._vizier_mode(spec)
        ref = self.launch(spec, name, detach=True)  # attaches to the prepared study
        where = Path(trial_root) if trial_root else Path(tempfile.mkdtemp(prefix=f"pipetune-{name}-"))
        summary = run_worker(self.vizier(ref), ref.id, spec, trial_root=where,
                             started=ref.extra.get("created"))
        return WorkerReport(job=ref, worker=summary.worker_id, trials_run=len(summary.trials),
                            state=summary.ended_because)


CONSOLE_URL = ("https://console.cloud.google.com/vertex-ai/locations/{location}/training/"
               "{job_id}/cpu?project={project}")
_CONSOLE_RESOURCE = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/"
                               r"hyperparameterTuningJobs/(?P<job_id>[^/]+)$")


def check_display_name(name: str) -> None:
    """Refuse a job name Vertex AI cannot take as a display name.

    Raises:
        SpecError: ``name`` is empty, longer than 128 characters, or not printable.
    """
    if not name or len(name) > MAX_DISPLAY_NAME or not name.isprintable():
        raise SpecError(f"{name!r} cannot be a Vertex display name: 1 to {MAX_DISPLAY_NAME} "
                        "printable characters", field="name")
