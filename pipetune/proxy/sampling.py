"""Seeded, streaming, exact sampling of a CSV or Parquet data set, with a manifest.

Two passes over the source, each holding one batch at a time: the first counts rows (per
class when stratifying) and settles CSV column types; the second keeps exactly the rows
the quotas ask for (see :mod:`pipetune.proxy.quotas`) and writes them in source order.
The same source, arguments and seed give a byte-identical sample.

Example:
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "full.csv").write_text("x,label\\n" + "".join(f"{i},{i % 3}\\n" for i in range(300)))
    >>> m = sample_dataset(str(d / "full.csv"), str(d / "sample.csv"), fraction=0.1,
    ...                    stratify="label", seed=7)
    >>> m.rows_in, m.rows_out, m.class_counts_out
    (300, 30, {'0': 10, '1': 10, '2': 10})
"""

from __future__ import annotations

import hashlib
import json
import math
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, Field

from pipetune.proxy import formats
from pipetune.proxy.errors import SamplingError
from pipetune.proxy.quotas import ClassSelector, quotas, target_rows

NULL_CLASS = "<null>"  # the manifest key of rows whose stratify value is missing


class SampleManifest(BaseModel):
    """What was sampled, how, and how to check it. Written as JSON next to the sample."""

    source: str
    sample: str
    format: str
    rows_in: int
    rows_out: int
    fraction: float | None = Field(description="the fraction asked for, if any")
    rows: int | None = Field(description="the row count asked for, if any")
    realised_fraction: float
    seed: int
    stratify: str | None = None
    class_counts_in: dict[str, int] | None = None
    class_counts_out: dict[str, int] | None = None
    columns: list[str]
    source_bytes: int | None = None
    sha256: str = Field(description="of the sample file's bytes")
    created_at: str
    pipetune_version: str


