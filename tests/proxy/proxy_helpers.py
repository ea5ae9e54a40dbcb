"""Fixtures of the proxy tests: a private PIPETUNE_HOME, data sets, an S3 on loopback."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def pipetune_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "pipetune-home"
    monkeypatch.setenv("PIPETUNE_HOME", str(home))
    return home


def imbalanced_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """Three classes at 70/20/10 %, a float, an int with gaps, text with commas and 'NA'."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": np.arange(n),
        "x": rng.normal(size=n).round(6),
        "k": rng.integers(0, 1000, n).astype("float64"),
        "text": rng.choice(["plain", "with,comma", "NA", 'quo"te'], n),
        "label": rng.choice(["common", "rare", "middle"], n, p=[0.7, 0.1, 0.2]),
    })
    frame.loc[frame.index % 97 == 5, "k"] = np.nan
    return frame


@pytest.fixture
def csv_file(tmp_path) -> Path:
    path = tmp_path / "data" / "full.csv"
    path.parent.mkdir()
    imbalanced_frame(3001).to_csv(path, index=False)
    return path


@pytest.fixture
def parquet_file(tmp_path) -> Path:
    path = tmp_path / "data" / "full.parquet"
    path.parent.mkdir(exist_ok=True)
    imbalanced_frame(3001).to_parquet(path, index=False)
    return path


@pytest.fixture
def s3(moto_endpoint, fake_aws_credentials):
    """fsspec storage options for a fresh bucket ``proxy-test``."""
    import s3fs

    options = {"client_kwargs": {"endpoint_url": moto_endpoint}, "key": "testing",
               "secret": "testing", "use_listings_cache": False}
    fs = s3fs.S3FileSystem(**options)
    if not fs.exists("proxy-test"):
        fs.mkdir("proxy-test")
    yield options
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture
def trial_dir_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    return HERE


PYTHON = sys.executable
