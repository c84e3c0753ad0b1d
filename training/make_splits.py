"""Assign passages to train / validation / test by `group`, stratified by label, and write the
split files. Run once when passages are added; the assignment is then stored in `data/`, so
loading never recomputes it.

    python -m training.make_splits --pool data/*.jsonl --challenge extra_hard.jsonl --out data

Passages written later for training only are added without moving any stored passage:

    python -m training.make_splits --add-to-train round2/*.jsonl --out data
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter, defaultdict
from pathlib import Path

from stance.data import FIELDS, DataError, read_records
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
            f.write(json.dumps({k: record[k] for k in FIELDS}, ensure_ascii=False) + "\n")


def read_all(files: list[str]) -> list[dict]:
    problems: list[str] = []
    records = [r for file in files for r in read_records(Path(file), problems)]
    if problems:
        raise DataError(problems)
    return records


def add_to_train(files: list[str], out: Path) -> list[dict]:
    """Append new passages to `train.jsonl`; their groups must not exist in any stored split."""
    new = read_all(files)
    stored = {s: read_all([str(out / f"{s}.jsonl")]) for s in (*RATIOS, "challenge")
              if s == "train" or (out / f"{s}.jsonl").is_file()}
    taken = {r["group"]: s for s, records in stored.items() for r in records}
    clashes = sorted({r["group"] for r in new if taken.get(r["group"], "train") != "train"})
    if clashes:
        raise DataError([f"group {g} of a new passage is already in split {taken[g]}"
                         for g in clashes])
    train = stored["train"] + new
    write_split(train, out / "train.jsonl")
    return train


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", nargs="+", help="JSONL files to split")
    parser.add_argument("--add-to-train", nargs="+", default=[], metavar="FILE",
                        help="append these passages to the stored train split instead")
    parser.add_argument("--challenge", nargs="*", default=[], help="JSONL files kept apart")
    parser.add_argument("--out", default="data")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    if bool(args.pool) == bool(args.add_to_train):
        parser.error("give either --pool or --add-to-train")
    if args.add_to_train:
        train = add_to_train(args.add_to_train, Path(args.out))
        print("train", len(train), dict(Counter(r["label"] for r in train)))
        return
    pool = read_all(args.pool)
    challenge = read_all(args.challenge)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    splits = assign(pool, args.seed)
    if challenge:
        splits["challenge"] = challenge
    for name, records in splits.items():
        write_split(records, out / f"{name}.jsonl")
        print(name, len(records), dict(Counter(r["label"] for r in records)))


if __name__ == "__main__":
    main()
