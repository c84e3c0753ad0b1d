"""A scored file (the output of `stance predict`) read in one pass, keeping only what a summary
needs: each scored row's predicted label and group keys, the counts of bad and abstained rows,
the most confident passages per label and the least confident abstentions.

A group key is a column, or a period derived from the date column (`month`, `quarter`, `year`,
`week`, `day`) when no column has that name.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from stance.scoring import ABSTAINED, ERROR, EVIDENCE, LABEL, PREFIX, prob_column
from stance.tables import format_of, read_rows

PERIODS = {"day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m", "quarter": None, "year": "%Y"}
UNKNOWN = "(unknown)"


@dataclass(frozen=True)
class Passage:
    text: str
    id: str
    label: str | None
    confidence: float
    scores: dict[str, float]
    evidence: tuple[dict, ...] = ()
    keys: dict[str, str] = field(default_factory=dict)


@dataclass
class Scored:
    labels: list[str]
    by: list[str]
    rows: int = 0
    bad: int = 0
    abstained: int = 0
    predicted: list[int] = field(default_factory=list)  # label id of each scored row
    keys: dict[str, list[str]] = field(default_factory=dict)  # key -> value per scored row
    top: dict[str, list[Passage]] = field(default_factory=dict)
    unsure: list[Passage] = field(default_factory=list)

    def counts(self, mask: np.ndarray | None = None) -> np.ndarray:
        pred = np.asarray(self.predicted, dtype=np.int64)
        pred = pred if mask is None else pred[mask]
        return np.bincount(pred, minlength=len(self.labels))


def labels_of(columns: Sequence[str]) -> list[str]:
    """The label names, in column order, from the `pred_prob_<label>` columns."""
    start = f"{PREFIX}prob_"
    labels = [c[len(start):] for c in columns if c.startswith(start)]
    if LABEL not in columns or not labels:
        raise ValueError(f"not a scored file: no {LABEL!r} and {start}<label> columns (found "
                         f"{list(columns)[:12]}); score it with `stance predict` first")
    return labels


def read_scored(source: str | Path, by: Sequence[str] = (), fmt: str | None = None,
                date_column: str = "date", text_column: str = "text", id_column: str = "id",
                keep: int = 5, keep_unsure: int = 25) -> Scored:
    """One pass over `source`, chunk by chunk; memory holds a label id and the keys per row."""
    scored: Scored | None = None
    heaps: dict[str, list] = {}
    unsure: list = []
    tie = itertools.count()
    for chunk in read_rows(source, format_of(source, fmt)):
        if scored is None:
            first = next((r.values for r in chunk if r.values), {})
            scored = Scored(labels_of(list(first)), list(by), keys={k: [] for k in by})
            _check_keys(first, by, date_column)
            heaps = {label: [] for label in scored.labels}
        good = [r.values for r in chunk if r.values]
        scored.rows += len(chunk)
        scored.bad += sum(1 for v in good if v.get(ERROR)) + (len(chunk) - len(good))
        dated = _periods([v.get(date_column) for v in good], by)
        for i, values in enumerate(good):
            if values.get(ERROR):
                continue
            passage = _passage(values, scored.labels, text_column, id_column)
            keys = {k: _key(values, k, dated, i) for k in by}
            if values.get(ABSTAINED) in (True, "True", "true") or not values.get(LABEL):
                scored.abstained += 1
                _push(unsure, (-passage.confidence, next(tie), replace(passage, keys=keys)), keep_unsure)
                continue
            scored.predicted.append(scored.labels.index(values[LABEL]))
            for k in by:
                scored.keys[k].append(keys[k])
            _push(heaps[values[LABEL]], (passage.confidence, next(tie), replace(passage, keys=keys)), keep)
    if scored is None:
        raise ValueError(f"{source}: no rows")
    scored.top = {label: [p for _, _, p in sorted(h, reverse=True)] for label, h in heaps.items()}
    scored.unsure = [p for _, _, p in sorted(unsure, reverse=True)]
    return scored


def _push(heap: list, item: tuple, size: int) -> None:
    (heapq.heappush if len(heap) < size else heapq.heappushpop)(heap, item)


def _check_keys(first: dict, by: Sequence[str], date_column: str) -> None:
    for key in by:
        if key not in first and not (key in PERIODS and date_column in first):
            periods = f" or a period ({', '.join(PERIODS)}) of the {date_column!r} column"
            raise ValueError(f"--by {key}: no such column{periods}; columns: {list(first)}")


def _periods(dates: list, by: Sequence[str]) -> dict[str, list[str]]:
    """The period keys among `by`, for a chunk's dates (parsed once per chunk by pandas)."""
    import pandas as pd

    wanted = [k for k in by if k in PERIODS]
    if not wanted:
        return {}
    parsed = pd.to_datetime(pd.Series(dates, dtype=object), errors="coerce", format="mixed",
                            utc=True)
    out = {}
    for key in wanted:
        if key == "quarter":
            values = parsed.dt.year.astype("Int64").astype(str) + "-Q" + \
                parsed.dt.quarter.astype("Int64").astype(str)
        else:
            values = parsed.dt.strftime(PERIODS[key])
        out[key] = [UNKNOWN if pd.isna(t) else v for t, v in zip(parsed, values)]
    return out


def _key(values: dict, key: str, dated: dict[str, list[str]], i: int) -> str:
    if key in values:
        value = values[key]
        return UNKNOWN if value in (None, "") else str(value)
    return dated[key][i]


def _passage(values: dict, labels: list[str], text_column: str, id_column: str) -> Passage:
    scores = {label: float(values.get(prob_column(label)) or 0.0) for label in labels}
    evidence = values.get(EVIDENCE) or ()
    if isinstance(evidence, str):
        evidence = json.loads(evidence) if evidence.strip() else ()
    return Passage(text=str(values.get(text_column) or ""), id=str(values.get(id_column) or ""),
                   label=values.get(LABEL) or None, confidence=max(scores.values()),
                   scores=scores, evidence=tuple(evidence))
