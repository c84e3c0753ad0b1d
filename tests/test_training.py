"""Training end to end on the tiny BERT and the tiny cue-word task: the loop learns, the best
epoch is kept, seeds repeat, runs are tracked and registered, families share one path."""

import json

import mlflow
import numpy as np
import pytest

from stance import StanceClassifier
from stance.data import load_splits
from tests.helpers import runs_by_name, store_uri, tiny_overrides, train, write_tiny_data
from training.config import TrainingConfig, load_config
from training.families.transformer import fit
from training.families import FitContext
from training.trainer import LengthGroupedBatches, Trainer

pytestmark = pytest.mark.integration

FAST = ["training.epochs=15", "training.batch_size=8", "training.learning_rate=3e-3",
        "training.warmup_ratio=0.0", "training.device=cpu", "model.max_length=32"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_tiny_data(tmp_path_factory.mktemp("tiny") / "data")


def _fit(model_dir, data, seed: int, *overrides: str):
    from transformers import set_seed

    config = load_config("configs/smoke.yaml", [f"model.base={model_dir}", f"seed={seed}",
                                                *FAST, *overrides])
    set_seed(seed)
    splits = load_splits(data)
    history = []
    clf = fit(config, splits, FitContext(on_epoch_end=lambda e, m: history.append(m)))
    return clf, splits, history


def test_tiny_dataset_is_learned(tiny_model_dir, data):
    clf, splits, history = _fit(tiny_model_dir, data, seed=0)
    assert len(history) == 15
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    preds = [p.label for p in clf.predict(splits["test"]["text"])]
    truth = [clf.labels[i] for i in splits["test"]["label"]]
    assert np.mean([p == t for p, t in zip(preds, truth)]) >= 0.9


def test_the_best_epoch_is_restored_not_the_last(tiny_clf, data, monkeypatch):
    """Validation scores are scripted so that epoch 2 is best; the weights after fit must be
    those of epoch 2, not of epoch 3."""
    scores, snapshots = iter([0.5, 0.9, 0.6]), []

    def scripted(self, dataset):
        snapshots.append({k: v.clone() for k, v in self.backend.model.state_dict().items()})
        return {"f1_macro": next(scores)}

    monkeypatch.setattr(Trainer, "evaluate", scripted)
    splits = load_splits(data)
    config = TrainingConfig(epochs=3, batch_size=8, learning_rate=3e-3, device="cpu")
    Trainer(tiny_clf, config, seed=0).fit(splits["train"], splits["validation"])
    final = tiny_clf.backend.model.state_dict()
    assert all(torch_equal(final[k], snapshots[1][k]) for k in final)
    assert not all(torch_equal(final[k], snapshots[2][k]) for k in final)


def torch_equal(a, b) -> bool:
    return bool((a == b).all())


def test_patience_stops_after_epochs_without_a_better_score(tiny_clf, data, monkeypatch):
    scores = iter([0.5, 0.9, 0.6, 0.7, 0.8, 0.95])
    monkeypatch.setattr(Trainer, "evaluate", lambda self, dataset: {"f1_macro": next(scores)})
    splits = load_splits(data)
    config = TrainingConfig(epochs=6, batch_size=8, device="cpu", patience=2)
    history = Trainer(tiny_clf, config, seed=0).fit(splits["train"], splits["validation"])
    assert [h["validation_f1_macro"] for h in history] == [0.5, 0.9, 0.6, 0.7]


def test_frozen_layers_do_not_change(tiny_model_dir, data):
    from transformers import AutoModelForSequenceClassification

    clf = _fit(tiny_model_dir, data, 0, "model.freeze_layers=1", "training.epochs=2")[0]
    before = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).state_dict()
    after = clf.backend.model.state_dict()
    frozen = [k for k in after if k.startswith(("bert.embeddings.", "bert.encoder.layer.0."))]
    trained = [k for k in after if k.startswith("bert.encoder.layer.1.")]
    assert frozen and all(torch_equal(after[k], before[k]) for k in frozen)
    assert not all(torch_equal(after[k], before[k]) for k in trained)
    with pytest.raises(ValueError, match="'model.freeze_layers' is 3, but the encoder has 2"):
        _fit(tiny_model_dir, data, 0, "model.freeze_layers=3")


def test_same_seed_same_result_other_seed_other_result(tiny_model_dir, data):
    texts = ["the radar in poland was a provocation", "moscow signed the treaty"]
    short = ["training.epochs=3"]
    a = _fit(tiny_model_dir, data, 3, *short)[0].predict_proba(texts)
    b = _fit(tiny_model_dir, data, 3, *short)[0].predict_proba(texts)
    c = _fit(tiny_model_dir, data, 4, *short)[0].predict_proba(texts)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_length_grouped_batches_cover_every_passage_with_little_padding():
    import torch

    lengths = np.random.default_rng(0).integers(5, 120, size=403).tolist()
    batches = LengthGroupedBatches(lengths, 16, torch.Generator().manual_seed(0), chunk=10)
    first, second = list(batches), list(batches)
    assert len(first) == len(batches) == 26
    assert sorted(i for b in first for i in b) == list(range(403))
    assert max(len(b) for b in first) == 16
    assert first != second  # a new order every epoch

    def padding(epoch):
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in epoch)

    shuffled = np.random.default_rng(1).permutation(403).tolist()
    assert padding(first) < padding([shuffled[i : i + 16] for i in range(0, 403, 16)]) / 4


