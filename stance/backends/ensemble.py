"""The ensemble backend: the weighted average of several saved models' probabilities (each
with its own temperature). A fine-tuned encoder and TF-IDF make different mistakes, so their
average is right more often than either.

The folder holds each member as a model folder of its own under `members/<name>/` and the
weights in `ensemble.json`; its logits are the log of the averaged probabilities, so the
classifier's own temperature and every other path (evidence, serving, Spark) work unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from stance.backends import BACKENDS, FolderConfig

MANIFEST = BACKENDS["ensemble"].weights
MEMBERS = "members"


class EnsembleBackend:
    def __init__(self, members: dict, weights: dict[str, float], config: FolderConfig):
        if set(weights) != set(members) or not members:
            raise ValueError(f"ensemble weights {sorted(weights)} do not name its members "
                             f"{sorted(members)}")
        if any(m.labels != list(config.id2label.values()) for m in members.values()):
            raise ValueError("ensemble members must share the ensemble's label list")
        total = sum(weights.values())
        self.members, self.weights = members, {k: w / total for k, w in weights.items()}
        self.config = config
        self.config.stance_backend = "ensemble"
        # Files to save beside a member's own (its verified int8 ONNX copy, say).
        self.member_files: dict[str, dict[str, Path]] = {}

    def logits(self, texts: list[str], batch_size: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.config.id2label)), dtype=np.float32)
        proba = sum(w * self.members[name].predict_proba(texts, batch_size)
                    for name, w in self.weights.items())
        return np.log(np.clip(proba, 1e-12, None)).astype(np.float32)

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        self.config.save_pretrained(folder)
        for name, member in self.members.items():
            member.save_pretrained(folder / MEMBERS / name,
                                   extra_files=self.member_files.get(name))
        (folder / MANIFEST).write_text(json.dumps({"weights": self.weights}, indent=1) + "\n",
                                       encoding="utf-8")


def load(folder: Path, config: FolderConfig, device: str = "auto") -> EnsembleBackend:
    from stance.classifier import StanceClassifier

    try:
        weights = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["weights"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{folder / MANIFEST} is missing or corrupt ({exc})") from None
    members = {name: StanceClassifier.from_pretrained(folder / MEMBERS / name, device=device)
               for name in weights}
    return EnsembleBackend(members, weights, config)
