"""Print the runs of an experiment as a table, best validation macro-F1 first.

    python -m training.compare [--experiment stance] [--tracking-uri sqlite:///mlflow.db]
"""

from __future__ import annotations

import argparse
import os

import mlflow
import pandas as pd

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="stance")
    parser.add_argument("--tracking-uri",
                        default=os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))
    args = parser.parse_args(argv)
    mlflow.set_tracking_uri(args.tracking_uri)
    table = runs_table(args.experiment)
    print(table.to_string(index=False, na_rep="-") if not table.empty
          else f"no finished runs in experiment {args.experiment!r}")


if __name__ == "__main__":
    main()
