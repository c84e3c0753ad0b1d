"""Scoring rows of a table: the prediction columns added beside the input's, and bad rows
(no text, not a string, empty, not UTF-8) written with `pred_error` instead of stopping a run.

>>> prediction_columns(["pro_russia", "pro_us", "neutral"])[:3]
['pred_label', 'pred_prob_pro_russia', 'pred_prob_pro_us']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stance.tables import Row, clean_value, has_bad_bytes
from stance.text import clean_text

PREFIX = "pred_"
LABEL, ABSTAINED, FLAGS, ERROR, EVIDENCE = (f"{PREFIX}{k}" for k in
                                            ("label", "abstained", "flags", "error", "evidence"))


def prob_column(label: str) -> str:
    return f"{PREFIX}prob_{label}"


@dataclass(frozen=True)
class ScoringOptions:
    """How rows are scored. `explain`: how many evidence sentences to keep (0: none)."""

    text_column: str = "text"
    id_column: str = "id"
    min_confidence: float | None = None
    explain: int = 0
    batch_size: int = 32
    strict: bool = False


def prediction_columns(labels: Sequence[str], explain: int = 0) -> list[str]:
    """The columns scoring adds, in order."""
    return ([LABEL, *map(prob_column, labels), ABSTAINED, FLAGS, ERROR]
            + ([EVIDENCE] if explain else []))


def prediction_types(labels: Sequence[str], explain: int = 0) -> dict:
    """The pyarrow type of each prediction column (evidence is JSON text outside JSONL)."""
    import pyarrow as pa

    types = {LABEL: pa.string(), ABSTAINED: pa.bool_(), FLAGS: pa.string(), ERROR: pa.string(),
             EVIDENCE: pa.string()}
    types |= {prob_column(label): pa.float64() for label in labels}
    return {c: types[c] for c in prediction_columns(labels, explain)}


def check_columns(columns: Sequence[str], labels: Sequence[str], explain: int = 0) -> None:
    """Nothing of the input is overwritten: refuse input that already has prediction columns."""
    taken = [c for c in columns if c in prediction_columns(labels, explain)]
    if taken:
        raise ValueError(f"the input already has column(s) {taken} (scored before?); rename or "
                         "drop them first")


def row_problem(row: Row, text_column: str) -> str | None:
    """Why `row` cannot be scored, or None."""
    if row.values is None:
        return row.problem or "unreadable"
    if text_column not in row.values:
        return f"no {text_column!r} column"
    text = row.values[text_column]
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return f"{text_column!r} is not valid UTF-8"
    if text is None or (isinstance(text, float) and text != text):
        return f"{text_column!r} is missing"
    if not isinstance(text, str):
        return f"{text_column!r} is a {type(text).__name__}, not a string"
    if has_bad_bytes(text):
        return f"{text_column!r} is not valid UTF-8"
    if not clean_text(text).strip():
        return f"{text_column!r} is empty"
    return None


def where(row: Row, id_column: str) -> str:
    """`row 69` or `row 69 (id p-69)`: how a bad row is named to the user."""
    value = (row.values or {}).get(id_column)
    return f"row {row.n}" + (f" (id {value})" if value not in (None, "") else "")


@dataclass
class ChunkResult:
    rows: list[dict]
    errors: list[str]
    abstained: int


def score_chunk(clf, rows: Sequence[Row], options: ScoringOptions) -> ChunkResult:
    """Every row with its input values and the prediction columns, in input order."""
    labels = clf.labels
    problems = [row_problem(r, options.text_column) for r in rows]
    good = [i for i, p in enumerate(problems) if p is None]
    texts = [_text(rows[i].values[options.text_column]) for i in good]
    preds = clf.predict(texts, batch_size=options.batch_size, explain=options.explain > 0,
                        min_confidence=options.min_confidence) if texts else []
    by_row = dict(zip(good, preds))
    out, errors = [], []
    empty = dict.fromkeys(prediction_columns(labels, options.explain))
    for i, row in enumerate(rows):
        values = {k: clean_value(v) for k, v in (row.values or {}).items()}
        if problems[i] is not None:
            errors.append(f"{where(row, options.id_column)}: {problems[i]}")
            out.append(values | empty | {FLAGS: "", ERROR: errors[-1]})
            continue
        out.append(values | _columns(by_row[i], labels, options.explain))
    return ChunkResult(out, errors, sum(p.abstained for p in preds))


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _columns(pred, labels: Sequence[str], explain: int) -> dict:
    columns = {LABEL: pred.label}
    columns |= {prob_column(label): round(pred.scores[label], 6) for label in labels}
    columns |= {ABSTAINED: pred.abstained, FLAGS: ";".join(pred.flags), ERROR: ""}
    if explain:
        top = pred.label or max(pred.scores, key=pred.scores.get)
        columns[EVIDENCE] = [{"text": e.text, "start": e.start, "end": e.end, "label": e.label,
                              "prob": round(e.scores[top], 6)} for e in pred.evidence[:explain]]
    return columns
