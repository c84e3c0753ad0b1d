"""Assign passages to train / validation / test by `group`, stratified by label, and write the
split files. Run once when passages are added; the assignment is then stored in `data/`, so
loading never recomputes it.

    python -m training.make_splits --pool data/*.jsonl --challenge extra_hard.jsonl --out data

Passages written later are added without moving any stored passage: spread over train,
validation and test by group (`--add`), to train only (`--add --to train`), or as a held-out
split of their own that is never trained on (`--held-out news`):

    python -m training.make_splits --add round3/*.jsonl --out data
    python -m training.make_splits --add round2/*.jsonl --to train --out data
    python -m training.make_splits --held-out news news/*.jsonl --out data
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter, defaultdict
from pathlib import Path

from stance.data import FIELDS, OPTIONAL_FIELDS, SPLITS, DataError, read_records
from stance.labels import LABELS

RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def assign(records: list[dict], seed: int) -> dict[str, list[dict]]:
    """Greedy group assignment: each group goes where its labels are most lacking."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        groups[record["group"]].append(record)
    totals = Counter(r["label"] for r in records)
    target = {(s, lab): ratio * totals[lab] for s, ratio in RATIOS.items() for lab in LABELS}
    have: Counter = Counter()
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda g: -len(groups[g]))  # big groups first, while there is room
    out: dict[str, list[dict]] = {s: [] for s in RATIOS}
    for g in order:
        counts = Counter(r["label"] for r in groups[g])
        split = max(RATIOS, key=lambda s: sum(
            n * (target[s, lab] - have[s, lab]) / max(target[s, lab], 1)
            for lab, n in counts.items()))
        out[split].extend(groups[g])
        for lab, n in counts.items():
            have[split, lab] += n
    return out


def write_split(records: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for record in sorted(records, key=lambda r: r["id"]):
            row = {k: record[k] for k in FIELDS} | {k: record[k] for k in OPTIONAL_FIELDS
                                                     if record.get(k)}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_all(files: list[str]) -> list[dict]:
    problems: list[str] = []
    records = [r for file in files for r in read_records(Path(file), problems)]
    if problems:
        raise DataError(problems)
    return records


def _stored(out: Path) -> dict[str, list[dict]]:
    return {s: read_all([str(out / f"{s}.jsonl")]) for s in SPLITS if (out / f"{s}.jsonl").is_file()}


def _check_new_groups(new: list[dict], stored: dict[str, list[dict]], allowed: set[str]) -> None:
    """A new passage's group may only continue a group stored in an `allowed` split."""
    taken = {r["group"]: s for s, records in stored.items() for r in records}
    clashes = sorted({r["group"] for r in new if r["group"] in taken
                      and taken[r["group"]] not in allowed})
    if clashes:
        raise DataError([f"group {g} of a new passage is already in split {taken[g]}"
                         for g in clashes])


def add(files: list[str], out: Path, seed: int, to: str | None = None) -> dict[str, list[dict]]:
    """Append new passages to the stored splits: all to `to`, or by group over train,
    validation and test (stratified by label); stored passages never move."""
    new, stored = read_all(files), _stored(out)
    _check_new_groups(new, stored, {to} if to else set())
    placed = {to: new} if to else assign(new, seed)
    for name, records in placed.items():
        stored[name] = stored.get(name, []) + records
        write_split(stored[name], out / f"{name}.jsonl")
    return {name: stored[name] for name in placed}


def held_out(name: str, files: list[str], out: Path) -> list[dict]:
    """Write split `name` from `files`; none of their groups may live in another split."""
    new, stored = read_all(files), _stored(out)
    _check_new_groups(new, {s: r for s, r in stored.items() if s != name}, set())
    write_split(new, out / f"{name}.jsonl")
    return new


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_mutually_exclusive_group(required=True)
    modes.add_argument("--pool", nargs="+", help="JSONL files to split from scratch")
    modes.add_argument("--add", nargs="+", metavar="FILE",
                       help="add these passages to the stored splits")
    modes.add_argument("--held-out", nargs="+", metavar=("NAME", "FILE"),
                       help="write held-out split NAME (e.g. news) from the files")
    parser.add_argument("--to", choices=list(RATIOS), help="with --add: put them all in this split")
    parser.add_argument("--challenge", nargs="*", default=[], help="with --pool: kept apart")
    parser.add_argument("--out", default="data")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.add:
        report(add(args.add, out, args.seed, args.to))
    elif args.held_out:
        if len(args.held_out) < 2:
            parser.error("--held-out needs a split name and at least one file")
        report({args.held_out[0]: held_out(args.held_out[0], args.held_out[1:], out)})
    else:
        out.mkdir(parents=True, exist_ok=True)
        splits = assign(read_all(args.pool), args.seed)
        if args.challenge:
            splits["challenge"] = read_all(args.challenge)
        for name, records in splits.items():
            write_split(records, out / f"{name}.jsonl")
        report(splits)


def report(splits: dict[str, list[dict]]) -> None:
    for name, records in splits.items():
        print(name, len(records), dict(Counter(r["label"] for r in records)))


if __name__ == "__main__":
    main()
