"""`stance evaluate`: the full report of a model on a split of the data folder, or on any labeled
file (a text and a label column, nothing else required), saved to a folder.

    stance evaluate --split challenge
    stance evaluate --input labeled.csv --by source --out report/ [--log-to RUN_ID]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import tempfile
from pathlib import Path

from stance.names import DEFAULT_MODEL_URI, EVAL_SPLITS, TRAIN_SPLIT
from stance.tables import FORMATS


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="full evaluation report of a model on a split or a file")
    p.add_argument("--model", default=DEFAULT_MODEL_URI, help="folder or MLflow model URI")
    p.add_argument("--split", default="test", choices=[TRAIN_SPLIT, *EVAL_SPLITS])
    p.add_argument("--data", default="data", help="data folder")
    p.add_argument("--input", help="a labeled file (JSONL, CSV, TSV, Parquet, XLSX) instead of a split")
    p.add_argument("--input-format", choices=FORMATS)
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--id-column", default="id")
    p.add_argument("--by", action="append", default=[], metavar="COLUMN",
                   help="report macro-F1 per value of this column (repeatable)")
    p.add_argument("--name", help="the split's name in metric names (default: the file's stem)")
    p.add_argument("--out", type=Path, help="folder to save the report in (--input default: "
                                            "<stem>-report)")
    p.add_argument("--log-to", metavar="RUN_ID", help="log the report to this MLflow run")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from stance import StanceClassifier
    from stance.eval import evaluate

    if args.input:
        name, records, slice_by = _from_file(args)
    else:
        name, records, slice_by = _from_split(args)
    clf = StanceClassifier.from_pretrained(args.model)
    out = args.out or (Path(f"{Path(args.input).stem}-report") if args.input else None)
    if out is not None:
        from stance.fileio import check_replaceable

        check_replaceable(out, "metrics.json")
    behaviour = None if args.input else Path(args.data) / "behaviour.jsonl"
    with _folder(out) as folder:
        result = evaluate(clf, {name: records}, folder, behaviour=behaviour, slice_by=slice_by)
        if out is not None:
            _save_tables(result, folder)
        print(result.text)
        _maybe_log(result, args.log_to)
    if out is not None:
        print(f"stance: report saved to {out}/", file=sys.stderr)
    return 0


def _from_split(args: argparse.Namespace):
    from stance.data import load_splits
    from stance.eval.metrics import SLICE_COLUMNS

    splits = load_splits(args.data)
    if args.split not in splits:
        raise ValueError(f"split {args.split!r} not found under {args.data}")
    return args.split, splits[args.split].to_dict(), tuple(args.by) or SLICE_COLUMNS


def _from_file(args: argparse.Namespace):
    from stance.data.labeled import as_records, read_labeled

    labeled = read_labeled(args.input, args.input_format, args.text_column, args.label_column,
                           args.by)
    labeled.raise_problems(args.input)
    records = as_records(labeled.rows, args.text_column, args.label_column, args.by,
                         args.id_column)
    name = args.name or re.sub(r"[^a-z0-9_]+", "_", Path(args.input).stem.lower()).strip("_")
    return name or "labeled", records, tuple(args.by)


@contextlib.contextmanager
def _folder(out: Path | None):
    """The folder to write into: `out`, filled under a temporary name and renamed at the end,
    or a temporary folder when nothing is to be kept."""
    from stance.fileio import atomic_folder

    if out is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield Path(tmp)
    else:
        with atomic_folder(out) as tmp:
            yield tmp


def _save_tables(result, folder: Path) -> None:
    """The report's tables as CSV files beside its figures, and its metrics as JSON."""
    import pandas as pd

    for report in result.reports.values():
        for name, table in report.tables.items():
            pd.DataFrame(table).to_csv(folder / name.replace(".json", ".csv"), index=False)
    (folder / "metrics.json").write_text(json.dumps(result.metrics, indent=1, sort_keys=True),
                                         encoding="utf-8")


def _maybe_log(result, run_id: str | None) -> None:
    """Log to `run_id`, or to the active run when there is one; otherwise do nothing."""
    active = "mlflow" in sys.modules and sys.modules["mlflow"].active_run() is not None
    if run_id is None and not active:
        return
    import mlflow

    with mlflow.start_run(run_id=run_id) if run_id else contextlib.nullcontext():
        result.log_to_mlflow()
        print(f"logged to MLflow run {mlflow.active_run().info.run_id}", file=sys.stderr)
