"""Where a model comes from: a local folder, or an MLflow model URI resolved to the saved folder
stored among the logged model's artifacts."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from pathlib import Path

from stance.backends import FolderConfig
from stance.integrity import verify
from stance.names import CONFIG_FILE, MLFLOW_SCHEMES, MODEL_ARTIFACT, warn_if_new_store

logger = logging.getLogger(__name__)


def resolve_model(path_or_uri: str | Path) -> tuple[Path, FolderConfig]:
    """The local folder of a model and its config.json, after checking it is a stance model."""
    path_or_uri = str(path_or_uri)
    folder = Path(_download_from_mlflow(path_or_uri) if path_or_uri.startswith(MLFLOW_SCHEMES)
                  else path_or_uri)
    if not folder.is_dir():
        raise ValueError(f"model path {str(folder)!r} is not a folder")
    if not (folder / CONFIG_FILE).is_file():
        pickled = [p.name for p in folder.glob("*.bin")]
        hint = f" (found pickle weights {pickled}; only safetensors are loaded)" if pickled else ""
        raise ValueError(f"model folder {str(folder)!r} is missing ['{CONFIG_FILE}']{hint}")
    config = FolderConfig.from_folder(folder)
    if not isinstance(getattr(config, "id2label", None), dict):
        raise ValueError(f"{folder / CONFIG_FILE} has no id2label: not a stance model")
    verify(folder, vars(config))
    return folder, config


@contextlib.contextmanager
def fail_fast_http():
    """An unreachable tracking server should fail in seconds, not after minutes of retries;
    settings the user made explicitly are left alone."""
    wanted = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
    added = [k for k in wanted if k not in os.environ]
    os.environ.update({k: wanted[k] for k in added})
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def _download_from_mlflow(uri: str) -> str:
    """Fetch a logged model and return the model folder stored among its artifacts."""
    import mlflow  # only this branch needs MLflow
    import yaml

    warn_if_new_store(mlflow.get_tracking_uri())
    try:
        with fail_fast_http():
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"could not load MLflow model {uri!r}: {first_line}") from exc
    try:
        flavor = yaml.safe_load((local / "MLmodel").read_text())["flavors"]["python_function"]
        folder = local / flavor["artifacts"][MODEL_ARTIFACT]["path"]
    except (OSError, KeyError, TypeError) as exc:
        raise ValueError(f"MLflow model {uri!r} is not a stance pyfunc model "
                         f"(no {MODEL_ARTIFACT} artifact in its MLmodel)") from exc
    logger.info("loaded %s from %s", uri, folder)
    return str(folder)


def fingerprint(folder: str | Path) -> str:
    """A short digest of a model folder (its config.json and its files' names and sizes): tells
    whether a resumed run would score with the same model.

    >>> len(fingerprint(Path(__file__).parent / "backends"))
    16
    """
    folder = Path(folder)
    digest = hashlib.sha256()
    config = folder / CONFIG_FILE
    if config.is_file():
        digest.update(config.read_bytes())
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(folder)}:{path.stat().st_size};".encode())
    return digest.hexdigest()[:16]
