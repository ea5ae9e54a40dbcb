"""Issue 17 item 8: a warm-started child counts its own trials and shows its own best in
`status`, `trials --json`, the exporter and the report; its parent's trials are listed as
such (``warm_start_from``), never counted as the child's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from obs_helpers import SCRIPTS
from prometheus_client.parser import text_string_to_metric_families

from pipetune import get_backend, load_spec
from pipetune.observability.exporter import render
from pipetune.report import write_report

PIPETUNE = str(Path(sys.executable).parent / "pipetune")


def _bowl(shift: float, max_trials: int, **extra) -> dict:
    """obs_bowl.py with its data set's shift as a static value: the parent (shift 0.3) finds
    losses far below anything the child (shift 5) can reach, so the two bests differ."""
    return {
        "parameters": [
            {"name": "x", "type": "continuous", "min": 0.0, "max": 1.0},
            {"name": "lr", "type": "continuous", "min": 1e-4, "max": 1e-1, "scaling": "log"},
            {"name": "depth", "type": "integer", "min": 2, "max": 12},
            {"name": "kind", "type": "categorical", "values": ["a", "b"]},
        ],
        "static": {"shift": shift},
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "metrics": [{"name": "loss", "regex": r"loss=([-+0-9.eE]+)"}],
        "trial": {"command": [sys.executable, str(SCRIPTS / "obs_bowl.py")], "grace_period": 1.0},
        "budget": {"max_trials": max_trials, "max_parallel": 1},
        "seed": 5,
        **extra,
    }


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PIPETUNE_HOME=str(home / ".pipetune"), COLUMNS="250")
    proc = subprocess.run([PIPETUNE, *args], cwd=home, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_warm_started_child_counts_its_own_trials_everywhere(home):
    be = get_backend("local")
    be.launch(load_spec(_bowl(0.3, 8)), "parent", detach=False)
    parent_best = be.best("parent").value
    child = _bowl(5.0, 3, warm_start={"parents": ["parent"], "type": "transfer_learning"})
    (home / "child.yaml").write_text(yaml.safe_dump(child))
    be.launch(load_spec(child), "child", detach=False)

    records = be.trials("child")
    own = [r for r in records if r.warm_start_from is None]
    parents = [r for r in records if r.warm_start_from is not None]
    assert len(own) == 3 and len(parents) == 8
    own_best = min(r.metrics["loss"] for r in own)
    assert own_best >= 16 > parent_best  # (1 - 5)^2 at least: the bests really differ

    st = be.status("child")
    assert (st.trials.complete, st.trials.finished, st.max_trials) == (3, 3, 3)
    assert st.best_value == own_best

    line = _cli(home, "status", "child").stdout
    assert "3/3 trials" in line and f"best {own_best:.6g}" in line, line
    listed = json.loads(_cli(home, "trials", "child", "--json").stdout)
    listed = listed if isinstance(listed, list) else listed["trials"]
    assert sorted(t["warm_start_from"] for t in listed if t.get("warm_start_from")) == sorted(
        f"parent#{i}" for i in range(8))
    assert sum(1 for t in listed if not t.get("warm_start_from")) == 3

    samples = {(s.name, s.labels.get("state")): s.value
               for family in text_string_to_metric_families(render(["child"]))
               for s in family.samples}
    assert samples[("pipetune_trials", "complete")] == 3
    assert samples[("pipetune_max_trials", None)] == 3
    assert samples[("pipetune_best_objective", None)] == own_best

    files = write_report(be.spec_of("child"), be.best("child"), records, home / "report")
    text = files.markdown.read_text()
    assert "3 trials: 3 complete" in text
    assert "Warm start: 8 parent trials from parent seeded the search" in text
    assert "| 0 |" not in text.split("## Trials")[1].split("Warm start")[0]
