"""Where pipetune's components run: the base image and what pip installs into it.

pipetune is not on PyPI yet, so the install spec is configurable: set the environment
variable ``PIPETUNE_PIP_SPEC`` before importing ``pipetune.components`` (e.g.
``git+https://github.com/your-org/pipetune@v0.1.0`` or a wheel on GCS reachable by pip),
then compile. The checked-in pipeline YAML uses the default below.
"""

import os

from pipetune import __version__

BASE_IMAGE = "python:3.11-slim"
#: pip requirement for the core and the KFP extra; override with $PIPETUNE_PIP_SPEC.
PIPETUNE_PIP_SPEC = os.environ.get("PIPETUNE_PIP_SPEC", f"pipetune=={__version__}")


def packages(extra: str = "") -> list:
    """``packages_to_install`` for a component; ``extra`` adds e.g. ``[gcp]`` to the spec."""
    spec = PIPETUNE_PIP_SPEC
    if extra and spec.startswith("pipetune") and "[" not in spec and "@" not in spec:
        name, sep, version = spec.partition("==")
        spec = f"{name}[{extra}]{sep}{version}"
    return [spec]
