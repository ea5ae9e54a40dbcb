"""The adapter-parity matrix: every adapter meets every outcome on the local engine.

An outcome is a spec plus, for ``stopped`` and ``interrupted``, a job set up before the
adapter runs (stopped on request; or launched and its coordinator killed). Each adapter
then launches or attaches, waits and reads the best result in its own idiom, and reports
an :class:`Observed`: the outcome, the reason the user is shown and the typed best
parameters. The tests compare it with what the job itself says.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DAGS = HERE / "dags"
REPO = HERE.parents[1]

OUTCOMES = ("completed", "failed", "stopped", "interrupted", "over_budget", "not_converging")
#: what every adapter must report for each outcome
EXPECTED_STATE = {"completed": "completed", "failed": "failed", "stopped": "stopped",
                  "interrupted": "completed", "over_budget": "stopped",
                  "not_converging": "stopped"}
#: the reason's shape (numbers vary with trial timings); the exact words come from the job
REASON_SHAPE = {
    "failed": r"^2 trials failed, more than max_failed=1; last failure: raised ValueError: boom$",
    "stopped": r"^stopped on request$",
    "over_budget": r"^stopped by pipetune: estimated cost \$[0-9.]+ passed budget\.max_cost_usd "
                   r"\$0\.003 \([0-9.]+ CPU-seconds, 1 CPU per trial at \$36 per CPU-hour\)$",
    "not_converging": r"^stopped by pipetune \(convergence\.stop\): not converging: the best of "
                      r"the last 3 trials \([0-9.]+\) is [0-9]+% of the way from the median "
                      r"trial \([0-9.]+\) to the best \(0\); the rule asks for 50%$",
}
BEST = {"x": 1, "kind": "a"}  # the optimum of parity_trials.quad, which the grid visits


def job_name(outcome: str) -> str:
    return f"parity-{outcome.replace('_', '-')}"


def spec_body(outcome: str) -> dict[str, Any]:
    """The spec of an outcome: callable trials, a few milliseconds each."""
    body: dict[str, Any] = {
        "name": job_name(outcome),
        "parameters": [{"name": "x", "type": "integer", "min": 0, "max": 2},
                       {"name": "kind", "type": "categorical", "values": ["a", "b"]}],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "strategy": "grid",
        "seed": 7,
        "budget": {"max_trials": 6, "max_parallel": 1},
        "trial": {"callable": "parity_trials:quad", "workdir": str(HERE)},
    }
    if outcome == "failed":
        body["trial"]["callable"] = "parity_trials:boom"
        body["budget"]["max_failed"] = 1
    elif outcome == "interrupted":
        body["static"] = {"sleep": 0.3}
    elif outcome == "over_budget":
        body["static"] = {"sleep": 0.2}  # $0.002 a trial at $36 per CPU-hour
        body["budget"]["max_cost_usd"] = 0.003
        body["cost"] = {"cpu_hour_usd": 36.0}
    elif outcome in ("not_converging", "flagged"):  # flagged: the job runs on, callers judge
        body["trial"]["callable"] = "parity_trials:lucky"
        body.update(strategy="random", budget={"max_trials": 12 if outcome == "not_converging" else 7,
                                               "max_parallel": 1},
                    convergence={"window": 3, "min_trials": 5, "stop": outcome == "not_converging"})
    return body


def set_up_job(outcome: str, home: Path) -> None:
    """Before the adapter runs: a job stopped on request, or one whose coordinator died
    after its first trial (the adapter must resume it)."""
    from pipetune import load_spec
    from pipetune.backends.local import LocalBackend
    from pipetune.backends.local.jobstore import JobDir
    from pipetune.job import JobState

    be = LocalBackend(home)
    name = job_name(outcome)
    if outcome == "stopped":
        be.prepare(load_spec(spec_body(outcome)), name)
        be.stop(be.ref(name))
        assert be.status(name).state == JobState.STOPPED
    elif outcome == "interrupted":
        be.launch(load_spec(spec_body(outcome)), name, detach=True)
        job = JobDir(name, home)
        deadline = time.monotonic() + 60
        while be.status(name).trials.complete < 1:
            assert time.monotonic() < deadline, "the job never got going"
            time.sleep(0.05)
        pid = job.coordinator()["pid"]
        os.kill(pid, signal.SIGKILL)
        while not os.waitpid(pid, os.WNOHANG)[0]:  # our child: reap it
            time.sleep(0.02)
        st = be.status(name)
        assert st.state == JobState.INTERRUPTED and st.trials.complete < 6


@dataclass
class Observed:
    """What an adapter told its user."""

    state: str  # completed, failed, stopped, not_converging
    reason: str | None = None
    best: dict[str, Any] | None = None


_MESSAGE = re.compile(r"tuning job '[^']+' (?:(?P<failed>failed)|was (?P<stopped>stopped)|is "
                      r"(?P<nc>not converging)): (?P<reason>[^\n]*)")


def from_message(text: str) -> Observed:
    """The outcome and reason from the error a failed step shows (any adapter's words
    around pipetune's own message)."""
    m = _MESSAGE.search(text)
    assert m, f"no pipetune outcome in: {text[-2000:]}"
    state = "failed" if m["failed"] else "stopped" if m["stopped"] else "not_converging"
    return Observed(state, m["reason"].strip())


def typed(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters with their types made visible, so ``1 != 1.0`` in a comparison."""
    return {k: (type(v).__name__, v) for k, v in params.items()}


def cli_env(home: Path) -> dict[str, str]:
    env = dict(os.environ, PIPETUNE_HOME=str(home), COLUMNS="1000", NO_COLOR="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env
