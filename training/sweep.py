"""Run a grid of configs as child runs under one parent MLflow run.

    python -m training.sweep --sweep configs/sweep.yaml [--set training.epochs=1]

The sweep file names a base config and a grid of dotted keys to lists of values; every
combination becomes one training run, nested under the parent, so the MLflow UI can compare them
(parallel coordinates, charts). The parent records the best child by validation macro-F1.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import time
from pathlib import Path

import mlflow
import yaml

from stance.errors import report_errors
from stance.names import metric
from training import tracking
from training.config import load_config
from training.train import train

logger = logging.getLogger("training.sweep")


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


def run_sweep(sweep_path: str | Path, overrides: list[str] = ()) -> str:
    """Train every grid point as a child run; returns the parent run id."""
    base, grid = load_sweep(sweep_path)
    points = combinations(grid)
    configs = [load_config(base, [*overrides, *point]) for point in points]  # fail before training
    tracking.open_tracking(configs[0].tracking)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with mlflow.start_run(run_name=f"sweep-{stamp}") as parent:
        mlflow.set_tags({"model_family": "sweep", "git_commit": tracking.git_commit()})
        mlflow.log_dict({"base": base, "grid": grid, "overrides": list(overrides)}, "sweep.yaml")
        results = []
        for i, (point, config) in enumerate(zip(points, configs), 1):
            logger.info("sweep point %d/%d: %s", i, len(points), " ".join(point))
            name = f"sweep-{stamp}-{i:02d}"
            run_id = train(load_config(base, [*overrides, *point, f"run_name={name}"]))
            f1 = mlflow.get_run(run_id).data.metrics.get(metric("validation", "f1_macro"),
                                                        float("nan"))
            results.append((f1, run_id))
        best_f1, best_run = max(results)
        mlflow.log_metric("best_validation_f1_macro", best_f1)
        mlflow.set_tag("best_run_id", best_run)
        return parent.info.run_id


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", default="configs/sweep.yaml")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override applied to every run of the sweep")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of user errors")
    args = parser.parse_args(argv)
    return report_errors("sweep", lambda: run_sweep(args.sweep, args.set) and None, args.debug)


if __name__ == "__main__":
    sys.exit(main())
