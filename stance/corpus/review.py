"""The passages of a scored corpus most worth a person's time: those the model is least sure of
(smallest margin between its top two labels), spread over the corpus by TF-IDF diversity, with
near-duplicates left out.

Selection is greedy: each pick maximises `uncertainty x (1 - similarity to the closest passage
already picked)`, where uncertainty is `1 - margin`; a candidate whose TF-IDF cosine to a pick is
above `NEAR_DUPLICATE_COSINE` is never picked.

>>> select(["radar deal", "radar deal", "treaty talks"], [0.1, 0.1, 0.2], 2)
[0, 2]
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stance.data.checks import NEAR_DUPLICATE_COSINE
from stance.scoring import ERROR, LABEL, PREFIX, prob_column
from stance.tables import format_of, read_rows

POOL_FACTOR = 5  # candidates: the POOL_FACTOR * n passages of smallest margin


def margin(scores: Sequence[float]) -> float:
    """Top probability minus the runner-up's."""
    top = sorted(scores, reverse=True)
    return float(top[0] - (top[1] if len(top) > 1 else 0.0))


def select(texts: Sequence[str], margins: Sequence[float], n: int,
           max_similarity: float = NEAR_DUPLICATE_COSINE) -> list[int]:
    """Indices of up to `n` passages, in the order picked."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not texts or n <= 0:
        return []
    vectors = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)).fit_transform(texts)
    similarity = (vectors @ vectors.T).toarray()
    uncertainty = 1.0 - np.asarray(margins, dtype=np.float64)
    closest = np.zeros(len(texts))  # similarity to the closest pick so far
    available = np.ones(len(texts), dtype=bool)
    picked: list[int] = []
    while len(picked) < n and available.any():
        score = np.where(available, uncertainty * (1.0 - closest), -np.inf)
        best = int(np.argmax(score))
        picked.append(best)
        closest = np.maximum(closest, similarity[:, best])
        available &= closest <= max_similarity
        available[best] = False
    return picked


def candidates(source: str | Path, n: int, fmt: str | None = None, text_column: str = "text",
               pool_factor: int = POOL_FACTOR) -> tuple[list[str], list[dict]]:
    """One pass over a scored file keeping the `pool_factor * n` rows of smallest margin (bad
    rows skipped): the labels and those rows, smallest margin first."""
    heap: list = []
    tie = itertools.count()
    labels: list[str] = []
    for chunk in read_rows(source, format_of(source, fmt)):
        for row in chunk:
            values = row.values
            if not values or values.get(ERROR) or not isinstance(values.get(text_column), str):
                continue
            if not labels:
                labels = [c[len(PREFIX + "prob_"):] for c in values if c.startswith(PREFIX + "prob_")]
                if LABEL not in values or not labels:
                    raise ValueError(f"{source}: not a scored file (no {LABEL} and pred_prob_<label> "
                                     "columns); score it with `stance predict` first")
            scores = [float(values[prob_column(label)]) for label in labels]
            m = margin(scores)
            guess = labels[int(np.argmax(scores))]  # the model's best guess, abstained or not
            item = (-m, next(tie), values | {"_row": row.n, "_margin": m, "_guess": guess})
            (heapq.heappush if len(heap) < pool_factor * n else heapq.heappushpop)(heap, item)
    rows = [v for _, _, v in sorted(heap, key=lambda item: (-item[0], item[1]))]
    return labels, rows
