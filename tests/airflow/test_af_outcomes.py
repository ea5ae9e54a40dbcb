"""Failed and stopped jobs fail the task with the reason; retries and clears attach."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

from af_helpers import TEST_DAGS, load_dag, task_states, try_numbers, start_dates, xcom

DAGS = TEST_DAGS / "pt_outcomes.py"


def _jobs(home):
    return sorted(p.name for p in (home / "jobs").iterdir() if p.is_dir())


def _failure(home, task_id: str) -> str:
    return (home / "failures" / f"{task_id}.txt").read_text()


def test_failed_job_fails_task_with_reason(pipetune_home):
    dr = load_dag(DAGS, "pt_failed").test()
    assert task_states(dr) == {"launch": "failed"}
    text = _failure(pipetune_home, "launch")
    assert text.startswith("JobFailed: tuning job 'failing-")
    # the backend's own reason reaches the task, word for word
    from pipetune.backends.local import LocalBackend

    (name,) = _jobs(pipetune_home)
    reason = LocalBackend().status(name).reason
    assert reason and reason in text


def test_stopped_job_fails_sensor(pipetune_home):
    dr = load_dag(DAGS, "pt_stopped").test()
    assert task_states(dr) == {"launch": "success", "stop": "success", "wait": "failed"}
    assert "was stopped: stopped on request" in _failure(pipetune_home, "wait")


def test_job_stopped_while_deferred_is_not_success(pipetune_home):
    from pipetune.backends.local import LocalBackend
    from pipetune.job import JobState

    backend = LocalBackend()
    stopped = []

    def stop_when_running():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for name in (_jobs(pipetune_home) if (pipetune_home / "jobs").exists() else []):
                try:
                    st = backend.status(name)
                except Exception:
                    continue
                if st.state == JobState.RUNNING and st.trials.running:
                    time.sleep(1.5)  # the task is deferred by now
                    backend.stop(name)
                    stopped.append(name)
                    return
            time.sleep(0.2)

    t = threading.Thread(target=stop_when_running, daemon=True)
    t.start()
    started = time.monotonic()
    dr = load_dag(DAGS, "pt_stop_while_deferred").test()
    t.join(5)
    assert stopped, "the job never ran"
    assert task_states(dr) == {"launch": "failed"}
    assert "was stopped" in _failure(pipetune_home, "launch")
    assert time.monotonic() - started < 30  # did not wait for the 30 s trials


def test_retry_after_worker_death_attaches(pipetune_home):
    dr = load_dag(DAGS, "pt_retry").test()
    assert task_states(dr) == {"launch": "success", "wait": "success", "best": "success"}
    assert try_numbers(dr)["launch"] == 2
    (name,) = _jobs(pipetune_home)  # one job, not two
    assert xcom(dr, "launch")["name"] == name
    from pipetune.backends.local import LocalBackend

    assert len(LocalBackend().trials(name)) == 3  # the budget was spent once
    assert xcom(dr, "best")["trials_total"] == 3


def test_cleared_run_attaches_to_same_job(pipetune_home):
    dag = load_dag(TEST_DAGS / "pt_basic.py", "pt_basic")
    when = datetime(2026, 3, 1, tzinfo=timezone.utc)
    first = dag.test(logical_date=when, run_after=when)
    first_started = start_dates(first)["launch"]
    second = dag.test(logical_date=when, run_after=when)  # clears the run's tasks and runs them again
    assert second.run_id == first.run_id
    assert start_dates(second)["launch"] > first_started  # the launch task really ran again
    assert task_states(second)["best"] == "success"
    (name,) = _jobs(pipetune_home)
    assert xcom(second, "launch")["name"] == name
    from pipetune.backends.local import LocalBackend

    assert len(LocalBackend().trials(name)) == 4


def test_sensor_fails_or_warns_on_a_job_that_is_not_converging(pipetune_home):
    dr = load_dag(DAGS, "pt_not_converging").test()
    assert task_states(dr) == {"launch": "success", "warn": "success", "fail": "failed"}
    text = _failure(pipetune_home, "fail")
    assert "not converging" in text.lower() and "stuck" in text


def test_a_task_waiting_on_a_failed_job_fails_without_retry(pipetune_home):
    """Sensors (poking, and deferred: the trigger's completion) and the best operator fail
    at once with AirflowFailException on a failed job, though each has retries=2."""
    dr = load_dag(DAGS, "pt_no_retry").test()
    assert task_states(dr) == {"launch": "success", "deferred": "failed", "poke": "failed",
                               "best": "failed", "stop": "success"}
    assert try_numbers(dr) == {"launch": 1, "deferred": 1, "poke": 1, "best": 1, "stop": 1}
    from pipetune.backends.local import LocalBackend

    (name,) = _jobs(pipetune_home)
    st = LocalBackend().status(name)
    assert st.state.value == "failed"  # the stop task left the ended job as it was
    for task in ("deferred", "poke", "best"):
        text = _failure(pipetune_home, task)
        assert text.startswith(f"AirflowFailException: tuning job {name!r} failed: "), text
        assert st.reason in text


def test_the_launching_task_is_retried_only_when_the_retry_relaunches(pipetune_home):
    dr = load_dag(DAGS, "pt_relaunch").test()
    assert task_states(dr) == {"once": "failed", "again": "failed"}
    assert try_numbers(dr) == {"once": 1, "again": 2}
    assert _failure(pipetune_home, "once").startswith("AirflowFailException: tuning job 'once")
    assert _failure(pipetune_home, "again").startswith("JobFailed: tuning job 'again-")
    jobs = _jobs(pipetune_home)
    assert len([j for j in jobs if j.startswith("once")]) == 1
    assert len([j for j in jobs if j.startswith("again")]) == 2  # the retry launched "-a2"
