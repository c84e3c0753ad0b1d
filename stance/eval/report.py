"""The evaluation report of one split: metrics, intervals, calibration, slices, worst errors,
every prediction, figures; as text and as files ready to log."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stance.eval.metrics import (
    SLICE_COLUMNS,
    bootstrap_f1_interval,
    classification_metrics,
    errors_table,
    expected_calibration_error,
    predictions_table,
    report_text,
    sliced_metrics,
)
from stance.eval.plots import confusion_matrix_png, reliability_png
from stance.names import metric


@dataclass
class SplitReport:
    split: str
    metrics: dict[str, float]
    tables: dict[str, dict[str, list]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    text: str = ""


def _metric_key(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "none"


def evaluate_split(split: str, records: dict[str, list], proba: np.ndarray, labels: list[str],
                   out_dir: str | Path, slice_by: Sequence[str] = SLICE_COLUMNS,
                   uncalibrated: np.ndarray | None = None) -> SplitReport:
    """Everything the report holds for `split`; figures and tables are written to `out_dir`.

    `records` maps column names to lists (at least `text`, and `label` as label ids).
    `uncalibrated`: the probabilities before temperature scaling, to report their ECE too.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    y = records["label"]
    base = classification_metrics(y, proba, labels)
    low, high = bootstrap_f1_interval(y, proba, len(labels))
    base |= {"f1_macro_ci_low": low, "f1_macro_ci_high": high,
             "ece": expected_calibration_error(y, proba), "n": float(len(y))}
    if uncalibrated is not None:
        base["ece_uncalibrated"] = expected_calibration_error(y, uncalibrated)
    slices = sliced_metrics(records, proba, labels, slice_by)
    metrics = {metric(split, k): v for k, v in base.items()}
    for row in slices:
        if not row["too_small"]:
            key = f"f1_macro__{row['column']}_{_metric_key(row['value'])}"
            metrics[metric(split, key)] = row["f1_macro"]
    files = [
        confusion_matrix_png(y, proba, labels, out_dir / f"{split}_confusion.png",
                             title=f"{split}: confusion matrix"),
        reliability_png(y, proba, out_dir / f"{split}_reliability.png",
                        title=f"{split}: reliability (ECE {base['ece']:.3f})"),
    ]
    tables = {
        f"{split}_errors.json": errors_table(records, proba, labels, slice_by),
        f"{split}_predictions.json": predictions_table(records, proba, labels),
        f"{split}_slices.json": {k: [r[k] for r in slices] for k in
                                 ("column", "value", "n", "accuracy", "f1_macro", "too_small")},
    }
    text = _summary(split, base, report_text(y, proba, labels), slices)
    (out_dir / f"{split}_report.txt").write_text(text, encoding="utf-8")
    files.append(out_dir / f"{split}_report.txt")
    return SplitReport(split, metrics, tables, files, text)


def _summary(split: str, m: dict[str, float], report: str, slices: list[dict]) -> str:
    calibration = f"ECE {m['ece']:.4f}"
    if "ece_uncalibrated" in m:
        calibration += f" (before temperature {m['ece_uncalibrated']:.4f})"
    lines = [f"== {split} ({int(m['n'])} passages) ==",
             f"accuracy {m['accuracy']:.4f}   macro-F1 {m['f1_macro']:.4f} "
             f"(95% bootstrap CI {m['f1_macro_ci_low']:.4f}-{m['f1_macro_ci_high']:.4f})   "
             f"{calibration}", "", report.rstrip(), ""]
    if slices:
        lines.append(f"{'slice':<42} {'n':>5} {'acc':>7} {'F1':>7}")
    for row in slices:
        name = f"{row['column']}={row['value']}"
        scores = ("  (too small to score)" if row["too_small"]
                  else f" {row['accuracy']:>7.3f} {row['f1_macro']:>7.3f}")
        lines.append(f"{name:<42} {row['n']:>5}{scores}")
    return "\n".join(lines) + "\n"
