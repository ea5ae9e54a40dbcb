"""The local backend's ``wait`` returns right after the job ends (issue 20)."""

from __future__ import annotations

import time

import pytest

from pipetune import get_backend, load_spec
from pipetune.backends.local.jobstore import ATTR_FINISHED
from pipetune.errors import WaitTimeout

SPEC = {
    "parameters": [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0}],
    "objectives": [{"metric": "loss", "goal": "minimize"}],
    "metrics": [{"name": "loss", "regex": "loss=([0-9.]+)"}],
    "trial": {"command": ["python", "-c", "print('loss=0.5')"]},
    "budget": {"max_trials": 10, "max_parallel": 2},
}


def test_wait_returns_within_a_fifth_of_a_second_of_the_end(home):
    be = get_backend("local")
    ref = be.launch(load_spec(SPEC), "quick")  # detached: a coordinator process runs it
    st = be.wait(ref)  # the default poll_seconds (5 s) is the fallback cadence only
    returned = time.time()
    finished = be._job(ref).load_study().user_attrs[ATTR_FINISHED]
    assert st.state.value == "completed" and st.trials.complete == 10
    assert 0 <= returned - finished < 0.2, f"wait returned {returned - finished:.3f}s late"


def test_wait_times_out_on_time_while_the_job_goes_on(home, tmp_path):
    hold = tmp_path / "hold"
    hold.write_text("")
    body = dict(SPEC, trial={"command": ["python", "-c",
                "import os, time\nwhile os.path.exists(%r): time.sleep(0.05)\nprint('loss=1')"
                % str(hold)]}, budget={"max_trials": 1})
    be = get_backend("local")
    ref = be.launch(load_spec(body), "held")
    start = time.monotonic()
    with pytest.raises(WaitTimeout):
        be.wait(ref, timeout=1.0)
    assert 1.0 <= time.monotonic() - start < 2.0
    assert be.status(ref).state.value in ("pending", "running")
    hold.unlink()
    assert be.wait(ref).state.value == "completed"
