"""Train a stance model (the transformer or a baseline) and track the run in MLflow.

    python -m training.train --config configs/default.yaml --set training.epochs=2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
from accelerate import PartialState
from transformers import set_seed

from stance import StanceClassifier
from stance.base_models import resolve_base_model
from stance.data import data_version, load_splits
from stance.evaluation import expected_calibration_error, fit_temperature
from stance.inference import softmax
from stance.labels import LABELS
from stance.model_card import write_model_card
from stance.report import evaluate_split, log_report
from training import baselines, tracking
from training.checkpoint import has_checkpoint
from training.config import Config, config_from_dict, flatten, load_config
from training.trainer import Trainer

logger = logging.getLogger("training.train")
EVAL_SPLITS = ("validation", "test", "challenge")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/default.yaml", help="YAML config file")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. training.epochs=2 (repeatable)")
    parser.add_argument("--resume", nargs="?", const="latest", metavar="RUN_ID",
                        help="continue an interrupted run (the latest, or RUN_ID) from its last "
                             "checkpoint, into the same MLflow run, with the config it started with")
    return parser.parse_args(argv)


def _subset(dataset, n: int | None, seed: int):
    if n is None or n >= len(dataset):
        return dataset
    return dataset.shuffle(seed=seed).select(range(n))


def prepare_data(config: Config):
    """Load and validate every split (training refuses bad data), then apply smoke-run limits."""
    splits = load_splits(config.data.path)
    d = config.data
    for name in splits:
        limit = d.max_train_examples if name == "train" else d.max_eval_examples
        splits[name] = _subset(splits[name], limit, d.subset_seed)
    return splits


def save_atomically(clf: StanceClassifier, target: Path) -> Path:
    """Write to a sibling temporary folder, then rename, so a half-written model never sits at
    the final path."""
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    clf.save_pretrained(tmp)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def check_base_model(config: Config) -> None:
    """Resolve the encoder and check `model.max_length` against it, before anything is loaded."""
    if config.model.family == "tfidf":
        return
    base = resolve_base_model(config.model.base)
    config_file = Path(base) / "config.json"
    if config_file.is_file():
        limit = json.loads(config_file.read_text()).get("max_position_embeddings")
        if limit and config.model.max_length > limit:
            raise ValueError(f"config key 'model.max_length' is {config.model.max_length}, above "
                             f"the {limit} positions of base model {config.model.base!r}")


def fine_tune(config: Config, splits, checkpoint: Path | None, resume: bool,
              on_epoch_end=None) -> StanceClassifier:
    """A new classification head on the base encoder, fine-tuned (in every process of a launch)."""
    clf = StanceClassifier.from_base(resolve_base_model(config.model.base),
                                     config.model.max_length, config.training.device)
    Trainer(clf, config.training, seed=config.seed, checkpoint_dir=checkpoint,
            on_epoch_end=on_epoch_end).fit(splits["train"], splits["validation"], resume=resume)
    return clf


def split_probabilities(model, splits, config: Config) -> dict[str, np.ndarray]:
    """Probabilities for every evaluation split, one forward pass each.

    `model` is a StanceClassifier or a scikit-learn pipeline (columns in LABELS order). For the
    transformer, the temperature is first fitted on the validation logits, and the calibration
    error before it is logged (`*_ece_uncalibrated`).
    """
    names = [s for s in EVAL_SPLITS if s in splits]
    if not isinstance(model, StanceClassifier):
        return {s: model.predict_proba(splits[s]["text"]) for s in names}
    batch = config.training.eval_batch_size
    logits = {s: model.logits(splits[s]["text"], batch) for s in names}
    if config.training.calibrate:
        model.temperature = fit_temperature(logits["validation"], splits["validation"]["label"])
        mlflow.log_metric("temperature", model.temperature)
        mlflow.log_metrics({f"{s}_ece_uncalibrated": expected_calibration_error(
            splits[s]["label"], softmax(z)) for s, z in logits.items()})
    return {s: softmax(z, model.temperature) for s, z in logits.items()}


def evaluate_and_log(probas: dict[str, np.ndarray], splits) -> dict[str, float]:
    """The full report for every evaluation split, logged under `eval/`; returns the metrics."""
    metrics: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, proba in probas.items():
            report = evaluate_split(name, splits[name].to_dict(), proba, list(LABELS), tmp)
            log_report(report)
            logger.info("\n%s", report.text)
            metrics |= report.metrics
    return metrics


def finish_transformer(config: Config, clf: StanceClassifier, splits, metrics: dict,
                       behaviour: dict, run_name: str) -> None:
    """Save the folder with its model card, log it as a pyfunc model, register, maybe promote."""
    folder = save_atomically(clf, Path(config.output_dir) / run_name)
    slices = sorted((v, k.split("__", 1)[1]) for k, v in metrics.items()
                    if k.startswith("test_f1_macro__"))
    card = write_model_card(
        folder, run_name=run_name, base=config.model.base,
        data_counts={s: len(d) for s, d in splits.items()}, metrics=metrics,
        temperature=clf.temperature, behaviour=behaviour,
        weakest_slices=[f"{name} {v:.2f}" for v, name in slices[:5]])
    mlflow.log_artifact(str(card), "model_card")
    if config.tracking.log_model:
        tracking.log_pyfunc_model(folder, clf.labels, config.tracking.registered_model,
                                  example=splits["test"]["text"][0])
    logger.info("model saved to %s", folder)


def checkpoint_root(config: Config, run_name: str) -> Path:
    return Path(config.output_dir) / "checkpoints" / run_name


def find_resumable(output_dir: str, which: str) -> dict:
    """The `run.json` of the run to resume: the most recent one, or the one with run id `which`."""
    found = sorted(Path(output_dir, "checkpoints").glob("*/run.json"),
                   key=lambda p: p.stat().st_mtime, reverse=True)
    runs = [json.loads(p.read_text()) for p in found if has_checkpoint(p.parent / "last")]
    match = runs[:1] if which == "latest" else [r for r in runs if r["run_id"] == which]
    if not match:
        raise ValueError(f"no checkpoint to resume ({which}) under {output_dir}/checkpoints")
    return match[0]


def train(config: Config, resume: dict | None = None) -> str:
    """Run one training (or continue the interrupted one described by `resume`); returns its
    MLflow run id. The run ends FINISHED, KILLED on Ctrl-C/SIGTERM, or FAILED on an error."""
    check_base_model(config)
    splits = prepare_data(config)
    version = data_version(config.data.path)
    set_seed(config.seed)  # once, before any model (and its new head) is built
    if not PartialState().is_main_process:
        return _follow(config, splits, resume)
    tracking.open_tracking(config.tracking)
    run_name = (resume or {}).get("run_name") or config.run_name or \
        f"{config.model.family}-{time.strftime('%Y%m%d-%H%M%S')}"
    root = checkpoint_root(config, run_name)
    if resume:
        run = mlflow.start_run(run_id=resume["run_id"])
    else:
        run = mlflow.start_run(run_name=run_name, nested=mlflow.active_run() is not None)
    try:
        if not resume:
            _start_run(config, splits, version, root, run.info.run_id, run_name)
        _train_and_log(config, splits, run_name, root / "last", resume is not None)
    except KeyboardInterrupt:
        mlflow.end_run("KILLED")
        raise
    except BaseException:
        mlflow.end_run("FAILED")
        raise
    mlflow.end_run("FINISHED")
    shutil.rmtree(root, ignore_errors=True)  # finished: the checkpoints served their purpose
    logger.info("run %s (%s) finished", run.info.run_id, run_name)
    return run.info.run_id


def _follow(config: Config, splits, resume: dict | None) -> str:
    """The other processes of a multi-GPU launch (`accelerate launch`, `torchrun`) only take
    part in the training steps; the main process tracks, evaluates and saves."""
    if config.model.family != "transformer":
        return ""
    checkpoint = checkpoint_root(config, resume["run_name"]) / "last" if resume else None
    fine_tune(config, splits, checkpoint, resume is not None)
    return ""


def _start_run(config: Config, splits, version: str, root: Path, run_id: str,
               run_name: str) -> None:
    mlflow.log_params(flatten(config))
    mlflow.set_tags({"git_commit": tracking.git_commit(), "data_version": version,
                     "model_family": config.model.family})
    tracking.log_inputs(splits, config.data.path, version)
    root.mkdir(parents=True, exist_ok=True)
    (root / "run.json").write_text(json.dumps(
        {"run_id": run_id, "run_name": run_name, "config": dataclasses.asdict(config)}))


def _train_and_log(config: Config, splits, run_name: str, checkpoint: Path, resume: bool) -> None:
    started = time.perf_counter()
    if config.model.family == "transformer":
        model = fine_tune(config, splits, checkpoint, resume,
                          on_epoch_end=lambda epoch, m: mlflow.log_metrics(m, step=epoch))
    else:
        model = baselines.fit_baseline(config, splits["train"])
    mlflow.log_metric("train_seconds", time.perf_counter() - started)
    metrics = evaluate_and_log(split_probabilities(model, splits, config), splits)
    behaviour = tracking.log_behaviour(model.predict_proba,
                                       Path(config.data.path) / "behaviour.jsonl")
    if config.model.family == "transformer":
        finish_transformer(config, model, splits, metrics, behaviour, run_name)
    elif config.tracking.log_model:
        baselines.log_sklearn_model(model, example=splits["test"]["text"][0])


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    resume = None
    if args.resume:
        resume = find_resumable(load_config(args.config, args.set).output_dir, args.resume)
        config = config_from_dict(resume["config"], args.set)
    else:
        config = load_config(args.config, args.set)
    # SIGTERM (a scheduler, `kill`) ends the run like Ctrl-C: checkpoint kept, run KILLED.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        train(config, resume)
    except KeyboardInterrupt:
        logger.error("interrupted; continue with: python -m training.train --resume")
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    main()
