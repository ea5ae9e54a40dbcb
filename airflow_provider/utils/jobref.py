"""Turn what a DAG author passes as ``job`` into a :class:`~pipetune.job.JobRef`.

Accepted: a JobRef, its dict (``launch.output`` or ``ti.xcom_pull``), its JSON, the Python
repr a Jinja template renders from a dict, or a bare job name (then ``backend`` is needed).
The parsing is the core's one parser, :func:`pipetune.job.parse_job_ref`.

Example:
    >>> coerce_job_ref("{'backend': 'local', 'id': 'n1', 'name': 'n1'}").name
    'n1'
    >>> coerce_job_ref("n2", backend="local").backend
    'local'
"""

from __future__ import annotations

from typing import Any

from pipetune.job import JobRef, parse_job_ref


def coerce_job_ref(value: Any, backend: str | None = None, field: str = "job") -> JobRef:
    """The handle of ``value`` (see the module docstring); UsageError naming ``field``."""
    return parse_job_ref(value, backend=backend, field=field)
