"""Output written as it is produced, and resumable after a kill.

Each chunk of output rows becomes one complete part file (written under a temporary name and
renamed) in a folder beside the target, `.<name>.partial/`, with a manifest of the settings that
produced it. A run killed at any moment leaves whole parts only; `resume` keeps them and the
caller scores what is left. At the end the parts are joined, one at a time, into the target
(again renamed into place) and the folder is removed. An uninterrupted run goes through the
same parts, so a resumed run writes the same bytes (XLSX excepted: its zip holds timestamps).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from stance.fileio import atomic_file
from stance.tables import delimited_text, flat, jsonl_line

_PART = re.compile(r"part-(\d{6})-r(\d+)-b(\d+)-a(\d+)\.\w+")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Part:
    path: Path
    rows: int
    bad: int
    abstained: int


class PartialOutput:
    """The parts folder of `target`. `settings` must match the saved manifest to resume.

    >>> import tempfile
    >>> out = PartialOutput(Path(tempfile.mkdtemp()) / "scored.jsonl", {"model": "m"})
    >>> _ = out.add(2, 0, 0, "jsonl", lambda f: f.write(b'{"a": 1}\\n{"a": 2}\\n'))
    >>> _ = out.finish(lambda paths, f: f.write(b"".join(p.read_bytes() for p in paths)))
    >>> out.target.read_text().count("\\n"), out.folder.exists()
    (2, False)
    """

    def __init__(self, target: str | Path, settings: dict, resume: bool = False):
        self.target = Path(target)
        self.folder = self.target.with_name(f".{self.target.name}.partial")
        manifest = self.folder / MANIFEST
        self.parts: list[Part] = []
        if resume and manifest.is_file():
            _check_same(json.loads(manifest.read_text(encoding="utf-8")), settings, self.folder)
            self.parts = self._scan()
            return
        if resume:
            print(f"stance: nothing to resume for {self.target}; starting from the first row",
                  file=sys.stderr)
        elif self.folder.exists():
            print(f"stance: discarding the unfinished run in {self.folder} (--resume continues "
                  "one)", file=sys.stderr)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        with atomic_file(manifest) as f:
            json.dump(settings, f, indent=1, sort_keys=True)

    def _scan(self) -> list[Part]:
        found = {}
        for path in self.folder.iterdir():
            if (m := _PART.fullmatch(path.name)):
                found[int(m[1])] = Part(path, int(m[2]), int(m[3]), int(m[4]))
        parts = []
        while len(parts) in found:  # parts are written in order; a gap ends the run
            parts.append(found[len(parts)])
        return parts

    @property
    def rows_done(self) -> int:
        return sum(p.rows for p in self.parts)

    def add(self, rows: int, bad: int, abstained: int, ext: str,
            write: Callable[[IO[bytes]], object]) -> Part:
        """Write the next part (its counts go into its name) in one rename."""
        path = self.folder / f"part-{len(self.parts):06d}-r{rows}-b{bad}-a{abstained}.{ext}"
        with atomic_file(path, "wb") as f:
            write(f)
        self.parts.append(Part(path, rows, bad, abstained))
        return self.parts[-1]

    def discard(self) -> None:
        """Remove the folder: the run cannot be resumed (its input is at fault)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def finish(self, join: Callable[[list[Path], IO[bytes]], None]) -> Path:
        """Join the parts into the target in one rename, then remove the folder."""
        with atomic_file(self.target, "wb") as f:
            join([p.path for p in self.parts], f)
        shutil.rmtree(self.folder, ignore_errors=True)
        return self.target


def _check_same(saved: dict, settings: dict, folder: Path) -> None:
    changed = sorted(k for k in saved.keys() | settings.keys() if saved.get(k) != settings.get(k))
    if changed:
        raise ValueError(f"cannot resume {folder}: it was started with other settings "
                         f"({', '.join(f'{k}: {saved.get(k)!r} now {settings.get(k)!r}' for k in changed)}"
                         "); run without --resume to start again")


class PartWriter:
    """Writes rows in `fmt`: parts, the join of parts, or text for stdout. `columns` fixes the
    column order of tabular formats; `types` (pyarrow types) fixes the Parquet type of columns
    whose type is known in advance, the others are taken from the first part."""

    def __init__(self, fmt: str, columns: Sequence[str], types: dict | None = None):
        self.fmt, self.columns, self.types = fmt, list(columns), dict(types or {})
        self.schema = None

    @property
    def ext(self) -> str:
        return "parquet" if self.fmt in ("parquet", "xlsx") else self.fmt

    def text(self, rows: Sequence[dict], header: bool = False) -> str:
        """JSONL, CSV or TSV text of `rows` (for parts and for stdout)."""
        if self.fmt == "jsonl":
            return "".join(jsonl_line(r) for r in rows)
        return delimited_text(rows, self.columns, self.fmt, header=header)

    def write(self, rows: Sequence[dict], f: IO[bytes]) -> None:
        if self.ext == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(self._table(rows), f)
        else:
            f.write(self.text(rows).encode("utf-8"))

    def adopt(self, first_part: Path) -> None:
        """Take the Parquet schema from a part already written (when resuming)."""
        if self.ext == "parquet":
            import pyarrow.parquet as pq

            self.schema = pq.read_schema(first_part)

    def _table(self, rows: Sequence[dict]):
        import pyarrow as pa

        text = {c for c, t in self.types.items() if pa.types.is_string(t)}
        columns = {c: [flat(r.get(c)) if c in text else r.get(c) for r in rows]
                   for c in self.columns}
        try:
            if self.schema is None:
                fields = []
                for name, values in columns.items():
                    kind = self.types.get(name) or pa.array(values).type
                    fields.append(pa.field(name, pa.string() if pa.types.is_null(kind) else kind))
                self.schema = pa.schema(fields)
            return pa.Table.from_pydict(columns, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ValueError(f"a column's values change type between rows, which Parquet cannot "
                             f"store ({exc}); write JSONL or CSV instead") from exc

    def join(self, parts: Sequence[Path], out: IO[bytes]) -> None:
        if self.fmt == "parquet":
            return self._join_parquet(parts, out)
        if self.fmt == "xlsx":
            return self._join_xlsx(parts, out)
        if self.fmt != "jsonl":
            out.write(delimited_text([], self.columns, self.fmt, header=True).encode("utf-8"))
        for part in parts:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)

    def _join_parquet(self, parts: Sequence[Path], out: IO[bytes]) -> None:
        import pyarrow.parquet as pq

        if not parts:  # no rows: an empty table with the columns
            pq.write_table(self._table([]), out)
            return
        with pq.ParquetWriter(out, pq.read_schema(parts[0])) as writer:
            for part in parts:  # one part in memory at a time, one row group each
                writer.write_table(pq.read_table(part))

    def _join_xlsx(self, parts: Sequence[Path], out: IO[bytes]) -> None:
        import pyarrow.parquet as pq
        from openpyxl import Workbook

        book = Workbook(write_only=True)  # rows stream to disk; nothing is held per cell
        sheet = book.create_sheet("scored")
        sheet.append(self.columns)
        for part in parts:
            for batch in pq.ParquetFile(part).iter_batches(batch_size=1000):
                for row in batch.to_pylist():
                    sheet.append([_cell(row.get(c)) for c in self.columns])
        book.save(out)


def _cell(value: object) -> object:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = flat(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if getattr(value, "tzinfo", None) is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones
    return value
