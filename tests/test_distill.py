"""Distillation on the tiny task: the student learns its teacher's probabilities (on train and on
unlabeled passages), not only the labels; a bad teacher is refused before training."""

import json

import numpy as np
import pytest

from stance import LABELS, StanceClassifier
from stance.data import load_splits
from tests.helpers import runs_by_name, tiny_overrides, tiny_records, train, write_jsonl, \
    write_tiny_data
from training.config import load_config
from training.distill import soft_targets

pytestmark = pytest.mark.integration

# The teacher learns the tiny task with every label moved one place on: a teacher that
# disagrees with the labels shows whom the student follows.
SHIFT = {label: LABELS[(i + 1) % len(LABELS)] for i, label in enumerate(LABELS)}


@pytest.fixture(scope="module")
def setup(tiny_model_dir, tmp_path_factory):
    """`(data, store, teacher folder)`: the tiny data with 30 unlabeled passages, and a teacher
    trained on the shifted labels."""
    root = tmp_path_factory.mktemp("distill")
    data = write_tiny_data(root / "data")
    unlabeled = [{k: r[k] for k in ("id", "text", "topic", "register")}
                 for r in tiny_records(10, 77, "u")]
    write_jsonl(data / "unlabeled.jsonl", unlabeled)
    shifted = write_tiny_data(root / "shifted")
    for file in shifted.glob("*.jsonl"):
        write_jsonl(file, [r | {"label": SHIFT[r["label"]]}
                           for r in map(json.loads, file.read_text().splitlines())])
    store = root / "store"
    train("configs/smoke.yaml", store, *tiny_overrides(tiny_model_dir, shifted, store),
          "run_name=teacher", "training.epochs=15", "tracking.log_model=false")
    return data, store, store / "models/teacher"


def test_targets_mix_the_label_and_the_teachers_probabilities(setup):
    data, _, teacher = setup
    config = load_config("configs/smoke.yaml", [f"data.path={data}", f"distill.teacher={teacher}",
                                                "distill.alpha=0.25"])
    splits = load_splits(data)
    dataset, metrics = soft_targets(config, splits["train"])
    n = len(splits["train"])
    unlabeled = [json.loads(x)["text"] for x in (data / "unlabeled.jsonl").read_text().splitlines()]
    assert dataset["text"] == list(splits["train"]["text"]) + unlabeled
    proba = StanceClassifier.from_pretrained(teacher).predict_proba(dataset["text"])
    targets = np.asarray(dataset["target"])
    one_hot = np.eye(len(LABELS))[splits["train"]["label"]]
    np.testing.assert_allclose(targets[:n], 0.75 * one_hot + 0.25 * proba[:n], atol=1e-5)
    np.testing.assert_allclose(targets[n:], proba[n:], atol=1e-5)
    assert metrics["distill_unlabeled_passages"] == 30 and metrics["distill_train_passages"] == n
    assert metrics["distill_teacher_train_accuracy"] < 1 / 3  # it learned the shifted labels


def test_the_student_follows_its_teacher(setup, tiny_model_dir):
    """With alpha=1 the student never sees a label: it predicts what its (shifted) teacher
    predicts, not what the labels say."""
    data, store, teacher = setup
    train("configs/smoke.yaml", store, *tiny_overrides(tiny_model_dir, data, store),
          "run_name=student", "training.epochs=15", f"distill.teacher={teacher}",
          "distill.alpha=1.0", "tracking.log_model=false")
    probes = tiny_records(20, 99, "probe")
    texts = [r["text"] for r in probes]
    said = [p.label for p in StanceClassifier.from_pretrained(store / "models/student").predict(texts)]
    taught = [p.label for p in StanceClassifier.from_pretrained(teacher).predict(texts)]
    with_teacher = np.mean([s == t for s, t in zip(said, taught)])
    with_labels = np.mean([s == r["label"] for s, r in zip(said, probes)])
    assert with_teacher >= 0.6 and with_labels <= 0.34  # the teacher's shifted labels won
    run = runs_by_name(store)["student"]
    assert run.data.params["distill.teacher"] == str(teacher)
    assert run.data.metrics["distill_unlabeled_passages"] == 30


@pytest.mark.parametrize("overrides, message", [
    (["distill.teacher=/no/such/model"], "'distill.teacher': model path '/no/such/model' is not"),
    (["distill.teacher={teacher}", "model.family=tfidf"], "has no transformer to distil into"),
    (["distill.alpha=2"], "'distill.alpha' must be <= 1"),
])
def test_a_bad_distillation_config_stops_before_a_run(setup, tiny_model_dir, tmp_path, capsys,
                                                      overrides, message):
    data, _, teacher = setup
    sets = [o.format(teacher=teacher) for o in overrides]
    code = train("configs/smoke.yaml", tmp_path, *tiny_overrides(tiny_model_dir, data, tmp_path),
                 *sets, check=False)
    assert code == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "mlflow.db").exists() or not runs_by_name(tmp_path)
