"""One evaluation path for training and for `stance evaluate`: the report of every split
(metrics with intervals, calibration, slices, errors, predictions, figures) and the behavioural
suite, returned as an `Evaluation` that can be printed, saved and logged to MLflow.

>>> from stance.eval import evaluate  # doctest: +SKIP
>>> result = evaluate(clf, {"test": records}, "report/")  # doctest: +SKIP
>>> result.metrics["test_f1_macro"]  # doctest: +SKIP
0.86
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stance.eval.behaviour import CaseResult, load_cases, pass_rates, run_suite
from stance.eval.metrics import SLICE_COLUMNS
from stance.eval.report import SplitReport, evaluate_split
from stance.prediction import softmax

logger = logging.getLogger(__name__)
Records = Mapping[str, list]  # columns: at least `text`, and `label` as label ids


@dataclass
class Evaluation:
    reports: dict[str, SplitReport]
    behaviour: dict[str, float] = field(default_factory=dict)  # pass rate per case type
    behaviour_failures: list[CaseResult] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        out = {k: v for r in self.reports.values() for k, v in r.metrics.items()}
        return out | {f"behaviour_{k}": v for k, v in self.behaviour.items()}

    @property
    def text(self) -> str:
        parts = [r.text for r in self.reports.values()]
        if self.behaviour:
            parts.append("behavioural suite: "
                         + ", ".join(f"{k} {v:.0%}" for k, v in self.behaviour.items()))
        return "\n".join(parts)

    def log_to_mlflow(self, artifact_dir: str = "eval") -> None:
        """Metrics, figures, texts and tables to the active MLflow run."""
        import mlflow

        mlflow.log_metrics(self.metrics)
        for report in self.reports.values():
            for path in report.files:
                mlflow.log_artifact(str(path), artifact_dir)
            for name, table in report.tables.items():
                if table and next(iter(table.values())):
                    mlflow.log_table(table, f"{artifact_dir}/{name}")
                else:  # log_table refuses empty tables; keep the artifact: the UI shows "none"
                    mlflow.log_text(json.dumps(table), f"{artifact_dir}/{name}")
        if self.behaviour:
            mlflow.log_text("".join(f"{r.id}\t{r.type}\t{r.detail}\n"
                                    for r in self.behaviour_failures) or "none\n",
                            f"{artifact_dir}/behaviour_failures.tsv")


def evaluate(clf, splits: Mapping[str, Records], out_dir: str | Path, *,
             behaviour: str | Path | None = None, logits: Mapping[str, np.ndarray] | None = None,
             slice_by: Sequence[str] = SLICE_COLUMNS, batch_size: int = 64) -> Evaluation:
    """Evaluate `clf` on every split in `splits`; files go to `out_dir`.

    `logits`: raw logits already computed per split (training has them from calibration), so
    nothing is scored twice. `behaviour`: a behavioural-suite JSONL to run as well. When the
    model has a temperature, each split also reports the ECE before it (`*_ece_uncalibrated`).
    """
    reports = {}
    for name, records in splits.items():
        z = logits[name] if logits and name in logits else clf.logits(records["text"], batch_size)
        raw = softmax(z) if clf.temperature != 1.0 else None
        reports[name] = evaluate_split(name, dict(records), softmax(z, clf.temperature),
                                       clf.labels, out_dir, slice_by, uncalibrated=raw)
        logger.info("\n%s", reports[name].text)
    result = Evaluation(reports)
    if behaviour is not None and Path(behaviour).is_file():
        results = run_suite(load_cases(behaviour), clf.predict_proba)
        result.behaviour = pass_rates(results)
        result.behaviour_failures = [r for r in results if not r.passed]
    elif behaviour is not None:
        logger.warning("no behavioural suite at %s; skipped", behaviour)
    return result
