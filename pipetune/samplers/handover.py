"""One sampler for a job's first trials, another for the rest.

``auto``'s GP is the best single sampler on the benchmarks up to 100 trials, but its
suggestion time grows with the trials it fits (0.1-0.3 s at trial 200 on 2 cores). From
trial 100 on, ``auto`` hands over to CMA-ES with IPOP restarts started at the best point so
far (``pipetune.backends.local.space.make_sampler``; the evidence is in docs/benchmarks.md).

Example:
    >>> import optuna
    >>> from pipetune.samplers import HandoverSampler
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> fixed = optuna.samplers.PartialFixedSampler({"x": 0.5}, optuna.samplers.RandomSampler())
    >>> sampler = HandoverSampler(fixed, 2, lambda study: optuna.samplers.RandomSampler(0))
    >>> study = optuna.create_study(sampler=sampler)
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=4)
    >>> [t.params["x"] == 0.5 for t in study.trials]
    [True, True, False, False]
"""

from __future__ import annotations

from typing import Any, Callable

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial, TrialState


def best_params(study: optuna.Study) -> dict[str, Any] | None:
    """The best completed trial's parameters (where the sampler after a handover may start),
    or None when no trial has completed."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        return None
    pick = min if study.direction == optuna.study.StudyDirection.MINIMIZE else max
    return dict(pick(done, key=lambda t: t.value).params)


class HandoverSampler(BaseSampler):
    """Trials numbered below ``after`` are ``first``'s, whole; later ones go to the sampler
    ``then(study)`` builds when the first of them is asked (it may start from what
    ``first`` found). A resumed job builds ``then`` again from the study as it is.

    Args:
        first: The sampler of trials ``0 .. after - 1``.
        after: The first trial number ``then``'s sampler chooses.
        then: Builds the sampler of the rest from the study.
    """

    def __init__(self, first: BaseSampler, after: int,
                 then: Callable[[optuna.Study], BaseSampler]) -> None:
        self._first = first
        self._after = after
        self._then = then
        self._second: BaseSampler | None = None

    @property
    def after(self) -> int:
        """The first trial number the second sampler chooses."""
        return self._after

    def _pick(self, study: optuna.Study, trial: FrozenTrial) -> BaseSampler:
        if trial.number < self._after:
            return self._first
        if self._second is None:
            self._second = self._then(study)
        return self._second

    def infer_relative_search_space(self, study: optuna.Study,
                                    trial: FrozenTrial) -> dict[str, BaseDistribution]:
        """The relative space of the sampler that chooses this trial."""
        return self._pick(study, trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        """The parameters the sampler that chooses this trial draws together."""
        return self._pick(study, trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        """A parameter the sampler that chooses this trial draws on its own."""
        return self._pick(study, trial).sample_independent(study, trial, param_name,
                                                           param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """Passed to the sampler that chooses this trial."""
        self._pick(study, trial).before_trial(study, trial)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: list[float] | None) -> None:
        """Passed to the sampler that chose this trial."""
        self._pick(study, trial).after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        """Reseed both samplers (Optuna calls this for each process of ``n_jobs``)."""
        self._first.reseed_rng()
        if self._second is not None:
            self._second.reseed_rng()
