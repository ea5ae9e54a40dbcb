"""Faulty trials (crash, hang, OOM-style SIGKILL, NaN, garbage, no metric, 132 MB of log):
each recorded with its reason, the job goes on, the coordinator's memory stays bounded."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil

from pipetune import get_backend, load_spec
from pipetune.backends.local.jobstore import JobDir

HERE = Path(__file__).parent


def test_every_fault_is_recorded_with_its_reason_and_memory_stays_bounded(home):
    spec = load_spec({
        "parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "metrics": [{"name": "loss", "regex": r"loss=(\S+)"}],
        "trial": {"command": [sys.executable, str(HERE / "faulty_trial.py")], "grace_period": 0.5},
        "budget": {"max_trials": 16, "max_parallel": 2, "trial_timeout": 3, "max_failed": 16},
        "strategy": "random", "seed": 1,
    })
    be = get_backend("local")
    be.launch(spec, "faults")
    coordinator = psutil.Process(JobDir("faults").coordinator()["pid"])
    peak = 0
    while coordinator.is_running() and coordinator.status() != psutil.STATUS_ZOMBIE:
        try:
            rss = coordinator.memory_info().rss
        except psutil.NoSuchProcess:
            break
        peak = max(peak, rss)
        time.sleep(0.05)
    st = be.wait("faults", timeout=60)
    assert st.state.value == "completed" and st.trials.complete == 4
    reasons = {r.number: (r.state, r.reason or "") for r in be.trials("faults")}
    assert len(reasons) == 16
    for n, (state, reason) in reasons.items():
        kind = n % 8
        expected = {
            0: ("failed", "exit code 3: about to crash"),
            1: ("failed", "timed out after 3s"),
            2: ("failed", "killed by signal SIGKILL (out of memory?)"),
            3: ("infeasible", "objective 'loss' is nan"),
            4: ("failed", "the regex matched 'banana', not a number"),
            5: ("failed", "no value for objective 'loss'"),
            6: ("complete", ""),
            7: ("complete", ""),
        }[kind]
        assert state == expected[0] and expected[1] in reason, (n, state, reason)
    assert be.best("faults").value == 0.25
    log_size = (JobDir("faults").trial_dir(6) / "stdout.log").stat().st_size
    assert log_size > 130 << 20
    # Python + Optuna + pipetune take ~60 MB here; a coordinator holding the log would
    # pass 190 MB
    assert peak < 110 << 20, f"coordinator peaked at {peak >> 20} MB"
