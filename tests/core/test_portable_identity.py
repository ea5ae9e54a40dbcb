"""The fingerprint hashes what a job computes, not where its spec lies."""

import shutil

import pytest

from pipetune import get_backend, load_spec
from pipetune.errors import JobConflict

SPEC = """\
parameters:
  - {name: x, type: continuous, min: -1, max: 1}
objectives: [{metric: loss, goal: minimize}]
metrics: [{name: loss, regex: "loss=([-0-9.eE+]+)"}]
trial: {command: [python, train.py]}
budget: {max_trials: 2}
seed: 5
"""
SCRIPT = "import sys\nx = float(sys.argv[1].split('=')[1])\nprint(f'loss={x * x}')\n"


@pytest.fixture
def two_checkouts(home):
    first = home / "checkout-a" / "tuning"
    first.mkdir(parents=True)
    (first / "spec.yaml").write_text(SPEC)
    (first / "train.py").write_text(SCRIPT)
    second = home / "elsewhere" / "checkout-b" / "tuning"
    shutil.copytree(first, second)
    return first / "spec.yaml", second / "spec.yaml"


def test_same_spec_in_two_checkouts_has_one_fingerprint(two_checkouts):
    a, b = (load_spec(p) for p in two_checkouts)
    assert a.trial.workdir != b.trial.workdir  # each runs its own checkout's script...
    assert a.fingerprint() == b.fingerprint()  # ...but computes the same job
    changed = b.with_overrides(budget={"max_trials": 3})
    assert changed.fingerprint() != a.fingerprint()


def test_relaunch_from_another_checkout_attaches(two_checkouts):
    be = get_backend("local")
    a, b = (load_spec(p) for p in two_checkouts)
    ref = be.launch(a, "nightly", detach=False)
    done = [t.number for t in be.trials(ref)]
    again = be.launch(b, "nightly", detach=False)  # a task retried on another worker
    assert again.id == ref.id
    assert [t.number for t in be.trials(again)] == done  # attached: nothing ran twice
    with pytest.raises(JobConflict):
        be.launch(b.with_overrides(seed=6), "nightly")
