"""Token windows over an encoder, shared by the encoder backends (torch, onnx, pooled).

A passage longer than `max_length` tokens is split into overlapping windows (`stride` tokens of
overlap), the windows of a call are grouped into batches of similar length under a token budget,
each batch is run by the subclass's `_forward`, and a passage's logits are the length-weighted
mean of its windows' logits. Nothing is truncated, and a passage gets the same result whatever
batch it is in.
"""

from __future__ import annotations

import threading

import numpy as np

from stance.text import aggregate_windows, token_budget_batches

DEFAULT_MAX_LENGTH = 256
# 2048 rather than more: on 2 CPU cores larger batches were no faster (a 2048-token batch already
# keeps the matrix units busy), padded more and raised peak RSS by ~150 MB.
TOKENS_PER_BATCH = 2048


class EncoderBackend:
    """Subclasses set `self.config` and implement `_forward(input_ids, attention_mask)` on int64
    numpy arrays of one padded batch, returning float32 logits of shape (rows, labels)."""

    def __init__(self, tokenizer, config, tokens_per_batch: int = TOKENS_PER_BATCH):
        self.tokenizer = tokenizer
        self.config = config
        wanted = int(getattr(config, "stance_max_length", None) or DEFAULT_MAX_LENGTH)
        # A window can never be longer than the encoder has position embeddings for.
        self.max_length = min(wanted, getattr(config, "max_position_embeddings", None) or wanted)
        self.stride = int(getattr(config, "stance_stride", None) or self.max_length // 4)
        self.tokens_per_batch = tokens_per_batch
        self.n_labels = len(config.id2label)
        # Fast tokenizers are not safe to call from several threads at once.
        self._tokenizer_lock = threading.Lock()

    def windows(self, texts: list[str]) -> tuple[list[list[int]], list[int]]:
        """Token ids of every window, and the passage each window belongs to."""
        with self._tokenizer_lock:
            encoded = self.tokenizer(texts, truncation=True, max_length=self.max_length,
                                     stride=self.stride, return_overflowing_tokens=True)
        return encoded["input_ids"], list(encoded["overflow_to_sample_mapping"])

    def logits(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.run_windows(texts, batch_size, self._forward, self.n_labels)

    def run_windows(self, texts: list[str], batch_size: int, forward, width: int) -> np.ndarray:
        """`forward(input_ids, attention_mask)` over every window, batched under the token budget;
        its `width` outputs per window averaged per passage, weighted by window length."""
        if not texts:
            return np.zeros((0, width), dtype=np.float32)
        windows, owner = self.windows(texts)
        out = np.zeros((len(windows), width), dtype=np.float32)
        lengths = [len(w) for w in windows]
        for idx in token_budget_batches(lengths, self.tokens_per_batch, batch_size):
            with self._tokenizer_lock:
                batch = self.tokenizer.pad({"input_ids": [windows[i] for i in idx]},
                                           return_tensors="np")
            out[idx] = forward(np.asarray(batch["input_ids"], dtype=np.int64),
                               np.asarray(batch["attention_mask"], dtype=np.int64))
        weights = [len(w) - 2 for w in windows]  # real tokens, without [CLS] and [SEP]
        return aggregate_windows(out, owner, weights, len(texts))

    def _forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def save_config(self, folder) -> None:
        """Write config.json with the window settings in use."""
        self.config.stance_max_length = self.max_length
        self.config.stance_stride = self.stride
        self.config.save_pretrained(folder)
