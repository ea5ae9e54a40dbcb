"""The local engine's coordinator: ask Optuna, run trials, tell Optuna, until the budget ends.

One coordinator runs a job's trials on this machine, up to ``budget.max_parallel`` at once
(threads waiting on trial processes). It can die at any point. A command trial runs in its
own session and outlives it: the next start records the outcome the trial left in its
directory, or adopts its still-running process and waits for it (see
:mod:`pipetune.trials.recovery`); a trial asked ahead that never started was no attempt and
is asked again. An in-process trial dies with it: it is marked interrupted (not counted) and
retried once with the same parameters. So no result is lost or counted twice.

A trial the host failed (its directory or logs could not be written, its process could not be
spawned) is not charged: it is asked again, and the job ends ``interrupted`` with the cause,
to be resumed once the host is fixed.

The same engine is also a ``pipetune worker``: any number of them, on any machines, share
one study (a PostgreSQL URL, or a journal file on one machine). Each stamps the trials it asks
with its owner and beats for them (see :mod:`.heartbeat`); a trial whose owner died is
found by the others, marked interrupted and retried once. A worker with nothing left to ask
waits while others still run trials, so a dead worker's trial is never left behind.

With ``local.prefetch`` (the default) it asks the sampler for the next trial while the
current command runs, so the sampler's time hides behind the trial's. Prefetch never changes
the outcome: a trial that might end the job (a failure, a guard on its value or the cost) is
recorded and the guards decided before the trial asked ahead starts; one that never starts
is discarded with its directory, and is not shown as running meanwhile.
"""

from __future__ import annotations

import copy
import inspect
import logging
import math
import os
import queue
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

import optuna
from optuna.trial import FrozenTrial, TrialState

from optuna.exceptions import UpdateFinishedTrialError

try:  # study.tell's own first part (see _tell); a future Optuna may move or change it
    from optuna.study._tell import _tell_with_warning

    if not {"study", "trial", "value_or_values", "state"} <= set(
            inspect.signature(_tell_with_warning).parameters):
        _tell_with_warning = None
except ImportError:
    _tell_with_warning = None

from pipetune.backends.local import answering, heartbeat, space
from pipetune.backends.local.tally import Tally
from pipetune.backends.local.jobstore import (
    ATTR_FINISHED,
    ATTR_REASON,
    ATTR_SAMPLER,
    ATTR_STARTED,
    ATTR_STARTS,
    ATTR_STATE,
    ATTR_STOP,
    ATTR_WORKER_PREFIX,
    T_EXCLUDED,
    T_INFO,
    T_OWNER,
    T_RETRY_OF,
    JobDir,
)
from pipetune.job import JobState
from pipetune.spec import TuningSpec
from pipetune.trials import recovery
from pipetune.trials.contracts import PreparedTrial
from pipetune.trials.process import kill_orphan, read_pidfile
from pipetune.trials.runner import PIDFILE, HostFailure, TrialOutcome, run_trial, set_up

log = logging.getLogger(__name__)


_EMPTY = object()
# the outcome of a trial the host failed (HostFailure): not charged, asked again on resume
HOST_ERROR = "host_error"


@dataclass
class _Running:
    trial: optuna.Trial
    params: dict[str, Any]
    started: float
    prepared: PreparedTrial | None = None  # a command trial's directory, laid out at the ask
    adopted: bool = False  # a dead engine's trial, still running: wait for it, run nothing
    adopt_pid: int | None = None  # its process (None: only its pidfile's lock is known)