def sample_dataset(
    source: str,
    dest: str,
    *,
    fraction: float | None = None,
    rows: int | None = None,
    stratify: str | None = None,
    seed: int = 0,
    format: str | None = None,
    manifest: str | None = None,
    storage_options: dict[str, Any] | None = None,
    field_prefix: str = "",
) -> SampleManifest:
    """Write a sample of ``source`` to ``dest`` and its manifest to ``manifest``.

    Give exactly one of ``fraction`` (in (0, 1]) or ``rows`` (at most the source's rows).
    ``stratify`` names a column whose class proportions the sample keeps, each class within
    one row of its exact share. ``source`` and ``dest`` are local paths or fsspec URIs
    (``s3://``, ``gs://``, ...); ``storage_options`` go to fsspec (e.g.
    ``{"client_kwargs": {"endpoint_url": ...}}``). ``manifest`` defaults to
    ``dest + ".manifest.json"``. ``field_prefix`` is put before argument names in errors
    (``"proxy."`` when the values came from a spec).

    Raises :class:`~pipetune.proxy.errors.SamplingError`, before writing anything, for a bad
    fraction or row count, a missing column, an empty, unreadable or unsupported source.
    """
    opts = dict(storage_options or {})

    def fail(message: str, field: str) -> SamplingError:
        return SamplingError(message, field=field_prefix + field)

    _check_amount(fraction, rows, fail)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise fail(f"must be a whole number >= 0, got {seed!r}", "seed")
    fmt = formats.detect_format(source, format)
    if formats.detect_format(dest, format) != fmt:
        raise fail(f"the sample {dest!r} must have the source's format ({fmt})", "dest")
    if _same_file(source, dest):
        raise fail("the sample would overwrite its source; choose another path", "dest")
    manifest_uri = manifest or dest + ".manifest.json"
    source_bytes = _source_size(source, opts, fail)

    # pass 1: count
    names, counts, column_types = _count(source, fmt, stratify, opts, fail)
    n_rows = sum(counts.values())
    if n_rows == 0:
        raise fail(f"{source!r} has a header but no data rows", "source")
    want = target_rows(n_rows, fraction=fraction, rows=rows)
    if rows is not None and rows > n_rows:
        raise fail(f"asks for {rows} rows but {source!r} has {n_rows}; ask for at most "
                   f"{n_rows}, or use fraction", "rows")
    if want == 0:
        raise fail(f"{fraction} of {n_rows} rows rounds to an empty sample; use a fraction of "
                   f"at least {1 / (2 * n_rows):.3g}", "fraction")
    ordered = sorted(counts, key=_class_sort_key)
    per_class = quotas({c: counts[c] for c in ordered}, total=want, seed=seed)
    selectors = [ClassSelector(counts[c], per_class[c], seed=seed, ordinal=i + 1)
                 for i, c in enumerate(ordered)]

    # pass 2: select and write
    out_schema = column_types.schema() if column_types is not None else None
    kept = 0
    try:
        with _open(dest, "wb", opts, fail, "dest") as out_fh:
            writer = None
            for batch in _batches(source, fmt, names, opts, fail):
                if writer is None:
                    writer = formats.BatchWriter(out_fh, fmt, out_schema or batch.schema)
                mask = _selection(batch, stratify, ordered, selectors)
                chosen = batch.filter(pa.array(mask))
                if column_types is not None:
                    chosen = column_types.cast(chosen)
                writer.write(chosen)
                kept += chosen.num_rows
            assert writer is not None
            writer.close()
        if kept != want:
            raise RuntimeError(f"kept {kept} rows, expected {want}: the source changed while "
                               "it was being sampled")
        digest = _sha256(dest, opts, fail)
        from pipetune import __version__

        result = SampleManifest(
            source=source, sample=dest, format=fmt, rows_in=n_rows, rows_out=kept,
            fraction=fraction, rows=rows, realised_fraction=kept / n_rows, seed=seed,
            stratify=stratify,
            class_counts_in={_class_key(c): counts[c] for c in ordered} if stratify else None,
            class_counts_out={_class_key(c): per_class[c] for c in ordered} if stratify else None,
            columns=names, source_bytes=source_bytes, sha256=digest,
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            pipetune_version=__version__,
        )
        with _open(manifest_uri, "w", opts, fail, "manifest") as fh:
            fh.write(json.dumps(result.model_dump(mode="json"), indent=2) + "\n")
    except BaseException:
        _remove_quietly(dest, opts)
        _remove_quietly(manifest_uri, opts)
        raise
    return result


def read_manifest(uri: str, storage_options: dict[str, Any] | None = None) -> SampleManifest:
    """Load a manifest written by :func:`sample_dataset`."""
    with fsspec.open(uri, "r", **(storage_options or {})) as fh:
        return SampleManifest.model_validate_json(fh.read())


# ---- checks -------------------------------------------------------------------------------

def _check_amount(fraction, rows, fail) -> None:
    if (fraction is None) == (rows is None):
        raise fail("give exactly one of fraction (0 < f <= 1) or rows (a count)", "fraction")
    if fraction is not None:
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) \
                or not math.isfinite(fraction) or not 0 < fraction <= 1:
            raise fail(f"must be in (0, 1], got {fraction!r}", "fraction")
    if rows is not None:
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            raise fail(f"must be a whole number >= 1, got {rows!r}", "rows")


def _same_file(a: str, b: str) -> bool:
    import os

    if "://" in a or "://" in b:
        return a.rstrip("/") == b.rstrip("/")
    return os.path.abspath(a) == os.path.abspath(b)


def _source_size(source: str, opts, fail) -> int | None:
    try:
        fs, path = fsspec.core.url_to_fs(source, **opts)
        info = fs.info(path)
    except FileNotFoundError:
        raise fail(f"{source!r} does not exist", "source") from None
    except Exception as exc:  # permissions, network, bad URI: the user's to fix
        raise fail(f"cannot read {source!r}: {_short(exc)}", "source") from None
    if info.get("type") == "directory":
        raise fail(f"{source!r} is a directory; give one CSV or Parquet file", "source")
    size = info.get("size")
    if size == 0:
        raise fail(f"{source!r} is empty", "source")
    return size


