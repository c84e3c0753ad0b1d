"""`StanceClassifier`: load a fine-tuned encoder and tell the stance of passages."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from stance.labels import LABELS

logger = logging.getLogger(__name__)

_MLFLOW_SCHEMES = ("models:/", "runs:/")
_DEFAULT_MAX_LENGTH = 256


@dataclass(frozen=True)
class Prediction:
    """One passage's label and its probability for every label."""

    label: str
    scores: dict[str, float]

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_device(device: str) -> torch.device:
    """`auto` picks CUDA when present, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available")
    return torch.device(device)


def check_texts(texts: object) -> list[str]:
    """Validate a batch of passages; a bare string is refused so results never change shape."""
    if isinstance(texts, (str, bytes)):
        raise TypeError("texts must be a list of strings, not a single string: pass [text]")
    if not isinstance(texts, Sequence):
        raise TypeError(f"texts must be a list of strings, got {type(texts).__name__}")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] must be a str, got {type(text).__name__}")
        if not text.strip():
            raise ValueError(f"texts[{i}] is empty or whitespace only")
    return list(texts)


class StanceClassifier:
    """A sequence classifier whose label list travels in its `config.json`.

    >>> clf = StanceClassifier.from_pretrained("models/my-run")  # doctest: +SKIP
    >>> clf.predict(["Interceptors in Poland are aimed at Iran."])[0].label  # doctest: +SKIP
    'pro_us'
    """

    def __init__(self, model, tokenizer, max_length: int | None = None, device: str = "auto"):
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        configured = getattr(model.config, "stance_max_length", None)
        self.max_length = int(max_length or configured or _DEFAULT_MAX_LENGTH)
        self._labels = _labels_of(model.config)

    @property
    def labels(self) -> list[str]:
        """Label names in the column order of `predict_proba`."""
        return list(self._labels)

    @classmethod
    def from_base(
        cls, base_path: str, max_length: int = _DEFAULT_MAX_LENGTH, device: str = "auto"
    ) -> StanceClassifier:
        """A fresh, untrained classification head on a pretrained encoder (for training)."""
        model = AutoModelForSequenceClassification.from_pretrained(
            base_path,
            num_labels=len(LABELS),
            id2label=dict(enumerate(LABELS)),
            label2id={label: i for i, label in enumerate(LABELS)},
        )
        model.config.stance_max_length = max_length
        tokenizer = AutoTokenizer.from_pretrained(base_path)
        return cls(model, tokenizer, max_length=max_length, device=device)

    @classmethod
    def from_pretrained(cls, path_or_uri: str | Path, device: str = "auto") -> StanceClassifier:
        """Load a saved folder, or an MLflow URI (`models:/name@alias`, `runs:/<id>/model`)."""
        path_or_uri = str(path_or_uri)
        if path_or_uri.startswith(_MLFLOW_SCHEMES):
            path_or_uri = _download_from_mlflow(path_or_uri)
        folder = Path(path_or_uri)
        _check_model_folder(folder)
        model = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        return cls(model, tokenizer, device=device)

    def save_pretrained(self, path: str | Path) -> None:
        """Write a plain folder: config.json (with labels), model.safetensors, tokenizer files."""
        self.model.config.stance_max_length = self.max_length
        self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)

    def predict_proba(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Probabilities of shape `(len(texts), len(labels))`, columns in `labels` order."""
        texts = check_texts(texts)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        out = np.zeros((len(texts), len(self._labels)), dtype=np.float32)
        if not texts:
            return out
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]
        # Longest first keeps similar lengths together, so dynamic padding wastes little.
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                batch = self.tokenizer.pad({"input_ids": [encoded[i] for i in idx]},
                                           return_tensors="pt")
                batch = {k: v.to(self.device) for k, v in batch.items()}
                logits = self.model(**batch).logits.float()
                out[idx] = torch.softmax(logits, dim=-1).cpu().numpy()
        return out

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        """One `Prediction` per passage, in input order."""
        proba = self.predict_proba(texts, batch_size=batch_size)
        return [
            Prediction(
                label=self._labels[int(row.argmax())],
                scores={label: float(p) for label, p in zip(self._labels, row)},
            )
            for row in proba
        ]


def _labels_of(config) -> tuple[str, ...]:
    id2label = {int(k): v for k, v in (config.id2label or {}).items()}
    labels = tuple(id2label[i] for i in sorted(id2label))
    if labels != LABELS:
        raise ValueError(
            f"model labels {list(labels)} are not the expected {list(LABELS)} (from config.json)"
        )
    return labels


def _check_model_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise ValueError(f"model path {str(folder)!r} is not a folder")
    missing = [name for name in ("config.json", "model.safetensors") if not (folder / name).is_file()]
    if missing:
        pickled = [p.name for p in folder.glob("*.bin")]
        hint = f" (found pickle weights {pickled}; only safetensors are loaded)" if pickled else ""
        raise ValueError(f"model folder {str(folder)!r} is missing {missing}{hint}")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if "id2label" not in config:
        raise ValueError(f"{folder / 'config.json'} has no id2label: not a stance model")


def _download_from_mlflow(uri: str) -> str:
    """Fetch a logged model and return the Hugging Face folder stored among its artifacts."""
    import mlflow  # only this branch needs MLflow

    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except Exception as exc:
        raise ValueError(f"could not load MLflow model {uri!r}: {exc}") from exc
    try:
        flavor = yaml.safe_load((local / "MLmodel").read_text())["flavors"]["python_function"]
        folder = local / flavor["artifacts"]["hf_model"]["path"]
    except (OSError, KeyError, TypeError) as exc:
        raise ValueError(f"MLflow model {uri!r} is not a stance pyfunc model "
                         f"(no hf_model artifact in its MLmodel)") from exc
    logger.info("loaded %s from %s", uri, folder)
    return str(folder)
