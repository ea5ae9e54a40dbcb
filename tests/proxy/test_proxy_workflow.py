"""The proxy workflow end to end on the local engine, with real trials."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipetune.errors import SpecError
from pipetune.proxy import ProxyFidelityWarning, SamplingError, run_proxy_tuning
from pipetune.spec import load_spec

HERE = Path(__file__).parent


def _regression_data(folder: Path, n: int = 2000) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    w = rng.normal(size=8)

    def frame(rows):
        x = rng.normal(size=(rows, 8))
        y = x @ w + rng.normal(scale=2.0, size=rows)
        return pd.DataFrame({**{f"f{i}": x[:, i] for i in range(8)}, "y": y})

    folder.mkdir(parents=True, exist_ok=True)
    frame(n).to_csv(folder / "train.csv", index=False)
    frame(500).to_csv(folder / "valid.csv", index=False)
    return folder / "train.csv", folder / "valid.csv"


def _ridge_spec(train: Path, valid: Path, **proxy) -> dict:
    return {
        "parameters": [{"name": "lam", "type": "continuous", "min": 1e-2, "max": 1e4,
                        "scaling": "log"}],
        "static": {"data": str(train), "valid": str(valid)},
        "objectives": [{"metric": "r2", "goal": "maximize"}],
        "metrics": [{"name": "r2", "regex": r"r2=([-0-9.eE+]+)"},
                    {"name": "rows", "regex": r"rows=(\d+)"}],
        "trial": {"command": [sys.executable, str(HERE / "proxy_ridge_trial.py")]},
        "strategy": "random", "seed": 3,
        "budget": {"max_trials": 6},
        "proxy": {"fraction": 0.1, "seed": 1, "verify_top_k": 3, **proxy},
    }


def test_end_to_end_with_real_command_trials(tmp_path, pipetune_home):
    train, valid = _regression_data(tmp_path / "data")
    result = run_proxy_tuning(_ridge_spec(train, valid), "ridge")

    # tuning saw the sample, verification the full data
    assert result.sample.rows_in == 2000 and result.sample.rows_out == 200
    trials = list((pipetune_home / "jobs" / "ridge" / "trials").iterdir())
    assert len(trials) == 6
    for t in trials:
        assert "rows=200\n" in (t / "stdout.log").read_text()
    assert len(result.candidates) == 3
    for c in result.candidates:
        assert c.full_state == "complete" and c.full_metrics["rows"] == 2000
    # the proxy's ranking is the order of candidates
    assert [c.proxy_value for c in result.candidates] == sorted(
        (c.proxy_value for c in result.candidates), reverse=True)
    # the verified winner is the best on the full data, and it is what is handed on
    best_full = max(result.candidates, key=lambda c: c.full_value)
    assert result.verified_winner == best_full
    assert result.best.params == best_full.params and result.best.value == best_full.full_value
    assert result.best.trial == best_full.trial == f"ridge#{result.best.trial_number}"
    assert result.best.static["data"] == str(train)
    assert result.proxy_winner.rank == 1
    assert result.winner_changed == (best_full.rank != 1)
    assert result.correlation is not None and -1 <= result.correlation <= 1
    # the recorded full-data score is what the script gives when run by hand on all the data
    out = subprocess.run([sys.executable, str(HERE / "proxy_ridge_trial.py"), f"--data={train}",
                          f"--valid={valid}", f"--lam={best_full.params['lam']}"],
                         capture_output=True, text=True, check=True).stdout
    assert f"r2={best_full.full_value:.10f}" in out


def test_running_again_attaches_and_reuses_sample_and_verification(tmp_path, pipetune_home):
    train, valid = _regression_data(tmp_path / "data")
    spec = _ridge_spec(train, valid)
    first = run_proxy_tuning(spec, "again")
    sample = Path(first.sample.sample)
    stamp = sample.stat().st_mtime_ns
    verify_dirs = sorted((pipetune_home / "proxy" / "again" / "verify").glob("0*"))
    for d in verify_dirs:  # a rerun must not need these: the results are stored
        for f in d.iterdir():
            f.unlink()
    second = run_proxy_tuning(spec, "again")
    assert sample.stat().st_mtime_ns == stamp
    assert second.best == first.best and second.candidates == first.candidates
    assert all(not any(d.iterdir()) for d in verify_dirs)
    assert len(list((pipetune_home / "jobs" / "again" / "trials").iterdir())) == 6


def _size_spec(train: Path, fn: str, **proxy) -> dict:
    return {
        "parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 1}],
        "static": {"data": str(train)},
        "objectives": [{"metric": "score", "goal": "maximize"}],
        "trial": {"callable": f"proxy_trialfns:{fn}", "workdir": str(HERE)},
        "strategy": "random", "seed": 0,
        "budget": {"max_trials": 12},
        "proxy": {"fraction": 0.1, "verify_top_k": 5, **proxy},
    }


def _labelled_csv(path: Path, n: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"v": np.arange(n), "label": np.arange(n) % 4}).to_csv(path, index=False)
    return path


def test_warns_with_numbers_when_the_proxy_ranks_backwards(tmp_path):
    train = _labelled_csv(tmp_path / "data" / "train.csv", 3000)
    with pytest.warns(ProxyFidelityWarning, match=r"Spearman rank correlation -1\.00 < 0\.50 "
                                                  r"over the top 5 configurations"):
        result = run_proxy_tuning(_size_spec(train, "size_dependent", stratify="label"), "flip")
    assert result.correlation == pytest.approx(-1.0)
    assert result.fidelity_low and result.winner_changed
    # the proxy liked small x, the full data likes large x: the verified winner is the
    # largest x among the candidates, which the proxy ranked last
    xs = [c.params["x"] for c in result.candidates]
    assert result.proxy_winner.params["x"] == min(xs)
    assert result.verified_winner.params["x"] == max(xs)
    assert result.verified_winner.rank == 5
    assert result.best.params == result.verified_winner.params
    assert any("proxy fidelity is low" in w for w in result.warnings)
    assert result.sample.class_counts_out == {"0": 75, "1": 75, "2": 75, "3": 75}


def test_no_warning_when_the_proxy_ranks_like_the_full_data(tmp_path):
    train = _labelled_csv(tmp_path / "data" / "train.csv", 3000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ProxyFidelityWarning)
        result = run_proxy_tuning(_size_spec(train, "consistent"), "steady")
    assert result.correlation == pytest.approx(1.0)
    assert not result.fidelity_low and not result.winner_changed
    assert result.verified_winner == result.proxy_winner


def test_without_verification_the_proxy_winner_is_handed_on(tmp_path):
    train = _labelled_csv(tmp_path / "data" / "train.csv", 3000)
    result = run_proxy_tuning(_size_spec(train, "consistent", verify_top_k=0), "unverified")
    assert result.verified_winner is None and result.correlation is None
    assert result.candidates == [result.proxy_winner]
    assert result.best.value == result.proxy_winner.proxy_value
    assert result.best.static["data"] == str(train)


def test_data_reaches_the_trial_through_a_sagemaker_channel(tmp_path):
    train, valid = _regression_data(tmp_path / "data")
    valid = valid.rename(tmp_path / "valid.csv")  # the channel directory holds the training file
    spec = {
        "parameters": [{"name": "lam", "type": "continuous", "min": 1e-2, "max": 1e4}],
        "static": {"valid": str(valid)},
        "objectives": [{"metric": "r2"}],
        "metrics": [{"name": "r2", "regex": r"r2=([-0-9.eE+]+)"},
                    {"name": "rows", "regex": r"rows=(\d+)"}],
        "trial": {"command": [sys.executable, str(HERE / "proxy_channel_trial.py")],
                  "contract": "sagemaker", "channels": {"train": str(train.parent)}},
        "strategy": "random", "seed": 1, "budget": {"max_trials": 3},
        "proxy": {"data": str(train), "data_channel": "train", "fraction": 0.25,
                  "verify_top_k": 2},
    }
    result = run_proxy_tuning(spec, "channel")
    assert result.sample.rows_out == 500
    assert all(c.full_metrics["rows"] == 2000 for c in result.candidates)
    assert result.best.metrics["rows"] == 2000


# ---- bad input: clear errors, nothing written -------------------------------------------------

@pytest.mark.parametrize("change, field", [
    (lambda s: s.pop("proxy"), "proxy"),
    (lambda s: s["static"].pop("data"), "proxy.data"),
    (lambda s: s["proxy"].update(stratify="nope"), "proxy.stratify"),
    (lambda s: s["static"].update(data="/no/such/file.csv"), "proxy.data"),
    (lambda s: s["proxy"].update(fraction=1.5), "proxy.fraction"),
    (lambda s: s["proxy"].update(data_channel="train"), "proxy.data_channel"),
    (lambda s: (s["objectives"].append({"metric": "rows"})), "objectives"),
    (lambda s: s["trial"].update(command=["/no/such/python", "t.py"]), "trial.command[0]"),
])
def test_bad_spec_is_a_clear_error_and_writes_nothing(tmp_path, pipetune_home, change, field):
    train, valid = _regression_data(tmp_path / "data")
    spec = _ridge_spec(train, valid)
    change(spec)
    with pytest.raises((SpecError, SamplingError)) as info:
        run_proxy_tuning(spec, "bad")
    fields = ([p[0] for p in info.value.problems] if isinstance(info.value, SpecError)
              else [info.value.field])
    assert field in fields, str(info.value)
    assert not pipetune_home.exists()


def test_an_existing_spec_object_and_a_yaml_path_work_alike(tmp_path):
    import yaml

    train = _labelled_csv(tmp_path / "data" / "train.csv", 2000)
    body = _size_spec(train, "consistent", verify_top_k=2)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(body))
    a = run_proxy_tuning(str(path), "from-yaml")
    b = run_proxy_tuning(load_spec(body), "from-object")
    assert a.best.params == b.best.params
