"""SageMaker trial health: CPU and GPU utilisation of running training jobs, from CloudWatch.

SageMaker publishes instance metrics of every training job in the CloudWatch namespace
``/aws/sagemaker/TrainingJobs``, dimension ``Host = <training job>/algo-<n>``.
``CPUUtilization`` and ``GPUUtilization`` are summed over the host's vCPUs and GPUs (0-100
x count); pipetune divides by the count of known instance types, so 100 means every GPU
busy. A trial whose average GPU utilisation over the last ``window_seconds`` sits below
``min_gpu_utilization`` (default 20 %) gets a warning: it pays for a GPU that mostly waits,
typically on input. ``min_cpu_utilization`` (off by default) does the same for CPUs.

Example (needs AWS credentials)::

    from pipetune.backends.sagemaker import SageMakerBackend
    from pipetune.observability.cloudwatch import sagemaker_trial_health

    backend = SageMakerBackend()
    for health in sagemaker_trial_health(backend, ref):
        print(health.training_job, health.gpu_utilization, health.warning or "ok")
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipetune.job import JobRef

NAMESPACE = "/aws/sagemaker/TrainingJobs"
DEFAULT_MIN_GPU_UTILIZATION = 20.0
GPUS_PER_INSTANCE = {
    "ml.g4dn.xlarge": 1, "ml.g4dn.2xlarge": 1, "ml.g4dn.4xlarge": 1, "ml.g4dn.8xlarge": 1,
    "ml.g4dn.12xlarge": 4, "ml.g4dn.16xlarge": 1,
    "ml.g5.xlarge": 1, "ml.g5.2xlarge": 1, "ml.g5.4xlarge": 1, "ml.g5.8xlarge": 1,
    "ml.g5.12xlarge": 4, "ml.g5.16xlarge": 1, "ml.g5.24xlarge": 4, "ml.g5.48xlarge": 8,
    "ml.p3.2xlarge": 1, "ml.p3.8xlarge": 4, "ml.p3.16xlarge": 8, "ml.p4d.24xlarge": 8,
}
_SIZE = re.compile(r"^ml\.[a-z0-9-]+\.(?:(\d*)xlarge|(large)|(medium))$")


def vcpus(instance_type: str) -> int | None:
    """vCPUs of an ``ml.*`` instance from its size (large 2, xlarge 4, Nxlarge 4N)."""
    m = _SIZE.match(instance_type or "")
    if not m:
        return None
    if m.group(2) or m.group(3):
        return 2
    return 4 * int(m.group(1) or 1)


@dataclass(frozen=True)
class TrialHealth:
    """Average utilisation of one training job over the window (None: no data points)."""

    training_job: str
    instance_type: str | None
    hosts: int
    cpu_utilization: float | None
    gpu_utilization: float | None
    gpu_memory_utilization: float | None
    warning: str | None = None


def _queries(name: str, hosts: int) -> list[dict[str, Any]]:
    out = []
    for metric, key in (("CPUUtilization", "cpu"), ("GPUUtilization", "gpu"),
                        ("GPUMemoryUtilization", "gpumem")):
        for h in range(1, hosts + 1):
            out.append({"Id": f"{key}{h}", "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": metric,
                           "Dimensions": [{"Name": "Host", "Value": f"{name}/algo-{h}"}]},
                "Period": 60, "Stat": "Average"}})
    return out


def _mean(results: list[dict[str, Any]], key: str) -> float | None:
    values = [v for r in results if re.fullmatch(rf"{key}\d+", r["Id"]) for v in r["Values"]]
    return sum(values) / len(values) if values else None


def trial_health(cloudwatch: Any, training_jobs: list[dict[str, Any]], *,
                 min_gpu_utilization: float | None = DEFAULT_MIN_GPU_UTILIZATION,
                 min_cpu_utilization: float | None = None, window_seconds: float = 600,
                 now: dt.datetime | None = None) -> list[TrialHealth]:
    """Health of the given training jobs (``DescribeTrainingJob`` answers) from CloudWatch.

    ``cloudwatch`` is a boto3 CloudWatch client. Utilisations are per GPU / per vCPU for
    instance types pipetune knows, else as CloudWatch reports them.
    """
    end = now or dt.datetime.now(dt.timezone.utc)
    start = end - dt.timedelta(seconds=window_seconds)
    out = []
    for job in training_jobs:
        name = job["TrainingJobName"]
        resource = job.get("ResourceConfig") or {}
        itype = resource.get("InstanceType")
        hosts = int(resource.get("InstanceCount") or 1)
        results: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"MetricDataQueries": _queries(name, hosts), "StartTime": start,
                                  "EndTime": end}
        while True:
            page = cloudwatch.get_metric_data(**kwargs)
            results.extend(page.get("MetricDataResults", []))
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        cpu, gpu, gpu_mem = _mean(results, "cpu"), _mean(results, "gpu"), _mean(results, "gpumem")
        if cpu is not None and vcpus(itype or ""):
            cpu /= vcpus(itype or "")
        if gpu is not None and itype in GPUS_PER_INSTANCE:
            gpu /= GPUS_PER_INSTANCE[itype]
        if gpu_mem is not None and itype in GPUS_PER_INSTANCE:
            gpu_mem /= GPUS_PER_INSTANCE[itype]
        warnings = []
        minutes = f"{window_seconds / 60:g} min"
        if min_gpu_utilization is not None and gpu is not None and gpu < min_gpu_utilization:
            warnings.append(f"GPU utilisation {gpu:.0f}% over the last {minutes} is below "
                            f"{min_gpu_utilization:g}%: the GPU mostly waits (input pipeline?)")
        if min_cpu_utilization is not None and cpu is not None and cpu < min_cpu_utilization:
            warnings.append(f"CPU utilisation {cpu:.0f}% over the last {minutes} is below "
                            f"{min_cpu_utilization:g}%")
        out.append(TrialHealth(name, itype, hosts, _round(cpu), _round(gpu), _round(gpu_mem),
                               "; ".join(warnings) or None))
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def sagemaker_trial_health(backend: Any, ref: "JobRef | str", *, cloudwatch: Any = None,
                           **options: Any) -> list[TrialHealth]:
    """Health of the running training jobs of a SageMaker tuning job.

    ``backend`` is a :class:`~pipetune.backends.sagemaker.SageMakerBackend`; its session and
    the job's region build the CloudWatch client unless ``cloudwatch`` is given.
    """
    ref = backend._as_ref(ref)
    running = [j for j in backend.training_jobs(ref) if j.get("TrainingJobStatus") == "InProgress"]
    if cloudwatch is None:
        cloudwatch = backend.aws_client("cloudwatch", backend._resolve_region(ref=ref))
    return trial_health(cloudwatch, running, **options)
