"""Train a stance model of any family and track the run in MLflow.

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
from accelerate import PartialState
from transformers import set_seed

from stance import StanceClassifier
from stance.data import data_version, load_splits
from stance.eval import Evaluation, evaluate
from stance.errors import report_errors
from stance.fileio import atomic_file
from stance.eval.model_card import model_card
from stance.data.user import split_name
from stance.names import EPOCH_PREFIX, EVAL_SPLITS, metric, tracking_uri, warn_if_new_store
from training import distill, tracking
from training.base_models import resolve_base_model
from training.checkpoint import has_checkpoint
from training.cpu_path import attach_cpu_path
from training.config import Config, config_from_dict, flatten, load_config
from training.families import FitContext, family

logger = logging.getLogger("training.train")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/default.yaml", help="YAML config file")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. training.epochs=2 (repeatable)")
    parser.add_argument("--resume", nargs="?", const="latest", metavar="RUN_ID",
                        help="continue an interrupted run (the latest, or RUN_ID) from its last "
                             "checkpoint, into the same MLflow run, with the config it started with")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of user errors")
    return parser.parse_args(argv)


def prepare_data(config: Config):
    """Load and validate every split (training refuses bad data), then apply smoke-run limits.
    User corpora (`data.extra`) join train and stay in the dict as their own splits, so they are
    logged and counted apart."""
    from datasets import concatenate_datasets

    d = config.data
    splits = load_splits(d.path, d.extra)
    for name, dataset in splits.items():
        limit = d.max_train_examples if name == "train" else d.max_eval_examples
        if name in EVAL_SPLITS + ("train",) and limit is not None and limit < len(dataset):
            splits[name] = dataset.shuffle(seed=d.subset_seed).select(range(limit))
    user = [splits[split_name(n)] for n in d.extra]
    if user:
        splits["train"] = concatenate_datasets([splits["train"], *user])
    return splits


def check_base_model(config: Config) -> None:
    """The family's own checks of the config, then resolve the encoder and check
    `model.max_length` against it, before anything is loaded."""
    module = family(config.model.family)
    getattr(module, "check", lambda _: None)(config)
    distill.check(config)
    if not getattr(module, "USES_BASE", False):
        return
    config_file = Path(resolve_base_model(config.model.base)) / "config.json"
    if config_file.is_file():
        limit = json.loads(config_file.read_text()).get("max_position_embeddings")
        if limit and config.model.max_length > limit:
            raise ValueError(f"config key 'model.max_length' is {config.model.max_length}, above "
                             f"the {limit} positions of base model {config.model.base!r}")


def calibrate_and_evaluate(config: Config, clf: StanceClassifier, splits,
                           out: Path) -> tuple[Evaluation, dict]:
    """One forward pass per evaluation split: the temperature is fitted on validation's logits
    (when `training.calibrate`), and every split is reported from the same logits (returned)."""
    names = [s for s in EVAL_SPLITS if s in splits]
    batch = config.training.eval_batch_size
    logits = {s: clf.logits(splits[s]["text"], batch) for s in names}
    if config.training.calibrate:
        mlflow.log_metric("temperature", clf.calibrate(logits["validation"],
                                                       splits["validation"]["label"]))
    result = evaluate(clf, {s: splits[s].to_dict() for s in names}, out, logits=logits,
                      behaviour=Path(config.data.path) / "behaviour.jsonl", batch_size=batch)
    return result, logits


def save_and_log(config: Config, clf: StanceClassifier, splits, result: Evaluation,
                 run_name: str, extra_files: dict[str, Path]) -> None:
    """Save the folder with its model card, log it as a pyfunc model, register, maybe promote."""
    metrics = result.metrics
    slices = sorted((v, k.split("__", 1)[1]) for k, v in metrics.items()
                    if k.startswith(metric("test", "f1_macro__")))
    card = model_card(run_name=run_name, family=config.model.family,
                      base=config.model.base if getattr(family(config.model.family), "USES_BASE",
                                                        False) else "",
                      data_counts={s: len(d) for s, d in splits.items()}, metrics=metrics,
                      temperature=clf.temperature, behaviour=result.behaviour,
                      weakest_slices=[f"{name} {v:.2f}" for v, name in slices[:5]])
    folder = clf.save_pretrained(Path(config.output_dir) / run_name, card=card,
                                 extra_files=extra_files)
    mlflow.log_text(card, "model_card/README.md")
    tracking.describe_run(run_name, config.model.family, metrics)
    if config.tracking.log_model:
        info = tracking.log_pyfunc_model(folder, clf.labels, config.tracking.registered_model,
                                         example=splits["test"]["text"][0])
        tracking.describe_model_version(config.tracking.registered_model, info, metrics)
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


def train(config: Config, resume: dict | None = None, parent_run_id: str | None = None) -> str:
    """Run one training (or continue the interrupted one described by `resume`); returns its
    MLflow run id. The run ends FINISHED, KILLED on Ctrl-C/SIGTERM, or FAILED on an error.
    It is nested under the active run, or under `parent_run_id` (a sweep's child process)."""
    check_base_model(config)
    splits = prepare_data(config)  # bad data fails before anything is written to the store
    version = data_version(config.data.path, config.data.extra)
    set_seed(config.seed)  # once, before any model (and its new head) is built
    if not PartialState().is_main_process:
        return _follow(config, splits, resume)
    warn_if_new_store(tracking_uri(config.tracking.uri))
    tracking.open_tracking(config.tracking)
    # Logged once the store is open, so that a bad store is the only line a user sees.
    logger.info("data %s: %s passages", config.data.path, {s: len(d) for s, d in splits.items()})
    run_name = (resume or {}).get("run_name") or config.run_name or \
        f"{config.model.family}-{time.strftime('%Y%m%d-%H%M%S')}"
    root = checkpoint_root(config, run_name)
    if resume:
        run = mlflow.start_run(run_id=resume["run_id"])
    else:
        run = mlflow.start_run(run_name=run_name, nested=mlflow.active_run() is not None,
                               parent_run_id=parent_run_id)
    tracking.tag_experiment(run.info.experiment_id)
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
    module = family(config.model.family)
    if getattr(module, "DISTRIBUTED", False):
        checkpoint = checkpoint_root(config, resume["run_name"]) / "last" if resume else None
        module.fit(config, splits, FitContext(checkpoint, resume is not None))
    return ""


def _start_run(config: Config, splits, version: str, root: Path, run_id: str,
               run_name: str) -> None:
    mlflow.log_params(flatten(config))
    mlflow.set_tags({"git_commit": tracking.git_commit(), "data_version": version,
                     "model_family": config.model.family,
                     **({"data_extra": ",".join(config.data.extra)} if config.data.extra else {})})
    user = {split_name(n) for n in config.data.extra}
    tracking.log_inputs({k: v for k, v in splits.items() if k not in user}, config.data.path, version)
    tracking.log_user_inputs(splits, config.data.path, config.data.extra, version)
    root.mkdir(parents=True, exist_ok=True)
    with atomic_file(root / "run.json") as f:  # --resume reads it: never half-written
        json.dump({"run_id": run_id, "run_name": run_name, "config": dataclasses.asdict(config)},
                  f)


def _log_epoch(epoch: int, metrics: dict[str, float]) -> None:
    mlflow.log_metrics({EPOCH_PREFIX + k: v for k, v in metrics.items()}, step=epoch)


def _train_and_log(config: Config, splits, run_name: str, checkpoint: Path, resume: bool) -> None:
    started = time.perf_counter()
    clf = family(config.model.family).fit(config, splits, FitContext(checkpoint, resume, _log_epoch,
                                                                   mlflow.log_metrics))
    mlflow.log_metric("train_seconds", time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        result, logits = calibrate_and_evaluate(config, clf, splits, Path(tmp))
        result.log_to_mlflow()
        extra_files = {}
        if config.training.onnx_int8:
            extra_files, checks = attach_cpu_path(clf, splits, logits, Path(tmp))
            mlflow.log_metrics(checks)
        save_and_log(config, clf, splits, result, run_name, extra_files)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    # SIGTERM (a scheduler, `kill`) ends the run like Ctrl-C: checkpoint kept, run KILLED.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return report_errors("training", lambda: _run(args), args.debug)
    except KeyboardInterrupt:
        logger.error("interrupted; continue with: python -m training.train --resume")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> None:
    resume = None
    if args.resume:
        resume = find_resumable(load_config(args.config, args.set).output_dir, args.resume)
        config = config_from_dict(resume["config"], args.set)
    else:
        config = load_config(args.config, args.set)
    train(config, resume)


if __name__ == "__main__":
    sys.exit(main())
