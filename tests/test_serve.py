"""The registered model behind MLflow's own REST server (`mlflow models serve`, as `make serve`
runs it) answers exactly what `StanceClassifier.predict` answers, long passages included; it
passes ids through, answers bad requests with a one-line 400 and keeps serving several clients at
once. (The bounded load test with 32 clients is benchmarks/serve_load.py.)"""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
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
    assert info.signature.inputs.input_names() == ["text", "id"]
    assert info.signature.outputs.input_names() == (["id", "label"] + [f"prob_{x}" for x in LABELS]
                                                    + ["error"])
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


def _records(texts, ids=None) -> dict:
    return {"dataframe_records": [{"text": t} | ({"id": i} if ids else {})
                                  for t, i in zip(texts, ids or texts)]}


BAD_REQUESTS = [
    ("no text column", {"dataframe_records": [{"passage": "S-400s for Ankara."}]},
     "the request has no 'text' column"),
    ("a number", _records(["S-400s for Ankara.", 5]), "record 1: 'text' must be a string, got int"),
    ("a null", _records(["S-400s for Ankara.", None]), "record 1: 'text' is missing (null)"),
    ("empty", _records(["S-400s for Ankara.", " \u200b "], ["p1", "p2"]),
     "record 1 (id 'p2'): 'text' is empty or whitespace only"),
    ("10 MB", _records(["radar " * 1_700_000]), "characters of text, more than the 1,000,000"),
]


@pytest.mark.parametrize("payload, fragment", [b[1:] for b in BAD_REQUESTS],
                         ids=[b[0] for b in BAD_REQUESTS])
def test_a_bad_request_is_a_400_with_one_line_and_no_stack_trace(server, payload, fragment):
    status, body = post_json(server, payload)
    assert status == 400
    assert fragment in body["message"] and "\n" not in body["message"]
    assert "stack_trace" not in body


def test_invalid_json_is_a_400_without_a_stack_trace(server):
    """MLflow's own parser answers this one, before the model: its message spans lines and
    repeats the body (the one case the model cannot shape)."""
    status, body = post_json(server, b'{"dataframe_records": [')
    assert status == 400 and "valid JSON" in body["message"] and "stack_trace" not in body


def test_the_id_column_comes_back_with_each_row(server, smoke_run):
    texts = data_passages(3)
    status, body = post_json(server, _records(texts, ["n-7", "n-8", "n-9"]))
    assert status == 200
    assert [row["id"] for row in body["predictions"]] == ["n-7", "n-8", "n-9"]


def test_bad_rows_can_be_marked_instead_of_refused(server, smoke_run):
    texts = data_passages(2)
    payload = _records([texts[0], "", None, texts[1]]) | {"params": {"bad_rows": "mark"}}
    status, body = post_json(server, payload)
    assert status == 200
    rows = body["predictions"]
    assert [r["error"] for r in rows] == [None, "'text' is empty or whitespace only",
                                          "'text' is missing (null)", None]
    assert rows[1]["label"] is None and rows[2]["prob_neutral"] is None
    clf = StanceClassifier.from_pretrained(CHAMPION, device="cpu")
    for got, want in zip([rows[0], rows[3]], clf.predict(texts)):
        assert_matches(got["label"], {x: got[f"prob_{x}"] for x in LABELS}, want)


def test_concurrent_clients_get_the_library_answers_and_clean_400s(server, smoke_run):
    texts = data_passages(48)
    batches = [texts[i : i + n] for i, n in zip(range(0, 48, 12), (1, 5, 12, 9))]
    bad = [b[1] for b in BAD_REQUESTS[:4]]
    jobs = [("good", _records(b)) for b in batches] * 3 + [("bad", p) for p in bad] * 2
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda job: post_json(server, job[1]), jobs))
    clf = StanceClassifier.from_pretrained(CHAMPION, device="cpu")
    expected = {t: p for t, p in zip(texts, clf.predict(texts))}
    for (kind, payload), (status, body) in zip(jobs, answers):
        if kind == "bad":
            assert status == 400 and "\n" not in body["message"], body
            continue
        assert status == 200, body
        for record, got in zip(payload["dataframe_records"], body["predictions"]):
            want = expected[record["text"]]
            assert_matches(got["label"], {x: got[f"prob_{x}"] for x in LABELS}, want)
    with urllib.request.urlopen(f"{server}/ping", timeout=10) as response:
        assert response.status == 200  # the worker survived it all
