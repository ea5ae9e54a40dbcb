"""A BoTorch peer for search quality (issue 21): GP + log expected improvement, one point a trial.

Optional: ``botorch`` is not a pipetune dependency (``pip install botorch -c constraints.txt``
adds it beside torch 2.13.0); without it the contender ``botorch_logei`` is reported as
unavailable. The loop is BoTorch's documented basic one: a scrambled Sobol start of
min(10, budget / 5) points (as ``auto``'s GP), then per trial a ``SingleTaskGP`` with a
standardised outcome, fitted by maximum marginal likelihood, and ``LogExpectedImprovement``
maximised by ``optimize_acqf`` (5 restarts from 128 raw samples). Every parameter is a unit
interval: floats and integers through their (log) scale, integers rounded, a categorical of k
values cut into k equal cells (a continuous relaxation, not BoTorch's mixed optimiser).
"""

from __future__ import annotations

import importlib.util
import math
import time
import warnings
from typing import Any

from benchmarks import problems


def available() -> bool:
    """True when botorch imports here (imports nothing)."""
    return importlib.util.find_spec("botorch") is not None


def _decode(param: dict[str, Any], u: float) -> Any:
    """The value of ``param`` at ``u`` in [0, 1]."""
    u = min(max(u, 0.0), 1.0)
    if param["type"] == "categorical":
        values = param["values"]
        return values[min(int(u * len(values)), len(values) - 1)]
    low, high = float(param["min"]), float(param["max"])
    if param.get("scaling") == "log":
        x = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
    else:
        x = low + u * (high - low)
    if param["type"] == "integer":
        return int(min(max(round(x), param["min"]), param["max"]))
    return min(max(x, low), high)


def run(problem_id: str, seed: int, budget: int) -> dict[str, Any]:
    """Tune ``problem_id`` (minimised) for ``budget`` trials; values in trial order."""
    import torch
    from botorch.acquisition import LogExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Standardize
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import ExactMarginalLogLikelihood
    from scipy.stats import qmc

    problem = problems.get(problem_id)
    params = problem.parameters
    d = len(params)
    n0 = min(10, max(2, budget // 5))
    start = qmc.Sobol(d, scramble=True, seed=seed).random(n0)
    bounds = torch.stack([torch.zeros(d), torch.ones(d)]).double()
    torch.manual_seed(seed)
    xs: list[list[float]] = []
    values: list[float] = []
    configs: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(budget):
            if i < n0:
                x = [float(v) for v in start[i]]
            else:
                X = torch.tensor(xs, dtype=torch.double)
                finite = [v if math.isfinite(v) else max(values) for v in values]
                Y = -torch.tensor(finite, dtype=torch.double).unsqueeze(-1)  # BoTorch maximises
                gp = SingleTaskGP(X, Y, outcome_transform=Standardize(m=1))
                try:
                    fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp))
                except Exception:  # noqa: BLE001 - a failed fit keeps the prior's hyperparameters
                    pass
                acq = LogExpectedImprovement(gp, best_f=Y.max())
                cand, _ = optimize_acqf(acq, bounds=bounds, q=1, num_restarts=5,
                                        raw_samples=128)
                x = [float(v) for v in cand[0]]
            configs.append({p["name"]: _decode(p, u) for p, u in zip(params, x)})
            value = problem.observe(configs[-1], seed, i)
            xs.append(x)
            values.append(value)
    return {"values": values, "params": configs, "seconds": time.perf_counter() - t0,
            "resolved": "botorch_logei"}
