"""Stance shares of a scored corpus per group, with bootstrap intervals, and prevalence
correction from a labeled sample (adjusted classify-and-count, Forman 2008).

Raw shares count predicted labels; when the model's errors lean one way (it under-calls
`neutral` on real news) the raw shares lean with them. Adjusted classify-and-count undoes that
with the model's confusion matrix on a labeled sample: if `M[i, j]` is the chance of predicting
j for a passage of true label i, the observed shares are `q = M.T @ p`, and p is solved for.

>>> adjusted_shares(np.array([0.5, 0.5]), np.array([[0.8, 0.2], [0.2, 0.8]])).round(3).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

N_BOOT = 1000
# Above this condition number the adjusted shares swing with every few passages of the sample.
MAX_CONDITION = 30.0


@dataclass(frozen=True)
class Calibration:
    """The model's confusion counts on a labeled sample (`counts[true, predicted]`)."""

    counts: np.ndarray
    source: str

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def unreliable(self) -> bool:
        """True when the confusion matrix is close to singular (the model tells the labels apart
        too poorly for the correction to mean much)."""
        return bool(np.linalg.cond(self.matrix()) > MAX_CONDITION)

    def matrix(self) -> np.ndarray:
        """Rows: P(predicted | true); a class absent from the sample keeps the identity row."""
        totals = self.counts.sum(axis=1, keepdims=True)
        eye = np.eye(len(self.counts))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(totals > 0, self.counts / np.where(totals > 0, totals, 1), eye)


def confusion_counts(y_true: Sequence[int], y_pred: Sequence[int], n_labels: int) -> np.ndarray:
    counts = np.zeros((n_labels, n_labels), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return counts


def adjusted_shares(observed: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The true shares p >= 0 summing to 1 that best explain `observed = matrix.T @ p`."""
    k = len(observed)
    # The sum-to-one constraint as a heavily weighted extra equation, solved without negatives.
    a = np.vstack([matrix.T, 100.0 * np.ones((1, k))])
    b = np.concatenate([observed, [100.0]])
    p, _ = nnls(a, b)
    return p / p.sum() if p.sum() > 0 else np.full(k, 1.0 / k)


@dataclass(frozen=True)
class Shares:
    n: int
    share: np.ndarray  # per label
    low: np.ndarray
    high: np.ndarray


def shares(counts: np.ndarray, calibration: Calibration | None = None, n_boot: int = N_BOOT,
           seed: int = 0) -> Shares:
    """Shares of each label from predicted-label `counts`, with 95% percentile-bootstrap
    intervals (passages resampled; with a calibration, its labeled sample is resampled too)."""
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    k = len(counts)
    if n == 0:
        nan = np.full(k, np.nan)
        return Shares(0, nan, nan, nan)
    rng = np.random.default_rng(seed)
    q = counts / n
    draws = rng.multinomial(n, q, size=n_boot) / n
    if calibration is None:
        point, boot = q, draws
    else:
        point = adjusted_shares(q, calibration.matrix())
        boot = np.array([adjusted_shares(d, _resampled(calibration, rng)) for d in draws])
    low, high = np.percentile(boot, [2.5, 97.5], axis=0)
    return Shares(n, point, low, high)


def _resampled(calibration: Calibration, rng: np.random.Generator) -> np.ndarray:
    """The confusion matrix of one bootstrap resample of the labeled sample (per true class)."""
    counts = calibration.counts
    rows = []
    for i, row in enumerate(counts):
        total = int(row.sum())
        rows.append(rng.multinomial(total, row / total) if total else np.eye(len(counts))[i])
    return Calibration(np.array(rows), calibration.source).matrix()
