"""Model families: how a stance model is trained. A family is one module here with

    fit(config, splits, context) -> StanceClassifier

plus one line in `FAMILIES`. The classifier it returns saves a folder that
`StanceClassifier.from_pretrained` loads (through the backend the family uses), so every family
predicts, serves and scores on Spark through the same code. Calibration and evaluation are the
same for all families and happen after `fit` (training/train.py).

>>> sorted(FAMILIES)
['embeddings', 'ensemble', 'tfidf', 'transformer']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# name -> module. A module may set USES_BASE (it loads `model.base`: checked before training)
# and DISTRIBUTED (its fit takes part in a multi-process launch) to True, and define
# `check(config)`, which training calls before anything is loaded.
FAMILIES: dict[str, str] = {
    "transformer": "training.families.transformer",
    "tfidf": "training.families.tfidf",
    "embeddings": "training.families.embeddings",
    "ensemble": "training.families.ensemble",
}


@dataclass(frozen=True)
class FitContext:
    """What a family's `fit` may use beyond the config: where to checkpoint, whether to resume,
    a callback for per-epoch metrics (families without epochs ignore these three), and one for
    any other metric of the run."""

    checkpoint: Path | None = None
    resume: bool = False
    on_epoch_end: Callable[[int, dict[str, float]], None] | None = None
    log_metrics: Callable[[dict[str, float]], None] = lambda metrics: None


def family(name: str):
    """The module of family `name`."""
    if name not in FAMILIES:
        raise ValueError(f"unknown model family {name!r} (known: {', '.join(FAMILIES)})")
    return importlib.import_module(FAMILIES[name])
