"""The evaluation report of one split: metrics, intervals, calibration, slices, worst errors,
figures; printed as text and, on request, logged to MLflow."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stance.evaluation import (
    bootstrap_f1_interval,
    classification_metrics,
    errors_table,
    expected_calibration_error,
    report_text,
    sliced_metrics,
)
from stance.plots import confusion_matrix_png, reliability_png


@dataclass
class EvalReport:
    split: str
    metrics: dict[str, float]
    tables: dict[str, dict[str, list]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    text: str = ""


def _metric_key(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "none"


def evaluate_split(split: str, records: dict[str, list], proba: np.ndarray, labels: list[str],
                   out_dir: str | Path) -> EvalReport:
    """Everything the report holds for `split`; figures and tables are written to `out_dir`.

    `records` maps column names to lists (at least `label` as label ids and `text`).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    y = records["label"]
    base = classification_metrics(y, proba, labels)
    low, high = bootstrap_f1_interval(y, proba, len(labels))
    base |= {"f1_macro_ci_low": low, "f1_macro_ci_high": high,
             "ece": expected_calibration_error(y, proba)}
    slices = sliced_metrics(records, proba, labels)
    metrics = {f"{split}_{k}": v for k, v in base.items()}
    for row in slices:
        metrics[f"{split}_f1_macro__{row['column']}_{_metric_key(row['value'])}"] = row["f1_macro"]
    files = [
        confusion_matrix_png(y, proba, labels, out_dir / f"{split}_confusion.png",
                             title=f"{split}: confusion matrix"),
        reliability_png(y, proba, out_dir / f"{split}_reliability.png",
                        title=f"{split}: reliability (ECE {base['ece']:.3f})"),
    ]
    tables = {
        f"{split}_errors.json": errors_table(records, proba, labels),
        f"{split}_slices.json": {k: [r[k] for r in slices] for k in
                                 ("column", "value", "n", "accuracy", "f1_macro")},
    }
    text = _summary(split, base, report_text(y, proba, labels), slices)
    (out_dir / f"{split}_report.txt").write_text(text, encoding="utf-8")
    files.append(out_dir / f"{split}_report.txt")
    return EvalReport(split, metrics, tables, files, text)


def _summary(split: str, m: dict[str, float], report: str, slices: list[dict]) -> str:
    lines = [f"== {split} ==",
             f"accuracy {m['accuracy']:.4f}   macro-F1 {m['f1_macro']:.4f} "
             f"(95% bootstrap CI {m['f1_macro_ci_low']:.4f}-{m['f1_macro_ci_high']:.4f})   "
             f"ECE {m['ece']:.4f}", "", report.rstrip(), "",
             f"{'slice':<42} {'n':>5} {'acc':>7} {'F1':>7}"]
    lines += [f"{row['column'] + '=' + row['value']:<42} {row['n']:>5} {row['accuracy']:>7.3f} "
              f"{row['f1_macro']:>7.3f}" for row in slices]
    return "\n".join(lines) + "\n"


def log_report(report: EvalReport, artifact_dir: str = "eval") -> None:
    """Log metrics, figures, text and tables to the active MLflow run."""
    import mlflow

    mlflow.log_metrics(report.metrics)
    for path in report.files:
        mlflow.log_artifact(str(path), artifact_dir)
    for name, table in report.tables.items():
        if table and next(iter(table.values())):
            mlflow.log_table(table, f"{artifact_dir}/{name}")
        else:  # log_table refuses empty tables; keep the artifact so the UI shows "no errors"
            mlflow.log_text(json.dumps(table), f"{artifact_dir}/{name}")
