"""Stance shares of a scored corpus overall and per group, raw or prevalence-corrected, as rows
ready for a CSV file, a terminal table and the HTML report.

>>> from stance.corpus.scored import Scored
>>> s = Scored(["a", "b"], ["source"], predicted=[0, 0, 1], keys={"source": ["x", "x", "y"]})
>>> [(g.values, g.shares.n) for g in group_shares(s, ("source",))]
[(('x',), 2), (('y',), 1)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stance.corpus.scored import PERIODS, Scored
from stance.corpus.shares import Calibration, Shares, confusion_counts, shares


@dataclass(frozen=True)
class GroupShares:
    keys: tuple[str, ...]
    values: tuple[str, ...]
    shares: Shares

    @property
    def name(self) -> str:
        return ", ".join(self.values) if self.values else "all"


def groupings(by: Sequence[str]) -> list[tuple[str, ...]]:
    """Overall, each key alone, and all keys together (when more than one)."""
    out = [(), *((k,) for k in by)]
    return out + [tuple(by)] if len(by) > 1 else out


def group_shares(scored: Scored, keys: tuple[str, ...], calibration: Calibration | None = None,
                 seed: int = 0) -> list[GroupShares]:
    """Shares per value (combination) of `keys`, sorted by value; `()` gives the overall row."""
    import pandas as pd

    if not keys:
        return [GroupShares((), (), shares(scored.counts(), calibration, seed=seed))]
    frame = pd.DataFrame({k: scored.keys[k] for k in keys})
    pred = np.asarray(scored.predicted, dtype=np.int64)
    out = []
    for values, index in sorted(frame.groupby(list(keys), sort=False).indices.items()):
        values = values if isinstance(values, tuple) else (values,)
        counts = np.bincount(pred[index], minlength=len(scored.labels))
        out.append(GroupShares(keys, tuple(map(str, values)), shares(counts, calibration,
                                                                     seed=seed)))
    return out


def table_rows(groups: Sequence[GroupShares], labels: Sequence[str]) -> list[dict]:
    """One dict per group: its key values, n, and share / 95% interval per label (rounded)."""
    rows = []
    for g in groups:
        row = dict(zip(g.keys, g.values)) | {"n": g.shares.n}
        for i, label in enumerate(labels):
            row |= {f"share_{label}": _r(g.shares.share[i]), f"low_{label}": _r(g.shares.low[i]),
                    f"high_{label}": _r(g.shares.high[i])}
        rows.append(row)
    return rows


def _r(x: float) -> float | None:
    return None if np.isnan(x) else round(float(x), 4)


def text_table(groups: Sequence[GroupShares], labels: Sequence[str]) -> str:
    """Groups as aligned terminal lines: `share (low-high)` per label."""
    width = max([len(g.name) for g in groups] + [5])
    lines = [f"{'group':<{width}} {'n':>7}  " + "  ".join(f"{label:<19}" for label in labels)]
    for g in groups:
        cells = "  ".join(f"{g.shares.share[i]:.3f} ({g.shares.low[i]:.3f}-{g.shares.high[i]:.3f})"
                          for i in range(len(labels)))
        lines.append(f"{g.name:<{width}} {g.shares.n:>7}  {cells}")
    return "\n".join(lines)


def time_and_group_keys(by: Sequence[str]) -> tuple[str | None, str | None]:
    """The first period key (month, year, ...) and the first other key among `by`."""
    time = next((k for k in by if k in PERIODS), None)
    group = next((k for k in by if k not in PERIODS), None)
    return time, group


def calibration_from(y_true: Sequence[int], y_pred: Sequence[int], n_labels: int,
                     source: str) -> Calibration:
    """The confusion counts of a labeled sample; a class missing from it cannot be corrected."""
    counts = confusion_counts(y_true, y_pred, n_labels)
    if (counts.sum(axis=1) == 0).any():
        missing = [i for i, n in enumerate(counts.sum(axis=1)) if n == 0]
        raise ValueError(f"{source}: the labeled sample has no passage of label id(s) {missing}; "
                         "prevalence correction needs every label")
    return Calibration(counts, source)
