"""Turn what a DAG author passes as ``job`` into a :class:`~pipetune.job.JobRef`.

Accepted: a JobRef, its dict (``launch.output`` or ``ti.xcom_pull``), its JSON, the Python
repr a Jinja template renders from a dict, or a bare job name (then ``backend`` is needed).

Example:
    >>> coerce_job_ref("{'backend': 'local', 'id': 'n1', 'name': 'n1'}").name
    'n1'
    >>> coerce_job_ref("n2", backend="local").backend
    'local'
"""

from __future__ import annotations

import ast
import json
from typing import Any

from pydantic import ValidationError

from pipetune.errors import UsageError
from pipetune.job import JobRef


def coerce_job_ref(value: Any, backend: str | None = None, field: str = "job") -> JobRef:
    if isinstance(value, JobRef):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise UsageError(f"{field}: is empty; pass the launch task's output or a job name")
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    raise UsageError(f"{field}: cannot read {text[:80]!r} as a job handle") from None
        else:
            if not backend:
                raise UsageError(f"{field}: a bare job name ({text!r}) needs backend= as well")
            return JobRef(backend=backend, id=text, name=text)
    if isinstance(value, dict):
        try:
            return JobRef.model_validate(value)
        except ValidationError as exc:
            missing = [".".join(map(str, e["loc"])) for e in exc.errors()]
            raise UsageError(f"{field}: not a job handle, missing or invalid {missing}; "
                             "expected {backend, id, name, ...}") from None
    raise UsageError(f"{field}: expected a job handle (dict/JSON) or a job name, "
                     f"got {type(value).__name__}")
