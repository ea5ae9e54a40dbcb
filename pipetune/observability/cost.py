"""A backend-neutral cost estimate for a tuning job.

One :class:`CostEstimate` per job, whatever the backend; the prices come from the
backends' own tables (reused, not copied):

- **SageMaker**: billable seconds of every training job x instance count x the instance's
  price per hour (:mod:`pipetune.backends.sagemaker.cost`; ``sagemaker.prices`` overrides).
- **Vertex AI**: machine (and accelerator) hours of every trial plus the per-trial fee
  (:mod:`pipetune.backends.vertex.cost`; ``vertex.prices`` overrides).
- **local**: CPU-seconds (trial wall time x ``cost.cpus_per_trial``), priced for comparison
  at ``cost.cpu_hour_usd`` (default: the SageMaker ``ml.m5.large`` price per vCPU), so a
  laptop run and a cloud run of one spec can be put side by side, and ``max_cost_usd``
  guards local jobs too.

Running trials count with the time they have run so far.

Example:
    >>> from pipetune.results import TrialRecord
    >>> from pipetune.spec import load_spec
    >>> spec = load_spec({"parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
    ...                   "objectives": [{"metric": "acc"}],
    ...                   "metrics": [{"name": "acc", "regex": "acc=(.+)"}],
    ...                   "trial": {"command": ["python", "t.py"]},
    ...                   "cost": {"cpu_hour_usd": 0.36}})
    >>> trials = [TrialRecord(id=str(i), number=i, state="complete", params={"x": 0.5},
    ...                       duration_seconds=600.0) for i in range(3)]
    >>> local_cost(spec, trials).usd      # 1800 CPU-seconds at $0.36 per CPU-hour
    0.18
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pipetune.observability.convergence import parse_time
from pipetune.results import TrialRecord
from pipetune.spec import CostSettings, TuningSpec

if TYPE_CHECKING:
    from pipetune.backends.base import Backend
    from pipetune.job import JobRef


@dataclass(frozen=True)
class CostEstimate:
    """What a job has cost so far (USD, None when a price is unknown) and what it is based on.

    ``compute_seconds`` is in ``unit``: instance-seconds (SageMaker), machine-seconds
    (Vertex) or CPU-seconds (local). ``warning`` is set when tuning passes the allowed
    share of the training compute it serves (``cost.training_cost_usd``).
    """

    backend: str
    usd: float | None
    compute_seconds: float
    unit: str
    trials: int
    basis: str
    share_of_training: float | None = None
    warning: str | None = None

    def describe(self) -> str:
        """One line for people: the USD amount (or "unknown"), the compute in hours of ``unit``,
        and the basis, e.g. ``≈ $0.12 (0.50 instance-hours, billable
        instance-hours of ml.m5.large)``."""
        usd = "unknown" if self.usd is None else f"${self.usd:,.2f}"
        return f"≈ {usd} ({self.compute_seconds / 3600:,.2f} {self.unit.replace('seconds', 'hours')}, {self.basis})"


def settings_of(spec: TuningSpec) -> CostSettings:
    """The spec's ``cost:`` settings, or the defaults when it has none."""
    return spec.cost or CostSettings()


def default_cpu_hour_usd() -> float:
    """SageMaker's ``ml.m5.large`` (2 vCPUs) price per vCPU-hour: the local comparison price."""
    from pipetune.backends.sagemaker.cost import PRICES_USD_PER_HOUR

    return PRICES_USD_PER_HOUR["ml.m5.large"] / 2


def trial_seconds(trial: TrialRecord, now: float | None = None) -> float:
    """Wall seconds a trial has run: its duration, or the time since it started."""
    if trial.duration_seconds is not None:
        return max(0.0, trial.duration_seconds)
    start = parse_time(trial.started_at)
    if start is None:
        return 0.0
    end = parse_time(trial.finished_at) if trial.finished_at else None
    return max(0.0, (end if end is not None else (now or time.time())) - start)


def _with_share(spec: TuningSpec, est: CostEstimate) -> CostEstimate:
    from pipetune.observability.budget import tuning_share_warning

    share, warning = tuning_share_warning(spec, est.usd)
    return replace(est, share_of_training=share, warning=warning)


