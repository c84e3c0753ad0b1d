"""A user's labeled file (any table format with a text and a label column; nothing else
required), validated row by row with `file:line` messages, for `stance evaluate --input`,
`stance summarize --calibrate-with` and `stance data import`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stance.labels import LABELS
from stance.scoring import row_problem
from stance.tables import Row, format_of, read_rows


@dataclass
class LabeledFile:
    """The rows that passed (their values, with `label` checked), every problem found, and how
    many rows had no label at all (skipped when `allow_unlabeled`)."""

    rows: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unlabeled: int = 0

    def raise_problems(self, source: str | Path) -> None:
        if self.problems:
            more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            raise ValueError(f"{self.problems[0]}{more}")
        if not self.rows:
            raise ValueError(f"{source}: no labeled rows")


def location(source: str | Path, row: Row) -> str:
    """`file:line` where the file has lines (or sheet rows), else `file: row N`."""
    return f"{source}:{row.line}" if row.line is not None else f"{source}: row {row.n}"


def read_labeled(source: str | Path, fmt: str | None = None, text_column: str = "text",
                 label_column: str = "label", columns: Sequence[str] = (),
                 allow_unlabeled: bool = False) -> LabeledFile:
    """Read and check every row: a non-empty string text, a label among `LABELS`, and the named
    `columns` present. Rows are returned as dicts of their values (the label stripped)."""
    result = LabeledFile()
    for chunk in read_rows(source, format_of(source, fmt)):
        for row in chunk:
            problem = _problem(row, text_column, label_column, columns)
            if problem == "unlabeled" and allow_unlabeled:
                result.unlabeled += 1
            elif problem == "unlabeled":
                result.problems.append(f"{location(source, row)}: no {label_column!r}")
            elif problem:
                result.problems.append(f"{location(source, row)}: {problem}")
            else:
                values = dict(row.values)
                values[label_column] = values[label_column].strip()
                result.rows.append(values | {"_where": location(source, row)})
    return result


def _problem(row: Row, text_column: str, label_column: str, columns: Sequence[str]) -> str | None:
    problem = row_problem(row, text_column)
    if problem:
        return problem
    missing = [c for c in (label_column, *columns) if c not in row.values]
    if missing:
        return f"no column(s) {missing} (columns: {list(row.values)})"
    label = row.values[label_column]
    if label is None or (isinstance(label, str) and not label.strip()) or label != label:
        return "unlabeled"
    if not isinstance(label, str) or label.strip() not in LABELS:
        return f"unknown label {label!r} (allowed: {', '.join(LABELS)})"
    return None


def as_records(rows: Sequence[dict], text_column: str = "text", label_column: str = "label",
               columns: Sequence[str] = (), id_column: str = "id") -> dict[str, list]:
    """Columns as `stance.eval.evaluate` takes them: `text`, `label` as label ids, `id`, and
    each of `columns` as text (slices compare values as strings)."""
    records = {"text": [r[text_column] for r in rows],
               "label": [LABELS.index(r[label_column]) for r in rows],
               "id": [str(r.get(id_column) if r.get(id_column) not in (None, "") else i)
                      for i, r in enumerate(rows, 1)]}
    for column in columns:
        records[column] = ["" if r.get(column) is None else str(r[column]) for r in rows]
    return records
