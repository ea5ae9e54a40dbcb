"""Scale-out on one machine: 8 `pipetune worker` processes on the job's journal file."""

from __future__ import annotations

from optuna.trial import TrialState
from scaleout_fixtures import callable_spec, check_exact_budget, finish, start_worker

from pipetune import get_backend, load_spec
from pipetune.backends.local.jobstore import JobDir


def test_journal_eight_workers_share_400_trials_exactly(home):
    from pipetune.worker import prepare_shared_job

    prepare_shared_job(load_spec(callable_spec("quick", max_trials=400)), "local-fleet")
    log = home / "workers.log"
    # 20 ms trials: the job outlasts the 8 workers' start on 2 cores (about 2.5 s), so the
    # share of workers that record trials does not depend on how fast the engine is
    procs = [start_worker("local-fleet", home=home / "home", log=log, PIPETUNE_TEST_SLEEP="0.02")
             for _ in range(8)]
    reports = [finish(p, timeout=170) for p in procs]
    study = JobDir("local-fleet").load_study()
    counted = check_exact_budget(study, 400)
    assert all(t.state == TrialState.COMPLETE for t in counted)
    assert sum(r["trials_recorded"] for r in reports) == 400
    assert sum(1 for r in reports if r["trials_recorded"]) >= 6
    text = log.read_text()
    assert "database is locked" not in text and "Traceback" not in text
    assert get_backend("local").status("local-fleet").trials.complete == 400
    # seed 7 in every worker, yet each worker's sampler draws its own sequence
    assert len({(t.params["x"], t.params["k"]) for t in counted}) == 400


def test_journal_four_random_workers_with_one_seed_draw_distinct_parameters(home):
    """Issue 18: four workers, strategy random, seed 7: as many parameter sets as trials."""
    from pipetune.worker import prepare_shared_job

    prepare_shared_job(load_spec(callable_spec("quick", max_trials=80)), "distinct")
    procs = [start_worker("distinct", home=home / "home", PIPETUNE_TEST_SLEEP="0.01")
             for _ in range(4)]
    reports = [finish(p) for p in procs]
    assert sum(1 for r in reports if r["trials_recorded"]) >= 2  # really drawn by several
    counted = check_exact_budget(JobDir("distinct").load_study(), 80)
    drawn = [(t.params["x"], t.params["k"]) for t in counted]
    assert len(set(drawn)) == len(drawn) == 80


def test_worker_frozen_while_suggesting_loses_that_trial_and_goes_on(home, monkeypatch):
    """A worker frozen between two suggestions (SIGSTOP, a partitioned host) wakes to find
    its trial declared stale by another worker: it counts the trial lost and asks again,
    instead of crashing on Optuna's UpdateFinishedTrialError. The other worker is stood in
    for by its one write: the stale trial marked failed, as its sweep does."""
    import optuna.trial._trial as optuna_trial

    from pipetune.backends.local.worker import run_worker
    from pipetune.worker import prepare_shared_job

    prepare_shared_job(load_spec(callable_spec("quick", max_trials=6)), "frozen-ask")
    real_suggest = optuna_trial.Trial._suggest
    taken_over = []

    def suggest_after_a_freeze(self, name, distribution):
        if self.number == 3 and name == "k" and not taken_over:
            self.storage.set_trial_state_values(self._trial_id, TrialState.FAIL)
            taken_over.append(self.number)
        return real_suggest(self, name, distribution)

    monkeypatch.setattr(optuna_trial.Trial, "_suggest", suggest_after_a_freeze)
    summary = run_worker("frozen-ask")
    assert taken_over == [3]
    assert summary.state == "completed" and summary.trials_lost == 1
    study = JobDir("frozen-ask").load_study()
    counted = check_exact_budget(study, 6)
    assert [t.number for t in counted if t.state == TrialState.FAIL] == [3]
    assert summary.trials_recorded == 5
