"""Sampling: exact stratification, reproducibility, manifest, streaming, fsspec URIs."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipetune.proxy import SamplingError, read_manifest, sample_dataset
from pipetune.proxy.formats import CSV_BLOCK_BYTES, PARQUET_BATCH_ROWS

from proxy_helpers import imbalanced_frame


def _read(path):
    return pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(
        path, keep_default_na=False, na_values=[""])


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.33, 0.05, 1.0])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_stratified_sample_keeps_every_class_within_one_row(tmp_path, csv_file, parquet_file,
                                                            fraction, fmt):
    source = csv_file if fmt == "csv" else parquet_file
    dest = tmp_path / f"out/sample.{fmt}"
    m = sample_dataset(str(source), str(dest), fraction=fraction, stratify="label", seed=1)
    full, got = _read(source), _read(dest)
    want_total = int(Fraction(str(fraction)) * len(full) + Fraction(1, 2))
    assert len(got) == m.rows_out == want_total
    for cls, n in full["label"].value_counts().items():
        exact = Fraction(int(n) * want_total, len(full))
        assert abs((got["label"] == cls).sum() - exact) < 1, cls
    assert m.class_counts_out == got["label"].value_counts().to_dict()
    assert m.class_counts_in == full["label"].value_counts().to_dict()


def test_sample_rows_are_source_rows_unchanged_in_source_order(tmp_path, csv_file):
    dest = tmp_path / "s.csv"
    sample_dataset(str(csv_file), str(dest), rows=500, seed=4)
    full, got = _read(csv_file), _read(dest)
    assert len(got) == 500
    assert got["id"].is_monotonic_increasing and got["id"].is_unique
    expected = full.set_index("id").loc[got["id"]].reset_index()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert (got["text"] == "NA").any()  # the text NA stays text, not a missing value


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_gives_byte_identical_sample_and_another_seed_does_not(tmp_path, csv_file,
                                                                         parquet_file, fmt):
    source = str(csv_file if fmt == "csv" else parquet_file)
    a, b, c = (tmp_path / f"{n}.{fmt}" for n in "abc")
    sample_dataset(source, str(a), fraction=0.1, stratify="label", seed=11)
    sample_dataset(source, str(b), fraction=0.1, stratify="label", seed=11)
    sample_dataset(source, str(c), fraction=0.1, stratify="label", seed=12)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_manifest_records_source_counts_fraction_seed_and_checksum(tmp_path, csv_file):
    dest = tmp_path / "s.csv"
    m = sample_dataset(str(csv_file), str(dest), fraction=0.25, stratify="label", seed=9)
    on_disk = json.loads((tmp_path / "s.csv.manifest.json").read_text())
    assert on_disk == m.model_dump(mode="json")
    assert read_manifest(str(tmp_path / "s.csv.manifest.json")) == m
    assert on_disk["source"] == str(csv_file)
    assert on_disk["rows_in"] == 3001 and on_disk["rows_out"] == 750
    assert on_disk["fraction"] == 0.25 and on_disk["seed"] == 9 and on_disk["stratify"] == "label"
    assert on_disk["sha256"] == hashlib.sha256(dest.read_bytes()).hexdigest()
    assert on_disk["source_bytes"] == csv_file.stat().st_size
    assert sum(on_disk["class_counts_out"].values()) == 750


def test_streams_a_csv_larger_than_one_block(tmp_path):
    source = tmp_path / "big.csv"
    frame = imbalanced_frame(160_000, seed=5)
    frame.to_csv(source, index=False)
    assert source.stat().st_size > 2 * CSV_BLOCK_BYTES  # several blocks: a real stream
    dest = tmp_path / "s.csv"
    m = sample_dataset(str(source), str(dest), fraction=0.01, stratify="label", seed=2)
    got = _read(dest)
    assert len(got) == m.rows_out == 1600
    assert got["id"].is_unique and got["id"].is_monotonic_increasing
    # rows come from the whole file, not from its first block only
    assert got["id"].max() > 150_000 and got["id"].min() < 10_000
    for cls, n in frame["label"].value_counts().items():
        assert abs((got["label"] == cls).sum() - n * 1600 / 160_000) < 1


def test_streams_a_parquet_file_of_many_batches(tmp_path):
    source = tmp_path / "big.parquet"
    imbalanced_frame(3 * PARQUET_BATCH_ROWS + 17, seed=6).to_parquet(source, row_group_size=50_000)
    dest = tmp_path / "s.parquet"
    m = sample_dataset(str(source), str(dest), rows=1000, stratify="label", seed=3)
    got = pq.read_table(dest)
    assert got.num_rows == m.rows_out == 1000
    assert got.schema.equals(pq.read_schema(source), check_metadata=False)
    assert max(got.column("id").to_pylist()) > 2 * PARQUET_BATCH_ROWS


def test_categorical_parquet_column_and_missing_classes_stratify(tmp_path):
    frame = imbalanced_frame(1000)
    frame["label"] = frame["label"].astype("category")
    frame.loc[frame.index % 10 == 0, "label"] = None
    source = tmp_path / "cat.parquet"
    frame.to_parquet(source)
    m = sample_dataset(str(source), str(tmp_path / "s.parquet"), fraction=0.5, stratify="label")
    assert m.class_counts_in["<null>"] == 100 and m.class_counts_out["<null>"] == 50


def test_reads_and_writes_s3_uris(tmp_path, csv_file, s3):
    import s3fs

    fs = s3fs.S3FileSystem(**s3)
    fs.put(str(csv_file), "proxy-test/in/full.csv")
    m = sample_dataset("s3://proxy-test/in/full.csv", "s3://proxy-test/out/sample.csv",
                       fraction=0.1, stratify="label", seed=5, storage_options=s3)
    local = tmp_path / "local.csv"
    sample_dataset(str(csv_file), str(local), fraction=0.1, stratify="label", seed=5)
    assert fs.cat("proxy-test/out/sample.csv") == local.read_bytes()
    remote_manifest = json.loads(fs.cat("proxy-test/out/sample.csv.manifest.json"))
    assert remote_manifest["sha256"] == m.sha256 == hashlib.sha256(local.read_bytes()).hexdigest()
    assert remote_manifest["source"] == "s3://proxy-test/in/full.csv"


# ---- bad input: a clear error naming the argument, and nothing written ----------------------

def _bad_cases(tmp_path, csv_file):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b,label\n")
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"this is not parquet at all" * 10)
    json_file = tmp_path / "data.json"
    json_file.write_text("{}")
    src = str(csv_file)
    return {
        "missing stratify column": (src, dict(fraction=0.1, stratify="klass"), "stratify", "columns: id, x"),
        "fraction zero": (src, dict(fraction=0.0), "fraction", "(0, 1]"),
        "fraction above one": (src, dict(fraction=1.5), "fraction", "(0, 1]"),
        "fraction negative": (src, dict(fraction=-0.1), "fraction", "(0, 1]"),
        "both amounts": (src, dict(fraction=0.1, rows=4), "fraction", "exactly one"),
        "no amount": (src, dict(), "fraction", "exactly one"),
        "rows above the data": (src, dict(rows=5000), "rows", "has 3001"),
        "rows zero": (src, dict(rows=0), "rows", ">= 1"),
        "fraction rounds to nothing": (src, dict(fraction=0.0001), "fraction", "empty sample"),
        "empty file": (str(empty), dict(fraction=0.5), "source", "is empty"),
        "header only": (str(header_only), dict(fraction=0.5), "source", "no data rows"),
        "missing file": (str(tmp_path / "nope.csv"), dict(fraction=0.5), "source", "does not exist"),
        "directory": (str(tmp_path), dict(fraction=0.5), "format", "format"),
        "not parquet": (str(garbage), dict(fraction=0.5), "source", "not readable as parquet"),
        "unsupported format": (str(json_file), dict(fraction=0.5), "format", ".csv, .parquet"),
        "unknown format name": (src, dict(fraction=0.5, format="orc"), "format", "csv, parquet"),
        "negative seed": (src, dict(fraction=0.5, seed=-1), "seed", ">= 0"),
    }


@pytest.mark.parametrize("case", [
    "missing stratify column", "fraction zero", "fraction above one", "fraction negative",
    "both amounts", "no amount", "rows above the data", "rows zero", "fraction rounds to nothing",
    "empty file", "header only", "missing file", "directory", "not parquet",
    "unsupported format", "unknown format name", "negative seed",
])
def test_bad_input_names_the_field_and_writes_nothing(tmp_path, csv_file, case):
    source, kwargs, field, hint = _bad_cases(tmp_path, csv_file)[case]
    out = tmp_path / "out"
    suffix = ".parquet" if source.endswith(".parquet") else ".csv"
    with pytest.raises(SamplingError) as info:
        sample_dataset(source, str(out / f"sample{suffix}"), **kwargs)
    assert info.value.field == field
    assert hint in str(info.value)
    assert info.value.exit_code == 2
    assert not out.exists()


def test_unreadable_file_is_a_clear_error(tmp_path, csv_file):
    import os

    locked = tmp_path / "locked.csv"
    locked.write_bytes(csv_file.read_bytes())
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # running as root: permissions do not apply
        locked.chmod(0o644)
        locked = tmp_path / "unreadable.csv"
        locked.mkdir()  # a directory with a data file's name cannot be read as one
    with pytest.raises(SamplingError) as info:
        sample_dataset(str(locked), str(tmp_path / "out" / "s.csv"), fraction=0.5)
    assert info.value.field == "source"
    assert not (tmp_path / "out").exists()


def test_refuses_to_overwrite_its_source(csv_file):
    before = csv_file.read_bytes()
    with pytest.raises(SamplingError, match="overwrite its source"):
        sample_dataset(str(csv_file), str(csv_file), fraction=0.5)
    assert csv_file.read_bytes() == before
