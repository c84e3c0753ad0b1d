"""Backends: what turns passages into logits for a saved model folder.

A backend is one module here with a `load(folder, config, device) -> Backend` function, plus one
line in `BACKENDS` naming the file that marks a folder it can load. Its object answers
`logits(texts, batch_size)` (raw, untempered logits per passage, windows already aggregated)
and `save(folder)`. Encoder backends share the token windows of `stance.backends.encoder` and
only say how one padded batch is run (`_forward(input_ids, attention_mask)`).

>>> sorted(BACKENDS)
['ensemble', 'linear', 'onnx', 'pooled', 'torch']
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Protocol

import numpy as np

from stance.names import BACKEND_KEY, CONFIG_FILE, CPU_BACKEND_KEY


@dataclass(frozen=True)
class BackendEntry:
    module: str  # imported only when a folder is loaded with this backend
    weights: str  # the file that marks a folder this backend can load
    description: str
    runtime: str | None = None  # an optional package it needs, checked before choosing it


BACKENDS: dict[str, BackendEntry] = {
    "torch": BackendEntry("stance.backends.torch", "model.safetensors",
                          "a transformer encoder in PyTorch (CPU or CUDA)"),
    "onnx": BackendEntry("stance.backends.onnx", "model.onnx",
                         "the same encoder exported to ONNX Runtime (CPU)", "onnxruntime"),
    "linear": BackendEntry("stance.backends.linear", "linear.safetensors",
                           "TF-IDF features and a linear layer"),
    "pooled": BackendEntry("stance.backends.pooled", "head.safetensors",
                           "mean-pooled frozen-encoder embeddings and a linear layer"),
    "ensemble": BackendEntry("stance.backends.ensemble", "ensemble.json",
                             "the average of member models' probabilities"),
}


class Backend(Protocol):
    config: FolderConfig

    def logits(self, texts: list[str], batch_size: int) -> np.ndarray: ...

    def save(self, folder: Path) -> None: ...


class FolderConfig(SimpleNamespace):
    """The fields of a folder's `config.json`, as attributes (unknown ones are kept)."""

    @classmethod
    def from_folder(cls, folder: str | Path) -> FolderConfig:
        path = Path(folder) / CONFIG_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{path} must hold a JSON object")
        return cls(**raw)

    def save_pretrained(self, folder: str | Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        text = json.dumps(vars(self), indent=2, sort_keys=True) + "\n"
        (Path(folder) / CONFIG_FILE).write_text(text, encoding="utf-8")

    @classmethod
    def for_labels(cls, labels, **fields) -> FolderConfig:
        """A new config carrying `labels` the way Hugging Face configs do (id2label, label2id)."""
        return cls(id2label={str(i): label for i, label in enumerate(labels)},
                   label2id={label: i for i, label in enumerate(labels)}, **fields)


def available(folder: Path) -> list[str]:
    """The backends whose weights file the folder holds, in registry order."""
    return [name for name, entry in BACKENDS.items() if (folder / entry.weights).is_file()]


def _on_cpu(device: str) -> bool:
    if device != "auto":
        return device == "cpu"
    # Checked without importing torch (a second of start-up): NVIDIA's driver lists GPUs here.
    return not any(Path("/proc/driver/nvidia/gpus").glob("*"))


def _runtime_installed(entry: BackendEntry) -> bool:
    return entry.runtime is None or importlib.util.find_spec(entry.runtime) is not None


def choose(folder: Path, config: FolderConfig, requested: str, device: str = "auto") -> str:
    """The backend to load `folder` with: `requested`; or, for `auto`, on a CPU the folder's
    `stance_cpu_backend` (its int8 ONNX, when training verified it), else the backend the
    folder names (`stance_backend`), else the first whose weights it holds."""
    if requested != "auto" and requested not in BACKENDS:
        raise ValueError(f"backend must be 'auto' or one of {list(BACKENDS)}, got {requested!r}")
    present = available(folder)
    if requested != "auto":
        if requested not in present:
            hint = f" (it holds weights for {present}: use backend='auto')" if present else ""
            raise ValueError(f"model folder {str(folder)!r} is missing "
                             f"{[BACKENDS[requested].weights]} for backend {requested!r}{hint}")
        return requested
    cpu = getattr(config, CPU_BACKEND_KEY, None)
    if cpu in present and _on_cpu(device) and _runtime_installed(BACKENDS[cpu]):
        return cpu
    named = getattr(config, BACKEND_KEY, None)
    if named in present:
        return named
    if not present:
        pickled = [p.name for p in folder.glob("*.bin")]
        hint = f" (found pickle weights {pickled}; only safetensors are loaded)" if pickled else ""
        raise ValueError(f"model folder {str(folder)!r} is missing weights: one of "
                         f"{[e.weights for e in BACKENDS.values()]}{hint}")
    return present[0]


def load_backend(name: str, folder: Path, config: FolderConfig, device: str) -> Backend:
    return importlib.import_module(BACKENDS[name].module).load(folder, config, device)
