"""Metrics: classification scores, bootstrap intervals, calibration error and temperature."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    f1_score,
    precision_recall_fscore_support,
)

# Columns of the project's data that reports slice by; any other column can be named instead.
SLICE_COLUMNS = ("topic", "register", "hard_case")
# A slice smaller than this is listed as too small instead of given a score (2 right of 2 is
# not a macro-F1 of 1.000).
MIN_SLICE = 20


def classification_metrics(y_true: Sequence[int], proba: np.ndarray,
                           labels: Sequence[str]) -> dict[str, float]:
    """Accuracy, macro-F1 and per-class precision/recall/F1 (keys like `f1_pro_us`).

    >>> classification_metrics([0, 1], np.array([[.9, .1, 0], [.2, .7, .1]]), ["a", "b", "c"])["accuracy"]
    1.0
    """
    y_pred = np.asarray(proba).argmax(axis=1)
    ids = list(range(len(labels)))
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "f1_macro": float(f1_score(y_true, y_pred, labels=ids, average="macro", zero_division=0)),
    }
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=ids, zero_division=0)
    for i, label in enumerate(labels):
        metrics[f"precision_{label}"] = float(precision[i])
        metrics[f"recall_{label}"] = float(recall[i])
        metrics[f"f1_{label}"] = float(f1[i])
    return metrics


def report_text(y_true: Sequence[int], proba: np.ndarray, labels: Sequence[str]) -> str:
    """scikit-learn's classification report, as printed in the terminal."""
    return classification_report(y_true, np.asarray(proba).argmax(axis=1),
                                 labels=list(range(len(labels))), target_names=list(labels),
                                 digits=4, zero_division=0)


def errors_table(records: dict[str, list], proba: np.ndarray, labels: Sequence[str],
                 columns: Sequence[str] = SLICE_COLUMNS) -> dict[str, list]:
    """The misclassified examples as columns, most confident mistakes first."""
    pred = np.asarray(proba).argmax(axis=1)
    wrong = [i for i in range(len(pred)) if pred[i] != records["label"][i]]
    wrong.sort(key=lambda i: -float(proba[i, pred[i]]))
    ids = records.get("id") or [str(i) for i in range(len(pred))]
    table: dict[str, list] = {
        "id": [ids[i] for i in wrong],
        "text": [records["text"][i] for i in wrong],
        "true": [labels[records["label"][i]] for i in wrong],
        "predicted": [labels[pred[i]] for i in wrong],
        "confidence": [round(float(proba[i, pred[i]]), 4) for i in wrong],
    }
    for column in columns:
        if column in records:
            table[column] = [records[column][i] for i in wrong]
    return table


def predictions_table(records: dict[str, list], proba: np.ndarray,
                      labels: Sequence[str]) -> dict[str, list]:
    """Every passage's id, true and predicted label and probabilities (for paired comparisons)."""
    proba = np.asarray(proba)
    ids = records.get("id") or [str(i) for i in range(len(proba))]
    table: dict[str, list] = {
        "id": list(ids), "true": [labels[y] for y in records["label"]],
        "predicted": [labels[i] for i in proba.argmax(axis=1)]}
    for k, label in enumerate(labels):
        table[f"prob_{label}"] = [round(float(p), 6) for p in proba[:, k]]
    return table


def expected_calibration_error(y_true: Sequence[int], proba: np.ndarray, bins: int = 10) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by
    how many predictions fall in each bin."""
    proba = np.asarray(proba)
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def _f1_from_counts(counts: np.ndarray) -> np.ndarray:
    """Macro-F1 of confusion matrices `counts[..., true, predicted]`; a label with no true and
    no predicted passage scores 0, as scikit-learn's `zero_division=0` does."""
    tp = np.diagonal(counts, axis1=-2, axis2=-1).astype(np.float64)
    predicted, actual = counts.sum(axis=-2), counts.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(predicted + actual > 0, 2 * tp / (predicted + actual), 0.0)
    return f1.mean(axis=-1)


