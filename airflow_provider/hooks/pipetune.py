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
from typing import Any, Callable

from airflow.sdk import BaseHook

from pipetune import runtime
from pipetune.backends import BACKEND_NAMES, Backend, backend_class
from pipetune.errors import UsageError
from pipetune.job import JobRef, JobStatus
from pipetune.results import BestResult, TrialRecord
from pipetune.spec import TuningSpec

BACKENDS = BACKEND_NAMES
#: the default Airflow connection for each kind of credentials a backend needs
DEFAULT_CONN = {"aws": "aws_default", "gcp": "google_cloud_default"}
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
        self.credentials = backend_class(backend).credentials  # "aws", "gcp" or None
        self.conn_id = conn_id if conn_id is not None else DEFAULT_CONN.get(self.credentials or "")
        self.backend_options = dict(backend_options or {})
        self._backend: Backend | None = None

    # ---- building the backend -------------------------------------------------------------
    def get_conn(self) -> Backend:
        """The backend object (cached)."""
        if self._backend is None:
            options = {**self._connection_options(), **self.backend_options}
            self._backend = runtime.backend_for(self.backend_name, options)
        return self._backend

    get_backend = get_conn

    def _connection_options(self) -> dict[str, Any]:
        """The backend's constructor options from the connection of its credentials' kind."""
        readers: dict[str, Callable[[], dict[str, Any]]] = {
            "aws": self._aws_options, "gcp": self._gcp_options}
        read = readers.get(self.credentials or "")
        return read() if read is not None else {}

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
            if self.conn_id == DEFAULT_CONN["gcp"]:
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
        return runtime.launch(spec, job_name=name, using=self.get_conn())

    def status(self, ref: JobRef) -> JobStatus:
        return self.get_conn().status(ref)

    async def astatus(self, ref: JobRef) -> JobStatus:
        return await self.get_conn().astatus(ref)

    def wait(self, ref: JobRef, *, poll_seconds: float, timeout: float | None = None,
             on_not_converging: str = "ignore") -> JobStatus:
        """Block until the job ends (:func:`pipetune.runtime.wait`): the guards on every
        poll, an interrupted local job resumed here; Completed returns, Failed and Stopped
        raise with the backend's reason."""
        return runtime.wait(ref, using=self.get_conn(), poll_seconds=poll_seconds,
                            timeout=timeout, on_not_converging=on_not_converging,
                            on_status=self._log_status)

    def settle(self, ref: JobRef, *, on_not_converging: str = "ignore") -> JobStatus:
        """One poll (:func:`pipetune.runtime.settle`): the status, an interrupted local job
        resumed in the background, the guards. ``.ended`` says whether it is over."""
        be = self.get_conn()
        st = runtime.settle(be, ref, be.status(ref), resume="detached",
                            on_not_converging=on_not_converging)
        if not st.ended:
            self._log_status(st)
        return st

    async def asettle(self, ref: JobRef, *, on_not_converging: str = "ignore") -> JobStatus:
        """:meth:`settle` for the triggerer's event loop."""
        st = await runtime.asettle(self.get_conn(), ref, on_not_converging=on_not_converging)
        if not st.ended:
            self._log_status(st)
        return st

    def _log_status(self, st: JobStatus) -> None:
        self.log.info("job %s: %s, %d/%s trials finished, best %s", st.ref.name, st.state.value,
                      st.trials.finished, st.max_trials, st.best_value)

    def stop(self, ref: JobRef) -> JobStatus:
        """Ask the job to stop unless it has ended (:func:`pipetune.runtime.stop`); returns
        the status read first (``.state.terminal``: it had ended, nothing was asked)."""
        return runtime.stop(ref, using=self.get_conn())

    def best(self, ref: JobRef) -> BestResult:
        """The typed best result (:func:`pipetune.runtime.best`)."""
        return runtime.best(ref, using=self.get_conn())

    def trials(self, ref: JobRef) -> list[TrialRecord]:
        return self.get_conn().trials(ref)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {"hidden_fields": [], "relabeling": {}}
