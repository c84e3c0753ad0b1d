"""Frozen sentence embeddings (mean-pooled `model.base`, L2-normalised, as all-MiniLM-L6-v2 was
trained to be used) and logistic regression; saved for the `pooled` backend."""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression

from stance import LABELS, StanceClassifier
from stance.backends import FolderConfig
from stance.backends.pooled import PooledBackend
from training.base_models import resolve_base_model

USES_BASE = True


def fit(config, splits, context) -> StanceClassifier:
    folder_config = FolderConfig.for_labels(LABELS, stance_family="embeddings",
                                            stance_max_length=config.model.max_length)
    backend = PooledBackend(resolve_base_model(config.model.base), folder_config,
                            device=config.training.device)
    features = backend.embed(splits["train"]["text"], config.training.eval_batch_size)
    classifier = LogisticRegression(C=config.baseline.c, max_iter=2000, random_state=config.seed)
    classifier.fit(features, splits["train"]["label"])
    backend.weight = classifier.coef_.astype("float32")
    backend.bias = classifier.intercept_.astype("float32")
    return StanceClassifier(backend)
