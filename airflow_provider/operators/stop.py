"""PipetuneStopOperator: stop a running tuning job (clean-up paths, manual kill switches).

Example:
    .. code-block:: python

        stop = PipetuneStopOperator(task_id="stop", job=tune.output, trigger_rule="one_failed")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from airflow.sdk import BaseOperator

from pipetune.airflow.operators._common import BackendMixin, check_backend, user_errors
from pipetune.airflow.utils.jobref import coerce_job_ref

if TYPE_CHECKING:
    from airflow.sdk import Context


class PipetuneStopOperator(BackendMixin, BaseOperator):
    """Ask the backend to stop the job. Returns the job handle. A job that has ended
    already is left alone (the task succeeds and logs how it ended).

    :param job: the launch task's output (handle dict), its JSON, or a job name (templated).
    :param backend: needed only when ``job`` is a bare name.
    """

    template_fields: Sequence[str] = ("job", "backend", "conn_id", "backend_options")

    def __init__(self, *, job: Any, backend: str | None = None, conn_id: str | None = None,
                 backend_options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_backend(backend)
        self.job = job
        self.backend = backend
        self.conn_id = conn_id
        self.backend_options = backend_options

    def execute(self, context: "Context") -> dict[str, Any]:
        with user_errors():
            ref = coerce_job_ref(self.job, self.backend)
            st = self.make_hook(ref.backend).stop(ref)
        if st.state.terminal:
            self.log.info("Tuning job %s has already ended: %s (%s); nothing to stop", ref.name,
                          st.state.value, st.reason)
        else:
            self.log.info("Asked %s to stop tuning job %s", ref.backend, ref.name)
        return ref.model_dump(mode="json")
