"""Run a grid of configs as child runs under one parent MLflow run.

    python -m training.sweep --sweep configs/sweep.yaml [--set training.epochs=1] [--parallel 2]

The sweep file names a base config and a grid of dotted keys to lists of values; every
combination becomes one training run, nested under the parent, so the MLflow UI can compare them
(parallel coordinates, charts). The parent records the best child by validation macro-F1.
`--parallel N` trains N points at once, each in a process of its own sharing the cores (a GPU
each, or a CPU with cores to spare); they share the store, its schema set-up and its champion
promotion safely (`training.store`).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import mlflow
import yaml

from stance.errors import report_errors
from stance.names import metric
from training import tracking
from training.config import load_config
from training.train import train

logger = logging.getLogger("training.sweep")
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def load_sweep(path: str | Path) -> tuple[str, dict[str, list]]:
    """The base config path and the grid, validated: every key must be a config key."""
    spec = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    unknown = sorted(set(spec) - {"base", "grid"})
    if unknown or "base" not in spec or not isinstance(spec.get("grid"), dict):
        raise ValueError(f"{path}: needs exactly 'base' (a config file) and 'grid' (key: [values])"
                         + (f"; unknown key {unknown[0]!r}" if unknown else ""))
    for key, values in spec["grid"].items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"{path}: grid key {key!r} needs a non-empty list of values")
    return spec["base"], spec["grid"]


def combinations(grid: dict[str, list]) -> list[list[str]]:
    """Every point of the grid as a list of `key=value` overrides."""
    keys = list(grid)
    return [[f"{k}={v}" for k, v in zip(keys, values)]
            for values in itertools.product(*(grid[k] for k in keys))]


def _train_point(base: str, overrides: list[str], parent_run_id: str) -> str:
    """One grid point in a child process of a parallel sweep; returns its run id."""
    return train(load_config(base, overrides), parent_run_id=parent_run_id)


def _init_child(threads: int) -> None:
    import torch

    logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT)
    torch.set_num_threads(threads)  # N processes with every core each would only contend


def _train_points(base: str, jobs: list[list[str]], parent_run_id: str, parallel: int) -> list[str]:
    """Run ids of the grid points, trained one after another here or `parallel` at a time."""
    if parallel == 1:
        return [train(load_config(base, job)) for job in jobs]
    threads = max(1, len(os.sched_getaffinity(0)) // parallel)
    # spawn, not fork: a forked child would inherit this process's MLflow and torch state.
    with ProcessPoolExecutor(parallel, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_init_child, initargs=(threads,)) as pool:
        return list(pool.map(_train_point, [base] * len(jobs), jobs,
                             [parent_run_id] * len(jobs)))


def run_sweep(sweep_path: str | Path, overrides: list[str] = (), parallel: int = 1) -> str:
    """Train every grid point as a child run (`parallel` at a time); returns the parent run id."""
    if parallel < 1:
        raise ValueError(f"--parallel must be >= 1, got {parallel}")
    base, grid = load_sweep(sweep_path)
    points = combinations(grid)
    configs = [load_config(base, [*overrides, *point]) for point in points]  # fail before training
    tracking.open_tracking(configs[0].tracking)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with mlflow.start_run(run_name=f"sweep-{stamp}") as parent:
        mlflow.set_tags({"model_family": "sweep", "git_commit": tracking.git_commit()})
        mlflow.log_dict({"base": base, "grid": grid, "overrides": list(overrides)}, "sweep.yaml")
        logger.info("sweep of %d points, %d at a time: %s", len(points), parallel,
                    "; ".join(" ".join(point) for point in points))
        jobs = [[*overrides, *point, f"run_name=sweep-{stamp}-{i:02d}"]
                for i, point in enumerate(points, 1)]
        run_ids = _train_points(base, jobs, parent.info.run_id, parallel)
        results = [(mlflow.get_run(run_id).data.metrics.get(metric("validation", "f1_macro"),
                                                            float("nan")), run_id)
                   for run_id in run_ids]
        best_f1, best_run = max(results)
        mlflow.log_metric("best_validation_f1_macro", best_f1)
        mlflow.set_tag("best_run_id", best_run)
        return parent.info.run_id


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", default="configs/sweep.yaml")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override applied to every run of the sweep")
    parser.add_argument("--parallel", type=int, default=1, metavar="N",
                        help="train N grid points at once, in processes of their own")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of user errors")
    args = parser.parse_args(argv)
    return report_errors("sweep", lambda: run_sweep(args.sweep, args.set, args.parallel) and None,
                         args.debug)


if __name__ == "__main__":
    sys.exit(main())
