import json

import numpy as np
import pytest

from stance import LABELS, Prediction, StanceClassifier

TEXTS = ["the radar in poland was a provocation", "moscow signed the treaty",
         "a reckless violation of the treaty and the talks", "missile"]


def test_probabilities_sum_to_one_in_label_order(tiny_clf):
    proba = tiny_clf.predict_proba(TEXTS)
    assert proba.shape == (len(TEXTS), len(LABELS))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert tiny_clf.labels == list(LABELS)
    for row, pred in zip(proba, tiny_clf.predict(TEXTS)):
        assert pred.label == LABELS[int(row.argmax())]
        assert list(pred.scores) == list(LABELS)
        assert pred.scores[pred.label] == pytest.approx(float(row.max()))


def test_save_and_load_give_identical_probabilities(tiny_clf, tmp_path):
    tiny_clf.save_pretrained(tmp_path / "saved")
    files = {p.name for p in (tmp_path / "saved").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer_config.json"} <= files
    assert not any(name.endswith((".bin", ".pkl", ".pt")) for name in files)
    config = json.loads((tmp_path / "saved/config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(3)] == list(LABELS)
    again = StanceClassifier.from_pretrained(tmp_path / "saved", device="cpu")
    np.testing.assert_array_equal(tiny_clf.predict_proba(TEXTS), again.predict_proba(TEXTS))


def test_result_does_not_depend_on_batching(tiny_clf):
    one = tiny_clf.predict_proba(TEXTS, batch_size=1)
    all_at_once = tiny_clf.predict_proba(TEXTS, batch_size=64)
    np.testing.assert_allclose(one, all_at_once, atol=1e-5)


def test_empty_list_gives_empty_results(tiny_clf):
    assert tiny_clf.predict([]) == []
    assert tiny_clf.predict_proba([]).shape == (0, len(LABELS))


def test_prediction_is_frozen_and_json_serialisable(tiny_clf):
    pred = tiny_clf.predict(TEXTS[:1])[0]
    assert isinstance(pred, Prediction)
    assert json.loads(json.dumps(pred.to_dict()))["label"] == pred.label
    with pytest.raises(AttributeError):
        pred.label = "x"  # type: ignore[misc]


@pytest.mark.parametrize("bad, exc, fragment", [
    ("a single string", TypeError, "pass \\[text\\]"),
    (None, TypeError, "list of strings"),
    (["ok", 3], TypeError, "texts\\[1\\]"),
    (["ok", None], TypeError, "texts\\[1\\]"),
    ([b"bytes"], TypeError, "texts\\[0\\]"),
    (["ok", "   "], ValueError, "texts\\[1\\] is empty"),
])
def test_bad_input_is_refused(tiny_clf, bad, exc, fragment):
    with pytest.raises(exc, match=fragment):
        tiny_clf.predict(bad)


def test_model_with_other_labels_is_refused(tiny_clf, tmp_path):
    tiny_clf.config.id2label = {0: "a", 1: "b", 2: "c"}
    tiny_clf.backend.save(tmp_path / "other")
    with pytest.raises(ValueError, match="not the expected"):
        StanceClassifier.from_pretrained(tmp_path / "other")


def test_folder_without_safetensors_is_refused(tmp_path):
    (tmp_path / "config.json").write_text('{"id2label": {"0": "pro_russia"}}')
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(ValueError, match="only safetensors"):
        StanceClassifier.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        StanceClassifier.from_pretrained(tmp_path / "nowhere")


def test_temperature_changes_confidence_not_labels(tiny_clf, tmp_path):
    before = tiny_clf.predict_proba(TEXTS)
    tiny_clf.temperature = 4.0
    after = tiny_clf.predict_proba(TEXTS)
    np.testing.assert_array_equal(before.argmax(1), after.argmax(1))
    assert (after.max(1) < before.max(1)).all()
    tiny_clf.save_pretrained(tmp_path / "hot")
    assert json.loads((tmp_path / "hot/config.json").read_text())["stance_temperature"] == 4.0
    assert StanceClassifier.from_pretrained(tmp_path / "hot").temperature == 4.0


def test_calibrate_fits_a_temperature_on_held_out_logits(tiny_clf):
    logits = np.array([[6.0, 0, 0], [0, 6.0, 0], [0, 0, 6.0], [6.0, 0, 0]])
    t = tiny_clf.calibrate(logits, [0, 1, 2, 1])  # confident and wrong once: soften
    assert t > 1 and tiny_clf.temperature == t


def test_a_failed_save_leaves_the_previous_folder_whole(tiny_clf, tmp_path, monkeypatch):
    target = tiny_clf.save_pretrained(tmp_path / "model")
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def broken(folder):
        (folder / "model.safetensors").write_bytes(b"half")
        raise OSError("No space left on device")

    monkeypatch.setattr(tiny_clf.backend, "save", broken)
    with pytest.raises(OSError, match="No space"):
        tiny_clf.save_pretrained(target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary folder left behind


def test_unknown_device_is_refused(tiny_model_dir):
    with pytest.raises(ValueError, match="device"):
        StanceClassifier.from_pretrained(tiny_model_dir, device="tpu")
