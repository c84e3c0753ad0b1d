"""Unlabeled passages (`data/unlabeled.jsonl`): written like the labeled ones, in the form of
real reports, but given no label. Distillation (`distill.teacher`) learns a teacher's
probabilities on them. `stance data check` checks them with the splits: an unlabeled passage
that repeats or nearly repeats a labeled one, above all a held-out one, is a problem.

>>> problems = []
>>> read_unlabeled_records("data", problems)[0]["id"]  # doctest: +SKIP
'u1-0001'
"""

from __future__ import annotations

from pathlib import Path

from stance.data.checks import duplicate_problems, near_duplicate_problems
from stance.fileio import read_json_objects
from stance.names import UNLABELED_FILE

FIELDS: tuple[str, ...] = ("id", "text", "topic", "register")


def unlabeled_file(path: str | Path = "data") -> Path:
    return Path(path) / UNLABELED_FILE


def read_unlabeled_records(path: str | Path, problems: list[str]) -> list[dict]:
    """The records of `data/unlabeled.jsonl` ([] when there is none), appending a `file:line`
    message to `problems` for each bad one."""
    file = unlabeled_file(path)
    if not file.is_file():
        return []
    records = []
    for where, record in read_json_objects(file, problems):
        bad = [f"{where}: field {name!r} must be a non-empty string" for name in FIELDS
               if not isinstance(record.get(name), str) or not record[name].strip()]
        if "label" in record:
            bad.append(f"{where}: an unlabeled passage has a 'label' (move it to a split file)")
        problems.extend(bad)
        if not bad:
            records.append({k: record[k] for k in FIELDS} | {"_where": where})
    return records


def unlabeled_problems(splits: dict[str, list[dict]], path: str | Path = "data") -> list[str]:
    """Problems of `data/unlabeled.jsonl`: bad records, and repeated ids or texts or
    near-duplicates between it and any labeled split (the splits' own problems are reported by
    their checks)."""
    problems: list[str] = []
    records = read_unlabeled_records(path, problems)
    if not records:
        return problems
    both = {"labeled": [r for rs in splits.values() for r in rs], "unlabeled": records}
    mine = str(unlabeled_file(path)) + ":"
    return problems + [p for p in duplicate_problems(both) + near_duplicate_problems(both)
                       if p.startswith(mine)]
