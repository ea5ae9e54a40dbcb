"""The embedded local engine behind the :class:`~pipetune.backends.base.Backend` interface.

Example:
    >>> import tempfile
    >>> from pipetune import load_spec
    >>> from pipetune.backends.local import LocalBackend
    >>> spec = load_spec({
    ...     "parameters": [{"name": "x", "type": "continuous", "min": -1, "max": 1}],
    ...     "objectives": [{"metric": "loss", "goal": "minimize"}],
    ...     "metrics": [{"name": "loss", "regex": "loss=([-0-9.eE+]+)"}],
    ...     "trial": {"command": ["python", "-c",  # gets --x=VALUE (the args contract)
    ...               "import sys; print('loss=%f' % float(sys.argv[1][4:]) ** 2)"]},
    ...     "budget": {"max_trials": 4}, "seed": 1})
    >>> backend = LocalBackend(tempfile.mkdtemp())  # jobs under ~/.pipetune when not given
    >>> ref = backend.launch(spec, "nightly")  # returns at once: the coordinator runs detached
    >>> backend.wait(ref).state.value
    'completed'
    >>> sorted(backend.best(ref).params)
    ['x']
"""

from __future__ import annotations

import fcntl
import functools
import logging
import math
import os
import shutil
import subprocess
import sys
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from pydantic import TypeAdapter

from pipetune.backends.base import Backend
from pipetune.backends.local import answering, answers
from pipetune.backends.local.jobstore import (
    _open_journals,
    ATTR_FINISHED,
    ATTR_REASON,
    ATTR_SAMPLER,
    ATTR_SPEC,
    ATTR_STARTED,
    ATTR_STATE,
    ATTR_STOP,
    T_EXCLUDED,
    T_INFO,
    JobDir,
)
from pipetune.errors import JobConflict, JobFailed, SpecError, WaitTimeout
from pipetune.job import JobRef, JobState, JobStatus, TrialCounts
from pipetune.results import BestResult, TrialRecord, build_best
from pipetune import warm_start
from pipetune.secrets import redact_spec_dict
from pipetune.spec import TuningSpec
from pipetune.trials.runner import RESULT_FILE
from pipetune.warm_start import Transfer

if TYPE_CHECKING:  # the engine, its space and Optuna are imported where a study is used:
    import optuna  # reading an ended job's kept answers needs none of them (answers.py)

    from pipetune.backends.local.engine import Engine

log = logging.getLogger(__name__)


