"""Read the labeled passages under `data/` into a `datasets.DatasetDict`, validating every record."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stance.data.checks import cross_record_problems, statistics_of
from stance.data.unlabeled import FIELDS as UNLABELED_FIELDS
from stance.data.unlabeled import read_unlabeled_records, unlabeled_file, unlabeled_problems
from stance.fileio import read_json_objects
from stance.labels import LABELS
from stance.names import EVAL_SPLITS, TRAIN_SPLIT

logger = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = (TRAIN_SPLIT, *EVAL_SPLITS)
REQUIRED_SPLITS: tuple[str, ...] = ("train", "validation", "test")
FIELDS: tuple[str, ...] = ("id", "text", "label", "topic", "register", "hard_case", "group")
# Kept when present, "" when absent: the outlet whose style a passage imitates, and the writing
# round it comes from (data/README.md).
OPTIONAL_FIELDS: tuple[str, ...] = ("outlet", "round")
# hard_case may be empty (an ordinary passage); every other field needs a value.
_MAY_BE_EMPTY = {"hard_case"}


class DataError(ValueError):
    """Raised with every problem found, each as `file:line: message`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s) in the data:\n  {shown}{more}")


def split_files(path: str | Path = "data", extra: Sequence[str] = ()) -> dict[str, Path]:
    """The JSONL file of each split that exists under `path`, then of each user corpus named in
    `extra` (`data/user/<name>.jsonl`, as split `user_<name>`)."""
    from stance.data.user import split_name, user_file

    root = Path(path)
    if not root.is_dir():
        raise DataError([f"{root}: data folder does not exist"])
    files = {s: root / f"{s}.jsonl" for s in SPLITS if (root / f"{s}.jsonl").is_file()}
    missing = [f"{root / f'{s}.jsonl'}: missing split file" for s in REQUIRED_SPLITS
               if s not in files]
    for name in extra:
        file = user_file(root, name)
        if not file.is_file():
            missing.append(f"{file}: no user corpus {name!r} (import one with `stance data import "
                           f"FILE --name {name}`)")
        files[split_name(name)] = file
    if missing:
        raise DataError(missing)
    return files


def read_records(file: Path, problems: list[str]) -> list[dict]:
    """Parse one JSONL file, appending a `file:line` message to `problems` for each bad record."""
    records = []
    for where, record in read_json_objects(file, problems):
        bad = _record_problems(record)
        problems.extend(f"{where}: {p}" for p in bad)
        if not bad:
            records.append({k: record[k] for k in FIELDS}
                           | {k: str(record.get(k) or "") for k in OPTIONAL_FIELDS}
                           | {"_where": where})
    return records


def _record_problems(record: dict) -> list[str]:
    problems = []
    for name in FIELDS:
        value = record.get(name)
        if value is None:
            problems.append(f"missing field {name!r}")
        elif not isinstance(value, str):
            problems.append(f"field {name!r} must be a string, got {type(value).__name__}")
        elif not value.strip() and name not in _MAY_BE_EMPTY:
            problems.append(f"field {name!r} is empty")
    label = record.get("label")
    if isinstance(label, str) and label.strip() and label not in LABELS:
        problems.append(f"unknown label {label!r} (allowed: {', '.join(LABELS)})")
    return problems


def check_splits(path: str | Path = "data",
                 extra: Sequence[str] = ()) -> tuple[dict[str, list[dict]], list[str]]:
    """The records that parsed, per split, and every problem found, in records and across them
    (user corpora and `unlabeled.jsonl` included: a passage of one that repeats a test passage
    is a problem)."""
    problems: list[str] = []
    splits = {name: read_records(file, problems)
              for name, file in split_files(path, extra).items()}
    problems.extend(cross_record_problems(splits))
    problems.extend(unlabeled_problems(splits, path))
    return splits, problems


def read_splits(path: str | Path = "data", extra: Sequence[str] = ()) -> dict[str, list[dict]]:
    """Validated records per split; raises `DataError` listing every problem at once."""
    splits, problems = check_splits(path, extra)
    if problems:
        raise DataError(problems)
    return splits


@dataclass
class CheckResult:
    problems: list[str]
    stats: dict = field(default_factory=dict)
    n_records: int = 0


def check_data(path: str | Path = "data", extra: Sequence[str] = ()) -> CheckResult:
    """Every problem in the data under `path` (and the user corpora in `extra`), and its
    statistics when it could be read."""
    try:
        splits, problems = check_splits(path, extra)
    except DataError as exc:  # no folder, or a split file missing
        return CheckResult(problems=exc.problems)
    n = sum(len(rs) for rs in splits.values())
    return CheckResult(problems=problems, stats=statistics_of(splits) if n else {}, n_records=n)


def read_unlabeled(path: str | Path = "data") -> list[dict]:
    """The unlabeled passages under `path` (`unlabeled.jsonl`; [] when there is none); raises
    `DataError` listing every bad record. Their overlap with the splits is checked when the
    splits are loaded."""
    problems: list[str] = []
    records = read_unlabeled_records(path, problems)
    if problems:
        raise DataError(problems)
    return [{k: r[k] for k in UNLABELED_FIELDS} for r in records]


def data_version(path: str | Path = "data", extra: Sequence[str] = ()) -> str:
    """A short content digest of the split files (and `unlabeled.jsonl`): changes whenever any
    record changes."""
    digest = hashlib.sha256()
    files = split_files(path, extra)
    if unlabeled_file(path).is_file():
        files["unlabeled"] = unlabeled_file(path)
    for name, file in sorted(files.items()):
        digest.update(name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def load_splits(path: str | Path = "data", extra: Sequence[str] = ()):
    """Load `train`, `validation`, `test` (and `challenge` when present) as a `DatasetDict`, and
    each user corpus in `extra` as split `user_<name>`.

    >>> ds = load_splits("data")
    >>> ds["train"].features["label"].names
    ['pro_russia', 'pro_us', 'neutral']
    """
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    fields = FIELDS + OPTIONAL_FIELDS
    features = Features({f: ClassLabel(names=list(LABELS)) if f == "label" else Value("string")
                         for f in fields})
    out = {}
    for name, records in read_splits(path, extra).items():
        columns = {f: [r[f] for r in records] for f in fields}
        columns["label"] = [LABELS.index(label) for label in columns["label"]]
        out[name] = Dataset.from_dict(columns, features=features)
    logger.debug("loaded %s", {k: len(v) for k, v in out.items()})
    return DatasetDict(out)
