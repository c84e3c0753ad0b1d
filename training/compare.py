"""Print the runs of an experiment as a table, best validation macro-F1 first; or, with
`--paired A B`, whether run A is clearly better than run B on each evaluation split.

    python -m training.compare [--config configs/default.yaml] [--set tracking.experiment=...]
    python -m training.compare --paired transformer-20261128-072834 tfidf-20261128-072804

The store and experiment come from the config's `tracking` section, as for training.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from stance.errors import report_errors
from stance.eval.metrics import macro_f1, paired_f1_difference
from stance.labels import LABELS
from stance.names import EVAL_SPLITS, metric
from training import tracking
from training.config import load_config

COLUMNS = {
    "tags.mlflow.runName": "run",
    "tags.model_family": "family",
    "params.training.learning_rate": "lr",
    "params.training.epochs": "epochs",
    "params.model.max_length": "max_len",
    **{f"metrics.{metric(s, 'f1_macro')}": f"{s}_f1" for s in EVAL_SPLITS},
    "metrics.news_ece": "news_ece",
    "metrics.test_ece": "test_ece",
}
_SORT = f"metrics.{metric('validation', 'f1_macro')}"


def runs_table(experiment: str) -> pd.DataFrame:
    """One row per finished run with a validation score, best first."""
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="pandas")
    if runs.empty or _SORT not in runs:
        return pd.DataFrame(columns=[*COLUMNS.values(), "minutes"])
    runs = runs[runs[_SORT].notna()]
    table = runs.reindex(columns=list(COLUMNS)).rename(columns=COLUMNS)
    table["minutes"] = ((runs["end_time"] - runs["start_time"]).dt.total_seconds() / 60).round(1)
    for column in [c for c in COLUMNS.values() if c.endswith(("_f1", "_ece"))]:
        table[column] = table[column].astype(float).round(4)
    table.loc[table["family"] != "transformer", ["lr", "epochs", "max_len"]] = "-"
    return table.sort_values("validation_f1", ascending=False).reset_index(drop=True)


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


def predictions(run, split: str) -> dict[str, tuple[str, str]] | None:
    """`{id: (true label, predicted label)}` from the run's logged predictions table, or None
    when the run has none for `split`."""
    try:
        local = mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path=f"eval/{split}_predictions.json")
    except (MlflowException, OSError):
        return None
    table = json.loads(Path(local).read_text(encoding="utf-8"))
    if "columns" in table:  # the format of mlflow.log_table
        table = {c: [row[i] for row in table["data"]] for i, c in enumerate(table["columns"])}
    return {i: (t, p) for i, t, p in zip(table["id"], table["true"], table["predicted"])}


def paired_table(run_a, run_b, splits: list[str] | None = None) -> pd.DataFrame:
    """Macro-F1 of both runs per split (every held-out split both logged, by default), A minus
    B, and its 95% paired-bootstrap interval, from the runs' predictions tables."""
    rows = []
    for split in splits or [s for s in EVAL_SPLITS if s != "validation"]:
        a, b = predictions(run_a, split), predictions(run_b, split)
        if a is None or b is None:
            if splits:  # asked for by name: say which run lacks it
                lacking = run_a if a is None else run_b
                raise ValueError(f"run {lacking.info.run_name!r} has no predictions table for "
                                 f"split {split!r} (eval/{split}_predictions.json)")
            continue
        if a.keys() != b.keys() or any(a[k][0] != b[k][0] for k in a):
            raise ValueError(f"the two runs were evaluated on different {split} passages or "
                             f"labels: retrain both on the same data")
        ids = sorted(a)
        y = np.array([LABELS.index(a[k][0]) for k in ids])
        pred_a, pred_b = (np.array([LABELS.index(p[k][1]) for k in ids]) for p in (a, b))
        diff, low, high = paired_f1_difference(y, pred_a, pred_b, len(LABELS))
        rows.append({"split": split, "n": len(y), "f1_a": macro_f1(y, pred_a, len(LABELS)),
                     "f1_b": macro_f1(y, pred_b, len(LABELS)), "a_minus_b": diff, "ci_low": low,
                     "ci_high": high, "a_clearly_better": low > 0})
    if not rows:
        raise ValueError("the two runs share no held-out split with a predictions table")
    return pd.DataFrame(rows).round(4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/default.yaml",
                        help="the config whose tracking section names the store and experiment")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--paired", nargs=2, metavar=("A", "B"),
                        help="two run names or ids: is A clearly better than B?")
    parser.add_argument("--splits", nargs="+",
                        help="splits to compare (default: every held-out split both runs have)")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    return report_errors("compare", lambda: _run(args), args.debug)


def _run(args: argparse.Namespace) -> None:
    config = load_config(args.config, args.set)
    tracking.open_tracking(config.tracking)
    experiment = config.tracking.experiment
    if args.paired:
        run_a, run_b = (find_run(name, experiment) for name in args.paired)
        print(f"A = {run_a.info.run_name}, B = {run_b.info.run_name}; 95% paired-bootstrap "
              f"interval of macro-F1(A) - macro-F1(B)")
        print(paired_table(run_a, run_b, args.splits).to_string(index=False))
        return
    table = runs_table(experiment)
    print(table.to_string(index=False, na_rep="-") if not table.empty
          else f"no finished runs in experiment {experiment!r}")


if __name__ == "__main__":
    sys.exit(main())
