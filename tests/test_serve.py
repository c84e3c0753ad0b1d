"""The registered model behind MLflow's own REST server (`mlflow models serve`, as `make serve`
runs it) answers exactly what `StanceClassifier.predict` answers, long passages included."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest

from stance import LABELS, StanceClassifier
from stance.serving.server import model_server, post_json, post_records
from tests.helpers import assert_matches, data_passages, long_passage

pytestmark = pytest.mark.slow

CHAMPION = "models:/stance-classifier@champion"


@pytest.fixture(scope="module")
def server(smoke_store, tmp_path_factory):
    _, uri, _ = smoke_store
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with model_server(CHAMPION, uri, log) as url:
        yield url


def test_model_declares_signature_and_input_example(smoke_run):
    info = mlflow.models.get_model_info(CHAMPION)
    assert info.signature.inputs.input_names() == ["text"]
    assert info.signature.outputs.input_names() == ["label"] + [f"prob_{x}" for x in LABELS]
    assert info.saved_input_example_info["serving_input_path"] == "serving_input_example.json"


def test_server_matches_the_library_long_passage_included(server, smoke_run):
    clf = StanceClassifier.from_pretrained(CHAMPION, device="cpu")
    texts = data_passages(31) + [long_passage()]  # one batch of 32
    tok, window = clf.backend.tokenizer, clf.backend.max_length
    n_tokens = len(tok(texts[-1])["input_ids"])
    assert n_tokens > 5 * window  # so the server has to split it into windows
    served = post_records(server, texts)
    expected = clf.predict(texts)
    assert len(served) == len(expected)
    for got, want in zip(served, expected):
        assert_matches(got["label"], {x: got[f"prob_{x}"] for x in LABELS}, want)
    # Truncating the long passage would give other scores: the window average is what came back.
    first_window = tok.decode(tok(texts[-1], truncation=True, max_length=window)["input_ids"],
                              skip_special_tokens=True)
    truncated = clf.predict([first_window])[0].scores
    assert any(abs(served[-1][f"prob_{x}"] - truncated[x]) > 1e-4 for x in LABELS)


def test_server_accepts_the_logged_input_example(server, smoke_run):
    example = Path(mlflow.artifacts.download_artifacts(f"{CHAMPION}/serving_input_example.json"))
    status, body = post_json(server, json.loads(example.read_text()))
    assert status == 200
    (row,) = body["predictions"]
    assert row["label"] in LABELS


def test_server_rejects_input_without_a_text_column(server):
    status, body = post_json(server, {"dataframe_records": [{"passage": "S-400s for Ankara."}]})
    assert status == 400
    assert "text" in body["message"]
