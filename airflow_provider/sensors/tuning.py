"""PipetuneTuningSensor: wait for a tuning job, in a worker slot or deferred.

Example:
    .. code-block:: python

        wait = PipetuneTuningSensor(task_id="wait", job=tune.output, deferrable=True,
                                    poll_interval=60, timeout=6 * 3600)
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Sequence

from airflow.sdk import BaseSensorOperator, conf

from pipetune.airflow.operators._common import BackendMixin, check_backend, user_errors
from pipetune.airflow.utils.jobref import coerce_job_ref
from pipetune.airflow.utils.outcome import check_outcome, no_retry

if TYPE_CHECKING:
    from airflow.sdk import Context


class PipetuneTuningSensor(BackendMixin, BaseSensorOperator):
    """Succeeds when the job completes; Failed, Stopped (and an interrupted local job) fail
    the task with the backend's reason, never a silent success, and without retry: a retry
    would find the job ended the same way (:class:`AirflowFailException`).

    Deferrable mode checks the state first (a job may be over already), then hands a
    :class:`~pipetune.airflow.triggers.tuning.PipetuneJobTrigger` to the triggerer, which
    polls every ``poll_interval`` seconds until the job ends or the sensor's ``timeout``.

    :param job: the launch task's output (handle dict), its JSON, or a job name (templated).
    :param backend: needed only when ``job`` is a bare name.
    :param conn_id: Airflow connection for the backend.
    :param backend_options: backend constructor options (templated).
    :param deferrable: wait in the triggerer.
    :param poll_interval: seconds between status calls (also the poke interval).
    :param on_not_converging: ``ignore`` (default), ``warn`` (log it) or ``fail`` (fail the
        task) when the job is flagged "not converging" (see docs/observability.md); checked
        at every poll, in the worker or in the triggerer.

    Every poll is the step runtime's (:func:`pipetune.runtime.settle`): a local job whose
    coordinator died is resumed in the background, and a cloud job is held to the spec's
    guards (``budget.max_cost_usd``, ``budget.timeout``): stopped, and the task fails with
    the reason.
    """

    template_fields: Sequence[str] = ("job", "backend", "conn_id", "backend_options",
                                      "on_not_converging")
    ui_color = "#fef7e0"

    def __init__(
        self,
        *,
        job: Any,
        backend: str | None = None,
        conn_id: str | None = None,
        backend_options: dict[str, Any] | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 30.0,
        on_not_converging: str = "ignore",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", poll_interval)
        super().__init__(**kwargs)
        check_backend(backend)
        self.job = job
        self.backend = backend
        self.conn_id = conn_id
        self.backend_options = backend_options
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.on_not_converging = on_not_converging

    def _ref_and_hook(self):
        with user_errors():
            ref = coerce_job_ref(self.job, self.backend)
            return ref, self.make_hook(ref.backend)

    def poke(self, context: "Context") -> bool:
        """One poll (:meth:`PipetuneHook.settle`): an interrupted local job is resumed in the
        background, the guards and the convergence rule are applied."""
        ref, hook = self._ref_and_hook()
        with no_retry():  # a user's mistake, a job not converging
            st = hook.settle(ref, on_not_converging=self.on_not_converging)
        if st.ended:
            check_outcome(st.state.value, st.reason, ref.name)
            return True
        return False

    def execute(self, context: "Context") -> dict[str, Any]:
        ref, hook = self._ref_and_hook()
        if not self.deferrable:
            super().execute(context)
            return ref.model_dump(mode="json")
        if self.poke(context):  # already over: no deferral
            return ref.model_dump(mode="json")
        from pipetune.airflow.triggers.tuning import PipetuneJobTrigger

        self.defer(
            trigger=PipetuneJobTrigger(job=ref.model_dump(mode="json"), backend=ref.backend,
                                       conn_id=self.conn_id, backend_options=self.backend_options,
                                       poll_interval=self.poll_interval,
                                       on_not_converging=self.on_not_converging),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) if self.timeout else None,
        )
        raise AssertionError("unreachable")  # pragma: no cover - defer() raises

    def execute_complete(self, context: "Context", event: dict[str, Any]) -> dict[str, Any]:
        job = event.get("job") or {}
        check_outcome(event.get("status", "error"), event.get("reason"), job.get("name", "?"))
        return job
