"""Metrics and report artifacts shared by training and evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)


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


def confusion_matrix_png(y_true: Sequence[int], proba: np.ndarray, labels: Sequence[str],
                         path: str | Path, title: str) -> Path:
    """Draw the confusion matrix (rows: true label, columns: predicted) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never open a window
    import matplotlib.pyplot as plt

    matrix = confusion_matrix(y_true, np.asarray(proba).argmax(axis=1),
                              labels=list(range(len(labels))))
    fig, ax = plt.subplots(figsize=(5, 4.2))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=20)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for (i, j), count in np.ndenumerate(matrix):
        color = "white" if count > matrix.max() / 2 else "black"
        ax.text(j, i, str(count), ha="center", va="center", color=color)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def errors_table(records: dict[str, list], proba: np.ndarray,
                 labels: Sequence[str]) -> dict[str, list]:
    """The misclassified examples as columns, most confident mistakes first."""
    pred = np.asarray(proba).argmax(axis=1)
    wrong = [i for i in range(len(pred)) if pred[i] != records["label"][i]]
    wrong.sort(key=lambda i: -float(proba[i, pred[i]]))
    table: dict[str, list] = {
        "id": [records["id"][i] for i in wrong],
        "text": [records["text"][i] for i in wrong],
        "true": [labels[records["label"][i]] for i in wrong],
        "predicted": [labels[pred[i]] for i in wrong],
        "confidence": [round(float(proba[i, pred[i]]), 4) for i in wrong],
    }
    for column in ("topic", "register", "hard_case"):
        if column in records:
            table[column] = [records[column][i] for i in wrong]
    return table
