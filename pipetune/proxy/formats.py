"""Reading and writing data sets batch by batch: CSV and Parquet, any fsspec URI.

CSV is read with every column as text (so the class of a row is the text in the file, and a
column that looks numeric in the first block but not later cannot break the stream); the
column types are settled over the whole file in the counting pass and the sample is written
with them. Parquet keeps its own schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipetune.proxy.errors import SamplingError

FORMATS = {"csv": (".csv",), "parquet": (".parquet", ".pq")}
CSV_BLOCK_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 64 * 1024
_NUMERIC = (pa.int64(), pa.float64())


def detect_format(uri: str, given: str | None = None) -> str:
    """``csv`` or ``parquet``, from ``given`` or the file name."""
    if given is not None:
        if given not in FORMATS:
            raise SamplingError(f"unsupported format {given!r}; valid: {', '.join(FORMATS)}",
                                field="format")
        return given
    lower = uri.lower()
    for fmt, suffixes in FORMATS.items():
        if lower.endswith(suffixes):
            return fmt
    valid = ", ".join(s for suffixes in FORMATS.values() for s in suffixes)
    raise SamplingError(f"cannot tell the format of {uri!r}; name it with one of {valid}, "
                        "or pass format=csv|parquet", field="format")


@dataclass
class ColumnTypes:
    """The narrowest of int64, float64, string that holds every value of each CSV column."""

    names: list[str]
    types: dict[str, pa.DataType] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.types = {n: pa.int64() for n in self.names}

    def observe(self, batch: pa.RecordBatch) -> None:
        """Widen each column's type (int64, then float64, then string) until it holds every
        value of ``batch``; types never narrow again."""
        for name, column in zip(batch.schema.names, batch.columns):
            current = self.types[name]
            while current != pa.string():
                try:
                    pc.cast(column, current)
                    break
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    current = pa.float64() if current == pa.int64() else pa.string()
            self.types[name] = current

    def schema(self) -> pa.Schema:
        """The Arrow schema of the columns, in their order, with the types observed so far."""
        return pa.schema([(n, self.types[n]) for n in self.names])

    def cast(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """``batch`` with every column cast to its observed type.

        Raises:
            pyarrow.ArrowInvalid: a value does not fit (the batch was not observed first).
        """
        return pa.RecordBatch.from_arrays(
            [pc.cast(col, self.types[n]) for n, col in zip(self.names, batch.columns)],
            schema=self.schema())


def csv_header(fh: BinaryIO) -> list[str]:
    """The column names of the CSV file ``fh`` (its first line), in order."""
    reader = pacsv.open_csv(fh, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES))
    return list(reader.schema.names)


def csv_batches(fh: BinaryIO, names: list[str]) -> Iterator[pa.RecordBatch]:
    """Every column as text; only an empty field is missing (``NA`` stays the text ``NA``)."""
    convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                   null_values=[""], strings_can_be_null=True)
    reader = pacsv.open_csv(fh, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                            convert_options=convert)
    yield from reader


def parquet_schema(fh: BinaryIO) -> pa.Schema:
    """The Arrow schema of the Parquet file ``fh``, read from its footer."""
    return pq.ParquetFile(fh).schema_arrow


def parquet_batches(fh: BinaryIO) -> Iterator[pa.RecordBatch]:
    """The rows of the Parquet file ``fh``, in order, in record batches of at most
    ``PARQUET_BATCH_ROWS`` rows."""
    yield from pq.ParquetFile(fh).iter_batches(batch_size=PARQUET_BATCH_ROWS)


class BatchWriter:
    """Writes batches to an open binary file as CSV or Parquet, deterministically."""

    def __init__(self, fh: BinaryIO, fmt: str, schema: pa.Schema):
        self._fmt = fmt
        if fmt == "csv":
            self._w: Any = pacsv.CSVWriter(fh, schema)
        else:
            self._w = pq.ParquetWriter(fh, schema, compression="zstd")
            self._pending: list[pa.RecordBatch] = []
            self._pending_rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        """Add the rows of ``batch`` (an empty one is ignored). CSV rows are written at once;
        Parquet rows are buffered and written in large row groups."""
        if batch.num_rows == 0:
            return
        if self._fmt == "csv":
            self._w.write_batch(batch)
            return
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        if self._pending_rows >= PARQUET_BATCH_ROWS * 4:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._w.write_table(pa.Table.from_batches(self._pending))
            self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        """Write what is buffered and finish the file (Parquet's footer); call it once, after the
        last :meth:`write`."""
        if self._fmt == "parquet":
            self._flush()
        self._w.close()
