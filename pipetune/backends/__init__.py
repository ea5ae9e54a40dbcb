"""Backends: where a tuning spec runs. One module per backend behind :class:`Backend`."""

from __future__ import annotations

from typing import Any

from pipetune.backends.base import Backend
from pipetune.errors import UsageError

_REGISTRY = {
    "local": "pipetune.backends.local:LocalBackend",
    "sagemaker": "pipetune.backends.sagemaker:SageMakerBackend",
    "vertex": "pipetune.backends.vertex:VertexBackend",
}


BACKEND_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def backend_class(name: str) -> type[Backend]:
    """The class of a backend by name, without building it (no client, no credentials):
    what an adapter asks for the methods that need none (console URL, run settings, the
    kind of credentials)."""
    import importlib

    target = _REGISTRY.get(name)
    if target is None:
        raise UsageError(f"backend: unknown backend {name!r}; valid: {', '.join(_REGISTRY)}")
    module_name, cls_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        from pipetune.errors import MissingExtra

        extra = {"sagemaker": "aws", "vertex": "gcp"}.get(name, "all")
        raise MissingExtra(f"the {name} backend ({exc.name} is missing)", extra) from None
    return getattr(module, cls_name)


def get_backend(name: str, **options: Any) -> Backend:
    """Instantiate a backend by name (``local``, ``sagemaker``, ``vertex``)."""
    return backend_class(name)(**options)


__all__ = ["BACKEND_NAMES", "Backend", "backend_class", "get_backend"]
