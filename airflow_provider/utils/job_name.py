"""Deterministic job names: the same DAG, task, run (and map index) always give the same name.

This is what makes a retried or cleared launch task *attach* to the job it started
before instead of launching a duplicate: the backend's ``launch`` is idempotent by name.
Names fit every backend (SageMaker allows 32 characters of letters, digits and hyphens).

Example:
    >>> a = deterministic_job_name("ct", "tune", "manual__2026-01-01", prefix="churn")
    >>> a == deterministic_job_name("ct", "tune", "manual__2026-01-01", prefix="churn")
    True
    >>> a.startswith("churn-") and len(a) <= 32
    True
    >>> deterministic_job_name("ct", "tune", "manual__2026-01-01", prefix="churn", attempt=2)[-3:]
    '-a2'
"""

from __future__ import annotations

import hashlib
import json
import re

MAX_LEN = 32  # SageMaker's limit for tuning job names, the strictest of the backends


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s or "pipetune"


def deterministic_job_name(
    dag_id: str,
    task_id: str,
    run_id: str,
    *,
    map_index: int = -1,
    prefix: str | None = None,
    attempt: int = 1,
    max_len: int = MAX_LEN,
) -> str:
    """``<prefix>-<10 hex digits of hash(dag, task, run, map index, prefix)>[-a<attempt>]``.

    ``attempt`` > 1 names a fresh job after an earlier one with the same key failed or was
    stopped (the retry relaunches rather than re-attaching to a dead job).
    """
    key = json.dumps([dag_id, task_id, run_id, map_index, prefix or ""], separators=(",", ":"))
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    suffix = f"-{digest}" + (f"-a{attempt}" if attempt > 1 else "")
    room = max_len - len(suffix)
    base = _slug(prefix or task_id)[:room].rstrip("-") or "pt"
    return base + suffix
