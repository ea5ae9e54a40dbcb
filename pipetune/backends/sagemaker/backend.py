"""SageMaker Automatic Model Tuning behind the :class:`~pipetune.backends.base.Backend` interface.

Example (needs AWS credentials)::

    import boto3
    from pipetune import load_spec

    backend = SageMakerBackend(session=boto3.Session(region_name="us-east-1"))
    ref = backend.launch(load_spec("spec.yaml"), "nightly-xgb")
    backend.wait(ref)
    print(backend.best(ref).params)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import threading
from typing import Any, Callable, Iterator

from pipetune import warm_start
from pipetune.backends.base import Backend, TrainingOutcome
from pipetune.backends.sagemaker import source, training, translate
from pipetune.backends.sagemaker.checks import validated_options
from pipetune.backends.sagemaker.cost import total_cost, warm_pool_settled
from pipetune.backends.sagemaker.naming import tuning_job_name, verification_job_name
from pipetune.backends.sagemaker.options import SageMakerOptions
from pipetune.backends.sagemaker.polling import NOT_FOUND, error_code, polled
from pipetune.backends.sagemaker.session import (
    aws_client,
    default_session,
    frozen_credentials,
    require_aws,
)
from pipetune.errors import JobConflict, JobFailed, JobNotFound, SpecError, UsageError
from pipetune.extras import require
from pipetune.job import JobRef, JobState, JobStatus, TrialCounts
from pipetune.results import BestResult, TrialRecord, cast_params
from pipetune.secrets import redact_spec_dict
from pipetune.spec import TuningSpec, load_spec
from pipetune.trials.contracts import render_value

STATES = {
    "InProgress": JobState.RUNNING,
    "Completed": JobState.COMPLETED,
    "Failed": JobState.FAILED,
    "Stopping": JobState.STOPPING,
    "Stopped": JobState.STOPPED,
    "Deleting": JobState.FAILED,
    "DeleteFailed": JobState.FAILED,
}


def _not_found(exc: Exception) -> bool:
    # DescribeHyperParameterTuningJob answers a missing job with ResourceNotFound.
    return error_code(exc) in NOT_FOUND or "could not find" in str(exc).lower()


class SageMakerBackend(Backend):
    """Launch and follow SageMaker AMT jobs.

    Args:
        session: a ``boto3.Session`` (e.g. built from an Airflow AWS connection); default
            the standard credential chain.
        region: default region when neither the spec (``sagemaker.region``) nor the job
            handle says one.
        endpoint_url: another SageMaker endpoint (VPC endpoint, or a local moto server).
        client: a ready ``sagemaker`` boto3 client; used as is (tests pass a Stubber's).

    Needs the ``aws`` extra (boto3): without it the constructor raises
    :class:`~pipetune.errors.MissingExtra`. Credentials are checked when the first client is
    built (:mod:`.session`): none found is a :class:`~pipetune.errors.CredentialsError`.
    """

    name = "sagemaker"
    credentials = "aws"
    console_label = "SageMaker Tuning Job"
    enforced_guards = frozenset({"max_trials", "timeout"})  # ResourceLimits

    def __init__(self, session: Any = None, region: str | None = None,
                 endpoint_url: str | None = None, client: Any = None):
        require_aws()
        self._session = session
        self._region = region
        self._endpoint_url = endpoint_url
        self._client = client
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()  # boto3 sessions are not thread-safe
        self._training_cache: dict[str, dict[str, Any]] = {}

    # ---- clients ---------------------------------------------------------------------------
    def _default_region(self) -> str | None:
        if self._region:
            return self._region
        if self._client is not None:
            return self._client.meta.region_name
        return default_session(self._session).region_name

    def _resolve_region(self, opts: SageMakerOptions | None = None, ref: JobRef | None = None) -> str:
        region = (ref.extra.get("region") if ref else None) or (opts.region if opts else None) \
            or self._default_region()
        if not region:
            raise SpecError("no AWS region: set sagemaker.region in the spec, AWS_DEFAULT_REGION, "
                            "or pass region= to SageMakerBackend", field="sagemaker.region")
        return region

    def client(self, region: str) -> Any:
        """The boto3 ``sagemaker`` client for ``region`` (retries throttling adaptively)."""
        if self._client is not None:
            return self._client
        with self._clients_lock:  # verification calls it from several threads
            if region not in self._clients:
                from botocore.config import Config

                self._clients[region] = self.aws_client(
                    "sagemaker", region, endpoint_url=self._endpoint_url,
                    config=Config(retries={"mode": "adaptive", "max_attempts": 10},
                                  user_agent_extra="pipetune"))
            return self._clients[region]

    def aws_client(self, service: str, region: str, *, endpoint_url: str | None = None,
                   config: Any = None) -> Any:
        """A boto3 client of another service (CloudWatch, S3...) on this backend's session,
        its credentials checked first (:func:`.session.aws_client`)."""
        if self._session is None:  # one default session: its credentials are resolved once
            self._session = default_session()
        return aws_client(self._session, service, region=region, endpoint_url=endpoint_url,
                          config=config)

    def _upload_sources(self, spec: TuningSpec, opts: SageMakerOptions, region: str) -> None:
        """Pack and upload each local ``source_dir`` (as the SageMaker SDK does) before the
        job that runs it is created."""
        dirs = [opts.source_dir, *(d.source_dir for d in opts.definitions)]
        if any(source.is_local(d) for d in dirs):
            s3 = self.aws_client("s3", region, endpoint_url=self._endpoint_url)
            source.upload(s3, spec, opts.output_path, dirs)

    def _client_for(self, ref: JobRef) -> Any:
        return self.client(self._resolve_region(ref=ref))

    # ---- validation and launch ---------------------------------------------------------------
    def validate(self, spec: TuningSpec) -> None:
        """Everything AMT would refuse, refused here, before any call."""
        validated_options(spec)

    def job_name(self, spec: TuningSpec, name: str) -> str:
        """The deterministic tuning job name for the user's ``name``."""
        opts = validated_options(spec)
        return opts.job_name or tuning_job_name(name)

    def ref(self, job_name: str, *, region: str | None = None, spec: TuningSpec | None = None,
            user_name: str | None = None, arn: str | None = None) -> JobRef:
        """A handle on an existing tuning job (launched by pipetune or not)."""
        extra: dict[str, Any] = {"region": region or self._resolve_region()}
        if arn:
            extra["arn"] = arn
        if spec is not None:
            extra["spec"] = redact_spec_dict(spec.to_dict())  # no secret in a handle
        return JobRef(backend="sagemaker", id=job_name, name=user_name or job_name, extra=extra)

    def request(self, spec: TuningSpec, name: str) -> dict[str, Any]:
        """The ``CreateHyperParameterTuningJob`` request ``launch`` would send (a dry run)."""
        opts = validated_options(spec)
        return translate.build_request(spec, opts, opts.job_name or tuning_job_name(name), name)

    def launch(self, spec: TuningSpec, name: str, *, detach: bool = True) -> JobRef:
        """Create the tuning job, or attach to it when it exists with the same spec."""
        opts = validated_options(spec)
        job_name = opts.job_name or tuning_job_name(name)
        region = self._resolve_region(opts)
        request = translate.build_request(spec, opts, job_name, name)
        client = self.client(region)
        existing = self._describe_or_none(client, job_name)
        if existing is None:
            self._check_warm_start(client, spec, request)
            self._upload_sources(spec, opts, region)
            try:
                arn = client.create_hyper_parameter_tuning_job(**request)["HyperParameterTuningJobArn"]
            except Exception as exc:
                if error_code(exc) != "ResourceInUse":
                    raise
                existing = self._describe_or_none(client, job_name)  # lost a race: attach
                if existing is None:
                    raise
        if existing is not None:
            self._check_same_spec(client, existing, spec, name)
            arn = existing["HyperParameterTuningJobArn"]
        ref = self.ref(job_name, region=region, spec=spec, user_name=name, arn=arn)
        if not detach:
            self.wait(ref)
        return ref

    def _describe_or_none(self, client: Any, job_name: str) -> dict[str, Any] | None:
        try:
            return client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=job_name)
        except Exception as exc:
            if _not_found(exc):
                return None
            raise

    def _check_same_spec(self, client: Any, desc: dict[str, Any], spec: TuningSpec, name: str) -> None:
        tags = client.list_tags(ResourceArn=desc["HyperParameterTuningJobArn"]).get("Tags", [])
        found = {t["Key"]: t.get("Value") for t in tags}.get(translate.TAG_FINGERPRINT)
        job = desc["HyperParameterTuningJobName"]
        if found is None:
            raise JobConflict(f"a SageMaker tuning job named {job!r} exists but was not launched by "
                              f"pipetune; choose another name than {name!r}")
        if found != spec.fingerprint():
            raise JobConflict(f"a SageMaker tuning job named {job!r} already exists with a different "
                              f"spec (fingerprint {found}, this spec {spec.fingerprint()}); choose "
                              "another name to start a new job")

    def _check_warm_start(self, client: Any, spec: TuningSpec, request: dict[str, Any]) -> None:
        """AMT's warm-start rules (:mod:`pipetune.warm_start`: same names, tunable plus
        static; kinds kept; static <-> tunable moves within the change budget; the same
        objective), checked against each parent here so the message can say what differs."""
        if spec.warm_start is None:
            return
        mine, objective = translate.warm_start_view(request)
        for i, parent in enumerate(request["WarmStartConfig"]["ParentHyperParameterTuningJobs"]):
            field = f"warm_start.parents[{i}]"
            pname = parent["HyperParameterTuningJobName"]
            desc = self._describe_or_none(client, pname)
            if desc is None:
                raise SpecError(f"no SageMaker tuning job named {pname!r} to warm-start from",
                                field=field)
            theirs, their_objective = translate.warm_start_view(desc)
            problems = warm_start.amt_problems(mine, theirs, objective, their_objective)
            if problems:
                raise SpecError(f"parent {pname!r}: {'; '.join(problems)}", field=field)

    # ---- one training job (verification of proxy tuning) ---------------------------------------
    #: a training job reads its data from S3 only
    data_schemes: tuple[str, ...] = ("s3://",)

    def check_training(self, spec: TuningSpec) -> None:
        """Refuse, before any call, a spec one training job cannot run (SpecError)."""
        training.check(spec)

    def training_name(self, spec: TuningSpec, name: str, rank: int, params: dict[str, Any]) -> str:
        """The deterministic training job name verifying configuration ``rank`` of run
        ``name``: ``<tuning job>-v<rank>-<hash of spec fingerprint and params>`` (<= 63)."""
        key = json.dumps({"spec": spec.fingerprint(),
                          "params": {k: render_value(v) for k, v in params.items()}},
                         sort_keys=True)
        return verification_job_name(self.job_name(spec, name), rank, key)

    def training_request(self, spec: TuningSpec, params: dict[str, Any],
                         job_name: str) -> dict[str, Any]:
        """The ``CreateTrainingJob`` request ``run_training`` would send (a dry run)."""
        return training.request(spec, training.check(spec), params, job_name)

    def run_training(self, spec: TuningSpec, params: dict[str, Any], job_name: str, *,
                     poll_seconds: float = 30.0, timeout: float | None = None) -> TrainingOutcome:
        """Run ``params`` (tuned values; the spec's static ones are added) as the training job
        ``job_name`` with the tuning job's training definition, or attach to it when it
        exists, and wait for its end. The objective comes from ``FinalMetricDataList``."""
        opts = training.check(spec)
        body = training.request(spec, opts, params, job_name)
        region = self._resolve_region(opts)
        client = self.client(region)
        self._upload_sources(spec, opts, region)
        return training.run(client, spec, body, poll_seconds=poll_seconds, timeout=timeout)

    # ---- status and waiting ------------------------------------------------------------------
    def status(self, ref: "JobRef | str") -> JobStatus:
        """The tuning job's state, training-job counts and best objective value, from one
        ``DescribeHyperParameterTuningJob``.

        ``Deleting`` and ``DeleteFailed`` count as failed; SageMaker's ``Stopped`` training
        jobs (early-stopped) count as pruned trials.

        Args:
            ref: The job's handle, or a tuning job's name in the backend's region.

        Raises:
            JobNotFound: SageMaker has no tuning job of that name in the region.
        """
        ref = self._as_ref(ref)
        return self._to_status(ref, self._describe(self._client_for(ref), ref))

    async def astatus(self, ref: "JobRef | str") -> JobStatus:
        """Status through aiobotocore, for deferrable waits (an event loop is never blocked)."""
        ref = self._as_ref(ref)
        if self._client is not None:  # an injected client is sync by nature
            return await asyncio.to_thread(self.status, ref)
        require("aiobotocore", feature="the SageMaker backend's deferrable wait", extra="aws")
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        region = self._resolve_region(ref=ref)
        session = self._session if self._session is not None else default_session()
        frozen = await asyncio.to_thread(frozen_credentials, session)
        kwargs = {"aws_access_key_id": frozen.access_key,
                  "aws_secret_access_key": frozen.secret_key,
                  "aws_session_token": frozen.token}
        config = AioConfig(retries={"mode": "adaptive", "max_attempts": 10})
        async with get_session().create_client("sagemaker", region_name=region,
                                               endpoint_url=self._endpoint_url, config=config,
                                               **kwargs) as client:
            try:
                desc = await client.describe_hyper_parameter_tuning_job(
                    HyperParameterTuningJobName=ref.id)
            except Exception as exc:
                if _not_found(exc):
                    raise JobNotFound(f"no SageMaker tuning job {ref.id!r} in {region}") from None
                raise
        return self._to_status(ref, desc)

    def _describe(self, client: Any, ref: JobRef) -> dict[str, Any]:
        desc = self._describe_or_none(client, ref.id)
        if desc is None:
            raise JobNotFound(f"no SageMaker tuning job {ref.id!r} in "
                              f"{self._resolve_region(ref=ref)}")
        return desc

    def _to_status(self, ref: JobRef, desc: dict[str, Any]) -> JobStatus:
        raw = desc["HyperParameterTuningJobStatus"]
        state = STATES.get(raw, JobState.RUNNING)
        reason = desc.get("FailureReason")
        if state == JobState.STOPPED:
            reason = reason or "stopped (StopHyperParameterTuningJob)"
        elif raw in ("Deleting", "DeleteFailed"):
            reason = f"the tuning job is {raw}"
        c = desc.get("TrainingJobStatusCounters") or {}
        counts = TrialCounts(
            running=c.get("InProgress", 0), complete=c.get("Completed", 0),
            failed=c.get("RetryableError", 0) + c.get("NonRetryableError", 0),
            pruned=c.get("Stopped", 0))
        best = (desc.get("BestTrainingJob") or {}).get("FinalHyperParameterTuningJobObjectiveMetric")
        created = desc.get("CreationTime")
        ended = desc.get("HyperParameterTuningEndTime")
        elapsed = None
        if created is not None:
            elapsed = ((ended or dt.datetime.now(tz=created.tzinfo)) - created).total_seconds()
        limits = desc["HyperParameterTuningJobConfig"].get("ResourceLimits") or {}
        return JobStatus(ref=ref, state=state, reason=reason, trials=counts,
                         max_trials=limits.get("MaxNumberOfTrainingJobs"),
                         best_value=best.get("Value") if best else None, elapsed_seconds=elapsed)

    def poll(self, ref: "JobRef | str", *, poll_seconds: float,
             timeout: float | None) -> Iterator[JobStatus]:
        """Statuses with SageMaker's backoff and jitter; throttling is retried."""
        ref = self._as_ref(ref)
        return polled(lambda: self.status(ref), poll_seconds=poll_seconds, timeout=timeout,
                      still=lambda st: f"job {ref.id!r} still {st.state.value}")

    def wait(self, ref: "JobRef | str", *, poll_seconds: float = 30.0, timeout: float | None = None,
             on_status: Callable[[JobStatus], None] | None = None) -> JobStatus:
        """Poll until the job ends (:meth:`poll`), with the guards: with
        ``budget.max_cost_usd`` the job is stopped once the cost estimate passes it.

        Completed returns; Failed raises JobFailed with SageMaker's FailureReason; Stopped
        raises JobStopped.
        """
        return super().wait(self._as_ref(ref), poll_seconds=poll_seconds, timeout=timeout,
                            on_status=on_status)

    def stop(self, ref: "JobRef | str") -> None:
        """Ask SageMaker to stop the tuning job (``StopHyperParameterTuningJob``); a no-op when
        the job has already ended.

        Args:
            ref: The job's handle, or a tuning job's name in the backend's region.

        Raises:
            JobNotFound: SageMaker has no tuning job of that name.
        """
        ref = self._as_ref(ref)
        client = self._client_for(ref)
        try:
            client.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=ref.id)
        except Exception as exc:
            if _not_found(exc):
                raise JobNotFound(f"no SageMaker tuning job {ref.id!r}") from None
            if error_code(exc) == "ValidationException" and self.status(ref).state.terminal:
                return  # already over: stopping is a no-op
            raise

    # ---- reading results ---------------------------------------------------------------------
    def _as_ref(self, ref: "JobRef | str") -> JobRef:
        if isinstance(ref, str):
            return self.ref(ref)
        if ref.backend != "sagemaker":
            raise UsageError(f"this is a {ref.backend!r} job handle, not a sagemaker one")
        return ref

    def spec_of(self, ref: "JobRef | str") -> TuningSpec:
        """The spec the job was launched with (from the handle), or one read back from
        SageMaker for a job pipetune did not launch (categorical values stay strings)."""
        ref = self._as_ref(ref)
        if ref.extra.get("spec"):
            return load_spec(ref.extra["spec"])
        return translate_back(self._describe(self._client_for(ref), ref))

    def _summaries(self, client: Any, job: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"HyperParameterTuningJobName": job, "MaxResults": 100,
                                  "SortBy": "CreationTime", "SortOrder": "Ascending"}
        while True:
            page = client.list_training_jobs_for_hyper_parameter_tuning_job(**kwargs)
            out.extend(page.get("TrainingJobSummaries", []))
            if not page.get("NextToken"):
                return out
            kwargs["NextToken"] = page["NextToken"]

    def trials(self, ref: "JobRef | str") -> list[TrialRecord]:
        """Every training job of the tuning job, oldest first, with typed hyperparameters."""
        ref = self._as_ref(ref)
        spec = self.spec_of(ref)
        output = _output_path(spec)
        records = []
        for number, s in enumerate(self._summaries(self._client_for(ref), ref.id)):
            records.append(_record(spec, number, s, output))
        return records

    def training_jobs(self, ref: "JobRef | str") -> list[dict[str, Any]]:
        """``DescribeTrainingJob`` of every training job (finished ones are cached)."""
        ref = self._as_ref(ref)
        client = self._client_for(ref)
        out = []
        for s in self._summaries(client, ref.id):
            name = s["TrainingJobName"]
            desc = self._training_cache.get(name)
            if desc is None:
                desc = client.describe_training_job(TrainingJobName=name)
                if desc.get("TrainingJobStatus") in training.TERMINAL and warm_pool_settled(desc):
                    self._training_cache[name] = desc  # its cost can no longer change
            out.append(desc)
        return out

    def cost(self, ref: "JobRef | str") -> float | None:
        """Estimated USD so far: billable seconds x instances x price per hour."""
        ref = self._as_ref(ref)
        prices = ((ref.extra.get("spec") or {}).get("sagemaker") or {}).get("prices") or {}
        return total_cost(self.training_jobs(ref), prices)

    def best(self, ref: "JobRef | str", *, with_cost: bool = True) -> BestResult:
        """``BestTrainingJob`` cast to the spec's types, with its model artifact URI."""
        ref = self._as_ref(ref)
        client = self._client_for(ref)
        spec = self.spec_of(ref)
        desc = self._describe(client, ref)
        best = desc.get("BestTrainingJob")
        if not best or not best.get("FinalHyperParameterTuningJobObjectiveMetric"):
            st = self._to_status(ref, desc)
            if st.state.terminal:
                raise JobFailed(ref.id, st.reason or "no training job finished with a value for "
                                f"{spec.primary.metric!r}")
            raise UsageError(f"job {ref.id!r} has no finished trial yet; wait for it first")
        name = best["TrainingJobName"]
        value = float(best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
        trials = self.trials(ref)
        number = next((t.number for t in trials if t.id == name), None)
        artifacts = client.describe_training_job(TrainingJobName=name).get(
            "ModelArtifacts", {}).get("S3ModelArtifacts")
        prices = (spec.sagemaker or {}).get("prices") or {}
        cost = total_cost(self.training_jobs(ref), prices) if with_cost else None
        counts = {s: sum(1 for t in trials if t.state == s)
                  for s in ("complete", "failed", "pruned", "infeasible")}
        return BestResult(
            job=ref.id, backend="sagemaker",
            params=active(spec, cast_params(spec, best.get("TunedHyperParameters") or {})),
            static=dict(spec.static), metrics={spec.primary.metric: value},
            objective=spec.primary.metric, goal=spec.primary.goal, value=value, trial=name,
            trial_number=number, artifacts=artifacts, trials_total=len(trials),
            trials_complete=counts["complete"], trials_failed=counts["failed"],
            trials_pruned=counts["pruned"], trials_infeasible=counts["infeasible"], cost_usd=cost,
        )


    # ---- the rest of the Backend contract ----------------------------------------------------
    def estimate_cost(self, ref: "JobRef | str", *, spec: TuningSpec | None = None,
                      trials: list[TrialRecord] | None = None):
        """Billable seconds of every training job x instances x the price per hour."""
        from pipetune.observability.cost import sagemaker_cost

        ref = self._as_ref(ref)
        return sagemaker_cost(spec or self.spec_of(ref), self.training_jobs(ref))

    @classmethod
    def console_url(cls, ref: JobRef) -> str | None:
        """The tuning job's page in the AWS console."""
        def get(key: str) -> str:
            return str(ref.extra.get(key) or (ref.model_extra or {}).get(key) or "")

        m = _CONSOLE_ARN.match(ref.id) or _CONSOLE_ARN.match(get("arn"))
        region = (m and m["region"]) or get("region")
        if not region:
            return None
        return CONSOLE_URL.format(region=region, name=(m and m["name"]) or ref.id)

    @classmethod
    def with_run_settings(cls, spec: TuningSpec, *, identity: str = "",
                          output_location: str = "") -> TuningSpec:
        """``identity`` as ``sagemaker.role_arn``, ``output_location`` as
        ``sagemaker.output_path``."""
        extra = {k: v for k, v in (("role_arn", identity), ("output_path", output_location)) if v}
        return spec.with_overrides(sagemaker={**(spec.sagemaker or {}), **extra}) if extra else spec


CONSOLE_URL = ("https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
               "#/hyper-tuning-jobs/{name}")
_CONSOLE_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):\d*:"
                          r"hyper-parameter-tuning-job/(?P<name>.+)$")


