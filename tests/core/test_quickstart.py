"""The quickstart example a newcomer runs first, on the local engine."""

import shutil
from pathlib import Path

from pipetune import get_backend, load_spec

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_tunes_a_real_model(home):
    shutil.copytree(ROOT / "examples" / "quickstart", home / "examples" / "quickstart")
    spec = load_spec(home / "examples" / "quickstart" / "spec.yaml")
    spec = spec.with_overrides(budget={"max_trials": 4})
    be = get_backend("local")
    ref = be.launch(spec, "quickstart", detach=False)
    best = be.best(ref)
    assert best.trials_complete == 4
    assert 0.85 < best.value <= 1.0  # cross-validated accuracy of a real classifier
    assert isinstance(best.params["max_depth"], int)
    assert best.params["max_iter"] in (50, 100, 200)
    assert best.static == {"seed": 0}
    assert (Path(best.artifacts) / "scores.json").is_file()
