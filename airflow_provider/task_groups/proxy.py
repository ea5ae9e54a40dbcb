"""proxy_tuning: a drop-in task group that samples the data, tunes on the sample and
hands the best parameters to the full-training task.

Example:
    .. code-block:: python

        from pipetune.airflow.task_groups.proxy import proxy_tuning

        with DAG("churn", ...):
            tuned = proxy_tuning(spec="/opt/dags/churn/spec.yaml", data="{{ params.data }}",
                                 fraction=0.2, stratify="label")

            @task
            def train(best: dict):          # {"params": {...}, "metrics": {...}, ...}
                fit_on_all_the_data(**best["static"], **best["params"])

            train(tuned.best.output)        # or {{ ti.xcom_pull(task_ids='proxy_tuning.best') }}
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import TaskGroup, conf

from pipetune.airflow.operators.best import PipetuneBestParamsOperator
from pipetune.airflow.operators.sample import PipetuneSampleOperator
from pipetune.airflow.operators.tuning import PipetuneTuningOperator


class ProxyTuningGroup(TaskGroup):
    """The task group; ``sample``, ``tune`` and ``best`` are its three operators."""

    sample: PipetuneSampleOperator
    tune: PipetuneTuningOperator
    best: PipetuneBestParamsOperator


def proxy_tuning(
    *,
    spec: Any,
    data: str | None = None,
    fraction: float | None = None,
    rows: int | None = None,
    stratify: str | None = None,
    seed: int | None = None,
    output: str | None = None,
    data_param: str | None = None,
    data_channel: str | None = None,
    group_id: str = "proxy_tuning",
    backend: str | None = None,
    job_name: str | None = None,
    conn_id: str | None = None,
    backend_options: dict[str, Any] | None = None,
    static: dict[str, Any] | None = None,
    spec_overrides: dict[str, Any] | None = None,
    warm_start_from: Any = None,
    storage_options: dict[str, Any] | None = None,
    deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
    poll_interval: float = 30.0,
    wait_timeout: float | None = None,
) -> ProxyTuningGroup:
    """Build ``<group_id>.sample >> <group_id>.tune >> <group_id>.best``.

    The trial reads its data from the hyperparameter ``data_param`` (default the spec's
    ``proxy.data_param``, else ``data``) or, with ``data_channel``, from that input channel;
    the group points it at the sample while tuning. The best result (XCom of
    ``<group_id>.best``) carries the tuned ``params`` and the spec's ``static`` values: the
    full-training task uses them on all the data. Arguments mirror
    :class:`PipetuneSampleOperator` and :class:`PipetuneTuningOperator`.
    """
    group = ProxyTuningGroup(group_id=group_id)
    with group:
        sample = PipetuneSampleOperator(
            task_id="sample", spec=spec, data=data, output_dir=output, fraction=fraction, rows=rows,
            stratify=stratify, seed=seed, storage_options=storage_options,
        )
        sample_path = f"{{{{ ti.xcom_pull(task_ids='{sample.task_id}')['sample'] }}}}"
        sample_dir = (f"{{{{ ti.xcom_pull(task_ids='{sample.task_id}')['sample']"
                      ".rsplit('/', 1)[0] }}")
        tune = PipetuneTuningOperator(
            task_id="tune", spec=spec, backend=backend, job_name=job_name or group_id,
            static={**(static or {}),
                    **({} if data_channel else {data_param or "data": sample_path})},
            channels={data_channel: sample_dir} if data_channel else None,
            spec_overrides={**(spec_overrides or {}), "proxy": None},
            warm_start_from=warm_start_from, conn_id=conn_id, backend_options=backend_options,
            wait=True, deferrable=deferrable, poll_interval=poll_interval, wait_timeout=wait_timeout,
        )
        best = PipetuneBestParamsOperator(task_id="best", job=tune.output, conn_id=conn_id,
                                          backend_options=backend_options)
        sample >> tune >> best
    group.sample, group.tune, group.best = sample, tune, best
    return group