def local_cost_from_seconds(spec: TuningSpec, seconds: list[float]) -> CostEstimate:
    """CPU-seconds of the given trial wall times, and their USD at the comparison price."""
    cfg = settings_of(spec)
    price = cfg.cpu_hour_usd if cfg.cpu_hour_usd is not None else default_cpu_hour_usd()
    cpu = sum(seconds) * cfg.cpus_per_trial
    basis = (f"{cfg.cpus_per_trial:g} CPU per trial at ${price:g} per CPU-hour"
             + (" (default: SageMaker ml.m5.large per vCPU)" if cfg.cpu_hour_usd is None else ""))
    return _with_share(spec, CostEstimate("local", round(cpu / 3600 * price, 6), round(cpu, 3),
                                          "CPU-seconds", len(seconds), basis))


def local_cost(spec: TuningSpec, trials: list[TrialRecord], now: float | None = None) -> CostEstimate:
    """Local job: CPU-seconds of its trials priced at ``cost.cpu_hour_usd``."""
    counted = [t for t in trials if t.state != "running"]
    running = sorted((t for t in trials if t.state == "running"),
                     key=lambda t: parse_time(t.started_at) or 0.0)
    # A trial asked ahead (prefetch) is "running" before its process starts: at most
    # max_parallel trials really run, the ones that started first.
    counted += running[: spec.budget.max_parallel]
    return local_cost_from_seconds(spec, [trial_seconds(t, now) for t in counted])


def sagemaker_cost(spec: TuningSpec, training_jobs: list[dict[str, Any]],
                   now: dt.datetime | None = None) -> CostEstimate:
    """SageMaker: ``DescribeTrainingJob`` answers of the tuning job's training jobs."""
    from pipetune.backends.sagemaker.cost import billable_seconds, total_cost

    prices = (spec.sagemaker or {}).get("prices") or {}
    usd = total_cost(training_jobs, prices, now)
    seconds = sum(billable_seconds(j, now) * int((j.get("ResourceConfig") or {}).get("InstanceCount") or 1)
                  for j in training_jobs)
    types = sorted({(j.get("ResourceConfig") or {}).get("InstanceType", "?") for j in training_jobs})
    basis = f"billable instance-hours of {', '.join(types) or 'no instances'}"
    return _with_share(spec, CostEstimate("sagemaker", usd, round(seconds, 3), "instance-seconds",
                                          len(training_jobs), basis))


def vertex_cost(spec: TuningSpec, trials: list[TrialRecord], options: Any = None,
                now: float | None = None) -> CostEstimate:
    """Vertex AI: machine hours of every trial plus the per-trial fee (``vertex.prices``)."""
    from pipetune.backends.vertex.cost import estimate
    from pipetune.backends.vertex.options import parse_options

    opts = options if options is not None else parse_options(spec.vertex)
    seconds = [trial_seconds(t, now) for t in trials]
    usd = estimate(opts, seconds)
    if opts.mode == "vizier":
        basis, machine_seconds = "Vizier per-trial fees (trials run on your workers)", 0.0
    else:
        accel = f" + {opts.accelerator_count} x {opts.accelerator_type}" if opts.accelerator_type else ""
        basis = f"{opts.replica_count} x {opts.machine_type}{accel} machine hours + per-trial fees"
        machine_seconds = sum(seconds) * opts.replica_count
    return _with_share(spec, CostEstimate("vertex", usd, round(machine_seconds, 3),
                                          "machine-seconds", len(trials), basis))


def estimate_cost(ref: "JobRef", backend: "Backend | None" = None, *,
                  spec: TuningSpec | None = None,
                  trials: list[TrialRecord] | None = None) -> CostEstimate:
    """The cost so far of any job, from its handle (:meth:`Backend.estimate_cost`).

    ``backend`` defaults to ``get_backend(ref.backend)``; ``spec`` and ``trials`` skip a
    read when the caller has them already.

    Raises:
        PipetuneError: the backend has no prices for its jobs.
    """
    from pipetune.backends import get_backend
    from pipetune.errors import PipetuneError
    from pipetune.observability.snapshot import spec_of

    be = backend or get_backend(ref.backend)
    estimate = be.estimate_cost(ref, spec=spec or spec_of(be, ref), trials=trials)
    if estimate is None:
        raise PipetuneError(f"the {be.name} backend gives no cost estimate")
    return estimate
