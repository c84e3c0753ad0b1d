"""Distillation: a fine-tuned teacher (e.g. mpnet) passes what it learned to a smaller student
(MiniLM) through its probabilities, on the labeled train passages and on unlabeled ones
(`data/unlabeled.jsonl`).

A labeled passage's target is `(1 - alpha) * one_hot(label) + alpha * teacher`; an unlabeled
passage's target is the teacher's probabilities. The teacher's probabilities are its calibrated
ones (its own temperature), so an unsure teacher passes on its doubt, not a made-up certainty.
The student trains on these targets with cross-entropy (`Trainer`, which takes a `target`
column in place of `label`).

    python -m training.train --config configs/distill.yaml --set distill.teacher=models/<mpnet run>
"""

from __future__ import annotations

import logging
import time

import numpy as np

from stance import LABELS, StanceClassifier
from stance.data import read_unlabeled
from stance.loading import resolve_model

logger = logging.getLogger(__name__)


def check(config) -> None:
    """Before training starts: distillation needs a transformer to learn, and a teacher that
    exists and predicts our labels."""
    d = config.distill
    if d.teacher is None:
        return
    model = config.model
    if "transformer" not in (model.family, *(model.members if model.family == "ensemble" else ())):
        raise ValueError(f"config key 'distill.teacher' is set, but family {model.family!r} "
                         "has no transformer to distil into")
    try:
        _, teacher_config = resolve_model(d.teacher)
    except (OSError, ValueError) as exc:
        raise ValueError(f"config key 'distill.teacher': {exc}") from exc
    labels = [label for _, label in sorted((int(k), v)
                                           for k, v in teacher_config.id2label.items())]
    if labels != list(LABELS):
        raise ValueError(f"config key 'distill.teacher': the teacher's labels {labels} are not "
                         f"{list(LABELS)}")


def soft_targets(config, train):
    """The student's training set: `text` and `target` (probabilities in `LABELS` order) for
    every train passage, then every unlabeled one (with `distill.unlabeled`).

    Returns `(dataset, metrics)`; the metrics say how many passages of each kind were used, how
    long the teacher took, and how often it agrees with the train labels."""
    from datasets import Dataset

    d = config.distill
    unlabeled = read_unlabeled(config.data.path) if d.unlabeled else []
    texts = list(train["text"]) + [r["text"] for r in unlabeled]
    start = time.perf_counter()
    teacher = StanceClassifier.from_pretrained(d.teacher, device=config.training.device)
    proba = teacher.predict_proba(texts, batch_size=config.training.eval_batch_size)
    seconds = time.perf_counter() - start
    labels = np.asarray(train["label"])
    n = len(labels)
    targets = np.vstack([(1 - d.alpha) * np.eye(len(LABELS))[labels] + d.alpha * proba[:n],
                         proba[n:]])
    metrics = {"distill_train_passages": n, "distill_unlabeled_passages": len(unlabeled),
               "distill_teacher_seconds": seconds,
               "distill_teacher_train_accuracy": float((proba[:n].argmax(1) == labels).mean())}
    logger.info("distillation targets from %s: %s", d.teacher,
                {k: round(v, 3) for k, v in metrics.items()})
    return Dataset.from_dict({"text": texts, "target": targets.tolist()}), metrics
