"""The whole path with the real MiniLM: smoke training into a temporary MLflow store, the
registered model loaded back by alias, and the CLI on JSONL."""

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from stance import LABELS, StanceClassifier

pytestmark = pytest.mark.slow


def test_run_has_params_metrics_and_artifacts(smoke_run):
    _, _, run = smoke_run
    assert run.info.status == "FINISHED"
    assert run.data.params["model.base"] == "minilm"
    assert run.data.params["training.epochs"] == "1"
    for name in ("epoch/validation", "validation", "test"):
        assert f"{name}_f1_macro" in run.data.metrics
    assert {"epoch/train_loss", "test_accuracy", "test_recall_neutral"} <= set(run.data.metrics)
    assert run.data.tags["data_version"] and run.data.tags["git_commit"]
    client = mlflow.MlflowClient()
    evals = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "eval")}
    assert {"test_confusion.png", "test_report.txt", "test_errors.json", "test_reliability.png",
            "test_slices.json"} <= evals
    contexts = {i.tags[0].value for i in run.inputs.dataset_inputs}
    assert {"train", "validation", "test"} <= contexts


def test_logged_model_is_about_the_size_of_the_weights(smoke_run):
    tmp, _, run = smoke_run
    weights = (tmp / "models/smoke/model.safetensors").stat().st_size
    (output,) = run.outputs.model_outputs
    logged = sum(p.stat().st_size for p in (tmp / "artifacts/models" / output.model_id).rglob("*")
                 if p.is_file())
    assert weights <= logged < weights * 1.1
    assert not list((tmp / "artifacts").rglob("*.pkl"))


def test_champion_loads_and_predicts(smoke_run):
    clf = StanceClassifier.from_pretrained("models:/stance-classifier@champion")
    (pred,) = clf.predict(["Interceptors in Poland are aimed at Iran, not at Russia."])
    assert pred.label in LABELS
    pyfunc = mlflow.pyfunc.load_model("models:/stance-classifier@champion")
    import pandas as pd

    text = "Interceptors in Poland are aimed at Iran, not at Russia."
    frame = pyfunc.predict(pd.DataFrame({"text": [text]}))
    assert list(frame.columns) == ["label"] + [f"prob_{x}" for x in LABELS]
    assert frame["label"][0] == pred.label
    assert frame[f"prob_{pred.label}"][0] == pytest.approx(pred.scores[pred.label], abs=1e-6)


def test_cli_scores_jsonl_with_the_registered_model(smoke_run):
    tmp, uri, _ = smoke_run
    src, out = tmp / "in.jsonl", tmp / "out.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "The S-400 deal with Ankara closed in 2017."}) + "\n")
    env = os.environ | {"MLFLOW_TRACKING_URI": uri, "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "stance.cli", "predict", "--input", str(src),
                    "--output", str(out)], cwd=tmp, env=env, check=True, timeout=300)
    (row,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert row["id"] == "a" and row["pred_label"] in LABELS
