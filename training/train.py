"""Fine-tune a stance classifier and track the run in MLflow.

    python -m training.train --config configs/default.yaml --set training.epochs=2
"""

from __future__ import annotations

import argparse
import logging
import shutil
import time
from pathlib import Path

import mlflow
from transformers import set_seed

from stance import StanceClassifier
from stance.base_models import resolve_base_model
from stance.data import data_version, load_splits
from training import tracking
from training.config import Config, flatten, load_config
from training.trainer import Trainer

logger = logging.getLogger("training.train")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/default.yaml", help="YAML config file")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. training.epochs=2 (repeatable)")
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


def train(config: Config) -> str:
    """Run one training and return its MLflow run id."""
    splits = prepare_data(config)
    version = data_version(config.data.path)
    set_seed(config.seed)  # once, before the model (and its new head) is built
    base = resolve_base_model(config.model.base)
    clf = StanceClassifier.from_base(base, config.model.max_length, config.training.device)
    tracking.open_tracking(config.tracking)
    run_name = config.run_name or f"{Path(config.model.base).name}-{time.strftime('%Y%m%d-%H%M%S')}"
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params(flatten(config))
        mlflow.set_tags({"git_commit": tracking.git_commit(), "data_version": version,
                         "model_family": "transformer", "base_model_path": base})
        tracking.log_inputs(splits, config.data.path, version)
        trainer = Trainer(clf, config.training, seed=config.seed,
                          on_epoch_end=lambda epoch, m: mlflow.log_metrics(m, step=epoch))
        started = time.perf_counter()
        trainer.fit(splits["train"], splits["validation"])
        mlflow.log_metric("train_seconds", time.perf_counter() - started)
        for name in ("validation", "test", "challenge"):
            if name in splits:
                proba = clf.predict_proba(splits[name]["text"], config.training.eval_batch_size)
                tracking.log_evaluation(name, splits[name], proba, clf.labels)
        folder = save_atomically(clf, Path(config.output_dir) / run_name)
        if config.tracking.log_model:
            tracking.log_pyfunc_model(folder, clf.labels, config.tracking.registered_model,
                                      example=splits["test"]["text"][0])
        logger.info("run %s (%s) done; model saved to %s", run.info.run_id, run_name, folder)
        return run.info.run_id


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    config = load_config(args.config, args.set)
    train(config)


if __name__ == "__main__":
    main()
