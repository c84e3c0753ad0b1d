"""An ensemble of other families (`model.members`, by default the fine-tuned transformer and
TF-IDF): each is fitted and calibrated on validation, then their probabilities are averaged.
Saved for the `ensemble` backend."""

from __future__ import annotations

from stance import LABELS, StanceClassifier
from stance.backends import FolderConfig
from stance.backends.ensemble import EnsembleBackend
from training.families import FAMILIES, family

USES_BASE = True  # when a member does


def check(config) -> tuple[str, ...]:
    """The member families, after checking `model.members` (run before training starts)."""
    members = config.model.members
    bad = [m for m in members if m not in FAMILIES or m == "ensemble"]
    if bad or len(set(members)) < 2:
        raise ValueError(f"config key 'model.members' must name two or more other families "
                         f"({', '.join(f for f in FAMILIES if f != 'ensemble')}), got "
                         f"{list(members)}")
    return members


def fit(config, splits, context) -> StanceClassifier:
    validation = splits["validation"]
    members = {}
    for name in check(config):
        clf = family(name).fit(config, splits, context)
        # Calibrated first, so that averaging weighs each member's confidence fairly.
        clf.calibrate(clf.logits(validation["text"], config.training.eval_batch_size),
                      validation["label"])
        members[name] = clf
    folder_config = FolderConfig.for_labels(LABELS, stance_family="ensemble")
    return StanceClassifier(EnsembleBackend(members, dict.fromkeys(members, 1.0), folder_config))
