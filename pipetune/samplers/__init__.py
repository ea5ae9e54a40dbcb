"""Samplers pipetune adds to Optuna's, one per module (as Optuna's ``samplers/``).

- :class:`~pipetune.samplers.ipop_cma.IpopCmaSampler`: CMA-ES with IPOP restarts, which
  Optuna 5 no longer offers (its ``restart_strategy`` moved to OptunaHub).
- :class:`~pipetune.samplers.handover.HandoverSampler`: one sampler for a job's first
  trials, another for the rest (``auto``'s GP, then CMA-ES).
"""

from pipetune.samplers.handover import HandoverSampler, best_params
from pipetune.samplers.ipop_cma import IpopCmaSampler

__all__ = ["HandoverSampler", "IpopCmaSampler", "best_params"]
