"""`stance summarize`: stance shares of a scored file per group with bootstrap intervals, charts and
a one-page HTML report, optionally corrected for the model's errors with a labeled sample.

    stance summarize scored.parquet --by source --by month --out report/
    stance summarize scored.parquet --by source --calibrate-with labeled.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stance.names import DEFAULT_MODEL_URI
from stance.tables import FORMATS


def add_parser(sub) -> None:
    p = sub.add_parser("summarize", help="stance shares per group, charts and an HTML report")
    p.add_argument("scored", help="a file written by `stance predict`")
    p.add_argument("--format", choices=FORMATS, help="default: from the extension")
    p.add_argument("--by", action="append", default=[], metavar="KEY",
                   help="a column, or day/week/month/quarter/year of --date-column (repeatable)")
    p.add_argument("--date-column", default="date")
    p.add_argument("--text-column", default="text")
    p.add_argument("--id-column", default="id")
    p.add_argument("--out", type=Path, default=Path("report"), help="folder to write (default: report)")
    p.add_argument("--calibrate-with", metavar="LABELED",
                   help="a labeled sample (text, label): correct the shares for the model's errors")
    p.add_argument("--label-column", default="label")
    p.add_argument("--model", default=DEFAULT_MODEL_URI,
                   help="scores --calibrate-with when it has no pred_label column")
    p.add_argument("--min-confidence", type=float,
                   help="when scoring --calibrate-with: the threshold the corpus was scored with")
    p.add_argument("--title", default="Stance in the corpus")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from stance.corpus.report import html_report
    from stance.corpus.scored import read_scored
    from stance.corpus.summary import group_shares, groupings, table_rows, text_table
    from stance.fileio import atomic_folder, check_replaceable

    check_replaceable(args.out, "summary.json")
    scored = read_scored(args.scored, args.by, args.format, args.date_column, args.text_column,
                         args.id_column)
    calibration = _calibration(args, scored.labels) if args.calibrate_with else None
    tables = {keys: group_shares(scored, keys, calibration) for keys in groupings(args.by)}
    method = _method(calibration)
    with atomic_folder(args.out) as folder:
        charts = _charts(scored, tables, args.by, folder, calibration)
        for keys, groups in tables.items():
            _write_csv(table_rows(groups, scored.labels),
                       folder / f"shares_{'_'.join(keys) or 'overall'}.csv")
        (folder / "summary.json").write_text(json.dumps(
            {"rows": scored.rows, "labeled": len(scored.predicted), "abstained": scored.abstained,
             "bad": scored.bad, "method": method,
             "shares": {"_".join(k) or "overall": table_rows(g, scored.labels)
                        for k, g in tables.items()}}, indent=1), encoding="utf-8")
        (folder / "report.html").write_text(html_report(args.title, scored, tables, method, charts),
                                            encoding="utf-8")
    for groups in tables.values():
        print(text_table(groups, scored.labels) + "\n")
    print(method)
    print(f"stance: report written to {args.out / 'report.html'}", file=sys.stderr)
    return 0


def _method(calibration) -> str:
    if calibration is None:
        return ("Shares are raw classify-and-count: the share of passages given each label. They "
                "lean the way the model's errors lean; pass --calibrate-with a labeled sample to "
                "correct them.")
    return (f"Shares are adjusted classify-and-count: corrected with the model's confusion matrix "
            f"on {calibration.n} labeled passages from {calibration.source} (intervals resample "
            "both the corpus and that sample)."
            + (" Warning: on that sample the model tells the labels apart too poorly (its "
               "confusion matrix is close to singular), so the correction is unreliable."
               if calibration.unreliable() else ""))


def _charts(scored, tables, by, folder: Path, calibration) -> dict[str, Path | None]:
    """Shares per group (the first non-period key, else the period) and, with a period key, stance
    over time per group."""
    from stance.corpus.charts import over_time_png, shares_png
    from stance.corpus.summary import group_shares, time_and_group_keys

    time, group = time_and_group_keys(by)
    bars = tables[(group or time,)] if (group or time) else tables[()]
    charts = {"shares": shares_png([(g.name, g.shares) for g in bars], scored.labels,
                                   folder / "shares.png", f"Stance by {group or time or 'all'}"),
              "over_time": None}
    if time:
        points = tables[(time,)] if not group else tables.get((group, time)) or \
            group_shares(scored, (group, time), calibration)
        series: dict[str, list] = {}
        for g in points:
            values = dict(zip(g.keys, g.values))
            series.setdefault(values.get(group, "all"), []).append((values[time], g.shares))
        per = f" per {group}" if group else ""
        charts["over_time"] = over_time_png(series, scored.labels, folder / "over_time.png",
                                            f"Stance over time ({time}){per}")
    return charts


def _write_csv(rows: list[dict], path: Path) -> None:
    import pandas as pd

    pd.DataFrame(rows).to_csv(path, index=False)


def _calibration(args: argparse.Namespace, labels: list[str]):
    """The confusion counts of the model on the labeled sample: from its own `pred_label` column
    when it was scored already (`stance predict`, with the corpus's settings), else scored now
    with --model and --min-confidence."""
    from stance.corpus.summary import calibration_from
    from stance.data.labeled import read_labeled
    from stance.scoring import LABEL

    labeled = read_labeled(args.calibrate_with, None, args.text_column, args.label_column)
    labeled.raise_problems(args.calibrate_with)
    rows = labeled.rows
    if not all(LABEL in r for r in rows):  # not scored yet: score it as the corpus was scored
        from stance import StanceClassifier

        clf = StanceClassifier.from_pretrained(args.model)
        preds = clf.predict([r[args.text_column] for r in rows],
                            min_confidence=args.min_confidence)
        rows = [r | {LABEL: p.label} for r, p in zip(rows, preds)]
    # Abstentions are left out of the corpus's shares, so out of the confusion matrix too.
    rows = [r for r in rows if r.get(LABEL) in labels]
    predicted = [r[LABEL] for r in rows]
    y_true = [labels.index(r[args.label_column]) for r in rows]
    return calibration_from(y_true, [labels.index(p) for p in predicted], len(labels),
                            str(args.calibrate_with))
