"""Baselines run through the same entry point and report as the transformer:
TF-IDF + logistic regression, and frozen MiniLM sentence embeddings + logistic regression."""

from __future__ import annotations

import logging

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from stance.base_models import resolve_base_model
from training.config import Config

logger = logging.getLogger(__name__)


class MeanPoolEmbedder(TransformerMixin, BaseEstimator):
    """Sentence embeddings from a frozen encoder: the attention-masked mean of the last hidden
    states, L2-normalised (how all-MiniLM-L6-v2 was trained to be used).

    Only the encoder's name is stored on the estimator; the weights load on first use, so a
    saved pipeline holds no copy of the encoder.
    """

    def __init__(self, base: str = "minilm", max_length: int = 128, batch_size: int = 64):
        self.base = base
        self.max_length = max_length
        self.batch_size = batch_size

    def fit(self, X, y=None):
        return self

    def _encoder(self):
        if not hasattr(self, "_loaded"):
            from transformers import AutoModel, AutoTokenizer

            path = resolve_base_model(self.base)
            self._loaded = (AutoTokenizer.from_pretrained(path),
                            AutoModel.from_pretrained(path).eval())
        return self._loaded

    def transform(self, X) -> np.ndarray:
        tokenizer, model = self._encoder()
        texts = list(X)
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = tokenizer(texts[start : start + self.batch_size], padding=True,
                                  truncation=True, max_length=self.max_length, return_tensors="pt")
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.concatenate(out) if out else np.zeros((0, model.config.hidden_size))

    def __getstate__(self):  # never serialise the loaded encoder
        return {k: v for k, v in self.__dict__.items() if k != "_loaded"}


def build_baseline(config: Config) -> Pipeline:
    """The scikit-learn pipeline for `model.family` (`tfidf` or `embeddings`)."""
    b = config.baseline
    classifier = LogisticRegression(C=b.c, max_iter=2000, random_state=config.seed)
    if config.model.family == "tfidf":
        features = TfidfVectorizer(ngram_range=(1, b.ngram_max), min_df=b.min_df,
                                   sublinear_tf=True, strip_accents="unicode")
    elif config.model.family == "embeddings":
        features = MeanPoolEmbedder(config.model.base, config.model.max_length)
    else:
        raise ValueError(f"model.family {config.model.family!r} is not a baseline")
    return Pipeline([("features", features), ("classifier", classifier)])


def fit_baseline(config: Config, train) -> Pipeline:
    pipeline = build_baseline(config)
    pipeline.fit(train["text"], train["label"])
    logger.info("fitted %s baseline on %d passages", config.model.family, len(train))
    return pipeline


def log_sklearn_model(pipeline: Pipeline, example: str) -> None:
    """Log with MLflow's sklearn flavour in the skops format (no pickles)."""
    import mlflow

    trusted = [f"{MeanPoolEmbedder.__module__}.{MeanPoolEmbedder.__qualname__}"]
    mlflow.sklearn.log_model(pipeline, name="model", serialization_format="skops",
                             skops_trusted_types=trusted, input_example=[example])