@pytest.fixture(scope="module")
def store(tiny_model_dir, data, tmp_path_factory):
    """One store with three runs through the entry point: `good` (15 epochs), `worse` (1 epoch
    at a tiny learning rate, trained second) and `bow` (the TF-IDF family)."""
    store = tmp_path_factory.mktemp("store")
    tiny = tiny_overrides(tiny_model_dir, data, store)
    train("configs/smoke.yaml", store, *tiny, "run_name=good", "training.epochs=15",
          "training.onnx_int8=true")
    train("configs/smoke.yaml", store, *tiny, "run_name=worse", "training.epochs=1",
          "training.learning_rate=1e-6")
    train("configs/tfidf.yaml", store, *tiny, "run_name=bow", "tracking.experiment=stance-smoke",
          "baseline.min_df=1")
    return store


def test_entry_point_tracks_a_run(store):
    run = runs_by_name(store)["good"]
    assert run.info.status == "FINISHED"
    assert run.data.params["model.max_length"] == "32"
    assert {"epoch/validation_f1_macro", "epoch/train_loss", "test_f1_macro",
            "test_precision_pro_us", "validation_ece_uncalibrated", "temperature"} <= set(
        run.data.metrics)
    assert (store / "models/good/model.safetensors").is_file()
    assert "Metrics" in (store / "models/good/README.md").read_text()


def test_a_verified_int8_copy_is_the_cpu_default(store):
    run = runs_by_name(store)["good"]
    assert run.data.metrics["onnx_int8_kept"] == 1.0
    assert abs(run.data.metrics["onnx_int8_test_f1_delta"]) <= 0.01
    folder = store / "models/good"
    assert json.loads((folder / "config.json").read_text())["stance_cpu_backend"] == "onnx"
    cpu, torch_clf = (StanceClassifier.from_pretrained(folder, backend=b) for b in ("auto", "torch"))
    assert type(cpu.backend).__name__ == "OnnxBackend"
    texts = ["moscow signed the treaty", "a reckless violation of the talks"]
    assert [p.label for p in cpu.predict(texts)] == [p.label for p in torch_clf.predict(texts)]
    assert not (store / "models/worse/model.onnx").exists()  # turned off for that run


def test_an_int8_copy_that_disagrees_is_dropped(tiny_model_dir, data, tmp_path, monkeypatch):
    monkeypatch.setattr("training.cpu_path.TOLERANCE", -1.0)  # nothing can pass
    train("configs/smoke.yaml", tmp_path, *tiny_overrides(tiny_model_dir, data, tmp_path),
          "run_name=strict", "training.onnx_int8=true")
    run = runs_by_name(tmp_path)["strict"]
    assert run.data.metrics["onnx_int8_kept"] == 0.0
    assert not (tmp_path / "models/strict/model.onnx").exists()
    clf = StanceClassifier.from_pretrained(tmp_path / "models/strict")
    assert type(clf.backend).__name__ == "TorchBackend"


def test_an_ensemble_averages_its_calibrated_members(tiny_model_dir, data, tmp_path, capsys):
    train("configs/smoke.yaml", tmp_path, *tiny_overrides(tiny_model_dir, data, tmp_path),
          "run_name=mix", "model.family=ensemble", "baseline.min_df=1", "training.epochs=4",
          "training.onnx_int8=true")
    folder = tmp_path / "models/mix"
    assert sorted(p.name for p in (folder / "members").iterdir()) == ["tfidf", "transformer"]
    assert (folder / "members/transformer/model.onnx").is_file()  # its verified CPU copy
    mix = StanceClassifier.from_pretrained(folder)
    assert type(mix.backend).__name__ == "EnsembleBackend"
    parts = [StanceClassifier.from_pretrained(folder / "members" / m) for m in ("tfidf", "transformer")]
    texts = ["moscow signed the treaty", "a reckless violation of the talks", "the sovereign radar"]
    average = (parts[0].predict_proba(texts) + parts[1].predict_proba(texts)) / 2
    mix.temperature = 1.0  # the ensemble's own temperature only rescales the average
    np.testing.assert_allclose(mix.predict_proba(texts), average, atol=1e-5)
    run = runs_by_name(tmp_path)["mix"]
    assert run.data.tags["model_family"] == "ensemble" and run.data.metrics["onnx_int8_kept"] == 1
    assert train("configs/smoke.yaml", tmp_path, *tiny_overrides(tiny_model_dir, data, tmp_path),
                 "model.family=ensemble", "model.members=[tfidf]", check=False) == 1
    assert "'model.members' must name two or more" in capsys.readouterr().err