class _StartGate:
    """Counts slot threads that are starting a trial's process.

    The coordinating thread waits for them before its own Python work (telling, sampling).
    Both need the GIL: a slot that has to win it back many times while it spawns would start
    its trial up to milliseconds late, and the slot is what the next trial waits for."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._starting = 0

    def begin(self) -> Callable[[], None]:
        """Count one start; returns the call that ends it (safe to call more than once)."""
        with self._cond:
            self._starting += 1
        ended = False

        def end() -> None:
            nonlocal ended
            if not ended:
                ended = True
                with self._cond:
                    self._starting -= 1
                    self._cond.notify_all()

        return end

    def wait(self, timeout: float = 0.1) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._starting == 0, timeout)


class Engine:
    """Runs one job to its end.

    Args:
        job: The job's directory (its spec and study).
        spec: The job's spec.
        on_trial: Called with this engine after each trial it records; :attr:`tally` then
            holds the job's counts and best value (cheap to read: nothing is replayed).
        role: ``"coordinator"`` (one per job at a time) or ``"worker"`` (any number).
    """

    def __init__(self, job: JobDir, spec: TuningSpec,
                 on_trial: Callable[["Engine"], None] | None = None, *,
                 role: str = "coordinator"):
        self.job = job
        self.role = role  # "coordinator" (one per job at a time) or "worker" (any number)
        self.spec = spec
        self.on_trial = on_trial
        self.stop_event = threading.Event()
        self._decision: tuple[JobState, str] | None = None
        self._started = time.monotonic()
        self._limit = space.trial_limit(spec)
        self.owner = heartbeat.this_process()
        self.worker = self.owner["id"]
        self.recorded = 0  # trials this engine ran and recorded
        self.lost = 0  # trials this engine ran but others had declared stale meanwhile
        self._beats: heartbeat.Heartbeat | None = None
        self._next_look = 0.0
        self.study: optuna.Study | None = None  # the job's study, once run() opened it
        self.tally: Tally | None = None  # the job's counted trials, refreshed before each ask
        self._tally_fresh = False  # refreshed since the last ask (the end-of-job check did)
        self.started_at: float | None = None  # wall time the job first started
        self.choice: space.StrategyChoice | None = None  # the strategy run, once run() chose
        self._handover_at: int | None = None  # the trial number where auto's GP hands over
        # GP under auto early stopping: TPE is due at the first reported value (_tpe_on_report)
        # for the sampler instance _instance; _reported: a trial has reported one
        self._tpe_on_report = False
        self._instance: str | None = None
        self._reported = False
        self._adopted: list[_Running] = []  # found running by _recover; the pool waits for them
        self._host_failure: str | None = None  # why the host failed a trial: the job pauses
        self._closing = False
        self._stop_path = str(job.stop_file)  # looked at before every trial

    # ---- public -------------------------------------------------------------------------
    def run(self) -> JobState:
        """Run the job's trials until its budget or a guard ends it, or a stop; returns the
        state it ended in (and recorded in the study). A job that has ended runs nothing."""
        spec = self.spec
        study = optuna.load_study(study_name=self.job.name, storage=self.job.storage(
            checkpoints=self.role == "coordinator"),  # one writer of a job's checkpoints
                                  pruner=space.make_pruner(spec))
        self.study = study
        if hasattr(study._storage, "stamp_new_trials"):  # the owner is in the trial's first line
            study._storage.stamp_new_trials({T_OWNER: self.owner})
        self._prunes = not isinstance(study.pruner, optuna.pruners.NopPruner)
        self.tally = Tally(study, maximize=spec.primary.goal == "maximize",
                           single_objective=not spec.multi_objective)
        recorded = JobState(study.user_attrs.get(ATTR_STATE, "pending"))
        if recorded.terminal:
            return recorded  # a worker joining a job that has ended runs nothing
        self._instance = self._sampler_instance(study)
        study.sampler = space.make_sampler(spec, self._instance)
        self._handover_at = space.handover_trial(study.sampler)
        self.choice = space.explain_strategy(spec)
        if space.switches_to_tpe_on_report(spec, self.choice):
            self._tpe_on_report = True
            if any(t.intermediate_values for t in study.get_trials(deepcopy=False)):
                self._reported = True  # a resumed job whose trials reported: TPE at once
                self._leave_gp(study, record=False)
        self._record_choice(study)
        self._settings = heartbeat.Settings.for_study(study)
        self._beats = heartbeat.Heartbeat(study, self._settings, self.owner)
        self._beats.start()
        # other processes' reads of the running job are answered from this study
        answerer = answering.serve(self.job, study) if self.role == "coordinator" else None
        try:
            return self._run(study)
        finally:
            if answerer is not None:
                answerer.close()
            self._beats.stop()
            study.set_user_attr(ATTR_WORKER_PREFIX + self.worker,
                                {"seen": time.time(), "pid": self.owner["pid"], "ended": True,
                                 "recorded": self.recorded})
            if self.role == "coordinator" and hasattr(study._storage, "final_checkpoint"):
                study._storage.final_checkpoint()  # readers of the ended job replay nothing

    def _record_choice(self, study: optuna.Study) -> None:
        """Record the strategy this engine runs, and why, for ``status`` and the report: a
        coordinator always (its machine's ``gp`` extra decides ``auto``), a worker when
        nothing is recorded yet (a job only workers serve). A worker whose choice differs
        from the recorded one (another machine, another extra) says so in its log."""
        assert self.choice is not None
        mine = self.choice.to_dict()
        recorded = study.user_attrs.get(ATTR_SAMPLER)
        if self.role == "coordinator" or not recorded:
            if recorded != mine:
                study.set_user_attr(ATTR_SAMPLER, mine)
        elif recorded.get("strategy") != mine["strategy"]:
            log.warning("worker %s runs strategy %s (%s); the job recorded %s (%s)",
                        self.worker, mine["strategy"], mine["reason"],
                        recorded.get("strategy"), recorded.get("reason"))

    def _leave_gp(self, study: optuna.Study, *, record: bool = True) -> None:
        """Under ``auto`` (strategy and early stopping), once a trial has reported an
        intermediate value: TPE from now on, recorded with the reason unless ``record`` is
        False (see :func:`pipetune.backends.local.space.switches_to_tpe_on_report`)."""
        if not (self._tpe_on_report and self._reported):
            return
        self._tpe_on_report = False
        self._handover_at = None  # TPE from now on: no CMA-ES after GP
        # its own seed: TPE's random start-up with GP's seed would redraw GP's first points
        own = f"{self._instance or 'coordinator/0'}/tpe-on-report"
        study.sampler = space.make_sampler(self.spec.with_overrides(strategy="tpe"), own)
        self._switched(study, space.StrategyChoice("tpe", space.TPE_ON_REPORT), record=record)

    def _handed_over(self, study: optuna.Study) -> None:
        """``auto``'s GP has handed the trials over to CMA-ES (its sampler did)."""
        self._handover_at = None
        self._switched(study, space.StrategyChoice("cmaes", space.cma_after_gp()))

    def _switched(self, study: optuna.Study, choice: space.StrategyChoice, *,
                  record: bool = True) -> None:
        """The sampler choosing now is ``choice``'s: recorded with the reason (once per
        job, unless ``record`` is False), so ``status`` names it."""
        self.choice = choice
        recorded = study.user_attrs.get(ATTR_SAMPLER) or {}
        if record and recorded.get("strategy") != choice.strategy:
            study.set_user_attr(ATTR_SAMPLER, choice.to_dict())

    def _sampler_instance(self, study: optuna.Study) -> str | None:
        """Names this engine's sampler among the job's, so each draws its own sequence: the
        job's first coordinator keeps the spec's seed; a resumed one counts its starts (one
        coordinator runs at a time); a worker is named by its process."""
        if self.role == "worker":
            return f"worker/{self.worker}/{self.owner.get('start')}"
        starts = int(study.user_attrs.get(ATTR_STARTS, 0))
        study.set_user_attr(ATTR_STARTS, starts + 1)
        return None if starts == 0 else f"coordinator/{starts}"

    def _run(self, study: optuna.Study) -> JobState:
        spec = self.spec
        self._recover(study)
        self._sweep_excluded(study)
        study.set_user_attr(ATTR_STATE, JobState.RUNNING.value)
        self.started_at = study.user_attrs.get(ATTR_STARTED)
        if self.started_at is None:
            self.started_at = time.time()
            study.set_user_attr(ATTR_STARTED, self.started_at)
        if spec.trial.command is None and spec.budget.max_parallel == 1:
            self._run_inline(study)  # no hand-off to a worker thread for in-process trials
        else:
            # A slot thread whose trial just ended must get the GIL back at once to start the
            # next one; with the default 5 ms switch interval, this thread's sampler and
            # bookkeeping (pure Python) would keep it waiting for most of that.
            interval = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, 0.0002))
            try:
                self._run_pooled(study,
                                 prefetch=spec.local.prefetch and spec.trial.command is not None)
            finally:
                sys.setswitchinterval(interval)
        state, reason = self._decision or (JobState.COMPLETED, "budget spent")
        if state == JobState.FAILED:  # trials still running at the decision may have failed too
            reason = self._too_many_failed(counted_trials(study)) or reason
        if state == JobState.COMPLETED and not any(
            t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)
        ):
            state, reason = JobState.FAILED, "no trial completed: " + _last_reasons(study)
        study.set_user_attr(ATTR_REASON, reason)
        study.set_user_attr(ATTR_FINISHED, time.time())
        study.set_user_attr(ATTR_STATE, state.value)
        backend = getattr(study._storage, "_backend", None)
        if hasattr(backend, "flush"):
            backend.flush()
        return state

    def _next_decision(self, study: optuna.Study) -> bool:
        """Decide whether the job must end; True while it may go on."""
        if time.monotonic() >= self._next_look:
            self._next_look = time.monotonic() + min(1.0, self._settings.interval)
            self._recover(study)
            if study.user_attrs.get(ATTR_STOP):
                self.stop_event.set()
        if self._stop_requested():
            self._decision = (JobState.STOPPED, "stopped on request")
        if self._decision is None and self._host_failure is not None:
            self._decision = (JobState.INTERRUPTED, f"{self._host_failure}; the trial was not "
                              f"charged: fix the host, then `pipetune resume {self.job.name}`")
        if self._decision is None:
            self._decision = self._check_end(study)
        return self._decision is None

    def _finished(self, study: optuna.Study, item: _Running, outcome: TrialOutcome) -> None:
        self._tell(study, item, outcome)
        if self.on_trial is not None and self.tally is not None:
            self.tally.refresh()
            self.on_trial(self)

    def _run_inline(self, study: optuna.Study) -> None:
        while self._next_decision(study):
            item = self._ask(study)
            if item is None:
                if self._wait_for_others(study):
                    continue
                return
            self._finished(study, item, self._run_one(item))

    def _wait_for_others(self, study: optuna.Study) -> bool:
        """Nothing left to ask: wait while other workers still run trials, since a trial of
        one that dies is retried here. False when the job has nothing running any more."""
        if self._decision is not None:
            return False
        if not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            return False
        time.sleep(min(0.5, self._settings.interval))
        return True

    def _run_pooled(self, study: optuna.Study, *, prefetch: bool) -> None:
        """Trials run on ``max_parallel`` slot threads fed by a queue. With ``prefetch`` one
        more trial is asked for ahead, so a slot starts its next trial the moment the last
        one ends, while this thread does the sampler's work and the bookkeeping; unless the
        last one's outcome may end the job: then the slot waits for this thread's decision."""
        max_parallel = self.spec.budget.max_parallel
        todo: queue.Queue[_Running | None] = queue.Queue()
        # (trial, outcome or None if it never ran, the event a slot waits on for the decision)
        done: queue.Queue[tuple[_Running, TrialOutcome | None, threading.Event | None]]
        done = queue.Queue()
        gate = _StartGate()

        def slot() -> None:
            item = todo.get()
            started = gate.begin()
            while item is not None:
                outcome: TrialOutcome | None = None  # None: asked ahead, but the job has ended
                # an adopted trial runs already: always wait for it (a stop still ends it)
                if item.adopted or (self._decision is None
                                                  and not self._timed_out()):
                    try:
                        outcome = self._run_one(item, on_start=started)
                    except Exception as exc:  # never lose a trial to a bug in its bookkeeping
                        outcome = TrialOutcome("failed", reason=f"pipetune error: {exc!r}")
                started()
                if outcome is not None and self._may_end_job(outcome):
                    decided = threading.Event()
                    done.put((item, outcome, decided))
                    while not decided.wait(0.5) and not self._closing:
                        pass
                    following = todo.get()
                    started = gate.begin()
                else:
                    # Take the trial asked ahead, if any, before handing this result over: the
                    # coordinating thread then sees this slot starting it and lets it go first.
                    try:
                        following = todo.get_nowait()
                        started = gate.begin()
                    except queue.Empty:
                        following = _EMPTY
                    done.put((item, outcome, None))
                    if following is _EMPTY:
                        following = todo.get()
                        started = gate.begin()
                item = following
            started()

        slots = [threading.Thread(target=slot, name=f"trial-slot-{i}", daemon=True)
                 for i in range(max_parallel)]
        for thread in slots:
            thread.start()
        in_flight = 0
        target = max_parallel + (1 if prefetch else 0)
        try:
            go_on = self._next_decision(study)
            while True:
                while self._adopted:  # found running by _recover: wait for them, whatever else
                    todo.put(self._adopted.pop(0))
                    in_flight += 1
                while go_on and in_flight < target:
                    item = self._ask(study)
                    if item is None:
                        break
                    todo.put(item)
                    in_flight += 1
                if in_flight == 0:
                    if self._wait_for_others(study):
                        go_on = self._next_decision(study)
                        continue
                    break
                try:
                    item, outcome, decided = done.get(timeout=0.5)
                except queue.Empty:
                    go_on = self._next_decision(study)
                    continue
                gate.wait()
                in_flight -= 1
                if outcome is None:
                    self._discard(study, item.trial, "not run: the job ended first")
                else:
                    self._finished(study, item, outcome)
                go_on = self._next_decision(study)
                if decided is not None:
                    decided.set()
        finally:
            self._closing = True
            for _ in slots:
                todo.put(None)

    def _may_end_job(self, outcome: TrialOutcome) -> bool:
        """Whether recording ``outcome`` may end the job (a guard): then the trial asked ahead
        waits for the decision instead of starting at once."""
        budget = self.spec.budget
        if outcome.state not in ("complete", "pruned"):
            return True  # max_failed, a host failure
        if budget.max_cost_usd is not None or budget.no_improvement_trials is not None:
            return True
        if self.spec.convergence is not None and self.spec.convergence.stop:
            return True  # convergence.stop: the not-converging rule may end the job
        if budget.target_value is not None and outcome.state == "complete":
            value = outcome.metrics.get(self.spec.primary.metric)
            if value is None or self.spec.multi_objective:
                return value is None
            maximize = self.spec.primary.goal == "maximize"
            return value >= budget.target_value if maximize else value <= budget.target_value
        return False

    def _timed_out(self) -> bool:
        timeout = self.spec.budget.timeout
        return timeout is not None and time.monotonic() - self._started > timeout

    def request_stop(self) -> None:
        """Ask the engine to stop: no new trial starts, running ones are stopped."""
        self.stop_event.set()

    # ---- steps ----------------------------------------------------------------------------
    def _stop_requested(self) -> bool:
        if not self.stop_event.is_set() and os.path.exists(self._stop_path):
            self.stop_event.set()
        return self.stop_event.is_set()

    def _ask(self, study: optuna.Study) -> _Running | None:
        # Asked trials are RUNNING in the storage: counted. The tally refreshed by the
        # end-of-job check just before is good enough here; the rank check below reads afresh.
        assert self.tally is not None
        if not self._tally_fresh:
            self.tally.refresh()
        self._tally_fresh = False
        if self.tally.counted >= self._limit:
            return None
        if self._reported:
            self._leave_gp(study)
        trial = study.ask()
        if self._handover_at is not None and trial.number >= self._handover_at:
            self._handed_over(study)
        assert self._beats is not None
        self._beats.add(trial)
        # Another worker may have asked at the same moment: the storage's trial numbers
        # decide who is within the budget. Numbers are dense from 0, so a trial numbered
        # below the limit has fewer counted trials before it than the limit: no need to look.
        if trial.number >= self._limit:
            rank = sum(1 for t in counted_trials(study) if t.number < trial.number)
            if rank >= self._limit:
                self._discard(study, trial, "over budget: another worker took the last trial")
                return None
        if self.spec.trial.command is not None:
            # before any parameter is drawn: an engine killed from here on leaves a directory,
            # so the next one finds the trial never started (no attempt), not run elsewhere
            try:
                self.job.trial_dir(trial.number).mkdir(parents=True, exist_ok=True)
            except OSError:
                pass  # a host that cannot lay it out: the slot's set-up reports a host failure
        try:
            params = space.suggest(self.spec, trial)
        except UpdateFinishedTrialError:
            # Frozen past the heartbeat grace while suggesting (SIGSTOP, a partitioned host):
            # another worker declared the trial stale and retries it. Ours is lost; ask again.
            self._forget(trial)
            self.lost += 1
            return self._ask(study)
        item = _Running(trial, params, time.time())
        if self.spec.trial.command is not None:
            try:  # here, while the trial before runs, rather than in the slot before its start
                item.prepared = set_up(self.spec, {**params, **self.spec.static}, trial.number,
                                       self.job.trial_dir(trial.number))
            except Exception:
                pass  # the slot tries again and records the error as the trial's failure
        return item

    def _run_one(self, item: _Running, on_start: Callable[[], None] | None = None) -> TrialOutcome:
        spec = self.spec
        number = item.trial.number
        trial_dir = self.job.trial_dir(number) if spec.trial.command is not None else None
        if item.adopted:
            assert trial_dir is not None
            if on_start is not None:
                on_start()
            return recovery.adopt(spec, {**item.params, **spec.static}, number, trial_dir,
                                  item.adopt_pid, self._stop_requested)
        reporter = None
        if self._prunes:

            def reporter(step: int, value: float) -> bool:
                self._reported = True
                item.trial.report(value, step)
                return item.trial.should_prune()

        try:
            return run_trial(spec, {**item.params, **spec.static}, number=number,
                             trial_dir=trial_dir, report=reporter,
                             stop_requested=self._stop_requested, on_start=on_start,
                             prepared=item.prepared)
        except HostFailure as exc:
            return TrialOutcome(HOST_ERROR, reason=str(exc))

    def _tell(self, study: optuna.Study, item: _Running, out: TrialOutcome) -> None:
        if out.state == HOST_ERROR:
            self._forget(item.trial)
            self._host_failure = out.reason or "host failure"
            trial = item.trial
            self._requeue(study, trial._trial_id, trial.number, trial.params, trial.user_attrs,
                          out.reason or "host failure", state=HOST_ERROR)
            return
        info: dict[str, Any] = {"metrics": out.metrics, "duration": round(out.duration, 4)}
        if out.reason:
            info["reason"] = out.reason
        if out.artifacts:
            info["artifacts"] = out.artifacts
        if out.state not in ("complete", "pruned"):
            info["state"] = out.state
        trial = item.trial
        self._forget(trial)
        try:
            trial.set_user_attr(T_INFO, info)
            if not self._prunes and len(out.intermediate) > 1:
                for step, value in out.intermediate:
                    if math.isfinite(value):
                        trial.report(value, step)
            if out.state == "complete":
                _tell(study, trial, [out.metrics[o.metric] for o in self.spec.objectives])
            elif out.state == "pruned":
                _tell(study, trial, state=TrialState.PRUNED)
            else:
                _tell(study, trial, state=TrialState.FAIL)
        except (UpdateFinishedTrialError, ValueError, RuntimeError):
            # Our heartbeat was late and another worker declared the trial stale: its retry
            # carries the budget slot, so this result must not count a second time.
            if study._storage.get_trial(trial._trial_id).state == TrialState.RUNNING:
                raise
            self.lost += 1
            return
        self.recorded += 1

    def _forget(self, trial: optuna.Trial) -> None:
        if self._beats is not None:
            self._beats.forget(trial)

    def _discard(self, study: optuna.Study, trial: optuna.Trial, reason: str) -> None:
        """A trial that never ran: not counted, not shown, no directory left behind."""
        self._forget(trial)
        trial.set_user_attr(T_EXCLUDED, True)
        trial.set_user_attr(T_INFO, {"state": "discarded", "reason": reason})
        _tell(study, trial, state=TrialState.FAIL)
        if self.spec.trial.command is not None:
            shutil.rmtree(self.job.trial_dir(trial.number), ignore_errors=True)

    def _sweep_excluded(self, study: optuna.Study) -> None:
        """Directories of trials that never ran (discarded, asked again, or interrupted before
        their parameters were drawn) which an engine killed between recording that and
        removing them left behind: removed here, at the next start."""
        if self.spec.trial.command is None:
            return
        for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
            if t.user_attrs.get(T_EXCLUDED) and self.job.trial_dir(t.number).exists():
                shutil.rmtree(self.job.trial_dir(t.number), ignore_errors=True)

    def _requeue(self, study: optuna.Study, trial_id: int, number: int, params: dict[str, Any],
                 attrs: dict[str, Any], reason: str, *, state: str = "discarded") -> None:
        """A trial that was no attempt (never started, or failed by the host): not counted,
        its directory removed, and its parameters asked again (keeping the interrupted trial
        it retries, if any, so that one keeps its single retry)."""
        storage = study._storage
        try:
            storage.set_trial_user_attr(trial_id, T_EXCLUDED, True)
            storage.set_trial_user_attr(trial_id, T_INFO, {"state": state, "reason": reason})
            storage.set_trial_state_values(trial_id, TrialState.FAIL)
        except UpdateFinishedTrialError:
            return  # another engine took care of it
        again: dict[str, Any] = {T_INFO: {"retry_reason": f"trial {number}: {reason}"}}
        if T_RETRY_OF in attrs:
            again[T_RETRY_OF] = attrs[T_RETRY_OF]
        study.enqueue_trial(params, skip_if_exists=False, user_attrs=again)
        if self.spec.trial.command is not None:
            shutil.rmtree(self.job.trial_dir(number), ignore_errors=True)

    def _too_many_failed(self, trials: list) -> str | None:
        """The reason to fail the job when more than ``budget.max_failed`` trials failed."""
        failed = [t for t in trials if t.state == TrialState.FAIL]
        last = failed[-1].user_attrs.get(T_INFO, {}).get("reason") if failed else None
        return self._failure_reason(len(failed), last)

    def _failure_reason(self, failures: int, last: str | None) -> str | None:
        limit = self.spec.budget.effective_max_failed
        if failures <= limit:
            return None
        return (f"{failures} trials failed, more than max_failed={limit}; "
                f"last failure: {last or 'unknown'}")

    def _check_end(self, study: optuna.Study) -> tuple[JobState, str] | None:
        budget = self.spec.budget
        if self._timed_out():
            return JobState.COMPLETED, f"job timeout of {budget.timeout:g}s reached"
        assert self.tally is not None
        tally = self.tally.refresh()
        self._tally_fresh = True  # the next ask's budget check may use it
        convergence = self.spec.convergence
        if budget.max_cost_usd is not None or (convergence is not None and convergence.stop):
            # opt-in guards that look at every trial (their cost grows with the job)
            from pipetune.observability.budget import local_convergence_guard, local_cost_guard

            trials = counted_trials(study)
            if budget.max_cost_usd is not None and (over_budget := local_cost_guard(
                    self.spec, _as_run(self.job, trials))) is not None:
                return over_budget
            if (stuck := local_convergence_guard(self.spec, trials)) is not None:
                return stuck
        last = tally.last_failure
        if (too_many := self._failure_reason(tally.failures, last and last[1])) is not None:
            return JobState.FAILED, too_many
        if self.spec.multi_objective or tally.best is None:
            return None
        maximize = self.spec.primary.goal == "maximize"
        best_value, best_number = tally.best
        if budget.target_value is not None and (
            best_value >= budget.target_value if maximize else best_value <= budget.target_value
        ):
            return JobState.COMPLETED, f"target value {budget.target_value:g} reached ({best_value:g})"
        if (budget.no_improvement_trials is not None
                and tally.since_best() >= budget.no_improvement_trials):
            return JobState.COMPLETED, (f"no improvement in {budget.no_improvement_trials} "
                                        f"trials (best {best_value:g} at trial {best_number})")
        return None

    def _pick_up(self, study: optuna.Study, t: FrozenTrial) -> bool:
        """A command trial of a dead engine of this machine: record the outcome it left, adopt
        its still-running process, or ask it again if it never started. False when its
        directory is not here (then it is retried as interrupted)."""
        params = space.user_params(self.spec, t.params)
        found = recovery.left_behind(self.spec, {**params, **self.spec.static}, t.number,
                                     self.job.trial_dir(t.number))
        if found.kind == "unknown":
            return False
        if found.kind == "not_started":
            self._requeue(study, t._trial_id, t.number, t.params, t.user_attrs,
                          "asked ahead, never started (not an attempt)")
            return True
        started = t.datetime_start.timestamp() if t.datetime_start else time.time()
        item = _Running(optuna.Trial(study, t._trial_id), params, started)
        assert self._beats is not None
        self._beats.add(item.trial)  # ours now: no other engine finds it stale
        if found.kind == "running":
            item.adopted, item.adopt_pid = True, found.pid
            self._adopted.append(item)
        else:
            assert found.outcome is not None
            self._finished(study, item, found.outcome)
        return True

    def _recover(self, study: optuna.Study) -> None:
        """Trials left running by a coordinator or worker that died. A command trial whose
        directory is on this machine is picked up (:meth:`_pick_up`); any other is not
        counted and is retried once.

        Several workers may find the same stale trial; marking it failed is the claim (the
        storage lets only one finish a trial), and only the winner enqueues the retry. The
        retry's ``retry_of`` is what excludes the interrupted trial from the budget, so an
        owner that was merely late, and finishes first, keeps its result counted.
        """
        storage = study._storage
        for t in heartbeat.stale_trials(study, self._settings, self.worker):
            if (t.params and self.spec.trial.command is not None
                    and heartbeat.owner_dead(t.user_attrs.get(T_OWNER) or {})
                    and self._pick_up(study, t)):
                continue
            if heartbeat.owner_dead(t.user_attrs.get(T_OWNER) or {}):
                # its process may still run, in its own session: not next to its retry
                kill_orphan(self.job.trial_dir(t.number) / PIDFILE)
            retried = T_RETRY_OF in t.user_attrs
            try:  # say why before finishing it (then it is read-only)
                if not t.params:  # nothing ran: not counted, a fresh ask takes its place
                    storage.set_trial_user_attr(t._trial_id, T_EXCLUDED, True)
                    storage.set_trial_user_attr(t._trial_id, T_INFO, {
                        "state": "failed", "reason": "interrupted before its parameters were drawn"})
                elif retried:  # counted as a failure
                    storage.set_trial_user_attr(t._trial_id, T_INFO, {
                        "state": "failed", "reason": "interrupted: the process running this "
                        "trial stopped (second time; not retried)"})
            except UpdateFinishedTrialError:
                continue
            try:
                storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            except UpdateFinishedTrialError:
                continue  # its owner finished it, or another worker claimed it first
            if not retried and t.params:
                study.enqueue_trial(t.params, skip_if_exists=False, user_attrs={
                    T_RETRY_OF: t.number,
                    T_INFO: {"retry_reason": f"trial {t.number} was interrupted: the process "
                             "running it stopped"}})