class LocalBackend(Backend):
    """The embedded engine: trials run on this machine (or on workers sharing its study).

    Its coordinator enforces the spec's guards itself (budget, failures, timeout, cost),
    so a job that nobody waits for is guarded too.
    """

    name = "local"
    enforced_guards = frozenset({"max_trials", "max_failed", "timeout", "max_cost_usd",
                                 "convergence"})  # the coordinator, before each trial
    keeps_files = True

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root).absolute() if root else None

    def _job(self, name_or_ref: "str | JobRef") -> JobDir:
        if isinstance(name_or_ref, JobRef):
            root = name_or_ref.extra.get("root")
            return JobDir(name_or_ref.id, Path(root) if root else self.root)
        return JobDir(name_or_ref, self.root)

    def ref(self, name: str) -> JobRef:
        """The handle of local job ``name`` (with the root it lives under)."""
        job = self._job(name)
        return JobRef(backend="local", id=name, name=name, extra={"root": str(job.root)})

    # ---- validation -----------------------------------------------------------------------
    def validate(self, spec: TuningSpec) -> None:
        """Check what the local engine needs before anything is created: the storage answers,
        the trial command or callable can be found, a grid has no conditional parameters, the
        warm start's parents exist and fit. Raises :class:`~pipetune.errors.SpecError`."""
        if spec.storage:
            from pipetune.storages.urls import probe_storage_url

            probe_storage_url(spec.storage)  # driver installed, folder exists, server answers
        if spec.strategy == "grid":  # else the coordinator would die on it after launch
            for i, p in enumerate(spec.parameters):
                if p.condition is not None:
                    raise SpecError("the local engine's grid search does not support "
                                    "conditional parameters; use strategy random or tpe",
                                    field=f"parameters[{i}].condition")
        if spec.trial.command is not None:
            _check_command(spec)
        else:
            _check_callable(spec)
        if spec.warm_start:
            self._warm_start_trials(spec)  # raises on a missing or mismatched parent

    # ---- launch ---------------------------------------------------------------------------
    def launch(self, spec: TuningSpec, name: str, *, detach: bool = True,
               on_trial: Callable[[Engine], None] | None = None) -> JobRef:
        """Start (or attach to) job ``name``. ``detach=False`` runs it here to its end,
        calling ``on_trial`` with the engine after each trial it records."""
        job = self._job(name)
        with self._lock(job):
            self._prepare(job, spec)
            state = self._state(job)
            if state.terminal or (state in (JobState.RUNNING, JobState.PENDING, JobState.STOPPING)
                                  and job.coordinator_alive()):
                return self.ref(name)  # attach: someone runs it, or it is over
            if detach:
                self._spawn(job)
                return self.ref(name)
        self._run_here(job, on_trial)
        return self.ref(name)

    def run_here(self, spec: TuningSpec, name: str, *,
                 on_status: Callable[[JobStatus], None] | None = None) -> JobRef:
        """Run the job's trials in this process to its end, or attach when a coordinator
        runs it already (or it has ended). ``on_status`` hears of each finished trial."""
        job = self._job(name)
        on_trial = None
        if on_status is not None:
            from pipetune.backends.local import space

            limit = space.trial_limit(spec)

            def on_trial(engine: Engine) -> None:  # from the engine's tally: nothing replayed
                on_status(_live_status(self.ref(job.name), engine, limit))
        return self.launch(spec, name, detach=False, on_trial=on_trial)

    def find(self, name: str) -> JobRef | None:
        """The handle of the local job ``name``, when its files exist."""
        return self.ref(name) if self._job(name).exists() else None

    def estimate_cost(self, ref: "JobRef | str", *, spec: TuningSpec | None = None,
                      trials: list[TrialRecord] | None = None):
        """CPU-seconds of the trials priced at ``cost.cpu_hour_usd`` (for comparison with
        the cloud, and for ``budget.max_cost_usd``)."""
        spec = spec or self.spec_of(ref)
        return self.cost_from_trials(spec, trials if trials is not None else self.trials(ref))

    @classmethod
    def cost_from_trials(cls, spec: TuningSpec, trials: list[TrialRecord]):
        """CPU-seconds of the trials at ``cost.cpu_hour_usd`` (the comparison price)."""
        from pipetune.observability.cost import local_cost

        return local_cost(spec, trials)

    def prepare_shared(self, spec: TuningSpec, name: str) -> JobRef:
        """The job and its study, for workers on any machine reaching its storage."""
        return self.prepare(spec, name)

    def serve_shared(self, name: str, *, spec: TuningSpec | None = None,
                     trial_root: str | Path | None = None, storage_url: str | None = None):
        """Run trials of the prepared job ``name`` until its shared budget is spent; the
        study's database (``storage_url``, else the spec's ``storage``) is enough without
        the job's directory."""
        from pipetune.backends.base import WorkerReport
        from pipetune.backends.local.worker import run_worker

        url = storage_url or (spec.storage if spec is not None else None)
        summary = run_worker(name, storage_url=url or None, root=self._job(name).root)
        return WorkerReport(job=self.ref(name), worker=summary.worker,
                            trials_run=summary.trials_recorded, state=summary.state)

    def prepare(self, spec: TuningSpec, name: str) -> JobRef:
        """Create job ``name`` and its study without running anything (idempotent): what
        workers fanned out by Airflow or KFP then serve (``pipetune worker``)."""
        job = self._job(name)
        with self._lock(job):
            self._prepare(job, spec)
        return self.ref(name)

    def _prepare(self, job: JobDir, spec: TuningSpec) -> None:
        """Under the jobs lock: attach to the job (same spec) or create it after validation."""
        if job.exists():
            self._check_same_spec(job, spec)
            return
        import optuna

        from pipetune.backends.local import space

        self.validate(spec)
        warm = self._warm_start_trials(spec) if spec.warm_start else Transfer()
        fresh = not job.path.exists()
        job.create(spec)
        try:
            study = optuna.create_study(study_name=job.name, storage=job.storage(),
                                        directions=space.directions(spec), load_if_exists=True)
            study.set_user_attr(ATTR_SPEC, redact_spec_dict(spec.to_dict()))
            study.set_user_attr(ATTR_STATE, JobState.PENDING.value)
            if warm.trials:
                study.add_trials(warm.trials)
            if spec.warm_start:
                study.set_user_attr(warm_start.ATTR_LEFT_OUT, warm.left_out)
        except BaseException:  # storage unreachable, disk full...: leave nothing half-made
            job.meta_file.unlink(missing_ok=True)
            if fresh:
                shutil.rmtree(job.path, ignore_errors=True)
            raise
        if warm.message():
            log.warning("%s: %s", job.name, warm.message())

    def resume(self, ref: "JobRef | str", *, detach: bool = True,
               on_trial: Callable[[Engine], None] | None = None) -> JobRef:
        """Continue an interrupted job (its coordinator died). A no-op for a live or ended job."""
        job = self._job(ref)
        return self.launch(job.spec(), job.name, detach=detach, on_trial=on_trial)

    def _run_here(self, job: JobDir, on_trial) -> None:
        import signal

        from pipetune.backends.local.engine import Engine

        engine = Engine(job, job.spec(), on_trial=on_trial)
        job.set_coordinator(os.getpid())
        previous = signal.getsignal(signal.SIGTERM)
        in_main = _in_main_thread()
        if in_main:
            signal.signal(signal.SIGTERM, lambda *_: engine.request_stop())
        try:
            engine.run()
            if engine.study is not None and job.storage_url().startswith("journal://"):
                _open_journals.put(job.name, job.storage_url(), engine.study)  # reads reuse it
                self._keep_answers(job)
        except KeyboardInterrupt:
            engine.request_stop()
            raise
        finally:
            if in_main:
                signal.signal(signal.SIGTERM, previous)

    def _spawn(self, job: JobDir) -> None:
        log = os.fdopen(os.open(job.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")
        env = dict(os.environ)
        env["PIPETUNE_HOME"] = str(job.root)
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipetune.backends.local.coordinator", job.name],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            env=env, close_fds=True,
        )
        log.close()
        job.set_coordinator(proc.pid)

    @contextmanager
    def _lock(self, job: JobDir) -> Iterator[None]:
        (job.root / "jobs").mkdir(parents=True, exist_ok=True)
        with open(job.root / "jobs" / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _check_same_spec(self, job: JobDir, spec: TuningSpec) -> None:
        meta = job.meta()
        if meta["fingerprint"] != spec.fingerprint():
            raise JobConflict(
                f"a job named {job.name!r} already exists with a different spec; "
                "choose another name, or remove "
                f"{job.path} to start over")

    # ---- warm start -----------------------------------------------------------------------
    def _warm_start_trials(self, spec: TuningSpec) -> Transfer:
        """The parents' complete trials that seed ``spec``, by AMT's rules
        (:mod:`pipetune.warm_start`); SpecError for a missing or incompatible parent."""
        from optuna.trial import TrialState

        assert spec.warm_start is not None
        out = Transfer()
        mine = warm_start.of_spec(spec)
        for i, parent_name in enumerate(spec.warm_start.parents):
            field = f"warm_start.parents[{i}]"
            try:
                parent_job = self._job(parent_name)
                parent_spec = parent_job.spec()
            except Exception:
                raise SpecError(f"no local job named {parent_name!r} to warm-start from "
                                f"(looked in {self._job(parent_name).path})", field=field) from None
            problems = warm_start.amt_problems(mine, warm_start.of_spec(parent_spec),
                                               spec.primary.metric, parent_spec.primary.metric)
            if problems:
                raise SpecError(f"parent {parent_name!r}: {'; '.join(problems)}", field=field)
            study = parent_job.load_study()
            warm_start.transfer(spec, parent_name, parent_spec,
                                study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
                                out)
        return out

    # ---- reading --------------------------------------------------------------------------
    def _state(self, job: JobDir) -> JobState:
        study = job.load_study()
        return JobState(study.user_attrs.get(ATTR_STATE, "pending"))

    def status(self, ref: "JobRef | str") -> JobStatus:
        """The job's state, trial counts, best value and elapsed time.

        A job whose coordinator died (and no worker beats for it) is ``interrupted``; a running
        job with a stop flag is ``stopping``. Counts are of the job's own trials: a warm start's
        parent trials are reported in ``warm_start``, never counted. An ended job's status is
        kept (:mod:`~pipetune.backends.local.answers`) and read back while its journal is
        unchanged."""
        job = self._job(ref)
        current = answers.stamp(job)
        kept = answers.read(job, "status", current) or answering.asked(job, "status")
        if kept is not None:
            return JobStatus.model_validate_json(kept).model_copy(update={"ref": self.ref(job.name)})
        study = job.load_study()
        st = self._status(job, job.spec(), study)
        timeless = ATTR_FINISHED in study.user_attrs or ATTR_STARTED not in study.user_attrs
        if _settled(study) and timeless:
            answers.write(job, "status", current, st.model_dump_json())
        return st

    def _status(self, job: JobDir, spec: TuningSpec, study: optuna.Study) -> JobStatus:
        from optuna.trial import TrialState

        from pipetune.backends.local import space
        from pipetune.backends.local.engine import counted_trials, not_started
        from pipetune.backends.local.heartbeat import live_workers

        attrs = study.user_attrs
        state = JobState(attrs.get(ATTR_STATE, "pending"))
        reason = attrs.get(ATTR_REASON)
        if not state.terminal and not job.coordinator_alive() and not live_workers(study):
            if job.stop_file.exists():
                state, reason = JobState.STOPPED, "stopped on request"
            else:
                if not (state == JobState.INTERRUPTED and reason):  # else the engine said why
                    reason = (f"the coordinator process is gone; continue with "
                              f"`pipetune resume {job.name}`")
                state = JobState.INTERRUPTED
        elif state in (JobState.RUNNING, JobState.PENDING) and job.stop_file.exists():
            state = JobState.STOPPING
        # the job's own trials: a warm start's parent trials seed the sampler, not this budget.
        # Counted from the study's trials directly: no record is built (a 10,000-trial job).
        warm = None
        if spec.warm_start:
            seeded: dict[str, int] = {}
            for t in study.get_trials(deepcopy=False):
                parent = t.user_attrs.get(T_INFO, {}).get("warm_start_from")
                if parent:
                    parent = parent.rsplit("#", 1)[0]
                    seeded[parent] = seeded.get(parent, 0) + 1
            warm = {"seeded": seeded, "left_out": dict(attrs.get(warm_start.ATTR_LEFT_OUT) or {})}
        tally = dict.fromkeys(("running", "complete", "failed", "pruned", "infeasible"), 0)
        values: list[float] = []
        primary = spec.objectives.index(spec.primary) if not spec.multi_objective else None
        metric = spec.primary.metric
        own = [(t, info) for t in counted_trials(study)
               if not (info := t.user_attrs.get(T_INFO, {})).get("warm_start_from")]
        # Of the command trials running: one asked ahead whose process has not started is no
        # trial (yet); one whose process has ended, its outcome kept but not yet recorded, no
        # longer runs (with prefetch the next one may already have started). Every pidfile
        # is read before any outcome file: a trial seen started implies its predecessor's.
        skip: set[int] = set()
        if spec.trial.command is not None:
            running = [t for t, _ in own if t.state == TrialState.RUNNING]
            skip = {t.number for t in running if not_started(job, t)}
            skip |= {t.number for t in running if t.number not in skip
                     and (job.trial_dir(t.number) / RESULT_FILE).exists()}
        for t, info in own:  # a poll of a 10,000-trial job goes through here: kept lean
            if skip and t.number in skip:
                continue
            kind = _state_of(t, info)
            if kind in tally:
                tally[kind] += 1
            elif kind == "stopped":
                tally["failed"] += 1
            if kind == "complete" and primary is not None:
                value = (info.get("metrics") or {}).get(metric)
                if value is None and t.values:
                    value = t.values[primary]
                if value is not None:
                    values.append(value)
        counts = TrialCounts(**tally)
        best_value = None
        if values:
            best_value = max(values) if spec.primary.goal == "maximize" else min(values)
        started = attrs.get(ATTR_STARTED)
        finished = attrs.get(ATTR_FINISHED) if state.terminal else None
        elapsed = ((finished or time.time()) - started) if started else None
        sampler, why = _sampler_of(spec, attrs)
        pruner, pruner_why = space.explain_pruner(spec)
        return JobStatus(ref=self.ref(job.name), state=state, reason=reason, trials=counts,
                         max_trials=space.trial_limit(spec), best_value=best_value,
                         elapsed_seconds=elapsed, sampler=sampler, sampler_reason=why,
                         pruner=pruner, pruner_reason=pruner_why, warm_start=warm)

    def poll(self, ref: "JobRef | str", *, poll_seconds: float,
             timeout: float | None) -> Iterator[JobStatus]:
        """Statuses of the job: the first at once, then every ``poll_seconds``, and at once
        when it ends. Its files are looked at every 50 ms: a stop flag or the coordinator's
        death brings a status at once; a journal that grew brings only a look at the job's
        state (the new lines, read from the study this process keeps open), so :meth:`wait`
        returns within a tenth of a second of the job's end, and a poller of a busy job
        costs it little. A job whose study is in a database is polled like the cloud
        backends."""
        job = self._job(ref)
        if not job.storage_url().startswith("journal://"):
            yield from super().poll(self.ref(job.name), poll_seconds=poll_seconds,
                                    timeout=timeout)
            return
        journal = Path(job.storage_url().removeprefix("journal://"))
        start = time.monotonic()
        while True:
            read_at = time.monotonic()
            st = self.status(ref)
            yield st
            if timeout is not None and time.monotonic() - start > timeout:
                raise WaitTimeout(f"job {job.name!r} still {st.state.value} after {timeout:.0f}s; "
                                  "it goes on running")
            seen = _stamp(job, journal)
            while time.monotonic() < read_at + poll_seconds:
                if timeout is not None and time.monotonic() - start > timeout:
                    break
                time.sleep(_WATCH_SECONDS)
                now = _stamp(job, journal)
                if now == seen:
                    continue
                if now[1:] != seen[1:] or self._state(job).terminal:
                    break  # stopped, its coordinator gone or back, or the job has ended
                seen = now

    def stop(self, ref: "JobRef | str") -> None:
        """Request a stop: the flag, a study attribute workers on other machines see, and
        SIGTERM to a live coordinator (its trials get SIGTERM, then SIGKILL after the grace).
        A job nobody runs is marked stopped at once; an ended job is left as it is."""
        import signal

        job = self._job(ref)
        job.meta()
        job.stop_file.touch()
        if not self._state(job).terminal:
            job.load_study().set_user_attr(ATTR_STOP, True)  # workers on other machines see it
        info = job.coordinator()
        if job.coordinator_alive() and info.get("pid") and info["pid"] != os.getpid():
            try:
                os.kill(info["pid"], signal.SIGTERM)
            except ProcessLookupError:
                pass
        elif not self._state(job).terminal:
            study = job.load_study()
            study.set_user_attr(ATTR_REASON, "stopped on request")
            study.set_user_attr(ATTR_FINISHED, time.time())
            study.set_user_attr(ATTR_STATE, JobState.STOPPED.value)

    def spec_of(self, ref: "JobRef | str") -> TuningSpec:
        """The job's spec, with the secret values this machine holds."""
        return self._job(ref).spec()

    def trials(self, ref: "JobRef | str") -> list[TrialRecord]:
        """Every trial of the job (warm-start parent trials first, marked), in number order;
        a trial asked ahead whose process has not started is not listed."""
        job = self._job(ref)
        return self._kept_records(job, job.spec())[0]

    def trials_json(self, ref: "JobRef | str") -> str:
        """:meth:`trials` as one line of JSON; an ended job's is the text kept for it."""
        job = self._job(ref)
        kept = answers.read(job, "trials", answers.stamp(job)) or answering.asked(job, "trials")
        return kept if kept is not None else super().trials_json(ref)

    def _kept_records(self, job: JobDir, spec: TuningSpec) -> tuple[list[TrialRecord], bool]:
        """The job's records: kept ones while the journal is unchanged, else built, and kept
        when the job has ended (only if every number is finite: JSON writes a NaN as null).
        With them, whether they are final (the job has ended)."""
        current = answers.stamp(job)
        kept = answers.read(job, "trials", current)
        if kept is not None:
            return _records_json().validate_json(kept), True
        live = answering.asked(job, "trials")  # the running job's coordinator answers
        if live is not None:
            return _records_json().validate_json(live), False
        study = job.load_study()
        records = self._records(job, spec, study)
        final = _settled(study)
        if final and _finite(records):  # else JSON would write a NaN as null: built each time
            answers.write(job, "trials", current, _records_json().dump_json(records).decode())
        return records, final

    def remember(self, ref: "JobRef | str", key: str, compute: Callable[[], str]) -> str:
        """``compute()``, kept beside the journal once the job has ended (its status kept:
        see :mod:`~pipetune.backends.local.answers`) and read back while the journal is
        unchanged."""
        if not answers.KEY_RE.fullmatch(key):
            raise ValueError(f"answer key {key!r}: use lowercase letters, digits and dashes")
        job = self._job(ref)
        name = f"remembered.{key}"
        current = answers.stamp(job)
        kept = answers.read(job, name, current)
        if kept is None and key in answering.QUESTIONS:  # a running job's coordinator knows
            kept = answering.asked(job, key)
        if kept is not None:
            return kept
        text = compute()
        if answers.read(job, "status", current) is not None:  # the job has ended
            answers.write(job, name, current, text)
        return text

    def _keep_answers(self, job: JobDir) -> None:
        """Keep an ended job's status and records for the next reader (its coordinator
        has the study open: nothing is replayed). A failure here costs only that keeping."""
        try:
            self.status(job.name)
            self.best(job.name)
        except JobFailed:
            pass  # no trial completed: there is no best to keep
        except Exception:
            log.warning("could not keep the answers of job %s", job.name, exc_info=True)

    def _records(self, job: JobDir, spec: TuningSpec, study: optuna.Study) -> list[TrialRecord]:
        # Built with model_construct, each field coerced here to the type TrialRecord declares:
        # validating 10,000 records from our own study took most of `pipetune trials`' time.
        # A finished trial's record is kept with the study this process keeps open, for as
        # long as its trial object is the one the study holds (the journal's replay replaces
        # a trial's object on any change): a poller of a long job builds only new records.
        from optuna.trial import TrialState

        from pipetune.backends.local import space
        from pipetune.backends.local.engine import counted_trials, not_started

        memo: dict[int, tuple[Any, TrialRecord]] = {}  # a database's trials: built each time
        if job.storage_url().startswith("journal://"):  # replaced on change, never edited
            with _memo_lock:
                memo = _record_memo.setdefault(study, {})
        out = []
        warm = [t for t in study.get_trials(deepcopy=False)
                if t.user_attrs.get(T_INFO, {}).get("warm_start_from")]
        command = spec.trial.command is not None
        for t in warm + counted_trials(study):
            kept = memo.get(t._trial_id)
            if kept is not None and kept[0] is t:
                out.append(kept[1])
                continue
            if t.state == TrialState.RUNNING and command and not_started(job, t):
                continue  # asked ahead, not started: not a trial (yet), not running
            info = t.user_attrs.get(T_INFO, {})
            state = _state_of(t, info)
            metrics = {str(k): float(v) for k, v in (info.get("metrics") or {}).items()}
            if t.values and state == "complete":
                for o, v in zip(spec.objectives, t.values):
                    metrics.setdefault(o.metric, float(v))
            duration = info.get("duration")
            out.append(TrialRecord.model_construct(
                id=f"{job.name}#{t.number}", number=t.number, state=state,
                params=space.user_params(spec, t.params), metrics=metrics,
                values=[float(v) for v in t.values] if t.values else None,
                reason=_str_or_none(info.get("reason")),
                artifacts=_str_or_none(info.get("artifacts")),
                started_at=t.datetime_start.isoformat() if t.datetime_start else None,
                finished_at=t.datetime_complete.isoformat() if t.datetime_complete else None,
                duration_seconds=float(duration) if duration is not None else None,
                intermediate={int(k): float(v) for k, v in t.intermediate_values.items()},
                warm_start_from=_str_or_none(info.get("warm_start_from")),
            ))
            if t.state.is_finished():
                memo[t._trial_id] = (t, out[-1])
        return out

    def best(self, ref: "JobRef | str") -> BestResult:
        """The best trial's typed parameters and metrics (the Pareto front with several
        objectives); raises :class:`~pipetune.errors.JobFailed` when no trial completed."""
        job = self._job(ref)
        current = answers.stamp(job)
        kept = answers.read(job, "best", current) or answering.asked(job, "best")
        if kept is not None:
            return BestResult.model_validate_json(kept)
        spec = job.spec()
        records, final = self._kept_records(job, spec)
        result = build_best(spec, job.name, "local", records)
        if final:
            text = result.model_dump_json()
            if _reads_back(TypeAdapter(BestResult), text, result):
                answers.write(job, "best", current, text)
        return result


_WATCH_SECONDS = 0.05

#: finished trials' records, per study open in this process: trial id -> (the trial object
#: the record was built from, the record); dropped with the study
_record_memo: "weakref.WeakKeyDictionary[optuna.Study, dict[int, tuple[Any, TrialRecord]]]" = (
    weakref.WeakKeyDictionary())
_memo_lock = threading.Lock()


@functools.cache
def _records_json() -> "TypeAdapter[list[TrialRecord]]":
    return TypeAdapter(list[TrialRecord])


def _finite(records: list[TrialRecord]) -> bool:
    """Whether every number of the records is finite: what keeps their JSON equal to them
    (the records of a 10,000-trial job are not validated back: that would double the
    coordinator's memory at the job's end)."""
    for r in records:
        numbers = [*(r.values or ()), *r.metrics.values(), *r.intermediate.values(),
                   *(v for v in r.params.values() if isinstance(v, float))]
        if r.duration_seconds is not None:
            numbers.append(r.duration_seconds)
        if not all(math.isfinite(x) for x in numbers):
            return False
    return True


def _reads_back(adapter: TypeAdapter, text: str, value: Any) -> bool:
    """Whether ``text`` validates back to ``value``: not so with a NaN or infinite metric,
    which JSON writes as null (such an answer is built each time, never kept)."""
    try:
        return adapter.validate_json(text) == value
    except ValueError:
        return False


def _settled(study: optuna.Study) -> bool:
    """Ended by its recorded state, with no trial left running: only a new journal line
    could change what it answers."""
    from optuna.trial import TrialState

    if not JobState(study.user_attrs.get(ATTR_STATE, "pending")).terminal:
        return False
    return not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


#: Optuna's trial states that name a record's state by themselves (by name: Optuna is not
#: imported for an ended job's reads)
_STATE_NAMES = {"COMPLETE": "complete", "PRUNED": "pruned", "RUNNING": "running"}


def _state_of(t: optuna.trial.FrozenTrial, info: dict) -> str:
    """A trial's state as records and statuses name it: a failed trial's own word for it
    (stopped, infeasible, ...) is in its info."""
    kind = _STATE_NAMES.get(t.state.name)
    return kind if kind is not None else info.get("state", "failed")


def _sampler_of(spec: TuningSpec, attrs: dict) -> tuple[str, str]:
    """The sampler the job's engine recorded, and why; before an engine has run it (or for a
    job from an older pipetune), the choice this machine would make, said as such."""
    recorded = attrs.get(ATTR_SAMPLER)
    if isinstance(recorded, dict) and recorded.get("sampler"):
        return recorded["sampler"], recorded.get("reason") or ""
    from pipetune.backends.local import space

    choice = space.explain_strategy(spec)
    return choice.sampler, f"{choice.reason} [not recorded yet: this machine's choice]"


def _live_status(ref: JobRef, engine: Engine, limit: int) -> JobStatus:
    """The status of a job running in this process, from its engine's tally (the same
    counts and best value as :meth:`LocalBackend.status`, without reading the study)."""
    tally = engine.tally
    assert tally is not None
    counts = TrialCounts(running=tally.running, complete=tally.complete, failed=tally.failed,
                         pruned=tally.pruned, infeasible=tally.infeasible)
    state = JobState.STOPPING if engine.stop_event.is_set() else JobState.RUNNING
    from pipetune.backends.local import space

    elapsed = time.time() - engine.started_at if engine.started_at else None
    choice = engine.choice
    pruner, pruner_why = space.explain_pruner(engine.spec)
    return JobStatus(ref=ref, state=state, trials=counts, max_trials=limit,
                     best_value=tally.best[0] if tally.best else None, elapsed_seconds=elapsed,
                     sampler=choice.sampler if choice else None,
                     sampler_reason=choice.reason if choice else None,
                     pruner=pruner, pruner_reason=pruner_why)


def _stamp(job: JobDir, journal: Path) -> tuple:
    """What changes when the job's status may have: the journal's size and time, the stop
    flag, whether its coordinator lives."""
    try:
        st = journal.stat()
        written = (st.st_size, st.st_mtime_ns)
    except OSError:
        written = None
    return written, job.stop_file.exists(), job.coordinator_alive()


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _check_command(spec: TuningSpec) -> None:
    assert spec.trial.command is not None
    exe = spec.trial.command[0]
    workdir = spec.trial.workdir or "."
    if not os.path.isdir(workdir):
        raise SpecError(f"directory not found: {workdir!r}", field="trial.workdir")
    if os.sep in exe:
        path = exe if os.path.isabs(exe) else os.path.join(workdir, exe)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise SpecError(f"command not found or not executable: {exe!r}", field="trial.command[0]")
        return
    search = spec.trial.env.get("PATH", os.environ.get("PATH", ""))
    if shutil.which(exe, path=search) is None:
        raise SpecError(f"command not found in PATH: {exe!r}; give a full path or install it",
                        field="trial.command[0]")


def _check_callable(spec: TuningSpec) -> None:
    from pipetune.trials.runner import load_callable

    workdir = spec.trial.workdir
    if workdir and workdir not in sys.path:
        sys.path.insert(0, workdir)
    try:
        fn = load_callable(spec.trial.callable or "")
    except (ImportError, AttributeError) as exc:
        raise SpecError(f"cannot import {spec.trial.callable!r}: {exc}", field="trial.callable") from None
    if not callable(fn):
        raise SpecError(f"{spec.trial.callable!r} is not callable", field="trial.callable")


__all__ = ["LocalBackend", "T_EXCLUDED"]
