"""The `stance` command line.

    stance predict "Interceptors in Poland are aimed at Iran."
    stance predict --input passages.jsonl --output scored.jsonl --model models/my-run
    stance data check [--report] [--profile [FILE ...]]
    stance evaluate --model models:/stance-classifier@champion --split news
    stance promote 3
    stance export --format onnx [--int8] models/my-run models/my-run-onnx
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from pathlib import Path

from stance.errors import report_errors
from stance.names import DEFAULT_MODEL_URI, EVAL_SPLITS, REGISTERED_MODEL, TRAIN_SPLIT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stance", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    predict = sub.add_parser("predict", help="label passages given as arguments or JSONL")
    predict.add_argument("texts", nargs="*", help="passages to label")
    predict.add_argument("--model", default=DEFAULT_MODEL_URI, help="folder or MLflow model URI")
    predict.add_argument("--input", type=Path, help="JSONL with a 'text' field per line")
    predict.add_argument("--output", type=Path, help="JSONL to write (default: stdout)")
    predict.add_argument("--text-field", default="text")
    predict.add_argument("--batch-size", type=int, default=32)
    predict.set_defaults(run=_predict)

    from stance.export import FORMATS

    export = sub.add_parser("export", help="write a model folder for another runtime")
    export.add_argument("--format", default="onnx", choices=list(FORMATS))
    export.add_argument("--int8", action="store_true", help="int8 weights (dynamic quantization)")
    export.add_argument("model", help="model folder or MLflow model URI")
    export.add_argument("out", type=Path, help="folder to write (must be new or empty)")
    export.set_defaults(run=_export)

    data = sub.add_parser("data", help="work with the labeled dataset")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    check = data_sub.add_parser("check", help="validate every record; print statistics")
    check.add_argument("--path", default="data")
    check.add_argument("--report", action="store_true", help="print the data-card statistics")
    check.add_argument("--profile", nargs="*", metavar="FILE",
                       help="print the realism profile of every split (or of these JSONL files) "
                            "beside the real-text targets")
    check.set_defaults(run=_data_check)

    evaluate = sub.add_parser("evaluate", help="full evaluation report of a model on a split")
    evaluate.add_argument("--model", default=DEFAULT_MODEL_URI, help="folder or MLflow model URI")
    evaluate.add_argument("--split", default="test", choices=[TRAIN_SPLIT, *EVAL_SPLITS])
    evaluate.add_argument("--data", default="data", help="data folder")
    evaluate.add_argument("--log-to", metavar="RUN_ID", help="log the report to this MLflow run")
    evaluate.set_defaults(run=_evaluate)

    promote = sub.add_parser("promote", help="point the champion alias at a model version")
    promote.add_argument("version")
    promote.add_argument("--name", default=REGISTERED_MODEL, help="registered model name")
    promote.set_defaults(run=_promote)
    return parser


def _read_rows(path: Path, field: str) -> list[dict]:
    from stance.fileio import read_jsonl

    rows = []
    for n, row in read_jsonl(path):
        if not isinstance(row, dict) or not isinstance(row.get(field), str):
            raise ValueError(f"{path}:{n}: needs a string field {field!r}")
        rows.append(row)
    return rows


def _predict(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from stance import StanceClassifier
    from stance.fileio import atomic_file

    if bool(args.texts) == bool(args.input):
        raise ValueError("give passages as arguments or --input FILE, not both or neither")
    rows = _read_rows(args.input, args.text_field) if args.input else [
        {"text": t} for t in args.texts]
    field = args.text_field if args.input else "text"
    clf = StanceClassifier.from_pretrained(args.model)
    out = []
    bar = tqdm(total=len(rows), desc="scoring", unit="passage", file=sys.stderr,
               disable=len(rows) < 2 * args.batch_size)
    for start in range(0, len(rows), args.batch_size):
        chunk = rows[start : start + args.batch_size]
        preds = clf.predict([r[field] for r in chunk], batch_size=args.batch_size)
        out.extend(r | {"label": p.label, "scores": p.scores} for r, p in zip(chunk, preds))
        bar.update(len(chunk))
    bar.close()
    lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in out]
    if args.output:
        with atomic_file(args.output) as f:
            f.writelines(lines)
    else:
        sys.stdout.writelines(lines)
    return 0


def _export(args: argparse.Namespace) -> int:
    from stance.export import export

    out = export(args.model, args.out, format=args.format, int8=args.int8)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _data_check(args: argparse.Namespace) -> int:
    from stance.data import check_data
    from stance.data.checks import format_report

    result = check_data(args.path)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if args.report:
        print(format_report(result.stats))
    if args.profile is not None:
        print(_profiles(args.path, args.profile))
    print(f"{result.n_records} records, {len(result.problems)} problem(s)", file=sys.stderr)
    return 1 if result.problems else 0


def _profiles(data: str, files: list[str]) -> str:
    """Every split (or the given files), plus the third writing round's passages of the
    trained-on splits when the records say their round."""
    from stance.data import split_files
    from stance.data.profile import profile, read_jsonl, report

    paths = [Path(f) for f in files] or list(split_files(data).values())
    records = {p.stem: read_jsonl(p) for p in paths}
    latest = [r for name in ("train", "validation", "test") for r in records.get(name, [])
              if r.get("round") == "3"]
    columns = {name: profile(rows) for name, rows in records.items()}
    if latest and not files:
        columns["round 3"] = profile(latest)
    return report(columns)


def _evaluate(args: argparse.Namespace) -> int:
    import tempfile

    from stance import StanceClassifier
    from stance.data import load_splits
    from stance.eval import evaluate

    splits = load_splits(args.data)
    if args.split not in splits:
        raise ValueError(f"split {args.split!r} not found under {args.data}")
    clf = StanceClassifier.from_pretrained(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        result = evaluate(clf, {args.split: splits[args.split].to_dict()}, tmp,
                          behaviour=Path(args.data) / "behaviour.jsonl")
        print(result.text)
        _maybe_log(result, args.log_to)
    return 0


def _maybe_log(result, run_id: str | None) -> None:
    """Log to `run_id`, or to the active run when there is one; otherwise do nothing."""
    active = "mlflow" in sys.modules and sys.modules["mlflow"].active_run() is not None
    if run_id is None and not active:
        return
    import mlflow

    with mlflow.start_run(run_id=run_id) if run_id else contextlib.nullcontext():
        result.log_to_mlflow()
        print(f"logged to MLflow run {mlflow.active_run().info.run_id}", file=sys.stderr)


def _promote(args: argparse.Namespace) -> int:
    import mlflow

    from stance.names import CHAMPION

    client = mlflow.MlflowClient()
    try:
        client.get_model_version(args.name, args.version)
    except mlflow.exceptions.MlflowException as exc:
        raise ValueError(f"{args.name} version {args.version} not found: {exc.message}") from None
    client.set_registered_model_alias(args.name, CHAMPION, args.version)
    print(f"{args.name}@{CHAMPION} -> version {args.version}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub from the CLI
    return report_errors("stance", lambda: args.run(args), args.debug)


if __name__ == "__main__":
    sys.exit(main())
