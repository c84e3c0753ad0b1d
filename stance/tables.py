"""Tables in and out: JSONL, CSV, TSV, Parquet and XLSX, read in chunks of rows and written part
by part, through pandas, pyarrow, the `csv` module and openpyxl (no hand-written parsers).

A row that cannot be read (a JSONL line that is not UTF-8 or not JSON) is still a row: it comes
with a `problem` instead of values, so a caller can report it and go on.

>>> format_of("corpus.csv")
'csv'
>>> format_of("-", explicit="tsv")
'tsv'
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

FORMATS = ("jsonl", "csv", "tsv", "parquet", "xlsx")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
              ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx"}
STREAMS = ("jsonl", "csv", "tsv")  # formats that can be read from stdin and written to stdout
STDIO = "-"
_SEP = {"csv": ",", "tsv": "\t"}
# Bytes that are not UTF-8 are read as lone surrogates (errors="surrogateescape") so that one
# bad cell spoils only its row; they are written back as U+FFFD.
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Row:
    """One data row: `n` counts rows from 1 (a header is not a row); `line` is where it starts
    in the file (the sheet row for XLSX, None for Parquet); `values` is None when the row could
    not be read, and `problem` says why."""

    n: int
    values: dict | None
    line: int | None = None
    problem: str | None = None


def format_of(path: str | Path, explicit: str | None = None) -> str:
    """The format named by `explicit`, else by the file's extension."""
    if explicit:
        if explicit not in FORMATS:
            raise ValueError(f"unknown format {explicit!r} (known: {', '.join(FORMATS)})")
        return explicit
    if str(path) == STDIO:
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise ValueError(f"{path}: cannot tell the format from the extension {suffix or '(none)'!r};"
                         f" name one with --format ({', '.join(FORMATS)})")
    return EXTENSIONS[suffix]


def has_bad_bytes(text: str) -> bool:
    """True when `text` came from bytes that are not UTF-8 (or holds lone surrogates)."""
    return _SURROGATE.search(text) is not None


def _binary(source: str | Path, fmt: str):
    if str(source) != STDIO:
        return open(source, "rb")
    if fmt in STREAMS:
        return contextlib.nullcontext(sys.stdin.buffer)  # read it, never close it
    return io.BytesIO(sys.stdin.buffer.read())  # Parquet and XLSX need to seek


def read_rows(source: str | Path, fmt: str, chunk_size: int = 1000,
              skip: int = 0) -> Iterator[list[Row]]:
    """Rows of `source` (a path, or "-" for stdin) in chunks of `chunk_size`, after the first
    `skip` rows (read but not returned). A file that cannot be parsed at all (no header, a
    CSV row with too many fields, not Parquet) is a ValueError naming it."""
    readers = {"jsonl": _jsonl_rows, "csv": _csv_rows, "tsv": _csv_rows,
               "parquet": _parquet_rows, "xlsx": _xlsx_rows}
    chunk: list[Row] = []
    try:
        with _binary(source, fmt) as stream:
            for row in readers[fmt](stream, fmt):
                if row.n <= skip:
                    continue
                chunk.append(row)
                if len(chunk) == chunk_size:
                    yield chunk
                    chunk = []
    except (ValueError, OSError, ImportError) as exc:
        if str(source) in str(exc):
            raise
        raise ValueError(f"{source}: not readable as {fmt} ({str(exc).strip().splitlines()[0]})") \
            from exc
    if chunk:
        yield chunk


def _jsonl_rows(stream: IO[bytes], fmt: str) -> Iterator[Row]:
    n = 0
    for line_no, raw in enumerate(stream, 1):
        if not raw.strip():
            continue
        n += 1
        try:
            value = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield Row(n, None, line_no, f"not valid UTF-8 ({exc.reason} at byte {exc.start})")
            continue
        except json.JSONDecodeError as exc:
            yield Row(n, None, line_no, f"malformed JSON ({exc.msg})")
            continue
        if not isinstance(value, dict):
            yield Row(n, None, line_no, f"expected a JSON object, got {type(value).__name__}")
            continue
        yield Row(n, value, line_no)


def _csv_rows(stream: IO[bytes], fmt: str) -> Iterator[Row]:
    import pandas as pd

    frames = pd.read_csv(stream, sep=_SEP[fmt], dtype=object, keep_default_na=False,
                         index_col=False, chunksize=1000, encoding="utf-8-sig",
                         encoding_errors="surrogateescape")
    n, line = 0, 2  # the header is line 1
    for frame in frames:
        for values in frame.to_dict("records"):
            n += 1
            yield Row(n, values, line)
            line += 1 + sum(v.count("\n") for v in values.values() if isinstance(v, str))


def _parquet_rows(stream: IO[bytes], fmt: str) -> Iterator[Row]:
    import pyarrow.parquet as pq

    n = 0
    for batch in pq.ParquetFile(stream).iter_batches(batch_size=1000):
        for values in batch.to_pylist():
            n += 1
            yield Row(n, values)


def _xlsx_rows(stream: IO[bytes], fmt: str) -> Iterator[Row]:
    import pandas as pd

    # pandas reads a sheet whole (a sheet holds at most 1,048,576 rows); empty cells stay "".
    frame = pd.read_excel(stream, dtype=object, na_filter=False, engine="openpyxl")
    for n, values in enumerate(frame.to_dict("records"), 1):
        yield Row(n, values, n + 1)


def count_rows(source: str | Path, fmt: str) -> int | None:
    """How many rows `source` has (for the progress bar), or None when it cannot be told
    without reading stdin."""
    if str(source) == STDIO:
        return None
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(source).metadata.num_rows
    if fmt == "jsonl":
        with open(source, "rb") as f:
            return sum(1 for line in f if line.strip())
    if fmt in _SEP:
        with open(source, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
            return max(sum(1 for _ in csv.reader(f, delimiter=_SEP[fmt])) - 1, 0)
    return None


def columns_of(source: str | Path, fmt: str) -> list[str] | None:
    """The column names of a file: the header, the Parquet schema, or, for JSONL, every key in
    order of first appearance (one pass over the file). None for stdin."""
    if str(source) == STDIO:
        return None
    if fmt == "jsonl":
        seen: dict[str, None] = {}
        for chunk in read_rows(source, fmt):
            for row in chunk:
                seen.update(dict.fromkeys(row.values or {}))
        return list(seen)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(source).schema_arrow.names)
    import pandas as pd

    try:
        if fmt == "xlsx":
            return [str(c) for c in pd.read_excel(source, nrows=0, engine="openpyxl").columns]
        return list(pd.read_csv(source, sep=_SEP[fmt], nrows=0, encoding="utf-8-sig",
                                encoding_errors="surrogateescape").columns)
    except (ValueError, OSError) as exc:
        raise ValueError(f"{source}: not readable as {fmt} ({str(exc).strip().splitlines()[0]})") \
            from exc


def clean_value(value: object) -> object:
    """A value as it is written out: NaN becomes None and undecodable bytes U+FFFD."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and has_bad_bytes(value):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _json_default(value: object) -> object:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def jsonl_line(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False, default=_json_default) + "\n"


def flat(value: object) -> object:
    """A value for a spreadsheet cell: lists and dicts as JSON text."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    return value


def delimited_text(rows: Sequence[dict], columns: Sequence[str], fmt: str,
                   header: bool = False) -> str:
    """Rows as CSV or TSV text (the `csv` module's quoting), optionally with the header."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=_SEP[fmt], lineterminator="\n")
    if header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if (v := flat(row.get(c))) is None else v for c in columns])
    return out.getvalue()
