"""The default CPU path of a trained encoder: an int8 ONNX export, kept beside the PyTorch
weights only when it agrees with them.

int8 ONNX Runtime runs about twice as fast as PyTorch fp32 on a CPU; it is what users get on a CPU
(`StanceClassifier.from_pretrained`, the CLI, the logged MLflow model, serving, Spark) when its
labels and macro-F1 on test and news stay within `TOLERANCE` of fp32. Otherwise it is dropped
and the run says why.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np

from stance import StanceClassifier
from stance.backends import BACKENDS
from stance.eval.metrics import macro_f1
from stance.export import export_onnx
from stance.names import CPU_BACKEND_KEY

logger = logging.getLogger(__name__)
TOLERANCE = 0.01  # largest macro-F1 change allowed on any checked split
CHECK_SPLITS = ("test", "news")


def int8_onnx(clf: StanceClassifier, splits, fp32_logits: dict[str, np.ndarray], folder: Path,
              batch_size: int = 64) -> dict[str, float]:
    """Export `clf` to int8 ONNX in `folder` and compare it with the fp32 logits per split;
    returns `onnx_int8_<split>_f1_delta` and `onnx_int8_<split>_label_agreement` metrics and
    `onnx_int8_kept` (1 when every delta is within TOLERANCE)."""
    export_onnx(clf, folder, int8=True)
    onnx = StanceClassifier.from_pretrained(folder)
    n = len(clf.labels)
    metrics, kept = {}, True
    for split in (s for s in CHECK_SPLITS if s in fp32_logits):
        y = np.asarray(splits[split]["label"])
        ref = fp32_logits[split].argmax(1)
        got = onnx.logits(splits[split]["text"], batch_size).argmax(1)
        delta = macro_f1(y, got, n) - macro_f1(y, ref, n)
        metrics[f"onnx_int8_{split}_f1_delta"] = delta
        metrics[f"onnx_int8_{split}_label_agreement"] = float((got == ref).mean())
        kept = kept and abs(delta) <= TOLERANCE
    metrics["onnx_int8_kept"] = float(kept)
    return metrics


def attach_cpu_path(clf: StanceClassifier, splits, fp32_logits, tmp: Path) -> tuple[dict, dict]:
    """`(files to save beside the weights, metrics)`: the int8 ONNX file when it passed, and
    the config key that makes `from_pretrained` pick it on a CPU. An ensemble gets it for each
    PyTorch member (the files then travel with the member: `backend.member_files`)."""
    members = getattr(clf.backend, "members", None)
    if members is None:
        return _attach(clf, splits, fp32_logits, tmp) if _is_torch(clf) else ({}, {})
    metrics = {}
    for name, member in members.items():
        if _is_torch(member):
            logits = {s: member.logits(splits[s]["text"]) for s in CHECK_SPLITS if s in splits}
            clf.backend.member_files[name], metrics = _attach(member, splits, logits, tmp)
    return {}, metrics


def _is_torch(clf: StanceClassifier) -> bool:
    return hasattr(clf.backend, "model")


def _attach(clf: StanceClassifier, splits, fp32_logits, tmp: Path) -> tuple[dict, dict]:
    folder = Path(tempfile.mkdtemp(dir=tmp, prefix="onnx-int8-"))
    metrics = int8_onnx(clf, splits, fp32_logits, folder)
    if not metrics["onnx_int8_kept"]:
        logger.warning("int8 ONNX differs from fp32 by more than %.2f macro-F1 on a checked "
                       "split (%s): the model stays on PyTorch", TOLERANCE, metrics)
        return {}, metrics
    setattr(clf.config, CPU_BACKEND_KEY, "onnx")
    onnx_file = BACKENDS["onnx"].weights
    return {onnx_file: folder / onnx_file}, metrics
