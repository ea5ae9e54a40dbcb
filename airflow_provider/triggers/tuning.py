"""PipetuneJobTrigger: a small async loop polling a tuning job until it ends.

It polls the job every ``poll_interval`` seconds the way every pipetune wait does
(:func:`pipetune.runtime.asettle`: the backend's async status, an interrupted local job
resumed, the guards of :mod:`pipetune.runtime.guards`), for as long as it takes (the
deferring task's ``timeout`` is the only limit, and the user sets it). It fires exactly
one event: ``{"status": <terminal state>, "reason": ..., "job": <ref>}`` (``status`` is
``not_converging`` when ``on_not_converging="fail"`` and the job is flagged). Only
``completed`` is success; the task's ``execute_complete`` decides with
:func:`pipetune.airflow.utils.outcome.check_outcome`.

Example:
    >>> trigger = PipetuneJobTrigger(job={"backend": "local", "id": "n", "name": "n"},
    ...                              backend="local", poll_interval=5)
    >>> trigger.serialize()[0]
    'pipetune.airflow.triggers.tuning.PipetuneJobTrigger'
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator

from airflow.triggers.base import BaseTrigger, TriggerEvent

from pipetune.job import parse_job_ref


class PipetuneJobTrigger(BaseTrigger):
    """Waits for a pipetune tuning job to reach a terminal state.

    :param job: the job handle (``JobRef`` as a dict).
    :param backend: backend name; default the handle's.
    :param conn_id: Airflow connection for the backend (see :class:`PipetuneHook`).
    :param backend_options: backend constructor options.
    :param poll_interval: seconds between status calls.
    :param max_consecutive_errors: status calls in a row that may fail (throttling, a blip)
        before the trigger gives up with an ``error`` event. Not a cap on the wait.
    :param on_not_converging: ``ignore``, ``warn`` or ``fail``: the convergence rule applied
        on every poll (see :class:`~pipetune.airflow.sensors.tuning.PipetuneTuningSensor`).
    """

    def __init__(
        self,
        job: dict[str, Any],
        backend: str | None = None,
        conn_id: str | None = None,
        backend_options: dict[str, Any] | None = None,
        poll_interval: float = 30.0,
        max_consecutive_errors: int = 5,
        on_not_converging: str = "ignore",
    ) -> None:
        super().__init__()
        self.job = dict(job)
        self.backend = backend or self.job["backend"]
        self.conn_id = conn_id
        self.backend_options = dict(backend_options or {})
        self.poll_interval = float(poll_interval)
        self.max_consecutive_errors = int(max_consecutive_errors)
        self.on_not_converging = on_not_converging

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job": self.job,
                "backend": self.backend,
                "conn_id": self.conn_id,
                "backend_options": self.backend_options,
                "poll_interval": self.poll_interval,
                "max_consecutive_errors": self.max_consecutive_errors,
                "on_not_converging": self.on_not_converging,
            },
        )

    def _hook(self):
        from pipetune.airflow.hooks.pipetune import PipetuneHook

        return PipetuneHook(backend=self.backend, conn_id=self.conn_id,
                            backend_options=self.backend_options)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from pipetune.errors import PipetuneError
        from pipetune.observability.snapshot import NotConverging

        errors = 0
        try:
            hook = self._hook()
            ref = parse_job_ref(self.job)
            # building the backend may read a connection: keep it off the event loop
            await asyncio.to_thread(hook.get_conn)
        except Exception as exc:  # noqa: BLE001 - reported in the event, the task fails
            yield TriggerEvent({"status": "error", "reason": f"{type(exc).__name__}: {exc}",
                                "job": self.job})
            return
        while True:
            try:
                st = await hook.asettle(ref, on_not_converging=self.on_not_converging)
                errors = 0
            except NotConverging as exc:
                yield TriggerEvent({"status": "not_converging", "reason": exc.reason,
                                    "job": self.job})
                return
            except PipetuneError as exc:  # a user's mistake or a job that cannot go on
                yield TriggerEvent({"status": "error", "reason": str(exc), "job": self.job})
                return
            except Exception as exc:  # noqa: BLE001
                errors += 1
                self.log.warning("status of %s failed (%d in a row): %s", ref.name, errors, exc)
                if errors >= self.max_consecutive_errors:
                    yield TriggerEvent({"status": "error", "reason": f"{type(exc).__name__}: {exc}",
                                        "job": self.job})
                    return
                await asyncio.sleep(self.poll_interval)
                continue
            if st.ended:
                yield TriggerEvent({
                    "status": st.state.value,
                    "reason": st.reason,
                    "job": self.job,
                    "trials_finished": st.trials.finished,
                    "best_value": st.best_value,
                })
                return
            await asyncio.sleep(self.poll_interval)
