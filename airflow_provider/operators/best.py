"""PipetuneBestParamsOperator: the best trial's typed parameters, as JSON-safe XCom.

Example:
    .. code-block:: python

        best = PipetuneBestParamsOperator(task_id="best", job=tune.output)
        train = BashOperator(
            task_id="train",
            bash_command="python train.py --lr={{ ti.xcom_pull(task_ids='best')['params']['lr'] }}",
        )
        # XCom: {"params": {"lr": 0.0123, "depth": 7}, "metrics": {"accuracy": 0.97},
        #        "objective": "accuracy", "goal": "maximize", "value": 0.97,
        #        "trial": "churn-...#3", "artifacts": "...", "pareto_front": null, ...}
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Sequence

from airflow.sdk import BaseOperator

from pipetune.airflow.operators._common import BackendMixin, check_backend
from pipetune.airflow.utils.jobref import coerce_job_ref
from pipetune.airflow.utils.outcome import check_outcome, no_retry
from pipetune.job import JobState

if TYPE_CHECKING:
    from airflow.sdk import Context


class PipetuneBestParamsOperator(BackendMixin, BaseOperator):
    """Push the best result of a completed tuning job.

    Values keep the types the spec declares (integers stay integers even where the cloud
    returns strings or floats), so ``{{ ti.xcom_pull(task_ids='best')['params']['lr'] * 2 }}``
    is arithmetic on a number. With several objectives, ``objective``/``goal`` name the
    primary one and ``pareto_front`` lists every non-dominated trial.

    :param job: the launch task's output (handle dict), its JSON, or a job name (templated).
    :param backend: needed only when ``job`` is a bare name.
    :param conn_id: Airflow connection for the backend.
    :param backend_options: backend constructor options (templated).
    :param include_trials: also push every trial under ``trials``.
    :param allow_incomplete: read the best so far of a job that has not ended; by default
        the job must be completed (Failed/Stopped fail the task with the reason, without
        retry: a retry would find the job ended the same way).
    """

    template_fields: Sequence[str] = ("job", "backend", "conn_id", "backend_options")
    ui_color = "#e6f4ea"

    def __init__(
        self,
        *,
        job: Any,
        backend: str | None = None,
        conn_id: str | None = None,
        backend_options: dict[str, Any] | None = None,
        include_trials: bool = False,
        allow_incomplete: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_backend(backend)
        self.job = job
        self.backend = backend
        self.conn_id = conn_id
        self.backend_options = backend_options
        self.include_trials = include_trials
        self.allow_incomplete = allow_incomplete

    def execute(self, context: "Context") -> dict[str, Any]:
        with no_retry():  # a user's mistake; a job with no best (failed, nothing completed)
            ref = coerce_job_ref(self.job, self.backend)
            hook = self.make_hook(ref.backend)
            if not self.allow_incomplete:
                st = hook.status(ref)
                if st.state != JobState.COMPLETED:
                    check_outcome(st.state.value, st.reason, ref.name)
            best = hook.best(ref)
            result: dict[str, Any] = json.loads(best.model_dump_json())
            if self.include_trials:
                result["trials"] = [json.loads(t.model_dump_json()) for t in hook.trials(ref)]
        self.log.info("Best of %s: %s = %s with %s", ref.name, result["objective"],
                      result["value"], result["params"])
        return result
