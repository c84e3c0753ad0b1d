"""The linear backend: TF-IDF features and a linear layer (the `tfidf` family), stored as plain
files: `vocabulary.json` (term -> column), `linear.safetensors` (idf, weight, bias) and the
vectorizer's settings in config.json. No pickles: the vectorizer is rebuilt from them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from stance.backends import BACKENDS, FolderConfig

WEIGHTS = BACKENDS["linear"].weights
VOCABULARY = "vocabulary.json"
# The TfidfVectorizer settings that change its output, as stored under config.json's "tfidf".
SETTINGS = ("ngram_range", "lowercase", "strip_accents", "sublinear_tf", "token_pattern",
            "analyzer", "norm", "use_idf", "smooth_idf", "binary")


class LinearBackend:
    """`logits = tfidf(texts) @ weight.T + bias`: a logistic regression's decision function."""

    def __init__(self, vectorizer, weight: np.ndarray, bias: np.ndarray, config: FolderConfig):
        if weight.shape != (len(config.id2label), len(vectorizer.vocabulary_)) or \
                bias.shape != (len(config.id2label),):
            raise ValueError(f"linear weights of shape {weight.shape} and {bias.shape} do not fit "
                             f"{len(config.id2label)} labels and {len(vectorizer.vocabulary_)} terms")
        self.vectorizer, self.weight, self.bias, self.config = vectorizer, weight, bias, config
        self.config.stance_backend = "linear"

    @classmethod
    def from_sklearn(cls, vectorizer, classifier, config: FolderConfig) -> LinearBackend:
        """From a fitted `TfidfVectorizer` and `LogisticRegression`."""
        config.tfidf = {k: list(v) if isinstance(v, tuple) else v
                        for k, v in vectorizer.get_params().items() if k in SETTINGS}
        return cls(vectorizer, classifier.coef_.astype(np.float32),
                   classifier.intercept_.astype(np.float32), config)

    def logits(self, texts: list[str], batch_size: int = 0) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.bias)), dtype=np.float32)
        features = self.vectorizer.transform(texts)
        return np.asarray(features @ self.weight.T + self.bias, dtype=np.float32)

    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        folder = Path(folder)
        self.config.save_pretrained(folder)
        vocabulary = {term: int(i) for term, i in self.vectorizer.vocabulary_.items()}
        (folder / VOCABULARY).write_text(json.dumps(vocabulary, ensure_ascii=False),
                                         encoding="utf-8")
        # C order: safetensors writes the buffer as it lies (scikit-learn's coef_ is often
        # Fortran-ordered, which would come back transposed).
        arrays = {"idf": self.vectorizer.idf_, "weight": self.weight, "bias": self.bias}
        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(folder / WEIGHTS))


def load(folder: Path, config: FolderConfig, device: str = "auto") -> LinearBackend:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file
    from sklearn.feature_extraction.text import TfidfVectorizer

    if device not in ("auto", "cpu"):
        raise ValueError(f"the linear backend runs on the CPU only, got device {device!r}")
    try:
        arrays = load_file(str(folder / WEIGHTS))
        vocabulary = json.loads((folder / VOCABULARY).read_text(encoding="utf-8"))
    except (SafetensorError, OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{folder}: TF-IDF files are missing or corrupt ({exc})") from None
    settings = dict(getattr(config, "tfidf", {}))
    if "ngram_range" in settings:
        settings["ngram_range"] = tuple(settings["ngram_range"])
    vectorizer = TfidfVectorizer(**settings)
    vectorizer.vocabulary_ = vocabulary
    vectorizer.idf_ = arrays["idf"]
    try:
        return LinearBackend(vectorizer, arrays["weight"], arrays["bias"], config)
    except ValueError as exc:  # weights of another model, or another label list
        raise ValueError(f"{folder / WEIGHTS}: {exc}") from None
