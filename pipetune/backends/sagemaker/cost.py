"""Cost of a tuning job: billable seconds of its training jobs times an instance price.

The built-in prices are on-demand USD per instance-hour for SageMaker training in
us-east-1 (AWS price list, 2025); other regions and negotiated rates differ, so the
spec's ``sagemaker.prices`` overrides them. Managed spot savings are already in
``BillableTimeInSeconds``; a managed warm pool's retained time
(``sagemaker.keep_alive_seconds``) is billed on top and counted here.

Example:
    >>> training_job_cost({"BillableTimeInSeconds": 1800,
    ...                    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 2}})
    0.115
"""

from __future__ import annotations

import datetime as dt
from typing import Any

PRICES_USD_PER_HOUR: dict[str, float] = {
    "ml.t3.medium": 0.05, "ml.t3.large": 0.10, "ml.t3.xlarge": 0.20, "ml.t3.2xlarge": 0.40,
    "ml.m5.large": 0.115, "ml.m5.xlarge": 0.23, "ml.m5.2xlarge": 0.461, "ml.m5.4xlarge": 0.922,
    "ml.m5.12xlarge": 2.765, "ml.m5.24xlarge": 5.53,
    "ml.m6i.large": 0.115, "ml.m6i.xlarge": 0.23, "ml.m6i.2xlarge": 0.461, "ml.m6i.4xlarge": 0.922,
    "ml.c5.xlarge": 0.204, "ml.c5.2xlarge": 0.408, "ml.c5.4xlarge": 0.816, "ml.c5.9xlarge": 1.836,
    "ml.c5.18xlarge": 3.672,
    "ml.r5.large": 0.151, "ml.r5.xlarge": 0.302, "ml.r5.2xlarge": 0.605,
    "ml.g4dn.xlarge": 0.736, "ml.g4dn.2xlarge": 0.94, "ml.g4dn.4xlarge": 1.505,
    "ml.g4dn.8xlarge": 2.72, "ml.g4dn.12xlarge": 4.89,
    "ml.g5.xlarge": 1.408, "ml.g5.2xlarge": 1.515, "ml.g5.4xlarge": 2.03, "ml.g5.8xlarge": 3.06,
    "ml.g5.12xlarge": 7.09, "ml.g5.48xlarge": 20.36,
    "ml.p3.2xlarge": 3.825, "ml.p3.8xlarge": 14.688, "ml.p3.16xlarge": 28.152,
    "ml.p4d.24xlarge": 37.688,
}


def price_for(instance_type: str, overrides: dict[str, float] | None = None) -> float | None:
    """USD per instance-hour, the user's price first."""
    if overrides and instance_type in overrides:
        return overrides[instance_type]
    return PRICES_USD_PER_HOUR.get(instance_type)


def billable_seconds(job: dict[str, Any], now: dt.datetime | None = None) -> float:
    """Seconds billed per instance: training (for a running job, the time since training
    started) plus the managed warm pool's retained time (:func:`warm_pool_seconds`)."""
    return _training_seconds(job, now) + warm_pool_seconds(job, now)


def _training_seconds(job: dict[str, Any], now: dt.datetime | None) -> float:
    if job.get("BillableTimeInSeconds") is not None:
        return float(job["BillableTimeInSeconds"])
    start = job.get("TrainingStartTime")
    if start is None:
        return 0.0
    end = job.get("TrainingEndTime") or now or dt.datetime.now(tz=start.tzinfo or dt.timezone.utc)
    return max(0.0, (end - start).total_seconds())


def warm_pool_seconds(job: dict[str, Any], now: dt.datetime | None = None) -> float:
    """Seconds per instance a managed warm pool (``KeepAlivePeriodInSeconds``) kept this
    job's instances after it ended, which AWS bills like training time.

    SageMaker's own count (``WarmPoolStatus.ResourceRetainedBillableTimeInSeconds``) when it
    gives one; else, for a job that ended with a keep-alive period, the time since its end,
    at most that period.

    Example:
        >>> import datetime as dt
        >>> end = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        >>> job = {"ResourceConfig": {"KeepAlivePeriodInSeconds": 600}, "TrainingEndTime": end}
        >>> warm_pool_seconds(job, now=end + dt.timedelta(seconds=90))
        90.0
        >>> warm_pool_seconds(job, now=end + dt.timedelta(hours=1))
        600.0
    """
    pool = job.get("WarmPoolStatus") or {}
    if pool.get("ResourceRetainedBillableTimeInSeconds") is not None:
        return float(pool["ResourceRetainedBillableTimeInSeconds"])
    keep = float((job.get("ResourceConfig") or {}).get("KeepAlivePeriodInSeconds") or 0)
    end = job.get("TrainingEndTime")
    if not keep or end is None:
        return 0.0
    now = now or dt.datetime.now(tz=end.tzinfo or dt.timezone.utc)
    return min(keep, max(0.0, (now - end).total_seconds()))


def warm_pool_settled(job: dict[str, Any]) -> bool:
    """True when the job's warm-pool time can no longer grow (none, or released)."""
    keep = (job.get("ResourceConfig") or {}).get("KeepAlivePeriodInSeconds")
    status = (job.get("WarmPoolStatus") or {}).get("Status")
    return not keep or status in ("Terminated", "Reused")


def training_job_cost(job: dict[str, Any], overrides: dict[str, float] | None = None,
                      now: dt.datetime | None = None) -> float | None:
    """USD for one ``DescribeTrainingJob`` answer, or None when its instance has no price."""
    resource = job.get("ResourceConfig") or {}
    price = price_for(resource.get("InstanceType", ""), overrides)
    if price is None:
        return None
    count = int(resource.get("InstanceCount") or 1)
    return round(billable_seconds(job, now) * count * price / 3600.0, 6)


def total_cost(jobs: list[dict[str, Any]], overrides: dict[str, float] | None = None,
               now: dt.datetime | None = None) -> float | None:
    """Sum over training jobs; None when any job's instance type has no price."""
    total = 0.0
    for job in jobs:
        cost = training_job_cost(job, overrides, now)
        if cost is None:
            return None
        total += cost
    return round(total, 6)
