"""Write a saved model for another runtime: `stance export --format onnx [--int8] MODEL OUT`.

A format is one function here and one line in `FORMATS`. The output is a model folder like any
other (config.json, tokenizer files, the weights file of the backend that runs it), so
`StanceClassifier.from_pretrained(OUT)` loads it with that backend.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from stance.backends import BACKENDS
from stance.integrity import seal

logger = logging.getLogger(__name__)
_OPSET = 18


def export_onnx(clf, out: Path, int8: bool = False) -> None:
    """The encoder as an ONNX graph with dynamic batch and sequence axes; `int8=True` quantizes
    the matrix multiplications' weights to int8 (activations are quantized on the fly)."""
    from stance.backends.onnx import import_onnxruntime

    import_onnxruntime()
    backend = clf.backend
    if not hasattr(backend, "model") or not isinstance(backend.model, torch.nn.Module):
        raise ValueError(f"only a torch model can be exported to ONNX, not a "
                         f"{type(backend).__name__}")
    onnx_file = out / BACKENDS["onnx"].weights
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        _export_graph(backend, fp32)
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(fp32, onnx_file, weight_type=QuantType.QInt8)
        else:
            shutil.copyfile(fp32, onnx_file)
    backend.config.stance_backend, backend.config.stance_onnx_int8 = "onnx", int8
    try:
        backend.save_config(out)
    finally:
        backend.config.stance_backend = "torch"
        del backend.config.stance_onnx_int8
    backend.tokenizer.save_pretrained(out)


class _LogitsOnly(torch.nn.Module):
    """The exported graph takes ids and mask and returns a plain tensor named `logits`."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def _export_graph(backend, path: Path) -> None:
    example = backend.tokenizer.pad({"input_ids": backend.tokenizer(["a b c", "d"])["input_ids"]},
                                    return_tensors="pt")
    names = ["input_ids", "attention_mask"]
    example = {name: example[name].to(backend.device) for name in names}
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    program = torch.onnx.export(
        _LogitsOnly(backend.model).eval(), kwargs=example, dynamo=True, verbose=False,
        opset_version=_OPSET, input_names=names, output_names=["logits"],
        dynamic_shapes={name: {0: batch, 1: sequence} for name in names})
    program.save(str(path), external_data=False)


FORMATS: dict[str, Callable] = {"onnx": export_onnx}


def export(model: str | Path, out: str | Path, format: str = "onnx", int8: bool = False) -> Path:
    """Load `model` (a folder or MLflow URI) and write it to the new or empty folder `out`.

    >>> export("models/my-run", "models/my-run-onnx", int8=True)  # doctest: +SKIP
    PosixPath('models/my-run-onnx')
    """
    from stance.classifier import StanceClassifier

    if format not in FORMATS:
        raise ValueError(f"format must be one of {list(FORMATS)}, got {format!r}")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"output folder {str(out)!r} exists and is not empty")
    clf = StanceClassifier.from_pretrained(model, device="cpu", backend="torch")
    out.mkdir(parents=True, exist_ok=True)
    FORMATS[format](clf, out, int8=int8)
    seal(out)
    logger.info("exported %s to %s (%s%s)", model, out, format, ", int8" if int8 else "")
    return out