def _output_path(spec: TuningSpec) -> str | None:
    return (spec.sagemaker or {}).get("output_path")


def active(spec: TuningSpec, params: dict[str, Any]) -> dict[str, Any]:
    """Drop flattened conditional parameters whose condition does not hold."""
    out = dict(params)
    for p in spec.parameters:
        if p.condition is not None and p.name in out:
            if p.condition.parent not in out or out[p.condition.parent] not in p.condition.values:
                out.pop(p.name)
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _record(spec: TuningSpec, number: int, s: dict[str, Any], output: str | None) -> TrialRecord:
    status = s.get("TrainingJobStatus")
    metric = s.get("FinalHyperParameterTuningJobObjectiveMetric")
    metrics = {spec.primary.metric: float(metric["Value"])} if metric else {}
    if status == "Completed":
        state = "complete" if metrics and s.get("ObjectiveStatus") != "Failed" else "failed"
    elif status == "InProgress":
        state = "running"
    elif status == "Stopped":
        state = "pruned"  # stopped early by AMT (or with the whole job)
    else:
        state = "failed"
    reason = s.get("FailureReason")
    if state == "failed" and status == "Completed" and not reason:
        reason = f"the training log had no match for the regex of {spec.primary.metric!r}"
    start, end = s.get("TrainingStartTime"), s.get("TrainingEndTime")
    name = s["TrainingJobName"]
    return TrialRecord(
        id=name, number=number, state=state,
        params=active(spec, cast_params(spec, s.get("TunedHyperParameters") or {})),
        metrics=metrics, values=[metrics[spec.primary.metric]] if metrics else None, reason=reason,
        artifacts=f"{output.rstrip('/')}/{name}/output/model.tar.gz" if output and state == "complete" else None,
        started_at=_iso(start), finished_at=_iso(end),
        duration_seconds=(end - start).total_seconds() if start and end else None,
    )