def _confusions(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int,
                idx: np.ndarray) -> np.ndarray:
    """One confusion matrix per row of resample indices `idx` (shape: resamples x passages)."""
    k = n_labels
    codes = y_true[idx] * k + y_pred[idx] + (np.arange(len(idx)) * k * k)[:, None]
    return np.bincount(codes.ravel(), minlength=len(idx) * k * k).reshape(len(idx), k, k)


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int], n_labels: int) -> float:
    """Macro-F1 over all `n_labels` labels, from label ids (equal to scikit-learn's).

    >>> macro_f1([0, 1, 2, 2], [0, 1, 2, 1], 3)
    0.7777777777777777
    """
    y, p = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    return float(_f1_from_counts(_confusions(y, p, n_labels, np.arange(len(y))[None, :]))[0])


def _resamples(n: int, n_boot: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, (n_boot, n))


def bootstrap_f1_interval(y_true: Sequence[int], proba: np.ndarray, n_labels: int,
                          n_boot: int = 1000, seed: int = 0) -> tuple[float, float]:
    """A 95% percentile-bootstrap interval for macro-F1, resampling passages."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(proba).argmax(axis=1)
    scores = _f1_from_counts(_confusions(y_true, y_pred, n_labels,
                                         _resamples(len(y_true), n_boot, seed)))
    low, high = np.percentile(scores, [2.5, 97.5])
    return float(low), float(high)


def paired_f1_difference(y_true: Sequence[int], pred_a: Sequence[int], pred_b: Sequence[int],
                         n_labels: int, n_boot: int = 2000,
                         seed: int = 0) -> tuple[float, float, float]:
    """Macro-F1 of A minus macro-F1 of B on the same passages, with a 95% interval.

    Both models are scored on the same bootstrap resamples, so the interval measures the gap
    against its own noise; an interval that excludes 0 means A is clearly the better model.

    >>> paired_f1_difference([0, 1, 2, 0], [0, 1, 2, 0], [0, 1, 2, 1], 3, n_boot=50)[0] > 0
    True
    """
    y, a, b = (np.asarray(v, dtype=np.int64) for v in (y_true, pred_a, pred_b))
    if not len(y) == len(a) == len(b):
        raise ValueError(f"y_true, pred_a and pred_b differ in length: {len(y)}, {len(a)}, "
                         f"{len(b)}")
    idx = _resamples(len(y), n_boot, seed)
    diffs = (_f1_from_counts(_confusions(y, a, n_labels, idx))
             - _f1_from_counts(_confusions(y, b, n_labels, idx)))
    low, high = np.percentile(diffs, [2.5, 97.5])
    return macro_f1(y, a, n_labels) - macro_f1(y, b, n_labels), float(low), float(high)


def sliced_metrics(records: dict[str, list], proba: np.ndarray, labels: Sequence[str],
                   columns: Sequence[str] = SLICE_COLUMNS, min_n: int = MIN_SLICE) -> list[dict]:
    """Accuracy and macro-F1 for every value of each column in `columns` that `records` has;
    slices under `min_n` passages get `too_small=True` and no scores."""
    rows = []
    for column in columns:
        values = records.get(column)
        if values is None:
            continue
        for value in sorted(set(map(str, values))):
            idx = [i for i, v in enumerate(values) if str(v) == value]
            row = {"column": column, "value": value or "none", "n": len(idx),
                   "accuracy": None, "f1_macro": None, "too_small": len(idx) < min_n}
            if not row["too_small"]:
                m = classification_metrics([records["label"][i] for i in idx], proba[idx], labels)
                row |= {"accuracy": round(m["accuracy"], 4), "f1_macro": round(m["f1_macro"], 4)}
            rows.append(row)
    return rows


def fit_temperature(logits: np.ndarray, y_true: Sequence[int]) -> float:
    """The temperature that minimises the negative log-likelihood of `y_true` (Guo et al. 2017).

    >>> round(fit_temperature(np.array([[4.0, 0, 0], [0, 4.0, 0]]), [0, 0]), 1) > 1
    True
    """
    logits = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y_true)

    def nll(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(y)), y].mean())

    # Searching log T keeps T positive; [0.05, 20] covers any sensible network.
    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))
