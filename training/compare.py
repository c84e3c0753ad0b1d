"""Print the runs of an experiment as a table, best validation macro-F1 first; or, with
`--paired A B`, whether run A is clearly better than run B on each evaluation split.

    python -m training.compare [--experiment stance] [--tracking-uri sqlite:///mlflow.db]
    python -m training.compare --paired transformer-20261128-072834 tfidf-20261128-072804
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from stance.data import data_version, read_splits
from stance.evaluation import macro_f1, paired_f1_difference
from stance.labels import LABELS

COLUMNS = {
    "tags.mlflow.runName": "run",
    "tags.model_family": "family",
    "params.training.learning_rate": "lr",
    "params.training.epochs": "epochs",
    "params.model.max_length": "max_len",
    "metrics.validation_f1_macro": "val_f1",
    "metrics.test_f1_macro": "test_f1",
    "metrics.challenge_f1_macro": "challenge_f1",
    "metrics.test_ece": "test_ece",
    "metrics.test_ece_uncalibrated": "test_ece_raw",
}


def runs_table(experiment: str) -> pd.DataFrame:
    """One row per finished run with a validation score, best first."""
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="pandas")
    if runs.empty or "metrics.validation_f1_macro" not in runs:
        return pd.DataFrame(columns=[*COLUMNS.values(), "minutes"])
    runs = runs[runs["metrics.validation_f1_macro"].notna()]
    table = runs.reindex(columns=list(COLUMNS)).rename(columns=COLUMNS)
    table["minutes"] = ((runs["end_time"] - runs["start_time"]).dt.total_seconds() / 60).round(1)
    for column in ("val_f1", "test_f1", "challenge_f1", "test_ece", "test_ece_raw"):
        table[column] = table[column].astype(float).round(4)
    table.loc[table["family"] != "transformer", ["lr", "epochs", "max_len"]] = "-"
    return table.sort_values("val_f1", ascending=False).reset_index(drop=True)


def find_run(name_or_id: str, experiment: str):
    """A run of `experiment` by run name, or any run by id."""
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="list",
                              filter_string=f"attributes.run_name = '{name_or_id}'")
    if len(runs) > 1:
        raise ValueError(f"{len(runs)} runs of experiment {experiment!r} are named "
                         f"{name_or_id!r}: give a run id")
    if runs:
        return runs[0]
    try:
        return mlflow.get_run(name_or_id)
    except MlflowException as exc:
        raise ValueError(f"no run named {name_or_id!r} in experiment {experiment!r}, "
                         f"and no run with that id") from exc


def predicted_labels(run, split: str, records: list[dict]) -> np.ndarray:
    """Every passage's predicted label id, rebuilt from the run's errors table, which lists
    every misclassified passage (the others were predicted right)."""
    local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id,
                                                artifact_path=f"eval/{split}_errors.json")
    table = json.loads(Path(local).read_text(encoding="utf-8"))
    if "columns" in table:  # the format of mlflow.log_table
        table = {c: [row[i] for row in table["data"]] for i, c in enumerate(table["columns"])}
    wrong = dict(zip(table["id"], table["predicted"]))
    return np.array([LABELS.index(wrong.get(r["id"], r["label"])) for r in records])


def paired_table(run_a, run_b, data: str, splits: list[str]) -> pd.DataFrame:
    """Macro-F1 of both runs per split, A minus B, and its 95% paired-bootstrap interval."""
    version = data_version(data)
    for run in (run_a, run_b):
        if run.data.tags.get("data_version") != version:
            raise ValueError(f"run {run.info.run_name!r} was trained on data version "
                             f"{run.data.tags.get('data_version')!r}, but {data!r} is "
                             f"{version!r}: the passages would not match")
    records = read_splits(data)
    missing = [split for split in splits if split not in records]
    if missing:
        raise ValueError(f"splits {missing} are not in {data!r} (it has {sorted(records)})")
    rows = []
    for split in splits:
        y = np.array([LABELS.index(r["label"]) for r in records[split]])
        pred_a, pred_b = (predicted_labels(run, split, records[split]) for run in (run_a, run_b))
        diff, low, high = paired_f1_difference(y, pred_a, pred_b, len(LABELS))
        rows.append({"split": split, "n": len(y), "f1_a": macro_f1(y, pred_a, len(LABELS)),
                     "f1_b": macro_f1(y, pred_b, len(LABELS)), "a_minus_b": diff, "ci_low": low,
                     "ci_high": high, "a_clearly_better": low > 0})
    return pd.DataFrame(rows).round(4)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="stance")
    parser.add_argument("--tracking-uri",
                        default=os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))
    parser.add_argument("--paired", nargs=2, metavar=("A", "B"),
                        help="two run names or ids: is A clearly better than B?")
    parser.add_argument("--splits", nargs="+", default=["test", "challenge"])
    parser.add_argument("--data", default="data", help="the data both runs were trained on")
    args = parser.parse_args(argv)
    mlflow.set_tracking_uri(args.tracking_uri)
    if args.paired:
        run_a, run_b = (find_run(name, args.experiment) for name in args.paired)
        print(f"A = {run_a.info.run_name}, B = {run_b.info.run_name}; 95% paired-bootstrap "
              f"interval of macro-F1(A) - macro-F1(B)")
        print(paired_table(run_a, run_b, args.data, args.splits).to_string(index=False))
        return
    table = runs_table(args.experiment)
    print(table.to_string(index=False, na_rep="-") if not table.empty
          else f"no finished runs in experiment {args.experiment!r}")


if __name__ == "__main__":
    main()
