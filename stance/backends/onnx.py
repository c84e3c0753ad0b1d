"""The ONNX Runtime backend (`pip install 'stance[onnx]'`): the encoder exported by
`stance export --format onnx` (`model.onnx`), run on the CPU without importing torch."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from stance.backends import BACKENDS, FolderConfig
from stance.backends.encoder import EncoderBackend
from stance.backends.tokenizer import load_tokenizer, tokenizer_source

ONNX_FILE = BACKENDS["onnx"].weights


def import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError("the ONNX backend needs onnxruntime: pip install 'stance[onnx]'") from exc
    return onnxruntime


class OnnxBackend(EncoderBackend):
    """An ONNX Runtime session over token windows. It uses every core (as torch does by default),
    so both backends are compared on equal terms."""

    def __init__(self, path: Path, tokenizer, config: FolderConfig, threads: int | None = None):
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
        try:
            self.session = ort.InferenceSession(str(path), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for a bad file
            raise ValueError(f"{path} is not a loadable ONNX model ({exc})") from None
        self.path = path
        super().__init__(tokenizer, config)
        self.input_names = [i.name for i in self.session.get_inputs()]
        self._check_fits()

    def _check_fits(self) -> None:
        """One forward pass on the tokenizer's largest id, at load time: an ONNX file exported
        from a model with a smaller vocabulary or another label list fails here, not later."""
        top = len(self.tokenizer) - 1
        try:
            logits = self._forward(np.array([[top]], dtype=np.int64), np.ones((1, 1), np.int64))
        except Exception as exc:  # onnxruntime raises its own untyped errors
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ValueError(f"{self.path} does not take the token ids of this folder's "
                             f"tokenizer (up to {top}): the ONNX file is from another model "
                             f"({first})") from None
        if logits.shape != (1, self.n_labels):
            raise ValueError(f"{self.path} gives {logits.shape[-1]} logits per passage but "
                             f"config.json lists {self.n_labels} labels: the ONNX file is from "
                             f"another model")

    def _forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": input_ids, "attention_mask": attention_mask}
        missing = [name for name in self.input_names if name not in feed]
        if missing:
            raise ValueError(f"ONNX model {self.path} needs inputs {missing}")
        (logits,) = self.session.run(None, {name: feed[name] for name in self.input_names})
        return logits.astype(np.float32)

    def save(self, folder: Path) -> None:
        self.config.stance_backend = "onnx"
        self.save_config(folder)
        self.tokenizer.save_pretrained(folder)
        if self.path.resolve() != (Path(folder) / ONNX_FILE).resolve():
            shutil.copyfile(self.path, Path(folder) / ONNX_FILE)


def load(folder: Path, config: FolderConfig, device: str = "auto") -> OnnxBackend:
    if device not in ("auto", "cpu"):
        raise ValueError(f"the onnx backend runs on the CPU only, got device {device!r}")
    tokenizer = load_tokenizer(folder)
    backend = OnnxBackend(folder / ONNX_FILE, tokenizer, config)
    vocab = getattr(config, "vocab_size", None)
    if vocab and len(tokenizer) > vocab:
        raise ValueError(f"{tokenizer_source(folder)} has {len(tokenizer)} tokens but the model "
                         f"only {vocab}: the tokenizer belongs to another model")
    return backend
