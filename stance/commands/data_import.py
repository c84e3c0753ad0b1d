"""`stance data import`: store a labeled file as a user corpus for training.

    stance data import to_label.csv --name my-corpus
    make train ARGS="--set data.extra=[my-corpus]"
"""

from __future__ import annotations

import argparse
import json
import sys

from stance.tables import FORMATS


def add_parser(data_sub) -> None:
    p = data_sub.add_parser("import", help="store a labeled file (text, label) as data/user/NAME.jsonl")
    p.add_argument("input", help="JSONL, CSV, TSV, Parquet or XLSX with a text and a label column")
    p.add_argument("--name", required=True, help="the corpus name (data.extra=[NAME] trains on it)")
    p.add_argument("--path", default="data", help="data folder")
    p.add_argument("--format", choices=FORMATS)
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--id-column", default="id")
    p.add_argument("--replace", action="store_true", help="replace a corpus of the same name")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from stance.data.user import import_labeled, user_file
    from stance.fileio import atomic_file

    target = user_file(args.path, args.name)
    if target.exists() and not args.replace:
        raise ValueError(f"{target} exists; pass --replace to replace it")
    records, problems, unlabeled = import_labeled(args.input, args.name, args.path, args.format,
                                                  args.text_column, args.label_column,
                                                  args.id_column)
    for problem in problems[:50]:
        print(problem, file=sys.stderr)
    if problems:
        raise ValueError(f"{len(problems)} problem(s) in {args.input}; nothing imported")
    if not records:
        raise ValueError(f"{args.input}: no labeled rows ({unlabeled} without a label)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(target) as f:
        f.writelines(json.dumps({k: v for k, v in r.items() if k != "_where"}, ensure_ascii=False)
                     + "\n" for r in records)
    skipped = f", {unlabeled} rows without a label skipped" if unlabeled else ""
    print(f"stance: {len(records)} passages -> {target}{skipped}; train with "
          f"--set data.extra=[{args.name}]", file=sys.stderr)
    return 0
