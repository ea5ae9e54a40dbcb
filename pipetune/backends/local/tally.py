"""The job's counted trials, folded in as they finish: what the engine checks before each ask.

The budget rules (:func:`pipetune.backends.local.engine.counted_trials`) only ever look at
counts, the failures and the best value so far. Recomputing them from every trial before
each ask made a trial's cost grow with the job (O(n) per trial, O(n²) per job). A
:class:`Tally` reads each trial once when it appears and once more when it finishes; a
finished trial never changes again, except that a later retry takes an interrupted failure
out of the count, which the tally undoes. So a refresh costs O(new trials + trials still
running), whatever the job's size, on a journal file and on a database alike.

Example:
    >>> import optuna
    >>> study = optuna.create_study()
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    >>> tally = Tally(study)
    >>> tally.refresh().counted, tally.complete
    (3, 3)
"""

from __future__ import annotations

import bisect
import math
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from pipetune.backends.local.jobstore import T_EXCLUDED, T_INFO, T_RETRY_OF

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class Tally:
    """Counts of a study's counted trials, kept current by :meth:`refresh`.

    Args:
        study: The job's study (any Optuna storage).
        maximize: Whether larger first objective values are better (for :attr:`best`).
        single_objective: Track the best value and the trials since it (single objective).
    """

    def __init__(self, study: optuna.Study, *, maximize: bool = False,
                 single_objective: bool = True) -> None:
        self._storage = study._storage
        self._study_id = study._study_id
        self._maximize = maximize
        self._single = single_objective
        self._next = 0  # trials numbered below this have been read at least once
        self._open: dict[int, int] = {}  # number -> trial id: waiting or running when last read
        self._retried: set[int] = set()  # numbers that a later trial retries
        self._failures: dict[int, str | None] = {}  # counted failed trials: number -> reason
        self._infeasible: set[int] = set()  # of those, the infeasible ones
        self._complete_numbers: list[int] = []  # counted complete trials, sorted (no-improvement)
        self._finished_counted = 0
        self.running = 0  #: counted trials running (asked and not finished) at the last refresh
        self.complete = 0  #: counted trials that completed
        self.pruned = 0  #: counted trials pruned
        self.failed = 0  #: counted trials that failed, infeasible ones aside
        self.infeasible = 0  #: counted trials whose objective was not a usable number
        self.best: tuple[float, int] | None = None  #: (value, trial number) of the best trial

    @property
    def counted(self) -> int:
        """Trials that count against the budget: finished ones and those running."""
        return self._finished_counted + self.running

    @property
    def failures(self) -> int:
        """Every counted failure, infeasible ones included (what ``budget.max_failed`` limits)."""
        return len(self._failures)

    @property
    def last_failure(self) -> tuple[int, str | None] | None:
        """(number, reason) of the highest-numbered counted failure, if any."""
        if not self._failures:
            return None
        number = max(self._failures)
        return number, self._failures[number]

    def since_best(self) -> int:
        """How many completed trials, in trial-number order, came after the best one."""
        if self.best is None:
            return 0
        return len(self._complete_numbers) - bisect.bisect_right(self._complete_numbers,
                                                                 self.best[1])

    def refresh(self) -> "Tally":
        """Read the trials that appeared, and those that were open, since the last refresh."""
        running = 0
        for number, trial_id in list(self._open.items()):
            t = self._storage.get_trial(trial_id)
            if t.state in _FINISHED:
                del self._open[number]
                self._fold(t)
            elif t.state == TrialState.RUNNING and not t.user_attrs.get(T_EXCLUDED):
                running += 1
        while True:
            try:
                trial_id = self._storage.get_trial_id_from_study_id_trial_number(
                    self._study_id, self._next)
            except KeyError:
                break
            self._next += 1
            t = self._storage.get_trial(trial_id)
            retry_of = t.user_attrs.get(T_RETRY_OF)
            if retry_of is not None:
                self._retry(int(retry_of))
            if t.state in _FINISHED:
                self._fold(t)
            else:
                self._open[t.number] = trial_id
                if t.state == TrialState.RUNNING and not t.user_attrs.get(T_EXCLUDED):
                    running += 1
        self.running = running
        return self

    def _retry(self, number: int) -> None:
        """Trial ``number`` is retried by a later one: an interrupted failure leaves the count."""
        self._retried.add(number)
        if number in self._failures:
            del self._failures[number]
            self._finished_counted -= 1
            if number in self._infeasible:
                self._infeasible.discard(number)
                self.infeasible -= 1
            else:
                self.failed -= 1

    def _fold(self, t: FrozenTrial) -> None:
        if t.user_attrs.get(T_EXCLUDED):
            return
        if t.state == TrialState.FAIL:
            if t.number in self._retried:
                return
            info: dict[str, Any] = t.user_attrs.get(T_INFO) or {}
            self._finished_counted += 1
            if info.get("state") == "infeasible":
                self._infeasible.add(t.number)
                self.infeasible += 1
            else:
                self.failed += 1
            self._failures[t.number] = info.get("reason")
            return
        self._finished_counted += 1
        if t.state == TrialState.PRUNED:
            self.pruned += 1
            return
        self.complete += 1
        if not self._single or not t.values:
            return
        value = t.values[0]
        bisect.insort(self._complete_numbers, t.number)
        if math.isnan(value):
            return
        if self.best is None or (value > self.best[0] if self._maximize else value < self.best[0]) \
                or (value == self.best[0] and t.number < self.best[1]):
            self.best = (value, t.number)
