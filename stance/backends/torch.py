"""The PyTorch backend: a BERT classifier runs on `stance.backends.bert` (no `transformers`
import, which alone takes ~2.5 s on 2 cores); any other architecture (MPNet, DistilBERT, ...)
through `transformers.AutoModelForSequenceClassification`."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from stance.backends import BACKENDS, FolderConfig
from stance.backends.bert import BertClassifier, supports
from stance.backends.encoder import EncoderBackend
from stance.backends.tokenizer import load_tokenizer, tokenizer_source
from stance.names import BACKEND_KEY

logger = logging.getLogger(__name__)
WEIGHTS = BACKENDS["torch"].weights


def resolve_device(device: str) -> torch.device:
    """`auto` picks CUDA when present, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available")
    return torch.device(device)


class TorchBackend(EncoderBackend):
    """`model(input_ids=..., attention_mask=...).logits` over token windows, on `device`."""

    def __init__(self, model: torch.nn.Module, tokenizer, device: str = "auto"):
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        super().__init__(tokenizer, model.config)
        setattr(self.config, BACKEND_KEY, "torch")

    def _forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            ids = torch.from_numpy(input_ids).to(self.device)
            mask = torch.from_numpy(attention_mask).to(self.device)
            return self.model(input_ids=ids, attention_mask=mask).logits.float().cpu().numpy()

    def save(self, folder: Path) -> None:
        self.config.stance_max_length, self.config.stance_stride = self.max_length, self.stride
        self.model.save_pretrained(folder)  # config.json with the stance keys, safetensors
        self.tokenizer.save_pretrained(folder)


def _read_weights(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(folder / WEIGHTS)
    except (SafetensorError, OSError, RuntimeError) as exc:
        raise ValueError(f"{folder / WEIGHTS} is corrupt or truncated ({exc})") from None


def _model(folder: Path, config: FolderConfig) -> torch.nn.Module:
    """`BertClassifier` when it reproduces the saved model exactly, else `transformers`' model."""
    weights = _read_weights(folder)
    if supports(config):
        model = BertClassifier(config)
        try:
            missing, unexpected = model.load_state_dict(weights, strict=False)
        except RuntimeError as exc:  # a tensor of the wrong shape, e.g. a head per other labels
            first = str(exc).strip().splitlines()[-1].strip()
            raise ValueError(f"{folder / WEIGHTS} does not fit its config.json: {first}") from None
        if not missing and not unexpected:
            return model
        logger.info("weights in %s do not match a plain BERT classifier (missing %s, "
                    "unexpected %s): loading with transformers", folder, missing, unexpected)
    from transformers import AutoModelForSequenceClassification

    try:
        return AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True)
    except (OSError, RuntimeError) as exc:
        raise ValueError(f"{folder} could not be loaded: {str(exc).strip().splitlines()[0]}") from None


def load(folder: Path, config: FolderConfig, device: str = "auto") -> TorchBackend:
    model = _model(folder, config)
    tokenizer = load_tokenizer(folder)
    if len(tokenizer) > model.config.vocab_size:
        raise ValueError(f"{tokenizer_source(folder)} has {len(tokenizer)} tokens but the "
                         f"model's embedding matrix only {model.config.vocab_size}: the "
                         f"tokenizer belongs to another model")
    return TorchBackend(model, tokenizer, device)


def from_base(base: str, labels: list[str], max_length: int, device: str) -> TorchBackend:
    """A fresh, untrained classification head on a pretrained encoder folder (for training)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)})
    model.config.stance_max_length = max_length
    return TorchBackend(model, AutoTokenizer.from_pretrained(base), device)
