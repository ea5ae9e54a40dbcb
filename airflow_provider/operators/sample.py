"""PipetuneSampleOperator: a seeded, exact sample of a CSV/Parquet data set, for proxy tuning.

Example:
    .. code-block:: python

        sample = PipetuneSampleOperator(task_id="sample", data="s3://bucket/train.csv",
                                        output_dir="s3://bucket/proxy/{{ ds }}", fraction=0.1,
                                        stratify="label")
        # XCom: {"sample": "s3://bucket/proxy/2026-01-01/train.csv", "manifest": {...}}
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Sequence

from airflow.sdk import BaseOperator

from pipetune.airflow.operators._common import build_spec, user_errors
from pipetune.errors import SpecError

if TYPE_CHECKING:
    from airflow.sdk import Context


class PipetuneSampleOperator(BaseOperator):
    """Sample ``data`` with :func:`pipetune.proxy.sample_dataset` (same data, arguments and
    seed give a byte-identical sample) and push the sample's path and manifest.

    Unset arguments come from the spec's ``proxy`` section, and the full data from
    ``proxy.data`` or ``static[proxy.data_param]``.

    :param spec: optional tuning spec (object, dict or path) to read ``proxy`` settings from.
    :param data: the full data set (path or fsspec URI) (templated).
    :param output_dir: directory for the sample and its manifest (templated); default
        ``$PIPETUNE_HOME/proxy/<dag_id>/<run_id>`` (local runs only).
    :param fraction: share of rows (default 0.1 unless ``rows``).
    :param rows: number of rows, instead of ``fraction``.
    :param stratify: column whose class proportions the sample keeps.
    :param seed: sampling seed.
    :param storage_options: fsspec options (e.g. an S3 endpoint).
    """

    template_fields: Sequence[str] = ("spec", "data", "output_dir", "fraction", "rows", "stratify",
                                      "seed", "storage_options")

    def __init__(
        self,
        *,
        spec: Any = None,
        data: str | None = None,
        output_dir: str | None = None,
        fraction: float | None = None,
        rows: int | None = None,
        stratify: str | None = None,
        seed: int | None = None,
        storage_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.data = data
        self.output_dir = output_dir
        self.fraction = fraction
        self.rows = rows
        self.stratify = stratify
        self.seed = seed
        self.storage_options = storage_options

    def execute(self, context: "Context") -> dict[str, Any]:
        from pipetune.proxy import sample_dataset

        with user_errors():
            settings: dict[str, Any] = {}
            full = self.data or None
            if self.spec:
                spec = build_spec(self.spec)
                if spec.proxy is not None:
                    settings = spec.proxy.model_dump(exclude_none=True)
                    full = full or spec.proxy.data or spec.static.get(spec.proxy.data_param)
                if full and "://" not in str(full) and not os.path.isabs(str(full)):
                    full = os.path.abspath(os.path.join(spec.trial.workdir or ".", str(full)))
            if not full:
                raise SpecError("where is the full data? set data=, or proxy.data in the spec",
                                field="data")
            rows = _opt_int(self.rows, "rows") or settings.get("rows")
            fraction = _opt_float(self.fraction, "fraction") or settings.get("fraction")
            if not rows and not fraction:
                fraction = 0.1
            seed = _opt_int(self.seed, "seed")
            out = self.output_dir or settings.get("output") or os.path.join(
                os.environ.get("PIPETUNE_HOME", ".pipetune"), "proxy", self.dag_id,
                re.sub(r"[^A-Za-z0-9._-]+", "_", context["run_id"]))
            dest = f"{str(out).rstrip('/')}/{str(full).rstrip('/').rsplit('/', 1)[-1]}"
            manifest = sample_dataset(
                str(full), dest, fraction=None if rows else fraction, rows=rows or None,
                stratify=self.stratify or settings.get("stratify"),
                seed=seed if seed is not None else settings.get("seed", 0),
                storage_options=self.storage_options,
            )
        self.log.info("Sampled %d of %d rows of %s into %s", manifest.rows_out, manifest.rows_in,
                      full, dest)
        return {"sample": dest, "data": str(full), "manifest": manifest.model_dump(mode="json")}


def _opt_int(value: Any, field: str) -> int | None:
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SpecError(f"must be an integer, got {value!r}", field=field) from None


def _opt_float(value: Any, field: str) -> float | None:
    if value in (None, "", "None"):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SpecError(f"must be a number, got {value!r}", field=field) from None
