import mlflow
import numpy as np
import pytest

from stance import StanceClassifier
from stance.data import load_splits
from training.config import TrainingConfig, load_config
from training.train import main
from training.trainer import Trainer

FAST = TrainingConfig(epochs=15, batch_size=8, learning_rate=3e-3, warmup_ratio=0.0, device="cpu")


def _fit(model_dir, data, seed: int):
    from transformers import set_seed

    set_seed(seed)
    clf = StanceClassifier.from_base(str(model_dir), max_length=32, device="cpu")
    splits = load_splits(data)
    history = Trainer(clf, FAST, seed=seed).fit(splits["train"], splits["validation"])
    return clf, splits, history


def test_tiny_dataset_is_learned(tiny_model_dir, tiny_data):
    clf, splits, history = _fit(tiny_model_dir, tiny_data, seed=0)
    assert len(history) == FAST.epochs
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    preds = [p.label for p in clf.predict(splits["test"]["text"])]
    truth = [clf.labels[i] for i in splits["test"]["label"]]
    assert np.mean([p == t for p, t in zip(preds, truth)]) >= 0.9


def test_best_epoch_is_restored(tiny_model_dir, tiny_data):
    clf, splits, history = _fit(tiny_model_dir, tiny_data, seed=0)
    best = max(h["val_f1_macro"] for h in history)
    assert Trainer(clf, FAST, seed=0).evaluate(splits["validation"])["f1_macro"] == best


def test_same_seed_same_result_other_seed_other_result(tiny_model_dir, tiny_data):
    texts = ["the radar in poland was a provocation", "moscow signed the treaty"]
    a = _fit(tiny_model_dir, tiny_data, seed=3)[0].predict_proba(texts)
    b = _fit(tiny_model_dir, tiny_data, seed=3)[0].predict_proba(texts)
    c = _fit(tiny_model_dir, tiny_data, seed=4)[0].predict_proba(texts)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_entry_point_tracks_a_run(tiny_model_dir, tiny_data, tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    main(["--config", "configs/smoke.yaml", "--set", f"model.base={tiny_model_dir}",
          "--set", f"data.path={tiny_data}", "--set", f"tracking.uri={uri}",
          "--set", f"tracking.artifact_location={tmp_path}/artifacts",
          "--set", f"output_dir={tmp_path}/models", "--set", "run_name=tiny",
          "--set", "model.max_length=32"])
    mlflow.set_tracking_uri(uri)
    (run,) = mlflow.search_runs(experiment_names=["stance-smoke"], output_format="list")
    assert run.info.status == "FINISHED"
    assert run.data.params["model.max_length"] == "32"
    assert {"val_f1_macro", "test_f1_macro", "test_precision_pro_us"} <= set(run.data.metrics)
    assert (tmp_path / "models/tiny/model.safetensors").is_file()
    clf = StanceClassifier.from_pretrained("models:/stance-classifier@champion")
    assert len(clf.predict(["moscow signed the treaty"])) == 1


def test_bad_data_stops_training_before_a_run(tiny_data, tmp_path):
    (tiny_data / "train.jsonl").write_text('{"id": 1}\n')
    config = load_config("configs/smoke.yaml", [f"data.path={tiny_data}",
                                                 f"tracking.uri=sqlite:///{tmp_path}/m.db"])
    from stance.data import DataError
    from training.train import train

    with pytest.raises(DataError, match="train.jsonl:1"):
        train(config)
    assert not (tmp_path / "m.db").exists()
