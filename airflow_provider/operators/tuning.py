"""PipetuneTuningOperator: launch a tuning job (idempotently), optionally wait for it.

Example:
    .. code-block:: python

        from pipetune.airflow.operators.tuning import PipetuneTuningOperator

        tune = PipetuneTuningOperator(
            task_id="tune",
            spec="/opt/airflow/dags/churn/spec.yaml",
            job_name="churn",                      # prefix of the deterministic name
            static={"data": "{{ params.data }}"},  # templated
            wait=True, deferrable=True, poll_interval=60,
        )
        # XCom: {"backend": "local", "id": "churn-1f0c...", "name": "churn-1f0c...", ...}
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Sequence

from airflow.sdk import BaseOperator, conf

from pipetune.airflow.links.console import (
    XCOM_KEY,
    SageMakerTuningJobLink,
    VertexTuningJobLink,
    console_link,
)
from pipetune.airflow.operators._common import BackendMixin, build_spec, check_backend, user_errors
from pipetune.airflow.utils.job_name import deterministic_job_name
from pipetune.airflow.utils.outcome import check_outcome, no_retry
from pipetune.job import JobRef, JobState
from pipetune.spec import TuningSpec

if TYPE_CHECKING:
    from airflow.sdk import Context

MAX_ATTEMPTS = 20


class PipetuneTuningOperator(BackendMixin, BaseOperator):
    """Launch a hyperparameter tuning job on the local engine, SageMaker or Vertex AI.

    The job's name is deterministic: ``<job_name>-<hash of dag_id, task_id, run_id, map
    index>``. A retried or cleared task therefore *attaches* to the job it launched before
    (pipetune's ``launch`` is idempotent by name) instead of starting a duplicate. If that
    job failed or was stopped, the retry launches a fresh one named ``...-a2``, ``-a3``...
    (``relaunch_failed=False`` re-attaches and fails again instead).

    :param spec: a :class:`~pipetune.spec.TuningSpec`, a dict, a YAML string or the path of
        a YAML/JSON file (templated). A relative ``trial.workdir`` in a file is resolved
        against the file's folder.
    :param backend: ``local``, ``sagemaker`` or ``vertex``; default the spec's ``backend``.
    :param job_name: the readable part of the job's name (default: the task id).
    :param exact_job_name: use ``job_name`` as is (the DAG author owns uniqueness).
    :param static: static hyperparameters merged into ``spec.static`` (templated).
    :param channels: data inputs merged into ``spec.trial.channels`` (templated).
    :param spec_overrides: top-level spec fields to replace, dicts merged one level, e.g.
        ``{"budget": {"max_trials": 5}, "strategy": "random"}`` (templated).
    :param warm_start_from: parent job name(s) or handle(s) to warm-start from (templated).
    :param conn_id: Airflow connection (``aws`` for SageMaker, ``google_cloud_platform`` for
        Vertex); the local backend needs none.
    :param backend_options: backend constructor options (templated).
    :param wait: wait for the job to end; Failed and Stopped fail the task with the reason
        (without retry when ``relaunch_failed=False``: a retry would attach to the same job).
    :param deferrable: wait in the triggerer instead of holding a worker slot.
    :param poll_interval: seconds between status calls while waiting.
    :param wait_timeout: seconds to wait at most (``None``: as long as the job runs).
    :param relaunch_failed: on retry, launch a fresh job when the previous one failed/stopped.

    XCom (``return_value``): the job handle as a dict, which the sensor, the
    best-parameters operator and the stop operator take as ``job``.
    """

    template_fields: Sequence[str] = (
        "spec", "backend", "job_name", "static", "channels", "spec_overrides",
        "warm_start_from", "conn_id", "backend_options",
    )
    template_fields_renderers = {"spec": "yaml", "static": "json", "channels": "json",
                                 "spec_overrides": "json", "backend_options": "json"}
    ui_color = "#e8f0fe"
    operator_extra_links = (SageMakerTuningJobLink(), VertexTuningJobLink())

    def __init__(
        self,
        *,
        spec: "TuningSpec | dict[str, Any] | str",
        backend: str | None = None,
        job_name: str | None = None,
        exact_job_name: bool = False,
        static: dict[str, Any] | None = None,
        channels: dict[str, str] | None = None,
        spec_overrides: dict[str, Any] | None = None,
        warm_start_from: "list[Any] | str | None" = None,
        conn_id: str | None = None,
        backend_options: dict[str, Any] | None = None,
        wait: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 30.0,
        wait_timeout: float | None = None,
        relaunch_failed: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_backend(backend)
        if poll_interval <= 0:
            raise ValueError(f"poll_interval: must be > 0 seconds, got {poll_interval}")
        self.spec = spec
        self.backend = backend
        self.job_name = job_name
        self.exact_job_name = exact_job_name
        self.static = static
        self.channels = channels
        self.spec_overrides = spec_overrides
        self.warm_start_from = warm_start_from
        self.conn_id = conn_id
        self.backend_options = backend_options
        self.wait = wait
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.relaunch_failed = relaunch_failed
        self._ref: JobRef | None = None

    # ---- naming ---------------------------------------------------------------------------
    def job_name_for(self, context: "Context", attempt: int = 1) -> str:
        """The deterministic job name of this task instance (``attempt`` > 1 after failures)."""
        if self.exact_job_name:
            if not self.job_name:
                raise ValueError("job_name: is required when exact_job_name=True")
            return self.job_name if attempt == 1 else f"{self.job_name}-a{attempt}"
        ti = context["ti"]
        return deterministic_job_name(
            self.dag_id, self.task_id, context["run_id"],
            map_index=_map_index(ti), prefix=self.job_name, attempt=attempt,
        )

    # ---- execution ------------------------------------------------------------------------
    def execute(self, context: "Context") -> dict[str, Any]:
        with user_errors():
            spec = build_spec(self.spec, backend=self.backend, static=self.static,
                              channels=self.channels, overrides=self.spec_overrides,
                              warm_start_from=self.warm_start_from)
            self.backend = spec.backend
            hook = self.hook
            hook.validate(spec)  # before any call to the backend's service
            ref = self._launch_or_attach(hook, spec, context)
        self._ref = ref
        link = console_link(ref)
        context["ti"].xcom_push(key=XCOM_KEY, value=link)
        if link["url"]:
            self.log.info("Console: %s", link["url"])
        handle = ref.model_dump(mode="json")
        if not self.wait:
            return handle
        if self.deferrable:
            with user_errors():
                st = hook.settle(ref)  # it may be over already (attached on retry)
            if st.ended:
                check_outcome(st.state.value, st.reason, ref.name, retryable=self.relaunch_failed)
                return handle
            from pipetune.airflow.triggers.tuning import PipetuneJobTrigger

            self.defer(
                trigger=PipetuneJobTrigger(job=handle, backend=ref.backend, conn_id=self.conn_id,
                                           backend_options=self.backend_options,
                                           poll_interval=self.poll_interval),
                method_name="execute_complete",
                timeout=timedelta(seconds=self.wait_timeout) if self.wait_timeout else None,
            )
        with no_retry(job_outcome=not self.relaunch_failed):
            hook.wait(ref, poll_seconds=self.poll_interval, timeout=self.wait_timeout)
        return handle

    def _launch_or_attach(self, hook, spec: TuningSpec, context: "Context") -> JobRef:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            name = self.job_name_for(context, attempt)
            ref = hook.launch(spec, name)
            if not self.relaunch_failed:
                break
            st = hook.status(ref)
            if st.state not in (JobState.FAILED, JobState.STOPPED):
                break
            self.log.info("Job %s ended %s (%s); launching a fresh attempt", name,
                          st.state.value, st.reason)
        else:
            from pipetune.errors import UsageError

            raise UsageError(f"job_name: {MAX_ATTEMPTS} attempts of this task's job all failed")
        self.log.info("Tuning job %s on %s (attached if it existed)", ref.name, ref.backend)
        return ref

    def execute_complete(self, context: "Context", event: dict[str, Any]) -> dict[str, Any]:
        job = event.get("job") or {}
        check_outcome(event.get("status", "error"), event.get("reason"), job.get("name", "?"),
                      retryable=self.relaunch_failed)
        self.log.info("Tuning job %s completed: %s trials, best %s", job.get("name"),
                      event.get("trials_finished"), event.get("best_value"))
        return job

    def on_kill(self) -> None:
        """Stop the job when the task is killed (marked failed/success by hand, timed out)."""
        if self._ref is not None:
            self.log.info("Stopping tuning job %s", self._ref.name)
            self.hook.stop(self._ref)


def _map_index(ti: Any) -> int:
    value = getattr(ti, "map_index", None)
    return -1 if value is None else int(value)
