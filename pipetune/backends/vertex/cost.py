"""A cost estimate for a Vertex job: per-trial fee plus machine hours.

Prices are approximate us-central1 list prices; set ``vertex.prices`` for your region,
discounts or machine types missing here. Mode ``vizier`` runs trials on your own workers,
so only the Vizier per-trial fee is counted (the first 100 trials of a month are free;
the estimate counts every trial, an upper bound).

Example:
    >>> from pipetune.backends.vertex.options import parse_options
    >>> opts = parse_options({"project": "my-proj", "location": "us-central1",
    ...                       "machine_type": "n1-standard-4"})
    >>> estimate(opts, [3600.0, 1800.0])
    0.3277
"""

from __future__ import annotations

from pipetune.backends.vertex.options import VertexOptions

MACHINE_HOUR_USD = {
    "n1-standard-4": 0.2185, "n1-standard-8": 0.4370, "n1-standard-16": 0.8741,
    "n1-highmem-8": 0.5442, "e2-standard-4": 0.1543, "e2-standard-8": 0.3086,
    "n2-standard-4": 0.2234, "n2-standard-8": 0.4468, "a2-highgpu-1g": 4.2245,
    "g2-standard-8": 1.0275,
}
ACCELERATOR_HOUR_USD = {
    "NVIDIA_TESLA_T4": 0.4025, "NVIDIA_TESLA_V100": 2.8520, "NVIDIA_TESLA_P100": 1.6790,
    "NVIDIA_TESLA_A100": 3.3741, "NVIDIA_L4": 0.6440,
}
VIZIER_TRIAL_FEE_USD = 1.0


def estimate(opts: VertexOptions, trial_seconds: list[float]) -> float | None:
    """USD for trials that ran ``trial_seconds`` each; None when a price is unknown."""
    fee = opts.prices.trial_fee_usd
    if opts.mode == "vizier":
        return round(len(trial_seconds) * (VIZIER_TRIAL_FEE_USD if fee is None else fee), 4)
    machine = opts.prices.machine_hour_usd.get(opts.machine_type,
                                               MACHINE_HOUR_USD.get(opts.machine_type))
    if machine is None:
        return None
    hourly = machine
    if opts.accelerator_type:
        accel = opts.prices.accelerator_hour_usd.get(
            opts.accelerator_type, ACCELERATOR_HOUR_USD.get(opts.accelerator_type))
        if accel is None:
            return None
        hourly += accel * opts.accelerator_count
    hours = sum(trial_seconds) / 3600.0
    return round(hours * hourly * opts.replica_count + len(trial_seconds) * (fee or 0.0), 4)
