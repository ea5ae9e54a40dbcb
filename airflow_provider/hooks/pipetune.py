"""PipetuneHook: builds a pipetune backend from an Airflow connection and holds every call.

Credentials come from the connections Airflow already has:

- ``sagemaker``: an ``aws`` connection (amazon provider) -> a boto3 session, its region
  and, when the connection sets one, its SageMaker endpoint URL;
- ``vertex``: a ``google_cloud_platform`` connection -> service-account credentials from
  its ``keyfile_dict`` or ``key_path`` extra (Application Default Credentials when empty)
  and its ``project``;
- ``local``: no connection.

Connection extras are never logged.

Example:
    >>> hook = PipetuneHook(backend="local")               # doctest: +SKIP
    >>> ref = hook.launch(load_spec("spec.yaml"), "nightly-tune")  # doctest: +SKIP
    >>> hook.status(ref).state                              # doctest: +SKIP
    <JobState.RUNNING: 'running'>
"""

from __future__ import annotations

import json
import time
from typing import Any

from airflow.sdk import BaseHook

from pipetune.backends import Backend, get_backend
from pipetune.errors import UsageError
from pipetune.job import JobRef, JobState, JobStatus
from pipetune.results import BestResult, TrialRecord
from pipetune.spec import TuningSpec

BACKENDS = ("local", "sagemaker", "vertex")
DEFAULT_CONN = {"local": None, "sagemaker": "aws_default", "vertex": "google_cloud_default"}
GCP_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


class PipetuneHook(BaseHook):
    """Talks to one pipetune backend.

    :param backend: ``local``, ``sagemaker`` or ``vertex``.
    :param conn_id: Airflow connection: ``aws`` type for SageMaker, ``google_cloud_platform``
        for Vertex; ignored for local. Default ``aws_default`` / ``google_cloud_default``;
        a missing default connection falls back to the SDK's default credential chain.
    :param backend_options: keyword arguments for the backend's constructor, e.g.
        ``{"root": "/data/pipetune"}`` (local), ``{"region": "eu-west-1"}`` (SageMaker),
        ``{"location": "europe-west4"}`` (Vertex). They win over the connection's values.
    """

    conn_name_attr = "conn_id"
    default_conn_name = "aws_default"
    hook_name = "pipetune"

    def __init__(
        self,
        backend: str = "local",
        conn_id: str | None = None,
        backend_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if backend not in BACKENDS:
            raise UsageError(f"backend: unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
        if backend_options is not None and not isinstance(backend_options, dict):
            raise UsageError(f"backend_options: must be a mapping, got {type(backend_options).__name__}")
        self.backend_name = backend
        self.conn_id = conn_id if conn_id is not None else DEFAULT_CONN[backend]
        self.backend_options = dict(backend_options or {})
        self._backend: Backend | None = None

    # ---- building the backend -------------------------------------------------------------
    def get_conn(self) -> Backend:
        """The backend object (cached)."""
        if self._backend is None:
            options = {**self._connection_options(), **self.backend_options}
            self._backend = get_backend(self.backend_name, **options)
        return self._backend

    get_backend = get_conn

    def _connection_options(self) -> dict[str, Any]:
        if self.backend_name == "sagemaker":
            return self._aws_options()
        if self.backend_name == "vertex":
            return self._gcp_options()
        return {}

    def _aws_options(self) -> dict[str, Any]:
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

        aws = AwsBaseHook(aws_conn_id=self.conn_id, client_type="sagemaker")
        options: dict[str, Any] = {"session": aws.get_session(region_name=aws.region_name)}
        if aws.region_name:
            options["region"] = aws.region_name
        endpoint = aws.conn_config.get_service_endpoint_url("sagemaker")
        if endpoint:
            options["endpoint_url"] = endpoint
        return options

    def _gcp_options(self) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowNotFoundException

        if not self.conn_id:
            return {}
        try:
            conn = self.get_connection(self.conn_id)
        except AirflowNotFoundException:
            if self.conn_id == DEFAULT_CONN["vertex"]:
                self.log.info("No connection %r: using Application Default Credentials", self.conn_id)
                return {}
            raise
        extras = conn.extra_dejson

        def extra(name: str) -> Any:  # the google provider accepts both spellings
            return extras.get(name) or extras.get(f"extra__google_cloud_platform__{name}")

        options: dict[str, Any] = {}
        if extra("project"):
            options["project"] = extra("project")
        keyfile, key_path = extra("keyfile_dict"), extra("key_path")
        if keyfile or key_path:
            from google.oauth2 import service_account

            if keyfile:
                info = json.loads(keyfile) if isinstance(keyfile, str) else keyfile
                creds = service_account.Credentials.from_service_account_info(info, scopes=GCP_SCOPES)
            else:
                creds = service_account.Credentials.from_service_account_file(key_path, scopes=GCP_SCOPES)
            options["credentials"] = creds
            options.setdefault("project", getattr(creds, "project_id", None))
        return {k: v for k, v in options.items() if v is not None}

    # ---- the calls operators, sensors and triggers make -----------------------------------
    def validate(self, spec: TuningSpec) -> None:
        """Backend-specific checks; no cloud call. Raises SpecError naming the field."""
        self.get_conn().validate(spec)

    def launch(self, spec: TuningSpec, name: str) -> JobRef:
        """Launch job ``name``, or attach to it if it exists with the same spec."""
        return self.get_conn().launch(spec, name, detach=True)

    def status(self, ref: JobRef) -> JobStatus:
        return self.get_conn().status(ref)

    async def astatus(self, ref: JobRef) -> JobStatus:
        return await self.get_conn().astatus(ref)

    def wait(self, ref: JobRef, *, poll_seconds: float, timeout: float | None = None) -> JobStatus:
        """Block until the job ends: Completed returns; Failed, Stopped and Interrupted raise
        ``JobFailed``/``JobStopped`` with the backend's reason (``check_outcome``). Polls every
        ``poll_seconds`` and logs the progress at each poll into the task log."""
        from pipetune.airflow.utils.outcome import check_outcome
        from pipetune.errors import WaitTimeout

        start = time.monotonic()
        while True:
            st = self.status(ref)
            if st.state.terminal or st.state == JobState.INTERRUPTED:
                check_outcome(st.state.value, st.reason, ref.name)
                return st
            if timeout is not None and time.monotonic() - start > timeout:
                raise WaitTimeout(f"tuning job {ref.name!r} still {st.state.value} after "
                                  f"{timeout:.0f}s; it goes on running")
            self.log.info("job %s: %s, %d/%s trials finished, best %s", ref.name, st.state.value,
                          st.trials.finished, st.max_trials, st.best_value)
            time.sleep(poll_seconds)

    def stop(self, ref: JobRef) -> None:
        self.get_conn().stop(ref)

    def best(self, ref: JobRef) -> BestResult:
        return self.get_conn().best(ref)

    def trials(self, ref: JobRef) -> list[TrialRecord]:
        return self.get_conn().trials(ref)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {"hidden_fields": [], "relabeling": {}}
