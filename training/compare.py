"""Print the runs of an experiment as a table, best validation macro-F1 first; or, with
`--paired A B`, whether run A is clearly better than run B on each held-out split (A or B may be
`RUN1+RUN2`, the average of those runs' probabilities).

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
    """A run of `experiment` by run name (the finished one, when a killed or failed attempt
    shares its name), or any run by id."""
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="list",
                              filter_string=f"attributes.run_name = '{name_or_id}'")
    if len(runs) > 1:
        runs = [r for r in runs if r.info.status == "FINISHED"] or runs
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


def predictions(run, split: str) -> dict[str, tuple[str, np.ndarray]] | None:
    """`{id: (true label, probabilities in LABELS order)}` from the run's logged predictions
    table, or None when the run has none for `split`."""
    try:
        local = mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path=f"eval/{split}_predictions.json")
    except (MlflowException, OSError):
        return None
    table = json.loads(Path(local).read_text(encoding="utf-8"))
    if "columns" in table:  # the format of mlflow.log_table
        table = {c: [row[i] for row in table["data"]] for i, c in enumerate(table["columns"])}
    proba = np.array([table[f"prob_{label}"] for label in LABELS]).T
    return {i: (t, p) for i, t, p in zip(table["id"], table["true"], proba)}


class Ensemble:
    """Runs named `A+B`: the average of their probabilities, compared like one run."""

    def __init__(self, runs: list):
        self.runs = runs
        self.name = "+".join(r.info.run_name for r in runs)


def _scored(model, split: str) -> dict[str, tuple[str, np.ndarray]] | None:
    runs = model.runs if isinstance(model, Ensemble) else [model]
    tables = [predictions(run, split) for run in runs]
    if any(t is None for t in tables):
        return None
    if any(t.keys() != tables[0].keys() for t in tables):
        raise ValueError(f"the runs of {_name(model)!r} scored different {split} passages")
    return {k: (tables[0][k][0], np.mean([t[k][1] for t in tables], axis=0)) for k in tables[0]}


def _name(model) -> str:
    return model.name if isinstance(model, Ensemble) else model.info.run_name


def paired_table(a, b, splits: list[str] | None = None) -> pd.DataFrame:
    """Macro-F1 of A and B per split (every held-out split both logged, by default), A minus B,
    and its 95% paired-bootstrap interval, from the predictions tables. A or B may be an
    `Ensemble` of runs."""
    rows = []
    for split in splits or [s for s in EVAL_SPLITS if s != "validation"]:
        scored_a, scored_b = _scored(a, split), _scored(b, split)
        if scored_a is None or scored_b is None:
            if splits:  # asked for by name: say which lacks it
                raise ValueError(f"{_name(a if scored_a is None else b)!r} has no predictions "
                                 f"table for split {split!r} (eval/{split}_predictions.json)")
            continue
        if scored_a.keys() != scored_b.keys() or any(
                scored_a[k][0] != scored_b[k][0] for k in scored_a):
            raise ValueError(f"the two were evaluated on different {split} passages or "
                             f"labels: retrain both on the same data")
        ids = sorted(scored_a)
        y = np.array([LABELS.index(scored_a[k][0]) for k in ids])
        pred_a, pred_b = (np.array([int(p[k][1].argmax()) for k in ids])
                          for p in (scored_a, scored_b))
        diff, low, high = paired_f1_difference(y, pred_a, pred_b, len(LABELS))
        rows.append({"split": split, "n": len(y), "f1_a": macro_f1(y, pred_a, len(LABELS)),
                     "f1_b": macro_f1(y, pred_b, len(LABELS)), "a_minus_b": diff, "ci_low": low,
                     "ci_high": high, "a_clearly_better": low > 0})
    if not rows:
        raise ValueError("the two share no held-out split with a predictions table")
    return pd.DataFrame(rows).round(4)


def find_model(name: str, experiment: str):
    """A run by name or id, or `A+B+...`: the ensemble averaging those runs' probabilities."""
    parts = name.split("+")
    return find_run(name, experiment) if len(parts) == 1 else Ensemble(
        [find_run(p, experiment) for p in parts])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/default.yaml",
                        help="the config whose tracking section names the store and experiment")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--paired", nargs=2, metavar=("A", "B"),
                        help="two run names or ids (or A1+A2 for the average of runs' "
                             "probabilities): is A clearly better than B?")
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
        a, b = (find_model(name, experiment) for name in args.paired)
        print(f"A = {_name(a)}, B = {_name(b)}; 95% paired-bootstrap "
              f"interval of macro-F1(A) - macro-F1(B)")
        print(paired_table(a, b, args.splits).to_string(index=False))
        return
    table = runs_table(experiment)
    print(table.to_string(index=False, na_rep="-") if not table.empty
          else f"no finished runs in experiment {experiment!r}")


if __name__ == "__main__":
    sys.exit(main())
