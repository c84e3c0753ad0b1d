"""Fine-tuning a transformer encoder with a new classification head; saved for the `torch`
backend (and exportable to ONNX)."""

from __future__ import annotations

from stance import LABELS, StanceClassifier
from stance.backends.torch import from_base
from training import distill
from training.base_models import resolve_base_model
from training.trainer import Trainer

USES_BASE = True
DISTRIBUTED = True


def freeze(model, n_layers: int) -> None:
    """Freeze the embeddings and the lowest `n_layers` encoder layers: no gradients flow below
    the first trainable layer, so each step costs less (the top layers and head still learn)."""
    if n_layers == 0:
        return
    encoder = model.base_model
    layers = encoder.encoder.layer
    if n_layers > len(layers):
        raise ValueError(f"config key 'model.freeze_layers' is {n_layers}, but the encoder has "
                         f"{len(layers)} layers")
    for module in (encoder.embeddings, *layers[:n_layers]):
        module.requires_grad_(False)


def fit(config, splits, context) -> StanceClassifier:
    backend = from_base(resolve_base_model(config.model.base), list(LABELS),
                        config.model.max_length, config.training.device)
    backend.config.stance_family = "transformer"
    freeze(backend.model, config.model.freeze_layers)
    clf = StanceClassifier(backend)
    train = splits["train"]
    if config.distill.teacher is not None:
        train, metrics = distill.soft_targets(config, train)
        context.log_metrics(metrics)
    Trainer(clf, config.training, seed=config.seed, checkpoint_dir=context.checkpoint,
            on_epoch_end=context.on_epoch_end).fit(train, splits["validation"],
                                                   resume=context.resume)
    return clf
