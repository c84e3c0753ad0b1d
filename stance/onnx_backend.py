"""The optional ONNX Runtime backend (`pip install 'stance[onnx]'`).

`export_onnx` turns a saved model folder into an ONNX folder: the same `config.json` and tokenizer
files plus `model.onnx` (fp32, or int8 weights with dynamic quantization).
`StanceClassifier.from_pretrained(folder, backend="onnx")` loads it through `OnnxRunner`, which
stands in for the torch model, so windows, aggregation, temperature and evidence are unchanged.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import torch

logger = logging.getLogger(__name__)

ONNX_FILE = "model.onnx"
_OPSET = 18


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError("the ONNX backend needs onnxruntime: pip install 'stance[onnx]'") from exc
    return onnxruntime


class OnnxRunner:
    """An ONNX Runtime session called like the torch model: `runner(**batch).logits`.

    The session uses every core torch would use (`torch.get_num_threads()`), so both backends
    are compared on equal terms, and runs on the CPU only.
    """

    def __init__(self, path: str | Path, config, threads: int | None = None):
        ort = _import_onnxruntime()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or torch.get_num_threads()
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])
        self.config = config
        self.input_names = [i.name for i in self.session.get_inputs()]

    def to(self, device: torch.device) -> OnnxRunner:
        if torch.device(device).type != "cpu":
            raise ValueError(f"the onnx backend runs on the CPU only, got device {str(device)!r}")
        return self

    def eval(self) -> OnnxRunner:
        return self

    def __call__(self, **batch: torch.Tensor) -> SimpleNamespace:
        missing = [name for name in self.input_names if name not in batch]
        if missing:
            raise ValueError(f"ONNX model {self.path} needs inputs {missing}")
        feed = {name: batch[name].numpy() for name in self.input_names}
        (logits,) = self.session.run(None, feed)
        return SimpleNamespace(logits=torch.from_numpy(logits))

    def save_pretrained(self, path: str | Path, **_: object) -> None:
        """Write `config.json` and `model.onnx` (the tokenizer is saved by the classifier)."""
        Path(path).mkdir(parents=True, exist_ok=True)
        self.config.save_pretrained(path)
        if self.path.resolve() != (Path(path) / ONNX_FILE).resolve():
            shutil.copyfile(self.path, Path(path) / ONNX_FILE)


class _LogitsOnly(torch.nn.Module):
    """The exported graph returns a plain tensor, named `logits`."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def export_onnx(model: str | Path, out: str | Path, int8: bool = False) -> Path:
    """Write `out` as an ONNX model folder: config.json, tokenizer files and `model.onnx`.

    Batch and sequence axes are dynamic. `int8=True` quantizes the weights of the matrix
    multiplications to int8 (activations are quantized on the fly at run time).

    >>> export_onnx("models/my-run", "models/my-run-onnx", int8=True)  # doctest: +SKIP
    PosixPath('models/my-run-onnx')
    """
    from stance.model import StanceClassifier

    _import_onnxruntime()
    clf = StanceClassifier.from_pretrained(model, device="cpu")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"output folder {str(out)!r} exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    clf.model.config.save_pretrained(out)
    clf.tokenizer.save_pretrained(out)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / ONNX_FILE
        _export_graph(clf, fp32)
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(fp32, out / ONNX_FILE, weight_type=QuantType.QInt8)
        else:
            shutil.copyfile(fp32, out / ONNX_FILE)
    logger.info("exported %s to %s (%s)", model, out, "int8" if int8 else "fp32")
    return out


def _export_graph(clf, path: Path) -> None:
    # The same inputs `_forward` feeds: the tokenizer's padding of bare input ids.
    example = clf.tokenizer.pad({"input_ids": clf.tokenizer(["a b c", "d"])["input_ids"]},
                                return_tensors="pt")
    names = list(example.keys())
    if names != ["input_ids", "attention_mask"]:
        raise ValueError(f"cannot export a model whose padded inputs are {names}")
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    program = torch.onnx.export(
        _LogitsOnly(clf.model).eval(), kwargs=dict(example), dynamo=True, verbose=False,
        opset_version=_OPSET, input_names=names, output_names=["logits"],
        dynamic_shapes={name: {0: batch, 1: sequence} for name in names})
    program.save(str(path), external_data=False)
