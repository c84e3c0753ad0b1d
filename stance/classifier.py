"""`StanceClassifier`: load a saved model and tell the stance of passages."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stance.backends import Backend, choose, load_backend
from stance.fileio import atomic_folder
from stance.integrity import seal
from stance.labels import LABELS
from stance.loading import resolve_model
from stance.names import CONFIG_FILE, MODEL_CARD_FILE, TEMPERATURE_KEY
from stance.prediction import Evidence, Prediction, softmax
from stance.text import check_texts, language_flags, sentence_spans

logger = logging.getLogger(__name__)


class StanceClassifier:
    """A stance model whose label list travels in its `config.json`.

    Probabilities are the softmax of the backend's logits divided by `temperature` (fitted by
    `calibrate`; 1.0 otherwise). Encoder backends split passages longer than their window into
    overlapping windows, so nothing is truncated.

    >>> clf = StanceClassifier.from_pretrained("models/my-run")  # doctest: +SKIP
    >>> clf.predict(["Interceptors in Poland are aimed at Iran."])[0].label  # doctest: +SKIP
    'pro_us'
    """

    def __init__(self, backend: Backend):
        self.backend = backend
        self._labels = _labels_of(backend.config)

    @property
    def labels(self) -> list[str]:
        """Label names in the column order of `predict_proba`."""
        return list(self._labels)

    @property
    def config(self):
        """The folder's config.json as attributes (labels, window, temperature, backend)."""
        return self.backend.config

    @property
    def temperature(self) -> float:
        return float(getattr(self.config, TEMPERATURE_KEY, None) or 1.0)

    @temperature.setter
    def temperature(self, value: float) -> None:
        setattr(self.config, TEMPERATURE_KEY, float(value))

    @classmethod
    def from_pretrained(cls, path_or_uri: str | Path, device: str = "auto",
                        backend: str = "auto") -> StanceClassifier:
        """Load a saved folder, or an MLflow URI (`models:/name@alias`, `runs:/<id>/model`).

        `backend="auto"` uses the backend the folder was saved for (`torch` for a fine-tuned
        encoder, `onnx` for an exported one, `linear` for TF-IDF, `pooled` for embeddings) or,
        on a CPU, the int8 ONNX copy that training verified against it; name one of
        `stance.backends.BACKENDS` to insist. Loading a BERT model does not import
        `transformers`; other architectures load through it.
        """
        folder, config = resolve_model(path_or_uri)
        name = choose(folder, config, backend, device)
        _labels_of(config, folder / CONFIG_FILE)  # before the weights are read
        return cls(load_backend(name, folder, config, device))

    def save_pretrained(self, path: str | Path, card: str | None = None,
                        extra_files: dict[str, Path] | None = None) -> Path:
        """Write a plain folder (config.json with labels, temperature and the sha256 of every
        other file, the backend's weights as safetensors or ONNX, tokenizer files, `card` as
        README.md, and `extra_files` copied under their names) swapped in whole, so a failure or
        a kill leaves any folder already at `path` untouched; a full disk is an OSError naming
        `path`."""
        with atomic_folder(path) as tmp:
            self.backend.save(tmp)
            if card is not None:
                (tmp / MODEL_CARD_FILE).write_text(card, encoding="utf-8")
            for name, source in (extra_files or {}).items():
                shutil.copyfile(source, tmp / name)
            seal(tmp)
        return Path(path)

    def logits(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Raw (untempered) logits per passage, windows already aggregated."""
        return self._logits(check_texts(texts), batch_size)

    def _logits(self, texts: list[str], batch_size: int) -> np.ndarray:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        return self.backend.logits(texts, batch_size)

    def calibrate(self, logits: np.ndarray, y_true: Sequence[int]) -> float:
        """Fit the temperature on held-out `logits` (from `logits()`) and their label ids, by
        negative log-likelihood; returns it. The labels never change, only the confidence."""
        from stance.eval.metrics import fit_temperature

        self.temperature = fit_temperature(logits, y_true)
        return self.temperature

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Probabilities of shape `(len(texts), len(labels))`, columns in `labels` order."""
        return softmax(self.logits(texts, batch_size), self.temperature)

    def predict(self, texts: Sequence[str], batch_size: int = 64, explain: bool = False,
                min_confidence: float | None = None) -> list[Prediction]:
        """One `Prediction` per passage, in input order.

        `min_confidence`: below this top probability the prediction abstains (`label=None`).
        `explain`: also score each sentence and attach them as `evidence`, with their character
        offsets in the passage.
        """
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be within [0, 1], got {min_confidence}")
        cleaned = check_texts(texts)
        proba = softmax(self._logits(cleaned, batch_size), self.temperature)
        evidence = self._evidence(cleaned, proba, batch_size) if explain else [()] * len(cleaned)
        preds = []
        for text, row, ev in zip(cleaned, proba, evidence):
            top = int(row.argmax())
            abstain = min_confidence is not None and float(row[top]) < min_confidence
            preds.append(Prediction(
                label=None if abstain else self._labels[top], scores=self._scores(row),
                abstained=abstain, flags=language_flags(text), evidence=ev))
        return preds

    def _evidence(self, texts: list[str], proba: np.ndarray,
                  batch_size: int) -> list[tuple[Evidence, ...]]:
        """Each passage's sentences scored alone, most supportive of the passage label first."""
        spans = [sentence_spans(t) or [(0, len(t))] for t in texts]
        flat = [t[a:b] for t, group in zip(texts, spans) for a, b in group]
        sentence_proba = softmax(self._logits(flat, batch_size), self.temperature)
        out, start = [], 0
        for text, group, row in zip(texts, spans, proba):
            top = int(row.argmax())
            rows = sentence_proba[start : start + len(group)]
            start += len(group)
            order = np.argsort(-rows[:, top], kind="stable")
            out.append(tuple(
                Evidence(text=text[group[i][0]:group[i][1]], label=self._labels[int(rows[i].argmax())],
                         scores=self._scores(rows[i]), start=group[i][0], end=group[i][1])
                for i in order))
        return out

    def _scores(self, row: np.ndarray) -> dict[str, float]:
        return {label: float(p) for label, p in zip(self._labels, row)}


def _labels_of(config, source: str | Path = CONFIG_FILE) -> tuple[str, ...]:
    id2label = {int(k): v for k, v in (config.id2label or {}).items()}
    labels = tuple(id2label[i] for i in sorted(id2label))
    if labels != LABELS:
        raise ValueError(f"model labels {list(labels)} in {source} are not the expected "
                         f"{list(LABELS)}")
    return labels
