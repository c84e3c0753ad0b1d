"""all-mpnet-base-v2 (an MPNet, not a BERT) goes through every path a MiniLM model does:
fine-tuning, saving, loading through `transformers`, int8 ONNX, predicting."""

import json

import numpy as np
import pytest

from stance import LABELS, StanceClassifier
from stance.backends.torch import from_base
from stance.export import export
from training.base_models import resolve_base_model
from training.config import TrainingConfig
from training.trainer import Trainer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, tiny_data_module):
    """mpnet with a new head, one epoch on the tiny task (32-token windows), saved."""
    from stance.data import load_splits

    folder = resolve_base_model("mpnet")  # needs the `mpnet` extra: an error, never a skip
    with open(f"{folder}/config.json") as f:
        assert json.load(f)["model_type"] == "mpnet"
    clf = StanceClassifier(from_base(folder, list(LABELS), 32, "cpu"))
    splits = load_splits(tiny_data_module)
    Trainer(clf, TrainingConfig(epochs=1, batch_size=8, device="cpu"), seed=0).fit(
        splits["train"].select(range(24)), splits["validation"].select(range(9)))
    out = tmp_path_factory.mktemp("mpnet")
    return clf, clf.save_pretrained(out / "torch")


@pytest.fixture(scope="module")
def tiny_data_module(tmp_path_factory):
    from tests.helpers import write_tiny_data

    return write_tiny_data(tmp_path_factory.mktemp("data"))


TEXTS = ["Moscow says the radar in Poland threatens its deterrent.",
         "The first battalion set was delivered in January."]


def test_a_saved_mpnet_loads_through_transformers_and_predicts_the_same(tuned):
    clf, folder = tuned
    again = StanceClassifier.from_pretrained(folder, backend="torch", device="cpu")
    assert type(again.backend.model).__name__ == "MPNetForSequenceClassification"
    np.testing.assert_allclose(again.predict_proba(TEXTS), clf.predict_proba(TEXTS), atol=1e-5)


def test_mpnet_exports_to_int8_onnx(tuned, tmp_path):
    clf, folder = tuned
    onnx = StanceClassifier.from_pretrained(export(folder, tmp_path / "int8", int8=True))
    assert type(onnx.backend).__name__ == "OnnxBackend"
    assert np.abs(onnx.predict_proba(TEXTS) - clf.predict_proba(TEXTS)).max() < 0.1
