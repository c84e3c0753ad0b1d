"""`stance review`: the passages of a scored corpus most worth labeling, as a CSV with an empty
`label` column and as Label Studio import JSON (tasks with the model's guess as a prediction).

    stance review scored.parquet -n 200 --out to_label.csv
    # label them, then: stance data import to_label.csv --name my-corpus
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stance.scoring import PREFIX
from stance.tables import FORMATS

LABEL_STUDIO_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="label" toName="text" choice="single">
{choices}
  </Choices>
</View>
"""


def add_parser(sub) -> None:
    p = sub.add_parser("review", help="pick the passages most worth labeling from a scored file")
    p.add_argument("scored", help="a file written by `stance predict`")
    p.add_argument("-n", type=int, default=200, help="how many passages (default 200)")
    p.add_argument("--out", type=Path, default=Path("to_label.csv"),
                   help="CSV to write; the Label Studio JSON goes beside it (.labelstudio.json)")
    p.add_argument("--format", choices=FORMATS, help="of the scored file (default: extension)")
    p.add_argument("--text-column", default="text")
    p.add_argument("--id-column", default="id")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from stance.corpus.review import candidates, select
    from stance.fileio import atomic_file
    from stance.tables import delimited_text

    if args.n < 1:
        raise ValueError("-n must be >= 1")
    labels, pool = candidates(args.scored, args.n, args.format, args.text_column)
    picked = [pool[i] for i in select([r[args.text_column] for r in pool],
                                      [r["_margin"] for r in pool], args.n)]
    rows = [_row(r, args) for r in picked]
    columns = list(dict.fromkeys(k for r in rows for k in r if k != "label")) + ["label"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(args.out) as f:
        f.write(delimited_text(rows, columns, "csv", header=True))
    studio = args.out.with_suffix(".labelstudio.json")
    with atomic_file(studio) as f:
        json.dump([_task(r, args.text_column) for r in rows], f, ensure_ascii=False, indent=1)
    with atomic_file(args.out.with_suffix(".labelstudio.xml")) as f:
        f.write(LABEL_STUDIO_CONFIG.format(choices="\n".join(
            f'    <Choice value="{label}"/>' for label in labels)))
    print(f"stance: {len(rows)} passages to label (of {len(pool)} least sure) -> {args.out}, "
          f"{studio} (labeling config: {args.out.with_suffix('.labelstudio.xml')})", file=sys.stderr)
    return 0


def _row(values: dict, args: argparse.Namespace) -> dict:
    """The passage's own columns (no earlier label or predictions), the model's guess, its
    margin, and an empty `label` for the person."""
    own = {k: v for k, v in values.items()
           if not k.startswith(PREFIX) and not k.startswith("_") and k != "label"}
    if own.get(args.id_column) in (None, ""):
        own[args.id_column] = f"row-{values['_row']}"
    return own | {"model_label": values["_guess"], "model_margin": round(values["_margin"], 4),
                  "label": ""}


def _task(row: dict, text_column: str) -> dict:
    """One Label Studio task: the passage as `data.text`, the model's guess as a prediction."""
    data = {("text" if k == text_column else k): v for k, v in row.items() if k != "label"}
    task: dict = {"data": data}
    if row["model_label"]:
        task["predictions"] = [{"model_version": "stance", "score": 1 - row["model_margin"],
                                "result": [{"from_name": "label", "to_name": "text",
                                            "type": "choices",
                                            "value": {"choices": [row["model_label"]]}}]}]
    return task
