"""Everything the training run writes to MLflow: lineage, evaluation artifacts, the model."""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path

import mlflow
import numpy as np
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

import stance
from stance.evaluation import (
    classification_metrics,
    confusion_matrix_png,
    errors_table,
    report_text,
)
from training.config import TrackingConfig

logger = logging.getLogger(__name__)

CHAMPION = "champion"
_PYFUNC_CODE = Path(stance.__file__).parent / "mlflow_model.py"


def open_tracking(config: TrackingConfig) -> str:
    """Point MLflow at the configured store and experiment; returns the tracking URI."""
    uri = config.uri or os.environ.get("MLFLOW_TRACKING_URI") or "sqlite:///mlflow.db"
    mlflow.set_tracking_uri(uri)
    if config.artifact_location and mlflow.get_experiment_by_name(config.experiment) is None:
        mlflow.create_experiment(config.experiment, artifact_location=config.artifact_location)
    mlflow.set_experiment(config.experiment)
    return uri


def git_commit() -> str:
    """The checked-out commit, marked `-dirty` when tracked files changed; `unknown` outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def log_inputs(splits, data_path: str, version: str) -> None:
    """Dataset lineage: one MLflow dataset per split, named after the data folder and split."""
    for split, dataset in splits.items():
        frame = dataset.to_pandas()
        source = str(Path(data_path).resolve() / f"{split}.jsonl")
        logged = mlflow.data.from_pandas(frame, source=source, name=f"stance-{split}",
                                         digest=f"{version}-{split}")
        mlflow.log_input(logged, context=split)


def log_evaluation(split: str, dataset, proba: np.ndarray, labels: list[str]) -> dict[str, float]:
    """Log `<split>_*` metrics, the report, a confusion-matrix PNG and the errors table."""
    y_true = dataset["label"]
    metrics = {f"{split}_{k}": v for k, v in classification_metrics(y_true, proba, labels).items()}
    mlflow.log_metrics(metrics)
    report = report_text(y_true, proba, labels)
    mlflow.log_text(report, f"eval/{split}_classification_report.txt")
    with tempfile.TemporaryDirectory() as tmp:
        png = confusion_matrix_png(y_true, proba, labels, Path(tmp) / f"{split}_confusion.png",
                                   title=f"{split} confusion matrix")
        mlflow.log_artifact(str(png), "eval")
    records = dataset.to_dict()
    mlflow.log_table(errors_table(records, proba, labels), f"eval/{split}_errors.json")
    logger.info("%s:\n%s", split, report)
    return metrics


def _signature(labels: list[str]) -> ModelSignature:
    outputs = [ColSpec("string", "label")] + [ColSpec("float", f"prob_{x}") for x in labels]
    return ModelSignature(inputs=Schema([ColSpec("string", "text")]), outputs=Schema(outputs))


def _requirements() -> list[str]:
    from importlib.metadata import version

    names = ("torch", "transformers", "tokenizers", "safetensors", "mlflow", "pandas", "numpy",
             "scikit-learn")
    return [f"{name}=={version(name)}" for name in names]


def log_pyfunc_model(folder: Path, labels: list[str], registered_model: str, example: str):
    """Log the saved folder as a pyfunc model (no pickles) and register a new version."""
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(_PYFUNC_CODE),
        artifacts={"hf_model": str(folder)},
        code_paths=[str(_PYFUNC_CODE.parent)],
        signature=_signature(labels),
        input_example={"text": [example]},
        pip_requirements=_requirements(),
        registered_model_name=registered_model,
    )
    version = info.registered_model_version
    client = mlflow.MlflowClient()
    aliases = client.get_registered_model(registered_model).aliases
    if CHAMPION not in aliases:
        client.set_registered_model_alias(registered_model, CHAMPION, version)
        mlflow.set_tag("champion", f"set to version {version} (first version)")
    else:
        mlflow.set_tag("champion", f"kept version {aliases[CHAMPION]}")
    logger.info("registered %s version %s", registered_model, version)
    return info
