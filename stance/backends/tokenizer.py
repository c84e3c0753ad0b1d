"""The tokenizer of a saved model, read from its `tokenizer.json` with the `tokenizers` library.

Why not `transformers.AutoTokenizer`: importing it costs about a second on a 2-core CPU, which a
cold `stance predict` paid every time. `FastTokenizer` answers the few calls the classifier makes
(encode with overflowing windows, pad, decode, save) with the same results, because
`transformers`' fast tokenizers run this same Rust tokenizer underneath.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

TOKENIZER_FILE = "tokenizer.json"
# Copied verbatim on save, so `transformers` can still open the folder.
_FILES = (TOKENIZER_FILE, "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


class FastTokenizer:
    """`tokenizer.json` plus the pad token named in `tokenizer_config.json`.

    >>> tok = FastTokenizer.from_folder("models/my-run")  # doctest: +SKIP
    >>> tok(["Moscow objects."])["input_ids"]  # doctest: +SKIP
    [[101, 4924, 5200, 1012, 102]]
    """

    def __init__(self, tokenizer: Tokenizer, pad_token: str, folder: Path):
        pad_id = tokenizer.token_to_id(pad_token)
        if pad_id is None:
            raise ValueError(f"pad token {pad_token!r} of {folder} is not in its vocabulary")
        # A tokenizer.json may carry fixed-length padding (sentence-transformers folders pad to
        # 128): windows must hold real tokens only, and `pad` adds the padding with its mask.
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self.pad_token_id = pad_id
        self.folder = folder

    @classmethod
    def from_folder(cls, folder: str | Path) -> FastTokenizer | None:
        """None when the folder has no `tokenizer.json` (a slow-only tokenizer)."""
        folder = Path(folder)
        if not (folder / TOKENIZER_FILE).is_file():
            return None
        settings_file = folder / "tokenizer_config.json"
        settings = (json.loads(settings_file.read_text(encoding="utf-8"))
                    if settings_file.is_file() else {})
        pad = settings.get("pad_token") or "[PAD]"
        pad = pad["content"] if isinstance(pad, dict) else pad  # older files store an object
        return cls(Tokenizer.from_file(str(folder / TOKENIZER_FILE)), pad, folder)

    def __call__(self, texts: str | Sequence[str], truncation: bool = False,
                 max_length: int | None = None, stride: int = 0,
                 return_overflowing_tokens: bool = False,
                 add_special_tokens: bool = True) -> dict:
        """`{"input_ids": ...}` as `transformers` returns it; with `return_overflowing_tokens`,
        one row per window plus `overflow_to_sample_mapping` (the passage each row came from)."""
        single = isinstance(texts, str)
        # The truncation setting lives in the shared Rust object: set it on every call.
        if truncation and max_length:
            self._tokenizer.enable_truncation(max_length, stride=stride)
        else:
            self._tokenizer.no_truncation()
        encodings = self._tokenizer.encode_batch([texts] if single else list(texts),
                                                 add_special_tokens=add_special_tokens)
        if not return_overflowing_tokens:
            ids = [e.ids for e in encodings]
            return {"input_ids": ids[0] if single else ids}
        rows, owner = [], []
        for i, encoding in enumerate(encodings):
            for window in [encoding, *encoding.overflowing]:
                rows.append(window.ids)
                owner.append(i)
        return {"input_ids": rows, "overflow_to_sample_mapping": owner}

    def pad(self, features: dict, return_tensors: str = "np") -> dict:
        """Right-pad `features["input_ids"]` to the longest row, with its attention mask
        (numpy arrays, or torch tensors with `return_tensors="pt"`)."""
        if return_tensors not in ("np", "pt"):
            raise ValueError(f"return_tensors must be 'np' or 'pt', got {return_tensors!r}")
        rows = features["input_ids"]
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.pad_token_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        if return_tensors == "pt":
            import torch

            return {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        return {"input_ids": ids, "attention_mask": mask}

    def __len__(self) -> int:
        """Vocabulary size, added tokens included (as `len()` of a transformers tokenizer)."""
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def save_pretrained(self, folder: str | Path) -> None:
        """Copy the tokenizer files this tokenizer was read from."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in _FILES:
            source = self.folder / name
            if source.is_file() and source.resolve() != (folder / name).resolve():
                shutil.copyfile(source, folder / name)


def tokenizer_source(folder: str | Path) -> Path:
    """The file the tokenizer of `folder` is read from (for error messages)."""
    fast = Path(folder) / TOKENIZER_FILE
    return fast if fast.is_file() else Path(folder) / "vocab.txt"


def load_tokenizer(folder: str | Path):
    """`FastTokenizer` when the folder has a `tokenizer.json`, else `transformers`' tokenizer."""
    fast = FastTokenizer.from_folder(folder)
    if fast is not None:
        return fast
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder)
