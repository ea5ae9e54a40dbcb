"""Optional dependencies: the core imports none of them at import time.

``pip install pipetune`` gives the core and the CLI on the local engine. A feature that
needs more imports it through :func:`require`, which turns a missing package into one
:class:`~pipetune.errors.MissingExtra` line naming the extra to install:

=================  ==========================================  =============================
extra              installs                                    for
=================  ==========================================  =============================
``report``         matplotlib                                  the PNG plots of reports
``proxy``          pyarrow, fsspec                             proxy-data sampling (CSV/Parquet)
``gp``             scipy, torch, greenlet, cmaes               the GP and CMA-ES samplers
``aws``            boto3, aiobotocore, s3fs                    the SageMaker backend
``gcp``            google-cloud-aiplatform, cloudml-hypertune  the Vertex AI backend
``observability``  prometheus-client                           ``pipetune exporter``
=================  ==========================================  =============================

Example:
    >>> from pipetune.extras import require
    >>> require("json", feature="this example", extra="report").__name__
    'json'
    >>> require("no_such_module_here", feature="the demo plot", extra="report")
    Traceback (most recent call last):
    ...
    pipetune.errors.MissingExtra: missing no_such_module_here for the demo plot: pip install 'pipetune[report]'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pipetune.errors import MissingExtra


def require(module: str, *, feature: str, extra: str, package: str | None = None) -> ModuleType:
    """Import ``module`` for ``feature``, or raise :class:`MissingExtra` naming ``extra``.

    ``package`` is the distribution named in the message (default: the module that is
    missing). A package that is present but broken because one of its own dependencies is
    missing counts as missing too: installing the extra again is the fix in both cases.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise MissingExtra(feature, extra, module=package or exc.name or module) from None


__all__ = ["require"]
