"""Fine-tuning a transformer encoder with a new classification head; saved for the `torch`
backend (and exportable to ONNX)."""

from __future__ import annotations

from stance import LABELS, StanceClassifier
from stance.backends.torch import from_base
from training.base_models import resolve_base_model
from training.trainer import Trainer

USES_BASE = True
DISTRIBUTED = True


def fit(config, splits, context) -> StanceClassifier:
    backend = from_base(resolve_base_model(config.model.base), list(LABELS),
                        config.model.max_length, config.training.device)
    backend.config.stance_family = "transformer"
    clf = StanceClassifier(backend)
    Trainer(clf, config.training, seed=config.seed, checkpoint_dir=context.checkpoint,
            on_epoch_end=context.on_epoch_end).fit(splits["train"], splits["validation"],
                                                   resume=context.resume)
    return clf
