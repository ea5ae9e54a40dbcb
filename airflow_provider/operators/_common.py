"""What every pipetune operator and sensor shares: backend choice, connection, user errors."""

from __future__ import annotations

import contextlib
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

from pipetune.airflow.hooks.pipetune import BACKENDS, PipetuneHook
from pipetune.airflow.utils.outcome import USER_ERRORS, no_retry
from pipetune.errors import SpecError
from pipetune.spec import TuningSpec, load_spec

__all__ = ["USER_ERRORS", "BackendMixin", "build_spec", "check_backend", "no_retry", "user_errors"]


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """A user's mistake fails the task at once (no retry) with a one-line message naming
    the field, instead of a retried stack trace (:func:`no_retry` for user errors only)."""
    with no_retry(job_outcome=False):
        yield


def check_backend(backend: str | None) -> None:
    if backend is not None and backend not in BACKENDS and "{{" not in backend:
        raise ValueError(f"backend: unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")


class BackendMixin:
    """``backend``, ``conn_id`` and ``backend_options`` and the hook built from them."""

    backend: str | None
    conn_id: str | None
    backend_options: dict[str, Any] | None

    def make_hook(self, backend: str) -> PipetuneHook:
        return PipetuneHook(backend=backend, conn_id=self.conn_id,
                            backend_options=self.backend_options)

    @cached_property
    def hook(self) -> PipetuneHook:
        return self.make_hook(self.backend or "local")


def _is_path(value: Any) -> bool:
    return isinstance(value, Path) or (
        isinstance(value, str) and "\n" not in value and value.strip().endswith((".yaml", ".yml", ".json"))
    )


def build_spec(
    spec: "TuningSpec | dict[str, Any] | str",
    *,
    backend: str | None = None,
    static: dict[str, Any] | None = None,
    channels: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
    warm_start_from: "list[Any] | str | None" = None,
) -> TuningSpec:
    """Load the spec and apply the task's (templated) fields; validate everything once.

    A relative ``trial.workdir`` in a spec *file* is resolved against the file's folder,
    so a DAG works whatever the worker's current directory is.
    """
    if spec is None or spec == "":
        raise SpecError("is required: a TuningSpec, a dict or a path to a YAML file", field="spec")
    base = load_spec(str(spec).strip() if _is_path(spec) else spec)
    body = base.to_dict()
    if overrides:
        if not isinstance(overrides, dict):
            raise SpecError(f"must be a mapping, got {type(overrides).__name__}", field="spec_overrides")
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(body.get(key), dict):
                body[key] = {**body[key], **value}
            else:
                body[key] = value
    if backend:
        body["backend"] = backend
    if static:
        if not isinstance(static, dict):
            raise SpecError(f"must be a mapping, got {type(static).__name__}", field="static")
        body["static"] = {**body.get("static", {}), **static}
    if channels:
        if not isinstance(channels, dict):
            raise SpecError(f"must be a mapping, got {type(channels).__name__}", field="channels")
        body["trial"]["channels"] = {**body["trial"].get("channels", {}), **channels}
    parents = _parent_names(warm_start_from)
    if parents:
        body["warm_start"] = {**(body.get("warm_start") or {}), "parents": parents}
    return load_spec(body)


def _parent_names(value: Any) -> list[str]:
    from pipetune.airflow.utils.jobref import coerce_job_ref

    if value in (None, "", [], "None"):
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    names = []
    for i, item in enumerate(items):
        if item in (None, "", "None"):
            continue
        if isinstance(item, str) and not item.strip().startswith("{"):
            names.append(item.strip())
        else:
            names.append(coerce_job_ref(item, field=f"warm_start_from[{i}]").name)
    return names
