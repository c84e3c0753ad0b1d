"""One home for the names that several parts of the project must agree on: the registry, its
alias, model URIs, file names inside a saved model folder, and metric names.

>>> metric("validation", "f1_macro")
'validation_f1_macro'
>>> DEFAULT_MODEL_URI
'models:/stance-classifier@champion'
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# MLflow: the store, the registered model and the alias that marks the model users get.
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "stance"
REGISTERED_MODEL = "stance-classifier"
CHAMPION = "champion"
DEFAULT_MODEL_URI = f"models:/{REGISTERED_MODEL}@{CHAMPION}"
MLFLOW_SCHEMES = ("models:/", "runs:/")
# The saved folder inside a logged pyfunc model (its artifact key).
MODEL_ARTIFACT = "hf_model"
LOGGED_MODEL_NAME = "model"

# Files of a saved model folder. config.json carries the label list and the `stance_*` keys.
CONFIG_FILE = "config.json"
MODEL_CARD_FILE = "README.md"
# Keys of config.json that belong to stance rather than to the encoder.
BACKEND_KEY = "stance_backend"
FAMILY_KEY = "stance_family"
TEMPERATURE_KEY = "stance_temperature"
# The backend to run on a CPU when the folder also holds its weights (training sets it to `onnx`
# when the int8 export agrees with PyTorch).
CPU_BACKEND_KEY = "stance_cpu_backend"
# The sha256 of every other file of the folder, recorded at save time and checked at load time.
CHECKSUMS_KEY = "stance_sha256"

# Splits: evaluation order everywhere (training, reports, model card, compare).
TRAIN_SPLIT = "train"
EVAL_SPLITS = ("validation", "test", "challenge", "news")
# Passages with no label, for distillation (stance.data.unlabeled), beside the split files.
UNLABELED_FILE = "unlabeled.jsonl"
# Per-epoch training metrics are grouped under this prefix in the MLflow UI.
EPOCH_PREFIX = "epoch/"


def metric(split: str, key: str) -> str:
    """The MLflow metric name of `key` measured on `split`."""
    return f"{split}_{key}"


def tracking_uri(explicit: str | None = None) -> str:
    """The store to use: `explicit`, else $MLFLOW_TRACKING_URI, else ./mlflow.db."""
    return explicit or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def sqlite_file(uri: str) -> Path | None:
    """The database file of a `sqlite:///` tracking URI, None for any other store.

    >>> sqlite_file("sqlite:///mlflow.db"), sqlite_file("http://127.0.0.1:5000")
    (PosixPath('mlflow.db'), None)
    """
    prefix = "sqlite:///"
    return Path(uri[len(prefix):].split("?")[0]) if uri.startswith(prefix) else None


def warn_if_new_store(uri: str) -> bool:
    """One line on stderr when `uri` is a sqlite store whose file does not exist, so MLflow is
    about to create it empty (a wrong path would otherwise only show as "model not found")."""
    path = sqlite_file(uri)
    if path is None or path.exists():
        return False
    print(f"stance: warning: no MLflow store at {path.resolve()}; an empty one is created "
          "(set MLFLOW_TRACKING_URI if the runs are elsewhere)", file=sys.stderr)
    return True
