"""Corpora a user labeled (`stance data import`): stored as `data/user/<name>.jsonl` in the
project's schema, with only text and label required of the user; training adds them with
`--set data.extra=[<name>]`.

>>> user_file("data", "my-corpus")
PosixPath('data/user/my-corpus.jsonl')
"""

from __future__ import annotations

import re
from pathlib import Path

from stance.data.checks import duplicate_problems
from stance.data.labeled import read_labeled

USER_DIR = "user"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"corpus name {name!r}: use lowercase letters, digits, '-' and '_'")
    return name


def user_file(data: str | Path, name: str) -> Path:
    return Path(data) / USER_DIR / f"{check_name(name)}.jsonl"


def split_name(name: str) -> str:
    """The split a user corpus is reported as (`user_<name>`)."""
    return f"user_{check_name(name)}"


def to_record(row: dict, name: str, n: int, text_column: str, label_column: str,
              id_column: str) -> dict:
    """A row in the project's schema: missing fields get defaults, and every passage is its own
    group under the corpus's name, so no group is shared with validation or test."""
    given = row.get(id_column)
    rid = str(given).strip() if given not in (None, "") else f"{n:05d}"
    group = row.get("group")
    return {"id": f"{name}:{rid}", "text": row[text_column], "label": row[label_column],
            "topic": str(row.get("topic") or "user"), "register": str(row.get("register") or "user"),
            "hard_case": str(row.get("hard_case") or ""),
            "group": f"{name}:{group if group not in (None, '') else rid}",
            "outlet": str(row.get("outlet") or row.get("source") or ""), "_where": row["_where"]}


def import_labeled(source: str | Path, name: str, data: str | Path = "data",
                   fmt: str | None = None, text_column: str = "text", label_column: str = "label",
                   id_column: str = "id") -> tuple[list[dict], list[str], int]:
    """The records to store, every problem (`file:line: ...`), and how many rows had no label
    (skipped: a review file is often labeled only in part)."""
    check_name(name)
    labeled = read_labeled(source, fmt, text_column, label_column, allow_unlabeled=True)
    records = [to_record(r, name, i, text_column, label_column, id_column)
               for i, r in enumerate(labeled.rows, 1)]
    problems = labeled.problems + duplicate_problems({name: records})
    return records, problems, labeled.unlabeled
