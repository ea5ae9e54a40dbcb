"""Messages that must tell the truth: separators, counts, file names (issue 20)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipetune import get_backend, load_spec
from pipetune.errors import JobFailed, SpecError

PIPETUNE = str(Path(sys.executable).parent / "pipetune")
BASE = {
    "parameters": [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0}],
    "objectives": [{"metric": "loss", "goal": "minimize"}],
    "metrics": [{"name": "loss", "regex": "loss=([0-9.]+)"}],
    "trial": {"command": ["python", "-c", "print('loss=1')"]},
}


def test_an_unknown_field_and_the_valid_ones_are_separated():
    with pytest.raises(SpecError) as err:
        load_spec({**BASE, "budget": {"zzzz": 1}})
    assert "budget.zzzz: unknown field. Valid fields: max_trials," in str(err.value)
    with pytest.raises(SpecError) as err:
        load_spec({**BASE, "budget": {"max_trails": 1}})
    assert "unknown field; did you mean 'max_trials'? Valid fields: max_trials," in str(err.value)


@pytest.mark.parametrize("name", ["spec.YAML", "spec.Yml", "spec.JSON"])
def test_a_spec_path_with_an_upper_case_extension_is_a_file(tmp_path, name):
    import json

    path = tmp_path / name
    path.write_text(json.dumps(BASE))  # JSON is YAML too
    assert load_spec(str(path)).parameters[0].name == "x"
    run = subprocess.run([PIPETUNE, "lint", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "mapping" not in run.stderr


def test_the_max_failed_reason_counts_every_failed_trial(home):
    spec = load_spec({**BASE, "trial": {"command": [
        "python", "-c", "import time; time.sleep(0.5); raise SystemExit(1)"]},
        "budget": {"max_trials": 6, "max_parallel": 3, "max_failed": 1}})
    be = get_backend("local")
    ref = be.launch(spec, "fails", detach=False)
    failed = sum(1 for t in be.trials(ref) if t.state == "failed")
    reason = be.status(ref).reason
    assert failed >= 2
    assert re.match(rf"{failed} trials failed, more than max_failed=1; last failure: ", reason), \
        (failed, reason)
    with pytest.raises(JobFailed, match=f"{failed} trials failed"):
        be.wait(ref)
