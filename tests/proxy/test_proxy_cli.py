"""`pipetune proxy sample` and `pipetune proxy tune`, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).parent


def _pipetune(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from pipetune.cli import main; main()", *args], cwd=cwd,
                          capture_output=True, text=True, env=dict(os.environ), timeout=300)


def test_sample_prints_the_manifest_as_json(tmp_path, csv_file):
    dest = tmp_path / "out" / "s.csv"
    run = _pipetune("proxy", "sample", str(csv_file), str(dest), "--fraction", "0.1",
                    "--stratify", "label", "--seed", "3", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    assert body["rows_out"] == 300 and body["seed"] == 3
    assert body == json.loads((tmp_path / "out" / "s.csv.manifest.json").read_text())


def test_sample_bad_fraction_exits_2_without_traceback_or_output(tmp_path, csv_file):
    run = _pipetune("proxy", "sample", str(csv_file), str(tmp_path / "out" / "s.csv"),
                    "--fraction", "1.5", cwd=tmp_path)
    assert run.returncode == 2
    assert "fraction" in run.stderr and "(0, 1]" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_sample_missing_column_exits_2(tmp_path, csv_file):
    run = _pipetune("proxy", "sample", str(csv_file), str(tmp_path / "s.csv"), "--rows", "10",
                    "--stratify", "klass", cwd=tmp_path)
    assert run.returncode == 2 and "no column 'klass'" in run.stderr
    assert "Traceback" not in run.stderr


def test_tune_prints_the_result_as_json_and_warns_on_stderr(tmp_path):
    import numpy as np
    import pandas as pd

    data = tmp_path / "train.csv"
    pd.DataFrame({"v": np.arange(2000), "label": np.arange(2000) % 2}).to_csv(data, index=False)
    spec = {
        "parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
        "static": {"data": str(data)},
        "objectives": [{"metric": "score"}],
        "trial": {"callable": "proxy_trialfns:size_dependent", "workdir": str(HERE)},
        "strategy": "random", "seed": 0, "budget": {"max_trials": 8},
        "proxy": {"fraction": 0.1, "verify_top_k": 4},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    run = _pipetune("proxy", "tune", "spec.yaml", "--name", "cli", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    assert body["correlation"] == -1.0 and body["winner_changed"] is True
    assert body["best"]["params"] == body["verified_winner"]["params"]
    assert "proxy fidelity is low" in run.stderr


def test_tune_spec_without_proxy_section_exits_2(tmp_path):
    spec = {"parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
            "objectives": [{"metric": "score"}],
            "trial": {"callable": "proxy_trialfns:consistent", "workdir": str(HERE)}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    run = _pipetune("proxy", "tune", "spec.yaml", "--name", "x", cwd=tmp_path)
    assert run.returncode == 2 and "proxy" in run.stderr and "Traceback" not in run.stderr
