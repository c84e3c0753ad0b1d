"""The pooled backend: a frozen encoder's mean-pooled, L2-normalised embedding of each window and
a linear layer over it (the `embeddings` family). The folder holds the encoder as a Hugging Face
folder under `encoder/` and the layer in `head.safetensors` (weight, bias)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch

from stance.backends import BACKENDS, FolderConfig
from stance.backends.encoder import EncoderBackend
from stance.backends.tokenizer import load_tokenizer
from stance.backends.torch import resolve_device

HEAD = BACKENDS["pooled"].weights
ENCODER = "encoder"


class PooledBackend(EncoderBackend):
    def __init__(self, encoder_folder: Path, config: FolderConfig, weight: np.ndarray | None = None,
                 bias: np.ndarray | None = None, device: str = "auto"):
        from transformers import AutoModel

        self.encoder_folder = Path(encoder_folder)
        self.device = resolve_device(device)
        self.encoder = AutoModel.from_pretrained(self.encoder_folder).to(self.device).eval()
        super().__init__(load_tokenizer(self.encoder_folder), config)
        self.config.stance_backend = "pooled"
        n, width = len(config.id2label), self.encoder.config.hidden_size
        self.weight = np.zeros((n, width), np.float32) if weight is None else weight
        self.bias = np.zeros(n, np.float32) if bias is None else bias
        if self.weight.shape != (n, width) or self.bias.shape != (n,):
            raise ValueError(f"head of shape {self.weight.shape} does not fit {n} labels over "
                             f"{width}-wide embeddings")

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """One embedding per passage: the length-weighted mean of its windows' embeddings."""
        return self.run_windows(texts, batch_size, self._pool, self.encoder.config.hidden_size)

    def _pool(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            ids = torch.from_numpy(input_ids).to(self.device)
            mask = torch.from_numpy(attention_mask).to(self.device)
            hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy()

    def _forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        # Linear, so averaging windows before or after the head gives the same logits.
        return self._pool(input_ids, attention_mask) @ self.weight.T + self.bias

    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        folder = Path(folder)
        self.save_config(folder)
        if self.encoder_folder.resolve() != (folder / ENCODER).resolve():
            shutil.copytree(self.encoder_folder, folder / ENCODER, dirs_exist_ok=True)
        save_file({"weight": np.ascontiguousarray(self.weight, dtype=np.float32),
                   "bias": np.ascontiguousarray(self.bias, dtype=np.float32)}, str(folder / HEAD))


def load(folder: Path, config: FolderConfig, device: str = "auto") -> PooledBackend:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        head = load_file(str(folder / HEAD))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{folder / HEAD} is corrupt or truncated ({exc})") from None
    return PooledBackend(folder / ENCODER, config, head["weight"], head["bias"], device)
