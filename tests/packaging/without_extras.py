"""Run pipetune as if only its core dependencies were installed.

    python without_extras.py cli ARGS...     # `pipetune ARGS...`
    python without_extras.py py CODE         # run CODE (python -c)

The packages named in ``$PIPETUNE_BLOCK`` (comma-separated top-level import names; default
:data:`EXTRAS`) are made unimportable the way Python itself reports a missing package:
``sys.modules[name] = None`` makes ``import name`` raise ``ModuleNotFoundError`` (with
``exc.name == name``) and ``importlib.util.find_spec(name)`` return None. Anything they left
in ``sys.modules`` at start-up (namespace-package ``.pth`` hooks import ``google``) is
dropped first.
"""

from __future__ import annotations

import os
import sys

#: Every top-level package an extra installs (and pandas/sklearn, which only tests use).
EXTRAS = (
    "matplotlib", "pyarrow", "fsspec", "scipy", "pandas", "sklearn", "torch", "cmaes",
    "greenlet", "boto3", "botocore", "aiobotocore", "s3fs", "gcsfs", "google", "grpc",
    "hypertune", "airflow", "kfp", "prometheus_client", "plotly", "tenacity",
)


def block(names: list[str]) -> None:
    for name in names:
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[loaded]
        sys.modules[name] = None  # type: ignore[assignment]


def main() -> None:
    raw = os.environ.get("PIPETUNE_BLOCK")
    block([n for n in raw.split(",") if n] if raw is not None else list(EXTRAS))
    mode, rest = sys.argv[1], sys.argv[2:]
    if mode == "py":
        exec(compile(rest[0], "<without_extras>", "exec"), {"__name__": "__main__"})
        return
    from pipetune.cli import main as cli

    sys.argv = ["pipetune", *rest]
    cli()


if __name__ == "__main__":
    main()
