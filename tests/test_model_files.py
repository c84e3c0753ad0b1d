"""A model folder that is damaged or put together from parts of different models is refused when
it is loaded, with an error naming the file, instead of giving wrong answers later: truncated or
bit-flipped weights, a label list of the wrong length, a head that disagrees with it, a tokenizer
that does not fit the embedding matrix, an ONNX file from another model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from stance import StanceClassifier
from stance.backends import FolderConfig
from stance.integrity import seal
from stance.labels import LABELS
from stance.names import CHECKSUMS_KEY
from tests.helpers import VOCAB

WEIGHTS = "model.safetensors"


@pytest.fixture
def saved(tiny_clf, tmp_path) -> Path:
    """The tiny model as `save_pretrained` writes it: with the sha256 of every file."""
    return tiny_clf.save_pretrained(tmp_path / "model")


def _config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


def _write_config(folder: Path, config: dict) -> None:
    (folder / "config.json").write_text(json.dumps(config))


def _unsealed(folder: Path) -> Path:
    """The folder as saved before checksums existed (or written by another tool)."""
    config = _config(folder)
    del config[CHECKSUMS_KEY]
    _write_config(folder, config)
    return folder


def _flip_bit(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _tensor_offset(path: Path) -> int:
    """A byte inside the first tensor's data (after the 8-byte length and the JSON header)."""
    header = int.from_bytes(path.read_bytes()[:8], "little")
    return 8 + header + 16


def _other_tokenizer(folder: Path, extra_words: int) -> None:
    from transformers import BertTokenizer

    vocab = VOCAB + [f"word{i}" for i in range(extra_words)]
    BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}).save_pretrained(folder)


def _fails(folder: Path, fragment: str, backend: str = "auto") -> None:
    with pytest.raises(ValueError, match=fragment) as info:
        StanceClassifier.from_pretrained(folder, device="cpu", backend=backend)
    assert "\n" not in str(info.value)


def test_a_saved_folder_records_the_sha256_of_every_file_and_loads(saved):
    recorded = _config(saved)[CHECKSUMS_KEY]
    assert {WEIGHTS, "tokenizer.json"} <= set(recorded)
    StanceClassifier.from_pretrained(saved, device="cpu")


def test_truncated_weights(saved):
    _truncate(saved / WEIGHTS)
    _fails(saved, f"{saved / WEIGHTS} is corrupt or was replaced")
    _fails(_unsealed(saved), f"{saved / WEIGHTS} is corrupt or truncated")


def test_a_bit_flipped_in_the_header(saved):
    _flip_bit(saved / WEIGHTS, 8)  # the opening brace of the JSON header
    _fails(_unsealed(saved), f"{saved / WEIGHTS} is corrupt or truncated")


def test_a_bit_flipped_inside_a_tensor_is_caught_by_the_checksum(saved):
    """The file still parses and loads: only the recorded sha256 tells."""
    _flip_bit(saved / WEIGHTS, _tensor_offset(saved / WEIGHTS))
    _fails(saved, f"{saved / WEIGHTS} is corrupt or was replaced")


def test_a_label_list_of_the_wrong_length(saved):
    config = _config(saved)
    config["id2label"] = {"0": "pro_russia", "1": "pro_us"}
    _write_config(saved, config)
    _fails(saved, rf"model labels \['pro_russia', 'pro_us'\] in {saved / 'config.json'}")


def test_a_head_that_disagrees_with_the_label_list(saved):
    tensors = load_file(saved / WEIGHTS)
    for name in ("classifier.weight", "classifier.bias"):
        tensors[name] = tensors[name][:2].clone()
    save_file(tensors, saved / WEIGHTS)
    seal(saved)  # consistent checksums: the folder was saved this way, not damaged since
    _fails(saved, f"{saved / WEIGHTS} does not fit its config.json: size mismatch for classifier")


def test_a_tokenizer_bigger_than_the_embedding_matrix(saved):
    _other_tokenizer(saved, extra_words=5)
    seal(saved)
    _fails(saved, f"{saved / 'tokenizer.json'} has {len(VOCAB) + 5} tokens but the model's "
                  f"embedding matrix only {len(VOCAB)}")