def translate_back(desc: dict[str, Any]) -> TuningSpec:
    """A spec describing a tuning job from its ``DescribeHyperParameterTuningJob`` answer."""
    config = desc["HyperParameterTuningJobConfig"]
    definition = desc.get("TrainingJobDefinition") or (desc.get("TrainingJobDefinitions") or [{}])[0]
    ranges = config.get("ParameterRanges") or definition.get("HyperParameterRanges") or {}
    objective = config.get("HyperParameterTuningJobObjective") or definition.get("TuningObjective")
    params: list[dict[str, Any]] = []
    for r in ranges.get("IntegerParameterRanges") or []:
        params.append({"name": r["Name"], "type": "integer", "min": int(r["MinValue"]),
                       "max": int(r["MaxValue"])})
    for r in ranges.get("ContinuousParameterRanges") or []:
        params.append({"name": r["Name"], "type": "continuous", "min": float(r["MinValue"]),
                       "max": float(r["MaxValue"])})
    for r in ranges.get("CategoricalParameterRanges") or []:
        params.append({"name": r["Name"], "type": "categorical", "values": list(r["Values"])})
    metric = objective["MetricName"]
    regexes = [m["Regex"] for m in (definition.get("AlgorithmSpecification") or {}).get(
        "MetricDefinitions") or [] if m["Name"] == metric]
    return load_spec({
        "name": desc["HyperParameterTuningJobName"], "backend": "sagemaker", "parameters": params,
        "objectives": [{"metric": metric, "goal": objective["Type"].lower()}],
        # a built-in algorithm defines its metrics itself: a stand-in regex keeps the spec valid
        "metrics": [{"name": metric, "regex": regexes[0] if regexes else f"{metric}=(\\S+)"}],
        "trial": {"command": ["sagemaker-training-job"], "metric_source": "regex"},
    })
