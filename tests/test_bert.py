"""The transformers-free loading path gives what transformers gives, and falls back to it."""

import subprocess
import sys

import numpy as np
import torch

from stance import LABELS, StanceClassifier
from stance.backends.bert import BertClassifier

from tests.helpers import VOCAB, write_vocab_tokenizer

TEXTS = ["the radar in poland was a provocation", "moscow signed the treaty " * 40, "missile"]


def _with_transformers_model(clf: StanceClassifier, folder) -> StanceClassifier:
    from transformers import AutoModelForSequenceClassification

    clf.backend.model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    return clf


def test_plain_bert_gives_the_logits_of_transformers(tiny_model_dir):
    lean = StanceClassifier.from_pretrained(tiny_model_dir, device="cpu")
    assert isinstance(lean.backend.model, BertClassifier)
    lean.backend.max_length, lean.backend.stride = 16, 4  # several padded windows
    reference = _with_transformers_model(
        StanceClassifier.from_pretrained(tiny_model_dir, device="cpu"), tiny_model_dir)
    reference.backend.max_length, reference.backend.stride = 16, 4
    np.testing.assert_allclose(lean.logits(TEXTS), reference.logits(TEXTS), atol=1e-5)


def test_windows_are_those_of_the_transformers_tokenizer(tiny_clf, tiny_model_dir):
    from transformers import AutoTokenizer

    kwargs = dict(truncation=True, max_length=16, stride=4, return_overflowing_tokens=True)
    ours = tiny_clf.backend.tokenizer(TEXTS, **kwargs)
    theirs = AutoTokenizer.from_pretrained(tiny_model_dir)(TEXTS, **kwargs)
    assert ours["input_ids"] == theirs["input_ids"]
    assert ours["overflow_to_sample_mapping"] == list(theirs["overflow_to_sample_mapping"])


def test_padding_stored_in_tokenizer_json_is_ignored(tiny_model_dir, tmp_path):
    from tokenizers import Tokenizer

    from stance.backends.tokenizer import FastTokenizer

    for name in ("tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((tiny_model_dir / name).read_bytes())
    padded = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    padded.enable_padding(length=24)  # as the sentence-transformers MiniLM folder ships it
    padded.save(str(tmp_path / "tokenizer.json"))
    ours = FastTokenizer.from_folder(tmp_path)(TEXTS, truncation=True, max_length=16, stride=4,
                                               return_overflowing_tokens=True)
    plain = FastTokenizer.from_folder(tiny_model_dir)(TEXTS, truncation=True, max_length=16,
                                                      stride=4, return_overflowing_tokens=True)
    assert ours == plain
    assert len(ours["input_ids"][-1]) < 16  # the short last passage is not padded


def test_saved_lean_model_opens_in_transformers(tiny_clf, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tiny_clf.save_pretrained(tmp_path / "saved")
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "saved").eval()
    batch = AutoTokenizer.from_pretrained(tmp_path / "saved")(TEXTS[:1], return_tensors="pt")
    with torch.inference_mode():
        expected = model(**batch).logits.numpy()
    np.testing.assert_allclose(tiny_clf.logits(TEXTS[:1]), expected, atol=1e-5)


def test_other_architectures_load_through_transformers(tmp_path):
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    config = DistilBertConfig(vocab_size=len(VOCAB), dim=32, n_layers=1, n_heads=2, hidden_dim=64,
                              max_position_embeddings=64, id2label=dict(enumerate(LABELS)),
                              label2id={label: i for i, label in enumerate(LABELS)})
    torch.manual_seed(0)
    DistilBertForSequenceClassification(config).save_pretrained(tmp_path)
    write_vocab_tokenizer(tmp_path)
    clf = StanceClassifier.from_pretrained(tmp_path, device="cpu")
    assert type(clf.backend.model).__name__ == "DistilBertForSequenceClassification"
    assert [p.label in LABELS for p in clf.predict(TEXTS)] == [True] * len(TEXTS)


def test_loading_and_predicting_does_not_import_transformers(tiny_model_dir):
    # Importing transformers' modeling stack would triple the cold start.
    code = (f"import sys; from stance import StanceClassifier; "
            f"clf = StanceClassifier.from_pretrained({str(tiny_model_dir)!r}); "
            f"clf.predict(['moscow signed the treaty']); print('transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
