"""The engine's tally (what it checks before each ask) says what a full scan of the study says,
through every way a trial can end, be excluded, or be retried; and it reads only what is new."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from pipetune.backends.local.engine import counted_trials
from pipetune.backends.local.jobstore import T_EXCLUDED, T_INFO, T_RETRY_OF
from pipetune.backends.local.tally import Tally
from pipetune.storages import open_storage
from .conftest import inprocess_spec


def _scan(study: optuna.Study, maximize: bool) -> dict:
    """The same figures by brute force over every counted trial (the engine's old way)."""
    trials = counted_trials(study)
    failed = [t for t in trials if t.state == TrialState.FAIL]
    infeasible = [t for t in failed if t.user_attrs.get(T_INFO, {}).get("state") == "infeasible"]
    done = sorted((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.number)
    best = since = None
    if done:
        key = (lambda i: (done[i].values[0], -i)) if maximize else (lambda i: (-done[i].values[0], -i))
        at = max(range(len(done)), key=key)
        best, since = (done[at].values[0], done[at].number), len(done) - 1 - at
    return {"counted": len(trials), "failures": len(failed), "infeasible": len(infeasible),
            "complete": len(done), "pruned": sum(t.state == TrialState.PRUNED for t in trials),
            "running": sum(t.state == TrialState.RUNNING for t in trials),
            "last_failure": failed[-1].number if failed else None, "best": best,
            "since_best": since if since is not None else 0}


def _view(tally: Tally) -> dict:
    last = tally.last_failure
    return {"counted": tally.counted, "failures": tally.failures, "infeasible": tally.infeasible,
            "complete": tally.complete, "pruned": tally.pruned, "running": tally.running,
            "last_failure": last[0] if last else None, "best": tally.best,
            "since_best": tally.since_best()}


@pytest.mark.parametrize("maximize", [False, True])
def test_the_tally_agrees_with_a_full_scan_after_every_step(tmp_path, maximize):
    storage = open_storage(f"journal://{tmp_path / 'journal.log'}")
    study = optuna.create_study(storage=storage,
                                direction="maximize" if maximize else "minimize")
    tally = Tally(study, maximize=maximize)
    open_trials: list[optuna.Trial] = []

    def check() -> None:
        assert _view(tally.refresh()) == _scan(study, maximize)

    # a fixed script of everything the engine does to trials, checked after each step
    values = [5.0, 3.0, 3.0, 7.0, 1.0, 1.0, 9.0, 2.0]
    for step, value in enumerate(values):
        t = study.ask()
        t.suggest_float("x", 0, 1)
        open_trials.append(t)
        check()  # running trials count
        if step % 4 == 3:  # a failure, interrupted and retried later
            t.set_user_attr(T_INFO, {"state": "failed", "reason": f"boom {step}"})
            study.tell(t, state=TrialState.FAIL)
            check()
            study.enqueue_trial(t.params, user_attrs={T_RETRY_OF: t.number})
            check()  # the retry (waiting) takes the failure out of the count
        elif step == 5:  # infeasible: counted as a failure
            t.set_user_attr(T_INFO, {"state": "infeasible", "reason": "objective is nan"})
            study.tell(t, state=TrialState.FAIL)
        elif step == 6:  # a discarded ask: never counted
            t.set_user_attr(T_EXCLUDED, True)
            study.tell(t, state=TrialState.FAIL)
        elif step == 2:
            study.tell(t, state=TrialState.PRUNED)
        else:
            study.tell(t, value)
        check()
    # out of order: trials finish after later ones (parallel slots, other workers)
    late = [study.ask() for _ in range(3)]
    for t in late:
        t.suggest_float("x", 0, 1)
    check()
    study.tell(late[2], 0.5)
    check()
    study.tell(late[0], 0.5)  # ties the best set by a later trial: the earlier one is best
    check()
    late[1].set_user_attr(T_INFO, {"state": "failed", "reason": "late"})
    study.tell(late[1], state=TrialState.FAIL)
    check()


def test_a_refresh_reads_only_new_and_open_trials(tmp_path):
    storage = open_storage(f"journal://{tmp_path / 'journal.log'}")
    study = optuna.create_study(storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=50)
    tally = Tally(study).refresh()
    reads: list[int] = []
    real = storage.get_trial

    def counting(trial_id: int):
        reads.append(trial_id)
        return real(trial_id)

    storage.get_trial = counting  # type: ignore[method-assign]
    running = study.ask()
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    reads.clear()
    tally.refresh()
    assert len(reads) == 3  # the running trial and the two new ones, not the 50 before
    assert tally.counted == 53 and tally.running == 1
    study.tell(running, 0.0)
    reads.clear()
    tally.refresh()
    assert reads == [running._trial_id] and tally.running == 0 and tally.best == (0.0, 50)


def test_a_job_run_here_reports_each_trial_from_the_tally_as_status_would(home):
    from pipetune import get_backend

    backend = get_backend("local")
    spec = inprocess_spec(15)
    seen = []
    ref = backend.run_here(spec, "live", on_status=seen.append)
    assert [st.trials.finished for st in seen] == list(range(1, 16))
    assert all(st.state.value == "running" and st.max_trials == 15 for st in seen)
    best = [st.best_value for st in seen]
    assert best == sorted(best, reverse=True)  # minimize: never worse than before
    final = backend.status(ref)
    assert (seen[-1].trials.complete, seen[-1].best_value) == (final.trials.complete, final.best_value)