def test_champion_moves_only_to_a_better_model(store):
    runs = runs_by_name(store)
    client = mlflow.MlflowClient(store_uri(store))
    champion = client.get_model_version_by_alias("stance-classifier", "champion")
    scores = {r.info.run_id: r.data.metrics["validation_f1_macro"] for r in runs.values()}
    assert scores[champion.run_id] == max(scores.values())
    assert scores[runs["worse"].info.run_id] < scores[champion.run_id]
    assert runs["worse"].data.tags["champion_decision"] == "kept version 1"
    assert float(runs["worse"].data.tags["champion_previous_validation_f1"]) == \
        runs["good"].data.metrics["validation_f1_macro"]
    assert len(client.search_model_versions("name='stance-classifier'")) == 3


def test_every_family_logs_the_same_metrics_and_a_loadable_model(store):
    runs = runs_by_name(store)
    assert runs["bow"].data.tags["model_family"] == "tfidf"
    shared = {k for k in runs["good"].data.metrics if k.startswith(("validation_", "test_"))}
    assert shared and shared <= set(runs["bow"].data.metrics)
    assert runs["bow"].data.metrics["test_f1_macro"] > 0.9  # the cue words are easy for TF-IDF
    mlflow.set_tracking_uri(store_uri(store))
    clf = StanceClassifier.from_pretrained(f"runs:/{runs['bow'].info.run_id}/model")
    assert type(clf.backend).__name__ == "LinearBackend"
    assert clf.predict(["moscow signed the treaty"])[0].label == "neutral"
    assert not list((store / "artifacts").rglob("*.pkl")) and not list(store.rglob("*.skops"))


def test_paired_comparison_reads_each_runs_predictions(store):
    from training.compare import find_model, find_run, paired_table

    mlflow.set_tracking_uri(store_uri(store))
    good, worse = (find_run(name, "stance-smoke") for name in ("good", "worse"))
    table = paired_table(good, worse).set_index("split")
    assert list(table.index) == ["test"]  # the tiny data has no challenge or news split
    row = table.loc["test"]
    assert row.f1_a == pytest.approx(good.data.metrics["test_f1_macro"], abs=1e-4)
    assert row.f1_b == pytest.approx(worse.data.metrics["test_f1_macro"], abs=1e-4)
    assert row.ci_low <= row.a_minus_b <= row.ci_high and row.a_clearly_better
    reverse = paired_table(worse, good, ["test"]).iloc[0]
    assert reverse.a_minus_b == pytest.approx(-row.a_minus_b, abs=1e-4)
    assert not reverse.a_clearly_better
    with pytest.raises(ValueError, match="no predictions table for split .news."):
        paired_table(good, worse, ["news"])
    # An ensemble averages probabilities: of a run with itself, it is the run.
    assert paired_table(find_model("good+good", "stance-smoke"), good).iloc[0].a_minus_b == 0
    mixed = paired_table(find_model("good+bow", "stance-smoke"), worse).iloc[0]
    assert mixed.f1_a >= mixed.f1_b and mixed.a_clearly_better


def test_bad_data_stops_training_before_a_run(tiny_data, tmp_path):
    (tiny_data / "train.jsonl").write_text('{"id": 1}\n')
    config = load_config("configs/smoke.yaml", [f"data.path={tiny_data}",
                                                 f"tracking.uri=sqlite:///{tmp_path}/m.db"])
    from stance.data import DataError
    from training.train import train as train_config

    with pytest.raises(DataError, match="train.jsonl:1"):
        train_config(config)
    assert not (tmp_path / "m.db").exists()


def test_sweep_runs_children_under_a_parent(tiny_model_dir, tiny_data, tmp_path):
    from training.compare import runs_table
    from training.sweep import run_sweep

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("base: configs/smoke.yaml\ngrid:\n  training.epochs: [1, 3]\n")
    overrides = [f"tracking.uri={store_uri(tmp_path)}", f"output_dir={tmp_path}/models",
                 *[o for o in tiny_overrides(tiny_model_dir, tiny_data, tmp_path)
                   if not o.startswith("training.epochs")]]
    parent_id = run_sweep(sweep, overrides)
    runs = mlflow.search_runs(experiment_names=["stance-smoke"], output_format="list")
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent_id]
    assert sorted(r.data.params["training.epochs"] for r in children) == ["1", "3"]
    parent = mlflow.get_run(parent_id)
    assert parent.data.tags["best_run_id"] in {r.info.run_id for r in children}
    table = runs_table("stance-smoke")
    assert len(table) == 2 and list(table["validation_f1"]) == sorted(table["validation_f1"],
                                                                      reverse=True)


def test_sweep_file_is_validated(tmp_path):
    from training.sweep import load_sweep, run_sweep

    bad = tmp_path / "bad.yaml"
    bad.write_text("base: configs/smoke.yaml\ngrid:\n  training.epochs: 3\n")
    with pytest.raises(ValueError, match="non-empty list"):
        load_sweep(bad)
    bad.write_text("base: configs/smoke.yaml\ngrid:\n  training.epoch: [1]\n")
    with pytest.raises(ValueError, match="training.epoch"):
        run_sweep(bad)