def _tell(study: optuna.Study, trial: optuna.Trial, values: list[float] | None = None,
          state: TrialState | None = None) -> None:
    """``study.tell`` without its last step, a deep copy of the trial that it returns and
    the engine never reads (3% of an in-process no-op trial's cost, measured);
    ``study.optimize`` records trials this way too."""
    if _tell_with_warning is None:
        study.tell(trial, values, state=state)
    else:
        _tell_with_warning(study=study, trial=trial, value_or_values=values, state=state)


def not_started(job: JobDir, trial: FrozenTrial) -> bool:
    """A command trial asked (e.g. ahead of its turn) whose process has not been spawned:
    its pidfile is still empty, or its directory is not laid out yet while the engine that
    asked it, a live process of this machine, lays it out. Not running; not yet a trial."""
    pidfile = job.trial_dir(trial.number) / PIDFILE
    if pidfile.exists():
        return read_pidfile(pidfile) is None
    owner = trial.user_attrs.get(T_OWNER)
    return isinstance(owner, dict) and heartbeat.owner_alive_here(owner)


def _as_run(job: JobDir, trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """``trials`` as they really ran, for the cost guard: a trial asked ahead that has not
    started costs nothing yet, and one that has started runs from its spawn, not its ask."""
    out = []
    for t in trials:
        if t.state == TrialState.RUNNING:
            pidfile = job.trial_dir(t.number) / PIDFILE
            if pidfile.exists():
                spawned = read_pidfile(pidfile)
                if spawned is None:
                    continue
                t = copy.copy(t)
                t.datetime_start = datetime.fromtimestamp(spawned[1])
        out.append(t)
    return out


def counted_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Trials that count against the budget: everything but interrupted-and-retried ones
    (an interrupted trial is replaced by its retry) and discarded over-budget asks."""
    trials = study.get_trials(deepcopy=False)
    retried = {t.user_attrs[T_RETRY_OF] for t in trials if T_RETRY_OF in t.user_attrs}
    return [t for t in trials
            if t.state != TrialState.WAITING and not t.user_attrs.get(T_EXCLUDED)
            and not (t.state == TrialState.FAIL and t.number in retried)]


def _last_reasons(study: optuna.Study) -> str:
    reasons = [t.user_attrs.get(T_INFO, {}).get("reason") for t in counted_trials(study)]
    reasons = [r for r in reasons if r]
    return "; ".join(dict.fromkeys(reasons[-3:])) or "no trial ran"
