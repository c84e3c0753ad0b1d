import mlflow
import numpy as np
import pytest

from stance import StanceClassifier
from stance.data import load_splits
from training.config import TrainingConfig, load_config
from training.train import main
from training.trainer import LengthGroupedBatches, Trainer

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


def _tiny_args(tiny_model_dir, tiny_data, tmp_path, *extra: str) -> list[str]:
    sets = [f"model.base={tiny_model_dir}", f"data.path={tiny_data}",
            f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
            f"tracking.artifact_location={tmp_path}/artifacts", f"output_dir={tmp_path}/models",
            "model.max_length=32", "training.learning_rate=3e-3", "training.epochs=2", *extra]
    return [a for s in sets for a in ("--set", s)]


def _runs(tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    return {r.info.run_name: r for r in
            mlflow.search_runs(experiment_names=["stance-smoke"], output_format="list")}


def test_tfidf_baseline_logs_the_same_metrics(tiny_model_dir, tiny_data, tmp_path):
    main(["--config", "configs/smoke.yaml",
          *_tiny_args(tiny_model_dir, tiny_data, tmp_path, "run_name=bert")])
    main(["--config", "configs/tfidf.yaml",
          *_tiny_args(tiny_model_dir, tiny_data, tmp_path, "run_name=bow",
                      "tracking.experiment=stance-smoke", "baseline.min_df=1")])
    runs = _runs(tmp_path)
    assert runs["bow"].data.tags["model_family"] == "tfidf"
    shared = {k for k in runs["bert"].data.metrics if k.startswith(("validation_", "test_"))}
    assert shared and shared - {k for k in shared if "ece_uncalibrated" in k} <= set(
        runs["bow"].data.metrics)
    assert runs["bow"].data.metrics["test_f1_macro"] > 0.9  # the cue words are easy for TF-IDF
    model = mlflow.sklearn.load_model(f"runs:/{runs['bow'].info.run_id}/model")
    assert model.predict_proba(["moscow signed the treaty"]).shape == (1, 3)


def test_champion_moves_only_to_a_better_model(tiny_model_dir, tiny_data, tmp_path):
    def args(name: str, *overrides: str) -> list[str]:
        return ["--config", "configs/smoke.yaml",
                *_tiny_args(tiny_model_dir, tiny_data, tmp_path, f"run_name={name}", *overrides)]

    main(args("good", "training.epochs=15"))
    main(args("worse", "training.epochs=1", "training.learning_rate=1e-6"))
    runs = _runs(tmp_path)
    client = mlflow.MlflowClient()
    champion = client.get_model_version_by_alias("stance-classifier", "champion")
    assert champion.run_id == runs["good"].info.run_id
    assert runs["worse"].data.tags["champion_decision"] == "kept version 1"
    assert float(runs["worse"].data.tags["champion_previous_validation_f1"]) == \
        runs["good"].data.metrics["validation_f1_macro"]
    assert len(client.search_model_versions("name='stance-classifier'")) == 2


def test_paired_comparison_rebuilds_each_runs_scores(tiny_model_dir, tiny_data, tmp_path):
    from training.compare import find_run, paired_table

    def args(name: str, *overrides: str) -> list[str]:
        return ["--config", "configs/smoke.yaml",
                *_tiny_args(tiny_model_dir, tiny_data, tmp_path, f"run_name={name}", *overrides)]

    main(args("good", "training.epochs=15"))
    main(args("worse", "training.epochs=1", "training.learning_rate=1e-6"))
    good, worse = (find_run(name, "stance-smoke") for name in ("good", "worse"))
    table = paired_table(good, worse, str(tiny_data), ["validation", "test"]).set_index("split")
    for split in ("validation", "test"):
        row = table.loc[split]
        # Predictions rebuilt from the logged errors give back the logged scores.
        assert row.f1_a == pytest.approx(good.data.metrics[f"{split}_f1_macro"], abs=1e-4)
        assert row.f1_b == pytest.approx(worse.data.metrics[f"{split}_f1_macro"], abs=1e-4)
        assert row.ci_low <= row.a_minus_b <= row.ci_high
    assert table.loc["test", "a_clearly_better"]
    reverse = paired_table(worse, good, str(tiny_data), ["test"]).iloc[0]
    assert reverse.a_minus_b == pytest.approx(-table.loc["test", "a_minus_b"], abs=1e-4)
    assert not reverse.a_clearly_better


def test_sweep_runs_children_under_a_parent(tiny_model_dir, tiny_data, tmp_path):
    from training.compare import runs_table
    from training.sweep import run_sweep

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("base: configs/smoke.yaml\ngrid:\n  training.epochs: [1, 3]\n")
    overrides = [s for s in _tiny_args(tiny_model_dir, tiny_data, tmp_path) if s != "--set"
                 and not s.startswith("training.epochs")]
    parent_id = run_sweep(sweep, overrides)
    runs = mlflow.search_runs(experiment_names=["stance-smoke"], output_format="list")
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent_id]
    assert sorted(r.data.params["training.epochs"] for r in children) == ["1", "3"]
    parent = mlflow.get_run(parent_id)
    assert parent.data.tags["best_run_id"] in {r.info.run_id for r in children}
    table = runs_table("stance-smoke")
    assert len(table) == 2 and list(table["val_f1"]) == sorted(table["val_f1"], reverse=True)


def test_sweep_file_is_validated(tmp_path):
    from training.sweep import load_sweep, run_sweep

    bad = tmp_path / "bad.yaml"
    bad.write_text("base: configs/smoke.yaml\ngrid:\n  training.epochs: 3\n")
    with pytest.raises(ValueError, match="non-empty list"):
        load_sweep(bad)
    bad.write_text("base: configs/smoke.yaml\ngrid:\n  training.epoch: [1]\n")
    with pytest.raises(ValueError, match="training.epoch"):
        run_sweep(bad)
