"""The `stance` command line.

    stance predict "Interceptors in Poland are aimed at Iran."
    stance predict --input passages.jsonl --output scored.jsonl --model models/my-run
    stance data check [--report]
    stance evaluate --model models:/stance-classifier@champion --split challenge
    stance promote 3
    stance export --onnx [--int8] models/my-run models/my-run-onnx
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from pathlib import Path

DEFAULT_MODEL = "models:/stance-classifier@champion"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stance", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    predict = sub.add_parser("predict", help="label passages given as arguments or JSONL")
    predict.add_argument("texts", nargs="*", help="passages to label")
    predict.add_argument("--model", default=DEFAULT_MODEL, help="folder or MLflow model URI")
    predict.add_argument("--input", type=Path, help="JSONL with a 'text' field per line")
    predict.add_argument("--output", type=Path, help="JSONL to write (default: stdout)")
    predict.add_argument("--text-field", default="text")
    predict.add_argument("--batch-size", type=int, default=32)
    predict.set_defaults(run=_predict)

    export = sub.add_parser("export", help="write a model folder for another runtime")
    export.add_argument("--onnx", action="store_true", required=True,
                        help="ONNX Runtime (the only format; needs the onnx extra)")
    export.add_argument("--int8", action="store_true", help="int8 weights (dynamic quantization)")
    export.add_argument("model", help="model folder or MLflow model URI")
    export.add_argument("out", type=Path, help="folder to write (must be new or empty)")
    export.set_defaults(run=_export)

    data = sub.add_parser("data", help="work with the labeled dataset")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    check = data_sub.add_parser("check", help="validate every record; print statistics")
    check.add_argument("--path", default="data")
    check.add_argument("--report", action="store_true", help="print the data-card statistics")
    check.set_defaults(run=_data_check)

    evaluate = sub.add_parser("evaluate", help="full evaluation report of a model on a split")
    evaluate.add_argument("--model", default=DEFAULT_MODEL, help="folder or MLflow model URI")
    evaluate.add_argument("--split", default="test",
                          choices=["train", "validation", "test", "challenge"])
    evaluate.add_argument("--data", default="data", help="data folder")
    evaluate.add_argument("--log-to", metavar="RUN_ID", help="log the report to this MLflow run")
    evaluate.set_defaults(run=_evaluate)

    promote = sub.add_parser("promote", help="point the champion alias at a model version")
    promote.add_argument("version")
    promote.add_argument("--name", default="stance-classifier", help="registered model name")
    promote.set_defaults(run=_promote)
    return parser


def _read_jsonl(path: Path, field: str) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: malformed JSON ({exc.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get(field), str):
                raise ValueError(f"{path}:{n}: needs a string field {field!r}")
            rows.append(row)
    return rows


def _write_jsonl_atomically(path: Path, rows: list[dict]) -> None:
    # A crash must never leave a truncated file that looks complete.
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def _predict(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from stance import StanceClassifier

    if bool(args.texts) == bool(args.input):
        raise ValueError("give passages as arguments or --input FILE, not both or neither")
    rows = _read_jsonl(args.input, args.text_field) if args.input else [
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
    if args.output:
        _write_jsonl_atomically(args.output, out)
    else:
        for row in out:
            print(json.dumps(row, ensure_ascii=False))
    return 0


def _export(args: argparse.Namespace) -> int:
    from stance.onnx_backend import export_onnx

    out = export_onnx(args.model, args.out, int8=args.int8)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _data_check(args: argparse.Namespace) -> int:
    from stance.datacheck import check_data, format_report

    result = check_data(args.path)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if args.report:
        print(format_report(result.stats))
    print(f"{result.n_records} records, {len(result.problems)} problem(s)", file=sys.stderr)
    return 1 if result.problems else 0


def _evaluate(args: argparse.Namespace) -> int:
    import tempfile

    from stance import StanceClassifier
    from stance.behaviour import load_cases, pass_rates, run_suite
    from stance.data import load_splits
    from stance.report import evaluate_split

    splits = load_splits(args.data)
    if args.split not in splits:
        raise ValueError(f"split {args.split!r} not found under {args.data}")
    dataset = splits[args.split]
    clf = StanceClassifier.from_pretrained(args.model)
    proba = clf.predict_proba(dataset["text"])
    with tempfile.TemporaryDirectory() as tmp:
        report = evaluate_split(args.split, dataset.to_dict(), proba, clf.labels, tmp)
        print(report.text)
        suite = Path(args.data) / "behaviour.jsonl"
        rates = pass_rates(run_suite(load_cases(suite), clf.predict_proba)) if suite.is_file() else {}
        if rates:
            print("behavioural suite: " + ", ".join(f"{k} {v:.0%}" for k, v in rates.items()))
        _maybe_log(report, rates, args.log_to)
    return 0


def _maybe_log(report, rates: dict[str, float], run_id: str | None) -> None:
    """Log to `run_id`, or to the active run when there is one; otherwise do nothing."""
    active = "mlflow" in sys.modules and sys.modules["mlflow"].active_run() is not None
    if run_id is None and not active:
        return
    import mlflow

    from stance.report import log_report

    with mlflow.start_run(run_id=run_id) if run_id else contextlib.nullcontext():
        log_report(report)
        mlflow.log_metrics({f"behaviour_{k}": v for k, v in rates.items()})
        print(f"logged to MLflow run {mlflow.active_run().info.run_id}", file=sys.stderr)


def _promote(args: argparse.Namespace) -> int:
    import mlflow

    client = mlflow.MlflowClient()
    try:
        client.get_model_version(args.name, args.version)
    except mlflow.exceptions.MlflowException as exc:
        raise ValueError(f"{args.name} version {args.version} not found: {exc.message}") from None
    client.set_registered_model_alias(args.name, "champion", args.version)
    print(f"{args.name}@champion -> version {args.version}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub from the CLI
    try:
        return args.run(args)
    except (ValueError, TypeError, OSError, ImportError) as exc:
        if args.debug:
            raise
        print(f"stance: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
