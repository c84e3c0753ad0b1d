"""`StanceClassifier`: load a fine-tuned encoder and tell the stance of passages."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import yaml

from stance.bert import CONFIG_FILE, WEIGHTS_FILE, ModelConfig, load_model
from stance.inference import (
    aggregate_windows,
    check_texts,
    language_flags,
    softmax,
    split_sentences,
    token_budget_batches,
)
from stance.labels import LABELS
from stance.tokenizer import load_tokenizer

logger = logging.getLogger(__name__)

_MLFLOW_SCHEMES = ("models:/", "runs:/")
_DEFAULT_MAX_LENGTH = 256
# The file each backend loads its weights from.
_BACKENDS = {"torch": WEIGHTS_FILE, "onnx": "model.onnx"}


@dataclass(frozen=True)
class Evidence:
    """One sentence of a passage scored on its own."""

    text: str
    label: str
    scores: dict[str, float]


@dataclass(frozen=True)
class Prediction:
    """One passage's label and its probability for every label.

    `label` is None and `abstained` True when `min_confidence` was given and the top probability
    fell below it (the scores are kept, so a person can review the case). `flags` holds warnings
    such as `"non_english"`. `evidence` is filled by `predict(..., explain=True)`: the passage's
    sentences, those pushing hardest toward its label first.
    """

    label: str | None
    scores: dict[str, float]
    abstained: bool = False
    flags: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()

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


class StanceClassifier:
    """A sequence classifier whose label list travels in its `config.json`.

    Passages longer than `max_length` tokens are split into overlapping windows (`stride` tokens
    of overlap), scored, and their logits averaged, so nothing is truncated. Probabilities are
    the softmax of the logits divided by `temperature` (fitted after training; 1.0 otherwise).

    >>> clf = StanceClassifier.from_pretrained("models/my-run")  # doctest: +SKIP
    >>> clf.predict(["Interceptors in Poland are aimed at Iran."])[0].label  # doctest: +SKIP
    'pro_us'
    """

    def __init__(self, model, tokenizer, max_length: int | None = None, device: str = "auto",
                 tokens_per_batch: int = 2048):
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        config = model.config
        wanted = int(max_length or getattr(config, "stance_max_length", None)
                     or _DEFAULT_MAX_LENGTH)
        # A window can never be longer than the encoder has position embeddings for.
        self.max_length = min(wanted, getattr(config, "max_position_embeddings", None) or wanted)
        self.stride = int(getattr(config, "stance_stride", None) or self.max_length // 4)
        self.temperature = float(getattr(config, "stance_temperature", None) or 1.0)
        # 2048 rather than more: on 2 CPU cores larger batches were no faster (a 2048-token batch
        # already keeps the matrix units busy), padded more and raised peak RSS by ~150 MB.
        self.tokens_per_batch = tokens_per_batch
        self._labels = _labels_of(config)
        # Fast tokenizers are not safe to call from several threads at once.
        self._tokenizer_lock = threading.Lock()

    @property
    def labels(self) -> list[str]:
        """Label names in the column order of `predict_proba`."""
        return list(self._labels)

    @classmethod
    def from_base(
        cls, base_path: str, max_length: int = _DEFAULT_MAX_LENGTH, device: str = "auto"
    ) -> StanceClassifier:
        """A fresh, untrained classification head on a pretrained encoder (for training)."""
        # Training needs transformers' trainable models; inference loads without them.
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

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
    def from_pretrained(cls, path_or_uri: str | Path, device: str = "auto",
                        backend: str = "torch") -> StanceClassifier:
        """Load a saved folder, or an MLflow URI (`models:/name@alias`, `runs:/<id>/model`).

        `backend="onnx"` loads a folder written by `stance export --onnx` (`model.onnx`) into
        ONNX Runtime, on the CPU; it needs the `onnx` extra. A BERT classifier is run by
        `stance.bert` and tokenized by `stance.tokenizer`, so loading does not import
        `transformers` (its import alone takes about 2.5 s on 2 cores); other models load
        through it.
        """
        if backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {list(_BACKENDS)}, got {backend!r}")
        path_or_uri = str(path_or_uri)
        if path_or_uri.startswith(_MLFLOW_SCHEMES):
            path_or_uri = _download_from_mlflow(path_or_uri)
        folder = Path(path_or_uri)
        config = _read_model_folder(folder, _BACKENDS[backend])
        if backend == "onnx":
            from stance.onnx_backend import OnnxRunner

            model = OnnxRunner(folder / _BACKENDS[backend], config)
            device = "cpu" if device == "auto" else device
        else:
            model = load_model(folder, config)
        return cls(model, load_tokenizer(folder), device=device)

    def save_pretrained(self, path: str | Path) -> None:
        """Write a plain folder: config.json (labels, max length, temperature),
        model.safetensors and the tokenizer files."""
        config = self.model.config
        config.stance_max_length = self.max_length
        config.stance_stride = self.stride
        config.stance_temperature = self.temperature
        self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)

    def logits(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Raw (untempered) logits per passage, windows already aggregated."""
        return self._logits(check_texts(texts), batch_size)

    def _logits(self, texts: list[str], batch_size: int) -> np.ndarray:
        """`logits` for passages already checked and cleaned."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not texts:
            return np.zeros((0, len(self._labels)), dtype=np.float32)
        with self._tokenizer_lock:
            encoded = self.tokenizer(texts, truncation=True, max_length=self.max_length,
                                     stride=self.stride, return_overflowing_tokens=True)
        windows, owner = encoded["input_ids"], encoded["overflow_to_sample_mapping"]
        window_logits = self._forward(windows, batch_size)
        weights = [len(w) - 2 for w in windows]  # real tokens, without [CLS] and [SEP]
        return aggregate_windows(window_logits, owner, weights, len(texts))

    def _forward(self, windows: list[list[int]], batch_size: int) -> np.ndarray:
        out = np.zeros((len(windows), len(self._labels)), dtype=np.float32)
        lengths = [len(w) for w in windows]
        with torch.inference_mode():
            for idx in token_budget_batches(lengths, self.tokens_per_batch, batch_size):
                with self._tokenizer_lock:
                    batch = self.tokenizer.pad({"input_ids": [windows[i] for i in idx]},
                                               return_tensors="pt")
                batch = {k: v.to(self.device) for k, v in batch.items()}
                out[idx] = self.model(**batch).logits.float().cpu().numpy()
        return out

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Probabilities of shape `(len(texts), len(labels))`, columns in `labels` order."""
        return softmax(self.logits(texts, batch_size), self.temperature)

    def predict(self, texts: Sequence[str], batch_size: int = 64, explain: bool = False,
                min_confidence: float | None = None) -> list[Prediction]:
        """One `Prediction` per passage, in input order.

        `min_confidence`: below this top probability the prediction abstains (`label=None`).
        `explain`: also score each sentence and attach them as `evidence`.
        """
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be within [0, 1], got {min_confidence}")
        cleaned = check_texts(texts)
        proba = softmax(self._logits(cleaned, batch_size), self.temperature)
        evidence = self._evidence(cleaned, proba, batch_size) if explain else [()] * len(cleaned)
        preds = []
        for text, row, ev in zip(cleaned, proba, evidence):
            top = int(row.argmax())
            abstain = min_confidence is not None and float(row[top]) < min_confidence
            preds.append(Prediction(
                label=None if abstain else self._labels[top], scores=self._scores(row),
                abstained=abstain, flags=language_flags(text), evidence=ev))
        return preds

    def _evidence(self, texts: list[str], proba: np.ndarray,
                  batch_size: int) -> list[tuple[Evidence, ...]]:
        """Each passage's sentences scored alone, most supportive of the passage label first."""
        sentences = [split_sentences(t) or [t] for t in texts]
        flat = [s for group in sentences for s in group]
        sentence_proba = softmax(self._logits(flat, batch_size), self.temperature)
        out, start = [], 0
        for group, row in zip(sentences, proba):
            top = int(row.argmax())
            rows = sentence_proba[start : start + len(group)]
            start += len(group)
            order = np.argsort(-rows[:, top], kind="stable")
            out.append(tuple(
                Evidence(text=group[i], label=self._labels[int(rows[i].argmax())],
                         scores=self._scores(rows[i]))
                for i in order))
        return out

    def _scores(self, row: np.ndarray) -> dict[str, float]:
        return {label: float(p) for label, p in zip(self._labels, row)}


