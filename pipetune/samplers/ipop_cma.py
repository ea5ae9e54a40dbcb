"""CMA-ES with IPOP restarts as an Optuna sampler.

Optuna's ``CmaEsSampler`` wraps the ``cmaes`` library; since Optuna 4.4 it ignores its
``restart_strategy`` (moved to OptunaHub), so a CMA-ES that has converged keeps sampling
around one point. This sampler drives ``cmaes.CMA`` itself, on the unit cube of the
continuous and integer parameters, and restarts it from a uniform random point with a
doubled population when it stops (IPOP; Auger and Hansen, 2005). Categorical parameters
are sampled at random. It needs the ``gp`` extra (``cmaes``).

Example:
    >>> import optuna
    >>> from pipetune.samplers import IpopCmaSampler
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(sampler=IpopCmaSampler(seed=3))
    >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2
    ...                + (t.suggest_float("y", -5, 5) + 2) ** 2, n_trials=300)
    >>> study.best_value < 1e-6
    True
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial, TrialState

if TYPE_CHECKING:  # numpy comes with Optuna, but pipetune's core does not import it itself
    import numpy as np

#: CMA-ES's initial step on the unit cube: Optuna's default (the narrowest range / 6)
SIGMA0 = 1.0 / 6.0


class IpopCmaSampler(BaseSampler):
    """CMA-ES on the unit cube of the relative search space (float and int parameters),
    restarted with a doubled population when it stops (IPOP) unless ``ipop`` is False.

    Args:
        seed: Seeds the restarts' starting points and each ``cmaes.CMA``.
        ipop: Restart when the search stops (else one run, like Optuna's sampler).
        start: ``(params or a point of the unit cube, step)`` for the first run, e.g. the
            best parameters so far and 0.1 to refine them; None: the cube's centre and
            :data:`SIGMA0`. A restart starts at a uniform random point with :data:`SIGMA0`.

    Solutions are told to CMA-ES a population at a time, in the order their trials end; a
    trial this sampler did not ask (one asked before a resume) is not told.
    """

    def __init__(self, seed: int | None = None, *, ipop: bool = True,
                 start: tuple[dict[str, Any] | np.ndarray, float] | None = None) -> None:
        import numpy as np

        self._rng = np.random.RandomState(seed)
        self._ipop = ipop
        self._start = start
        self._opt: Any = None
        self._trans: Any = None
        self._pending: dict[int, np.ndarray] = {}
        self._told: list[tuple[np.ndarray, float]] = []
        self._popsize: int | None = None
        self.restarts = 0
        self._fallback = optuna.samplers.RandomSampler(seed=seed)

    def infer_relative_search_space(self, study: optuna.Study,
                                    trial: FrozenTrial) -> dict[str, BaseDistribution]:
        """The float and int parameters every trial so far has had."""
        space = optuna.search_space.intersection_search_space(study.get_trials(deepcopy=False))
        return {k: d for k, d in space.items() if not isinstance(d, CategoricalDistribution)}

    def _new_optimizer(self, dim: int, mean: np.ndarray | None, sigma: float) -> None:
        import cmaes
        import numpy as np

        if mean is None:
            mean = self._rng.uniform(0.0, 1.0, dim) if self.restarts else np.full(dim, 0.5)
        self._opt = cmaes.CMA(mean=mean, sigma=sigma, bounds=np.array([[0.0, 1.0]] * dim),
                              seed=int(self._rng.randint(2**31 - 1)),
                              population_size=self._popsize)
        self._popsize = self._opt.population_size
        self._told = []

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        """CMA-ES's next point, in the parameters' own units."""
        # Optuna's own CmaEsSampler maps the space to the unit cube with this class
        from optuna._transform import _SearchSpaceTransform

        if not search_space:
            return {}
        if self._trans is None:
            self._trans = _SearchSpaceTransform(search_space, transform_0_1=True)
            mean, sigma = self._start if self._start is not None else (None, SIGMA0)
            if mean is not None:
                mean = self._trans.transform(mean) if isinstance(mean, dict) else mean
            self._new_optimizer(len(self._trans.bounds), mean, sigma)
        x = self._opt.ask()
        self._pending[trial.number] = x
        return self._trans.untransform(x)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        """A parameter outside the relative space (categorical, or new): at random."""
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: list[float] | None) -> None:
        """Tell CMA-ES the trial's value (a failed trial is the worst); restart when it
        stops."""
        x = self._pending.pop(trial.number, None)
        if x is None:
            return
        value = values[0] if state == TrialState.COMPLETE and values else math.inf
        if study.direction == optuna.study.StudyDirection.MAXIMIZE:
            value = -value
        self._told.append((x, value if math.isfinite(value) else 1e300))
        if len(self._told) == self._opt.population_size:
            self._opt.tell(self._told)
            self._told = []
            if self._ipop and self._opt.should_stop():
                self.restarts += 1
                self._popsize = self._opt.population_size * 2
                self._new_optimizer(len(self._trans.bounds), None, SIGMA0)