@contextmanager
def _open(uri: str, mode: str, opts, fail, field: str) -> Iterator[Any]:
    try:
        if mode.startswith("w"):
            _make_parent_dir(uri, opts)
        fh = fsspec.open(uri, mode, **opts).open()
    except Exception as exc:
        raise fail(f"cannot open {uri!r}: {_short(exc)}", field) from None
    try:
        yield fh
    finally:
        fh.close()


def _make_parent_dir(uri: str, opts) -> None:
    """Local files need their directory; object stores have none to make."""
    fs, path = fsspec.core.url_to_fs(uri, **opts)
    if "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)):
        fs.makedirs(fs._parent(path), exist_ok=True)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


# ---- pass 1 -------------------------------------------------------------------------------

def _count(source, fmt, stratify, opts, fail):
    """Column names, rows per class (one class ``None`` when not stratifying), CSV types."""
    with _open(source, "rb", opts, fail, "source") as fh:
        try:
            names = formats.csv_header(fh) if fmt == "csv" else formats.parquet_schema(fh).names
        except (pa.ArrowInvalid, OSError) as exc:
            raise fail(f"{source!r} is not readable as {fmt}: {_short(exc)}", "source") from None
    if stratify is not None and stratify not in names:
        raise fail(f"no column {stratify!r} in {source!r}; columns: {', '.join(names)}",
                   "stratify")
    column_types = formats.ColumnTypes(names) if fmt == "csv" else None
    counts: dict[Any, int] = {}
    for batch in _batches(source, fmt, names, opts, fail):
        if column_types is not None:
            column_types.observe(batch)
        if stratify is None:
            counts[None] = counts.get(None, 0) + batch.num_rows
            continue
        for item in pc.value_counts(_plain(batch.column(stratify))).to_pylist():
            counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
    if stratify is None and not counts:
        counts[None] = 0
    return names, counts, column_types


def _batches(source, fmt, names, opts, fail) -> Iterator[pa.RecordBatch]:
    with _open(source, "rb", opts, fail, "source") as fh:
        stream = formats.csv_batches(fh, names) if fmt == "csv" else formats.parquet_batches(fh)
        try:
            yield from stream
        except (pa.ArrowInvalid, OSError) as exc:
            raise fail(f"{source!r} is not readable as {fmt}: {_short(exc)}", "source") from None


# ---- pass 2 -------------------------------------------------------------------------------

def _selection(batch: pa.RecordBatch, stratify: str | None, ordered: list,
               selectors: list[ClassSelector]) -> np.ndarray:
    if stratify is None:
        return selectors[0].take(batch.num_rows)
    column = _plain(batch.column(stratify))
    codes = pc.index_in(column, value_set=pa.array(ordered, type=column.type), skip_nulls=False)
    codes = codes.to_numpy(zero_copy_only=False)
    mask = np.zeros(batch.num_rows, dtype=bool)
    for code in np.unique(codes):
        where = np.flatnonzero(codes == code)
        mask[where] = selectors[int(code)].take(len(where))
    return mask


def _plain(column: pa.Array) -> pa.Array:
    """A dictionary-encoded (categorical) column as its plain values."""
    return column.dictionary_decode() if pa.types.is_dictionary(column.type) else column


def _class_sort_key(value: Any) -> tuple:
    return (value is None, type(value).__name__, str(value))


def _class_key(value: Any) -> str:
    return NULL_CLASS if value is None else str(value)


def _sha256(uri: str, opts, fail) -> str:
    h = hashlib.sha256()
    with _open(uri, "rb", opts, fail, "dest") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _remove_quietly(uri: str, opts) -> None:
    try:
        fs, path = fsspec.core.url_to_fs(uri, **opts)
        if fs.exists(path):
            fs.rm(path)
    except Exception:
        pass