def _labels_of(config) -> tuple[str, ...]:
    id2label = {int(k): v for k, v in (config.id2label or {}).items()}
    labels = tuple(id2label[i] for i in sorted(id2label))
    if labels != LABELS:
        raise ValueError(
            f"model labels {list(labels)} are not the expected {list(LABELS)} (from config.json)"
        )
    return labels


def _read_model_folder(folder: Path, weights: str) -> ModelConfig:
    """The config of a saved stance model, after checking the folder holds one."""
    if not folder.is_dir():
        raise ValueError(f"model path {str(folder)!r} is not a folder")
    missing = [name for name in (CONFIG_FILE, weights) if not (folder / name).is_file()]
    if missing:
        pickled = [p.name for p in folder.glob("*.bin")]
        hint = f" (found pickle weights {pickled}; only safetensors are loaded)" if pickled else ""
        if (folder / _BACKENDS["onnx"]).is_file() and weights != _BACKENDS["onnx"]:
            hint = " (it holds model.onnx: load it with backend='onnx')"
        raise ValueError(f"model folder {str(folder)!r} is missing {missing}{hint}")
    config = ModelConfig.from_folder(folder)
    if not hasattr(config, "id2label"):
        raise ValueError(f"{folder / CONFIG_FILE} has no id2label: not a stance model")
    return config


@contextlib.contextmanager
def _fail_fast_http():
    """An unreachable tracking server should fail in seconds, not after minutes of retries;
    settings the user made explicitly are left alone."""
    wanted = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
    added = [k for k in wanted if k not in os.environ]
    os.environ.update({k: wanted[k] for k in added})
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def _download_from_mlflow(uri: str) -> str:
    """Fetch a logged model and return the Hugging Face folder stored among its artifacts."""
    import mlflow  # only this branch needs MLflow

    try:
        with _fail_fast_http():
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"could not load MLflow model {uri!r}: {first_line}") from exc
    try:
        flavor = yaml.safe_load((local / "MLmodel").read_text())["flavors"]["python_function"]
        folder = local / flavor["artifacts"]["hf_model"]["path"]
    except (OSError, KeyError, TypeError) as exc:
        raise ValueError(f"MLflow model {uri!r} is not a stance pyfunc model "
                         f"(no hf_model artifact in its MLmodel)") from exc
    logger.info("loaded %s from %s", uri, folder)
    return str(folder)
