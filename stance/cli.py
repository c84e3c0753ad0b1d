"""The `stance` command line.

    stance predict "Interceptors in Poland are aimed at Iran."
    stance predict --input corpus.csv --output scored.parquet --explain [--resume]
    stance data check [--report] [--profile [FILE ...]]
    stance evaluate --model models:/stance-classifier@champion --split news
    stance promote 3
    stance export --format onnx [--int8] models/my-run models/my-run-onnx
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from stance.errors import report_errors
from stance.names import REGISTERED_MODEL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stance", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    from stance.commands import predict

    predict.add_parser(sub)

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
    check.add_argument("--extra", action="append", default=[], metavar="NAME",
                       help="also check the user corpus data/user/NAME.jsonl (repeatable)")
    check.add_argument("--profile", nargs="*", metavar="FILE",
                       help="print the realism profile of every split (or of these JSONL files) "
                            "beside the real-text targets")
    check.set_defaults(run=_data_check)
    from stance.commands import data_import

    data_import.add_parser(data_sub)

    from stance.commands import evaluate, review, summarize

    evaluate.add_parser(sub)
    summarize.add_parser(sub)
    review.add_parser(sub)

    promote = sub.add_parser("promote", help="point the champion alias at a model version")
    promote.add_argument("version")
    promote.add_argument("--name", default=REGISTERED_MODEL, help="registered model name")
    promote.set_defaults(run=_promote)
    return parser


def _export(args: argparse.Namespace) -> int:
    from stance.export import export

    out = export(args.model, args.out, format=args.format, int8=args.int8)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _data_check(args: argparse.Namespace) -> int:
    from stance.data import check_data
    from stance.data.checks import format_report

    result = check_data(args.path, args.extra)
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