def test_a_tokenizer_copied_from_another_model_is_caught_by_the_checksum(saved):
    """Same size, other words: it fits the embedding matrix, so only the checksum tells."""
    from transformers import BertTokenizer

    shuffled = VOCAB[:5] + VOCAB[5:][::-1]
    BertTokenizer(vocab={w: i for i, w in enumerate(shuffled)}).save_pretrained(saved)
    _fails(saved, f"{saved / 'tokenizer.json'} is corrupt or was replaced")


def test_a_linear_head_that_disagrees_with_the_label_list(tmp_path):
    from safetensors.numpy import load_file as load_numpy, save_file as save_numpy
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from stance.backends.linear import WEIGHTS as LINEAR, LinearBackend

    texts = ["moscow signed", "a reckless violation", "a provocation", "delivered in poland"] * 3
    vectorizer = TfidfVectorizer().fit(texts)
    model = LogisticRegression().fit(vectorizer.transform(texts), [0, 1, 0, 2] * 3)
    backend = LinearBackend.from_sklearn(vectorizer, model, FolderConfig.for_labels(LABELS))
    folder = StanceClassifier(backend).save_pretrained(tmp_path / "tfidf")
    arrays = load_numpy(str(folder / LINEAR))
    arrays["weight"], arrays["bias"] = arrays["weight"][:2].copy(), arrays["bias"][:2].copy()
    save_numpy(arrays, str(folder / LINEAR))
    seal(folder)
    _fails(folder, f"{folder / LINEAR}: linear weights of shape \\(2, ")


@pytest.fixture(scope="module")
def onnx_parts(tiny_model_dir, tmp_path_factory):
    """The tiny model exported to ONNX, and ONNX files of two other models: one with a smaller
    vocabulary, one with a head for two labels."""
    pytest.importorskip("onnxruntime")  # the `onnx` extra; `make setup` installs it
    from transformers import BertConfig, BertForSequenceClassification

    from stance.backends.tokenizer import load_tokenizer
    from stance.backends.torch import TorchBackend
    from stance.export import _export_graph, export

    root = tmp_path_factory.mktemp("onnx-parts")
    ours = export(tiny_model_dir, root / "ours")
    others = {}
    for name, vocab, labels in (("small-vocab", 20, 3), ("two-labels", len(VOCAB), 2)):
        torch.manual_seed(1)
        config = BertConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=1,
                            num_attention_heads=2, intermediate_size=64,
                            max_position_embeddings=64, num_labels=labels)
        backend = TorchBackend(BertForSequenceClassification(config),
                               load_tokenizer(tiny_model_dir), device="cpu")
        (root / name).mkdir()
        others[name] = _export_graph(backend, root / name)  # the graph file in that folder
    return ours, others


def _onnx_folder(onnx_parts, tmp_path: Path, replacement: str | None, reseal: bool) -> Path:
    ours, others = onnx_parts
    folder = Path(shutil.copytree(ours, tmp_path / "onnx"))
    if replacement:
        shutil.copyfile(others[replacement], folder / "model.onnx")
    if reseal:
        seal(folder)
    return folder


def test_an_exported_folder_is_sealed_and_loads(onnx_parts, tmp_path):
    folder = _onnx_folder(onnx_parts, tmp_path, None, reseal=False)
    assert "model.onnx" in _config(folder)[CHECKSUMS_KEY]
    clf = StanceClassifier.from_pretrained(folder)
    assert np.allclose(clf.predict_proba(["moscow signed"]).sum(), 1.0)


@pytest.mark.parametrize("other, fragment", [
    ("small-vocab", "does not take the token ids of this folder's tokenizer"),
    ("two-labels", "gives 2 logits per passage but config.json lists 3 labels"),
])
def test_an_onnx_file_from_another_model(onnx_parts, tmp_path, other, fragment):
    folder = _onnx_folder(onnx_parts, tmp_path, other, reseal=True)
    _fails(folder, f"{folder / 'model.onnx'} {fragment}")


def test_an_onnx_file_swapped_in_is_caught_by_the_checksum(onnx_parts, tmp_path):
    folder = _onnx_folder(onnx_parts, tmp_path, "small-vocab", reseal=False)
    _fails(folder, f"{folder / 'model.onnx'} is corrupt or was replaced")
