"""What `StanceClassifier.predict` returns, and the arithmetic from logits to probabilities."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Evidence:
    """One sentence of a passage scored on its own."""

    text: str
    label: str
    scores: dict[str, float]
    start: int = -1  # character offsets of the sentence in the passage (-1: not found)
    end: int = -1


@dataclass(frozen=True)
class Prediction:
    """One passage's label and its probability for every label.

    `label` is None and `abstained` True when `min_confidence` was given and the top probability
    fell below it (the scores are kept, so a person can review the case). `flags` holds warnings
    such as `"non_english"`. `evidence` is filled by `predict(..., explain=True)`: the passage's
    sentences, those pushing hardest toward its label first.

    >>> Prediction("neutral", {"neutral": 0.9}).to_dict()["label"]
    'neutral'
    """

    label: str | None
    scores: dict[str, float]
    abstained: bool = False
    flags: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of `logits / temperature`.

    >>> softmax(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """
    z = np.asarray(logits) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
