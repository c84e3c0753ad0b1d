"""Everything the training run writes to MLflow: lineage, evaluation artifacts, the model."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import mlflow

import stance
from stance.loading import fail_fast_http
from stance.names import (CHAMPION, EVAL_SPLITS, LOGGED_MODEL_NAME, MODEL_ARTIFACT, metric,
                          tracking_uri)
from stance.serving.schema import signature
from training.config import TrackingConfig
from training.store import prepare_store, store_lock

logger = logging.getLogger(__name__)

_PACKAGE = Path(stance.__file__).parent
_PYFUNC_CODE = _PACKAGE / "serving" / "pyfunc.py"
_SELECTION_METRIC = metric("validation", "f1_macro")


def open_tracking(config: TrackingConfig) -> str:
    """Point MLflow at the configured store and experiment; returns the tracking URI."""
    uri = tracking_uri(config.uri)
    mlflow.set_tracking_uri(uri)
    with fail_fast_http():  # an unreachable server: an error in seconds, not minutes of retries
        prepare_store(uri)
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
        frame["label"] = frame["label"].map(dict(enumerate(dataset.features["label"].names)))
        source = str(Path(data_path).resolve() / f"{split}.jsonl")
        logged = mlflow.data.from_pandas(frame, source=source, name=f"stance-{split}",
                                         digest=f"{version}-{split}")
        mlflow.log_input(logged, context=split)


def _requirements() -> list[str]:
    from importlib.metadata import version

    names = ("torch", "transformers", "tokenizers", "safetensors", "mlflow", "pandas", "numpy",
             "scikit-learn", "onnxruntime", "pyyaml")
    return [f"{name}=={version(name)}" for name in names]


def log_pyfunc_model(folder: Path, labels: list[str], registered_model: str, example: str):
    """Log the saved folder as a pyfunc model (no pickles) and register a new version."""
    info = mlflow.pyfunc.log_model(
        name=LOGGED_MODEL_NAME,
        python_model=str(_PYFUNC_CODE),
        artifacts={MODEL_ARTIFACT: str(folder)},
        code_paths=[str(_PACKAGE)],
        signature=signature(labels),
        input_example={"text": [example]},
        pip_requirements=_requirements(),
        registered_model_name=registered_model,
    )
    promote_if_better(registered_model, info.registered_model_version)
    return info


def _validation_f1(client: mlflow.MlflowClient, name: str, version: str) -> float | None:
    run_id = client.get_model_version(name, version).run_id
    return client.get_run(run_id).data.metrics.get(_SELECTION_METRIC) if run_id else None


def promote_if_better(name: str, version: str) -> bool:
    """Move `champion` to `version` only when its validation macro-F1 beats the champion's
    (a tie keeps the champion); log the decision and both numbers as tags on the active run.

    The read, the comparison and the move happen under the store's lock (`training.store`), so
    runs finishing together leave the better one as champion whatever their order."""
    client = mlflow.MlflowClient()
    with store_lock(mlflow.get_registry_uri()):
        aliases = client.get_registered_model(name).aliases
        candidate = _validation_f1(client, name, version)
        current = aliases.get(CHAMPION)
        incumbent = _validation_f1(client, name, current) if current else None
        promote = current is None or (candidate is not None and
                                      (incumbent is None or candidate > incumbent))
        if promote:
            client.set_registered_model_alias(name, CHAMPION, version)
    decision = (f"promoted version {version}" if promote else f"kept version {current}")
    mlflow.set_tags({"champion_decision": decision,
                     "champion_candidate_validation_f1": str(candidate),
                     "champion_previous_validation_f1": str(incumbent)})
    logger.info("registry %s: %s (candidate %s, champion %s)", name, decision, candidate, incumbent)
    return promote


# What the MLflow UI shows: the experiment opens as model training (not the GenAI view), each run
# and each registered version carries its headline numbers in its description.
EXPERIMENT_KIND = ("mlflow.experimentKind", "custom_model_development")
NOTE_TAG = "mlflow.note.content"
HEADLINE_SPLITS = tuple(s for s in EVAL_SPLITS if s != "validation")  # the held-out ones


def tag_experiment(experiment_id: str) -> None:
    """Mark the experiment as custom model development, so the UI opens it on its runs."""
    mlflow.MlflowClient().set_experiment_tag(experiment_id, *EXPERIMENT_KIND)


def headline(metrics: dict[str, float]) -> str:
    """Macro-F1 with its interval on test, challenge and news (those measured), one line each.

    >>> headline({"test_f1_macro": 0.85, "test_f1_macro_ci_low": 0.81, "test_f1_macro_ci_high": 0.89})
    '- test macro-F1 **0.850** (95% CI 0.810-0.890)'
    """
    lines = []
    for split in HEADLINE_SPLITS:
        value = metrics.get(metric(split, "f1_macro"))
        if value is None:
            continue
        low, high = (metrics.get(metric(split, f"f1_macro_ci_{k}")) for k in ("low", "high"))
        interval = f" (95% CI {low:.3f}-{high:.3f})" if low is not None and high is not None else ""
        lines.append(f"- {split} macro-F1 **{value:.3f}**{interval}")
    return "\n".join(lines)


def describe_run(run_name: str, family_name: str, metrics: dict[str, float]) -> None:
    """The active run's description (the UI's Description box) with its headline numbers."""
    mlflow.set_tag(NOTE_TAG, f"**{run_name}** ({family_name})\n\n{headline(metrics)}")


def describe_model_version(name: str, info, metrics: dict[str, float]) -> None:
    """The registered version's description and headline metric tags, and the headline metrics
    linked to the logged model (shown on its page)."""
    version = info.registered_model_version
    if not version:
        return
    client = mlflow.MlflowClient()
    numbers = {k: v for k, v in metrics.items()
               if any(k.startswith(metric(s, "f1_macro")) or k == metric(s, "ece")
                      for s in EVAL_SPLITS)}
    client.update_model_version(name, version, description=(
        f"Stance classifier from run {info.run_id}.\n\n{headline(metrics)}"))
    for key, value in sorted(numbers.items()):
        client.set_model_version_tag(name, version, key, f"{value:.4f}")
    if info.model_id:
        mlflow.log_metrics(numbers, model_id=info.model_id)


def log_user_inputs(splits, data_path: str, extra, version: str) -> None:
    """Lineage of the user corpora (`data.extra`), each as its own dataset."""
    from stance.data.user import split_name, user_file

    for name in extra:
        frame = splits[split_name(name)].to_pandas()
        frame["label"] = frame["label"].map(dict(enumerate(splits["train"].features["label"].names)))
        logged = mlflow.data.from_pandas(frame, source=str(user_file(data_path, name).resolve()),
                                         name=f"stance-{split_name(name)}",
                                         digest=f"{version}-{split_name(name)}")
        mlflow.log_input(logged, context=split_name(name))
