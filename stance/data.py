"""Read the labeled passages under `data/` into a `datasets.DatasetDict`, validating every record."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from stance.labels import LABELS

logger = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = ("train", "validation", "test", "challenge")
REQUIRED_SPLITS: tuple[str, ...] = ("train", "validation", "test")
FIELDS: tuple[str, ...] = ("id", "text", "label", "topic", "register", "hard_case", "group")
# hard_case may be empty (an ordinary passage); every other field needs a value.
_MAY_BE_EMPTY = {"hard_case"}


class DataError(ValueError):
    """Raised with every problem found, each as `file:line: message`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s) in the data:\n  {shown}{more}")


def split_files(path: str | Path = "data") -> dict[str, Path]:
    """The JSONL file of each split that exists under `path`."""
    root = Path(path)
    if not root.is_dir():
        raise DataError([f"{root}: data folder does not exist"])
    files = {s: root / f"{s}.jsonl" for s in SPLITS if (root / f"{s}.jsonl").is_file()}
    missing = [f"{root / f'{s}.jsonl'}: missing split file" for s in REQUIRED_SPLITS
               if s not in files]
    if missing:
        raise DataError(missing)
    return files


def read_records(file: Path, problems: list[str]) -> list[dict]:
    """Parse one JSONL file, appending a `file:line` message to `problems` for each bad record."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        problems.append(f"{file}: not valid UTF-8 ({exc.reason} at byte {exc.start})")
        return []
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{file}:{n}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: malformed JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{where}: expected a JSON object, got {type(record).__name__}")
            continue
        bad = _record_problems(record)
        problems.extend(f"{where}: {p}" for p in bad)
        if not bad:
            records.append({k: record[k] for k in FIELDS} | {"_where": where})
    return records


def _record_problems(record: dict) -> list[str]:
    problems = []
    for field in FIELDS:
        value = record.get(field)
        if value is None:
            problems.append(f"missing field {field!r}")
        elif not isinstance(value, str):
            problems.append(f"field {field!r} must be a string, got {type(value).__name__}")
        elif not value.strip() and field not in _MAY_BE_EMPTY:
            problems.append(f"field {field!r} is empty")
    label = record.get("label")
    if isinstance(label, str) and label.strip() and label not in LABELS:
        problems.append(f"unknown label {label!r} (allowed: {', '.join(LABELS)})")
    return problems


def check_splits(path: str | Path = "data") -> tuple[dict[str, list[dict]], list[str]]:
    """The records that parsed, per split, and every problem found, in records and across them."""
    from stance.datacheck import cross_record_problems

    problems: list[str] = []
    splits = {name: read_records(file, problems) for name, file in split_files(path).items()}
    problems.extend(cross_record_problems(splits))
    return splits, problems


def read_splits(path: str | Path = "data") -> dict[str, list[dict]]:
    """Validated records per split; raises `DataError` listing every problem at once."""
    splits, problems = check_splits(path)
    if problems:
        raise DataError(problems)
    return splits


def data_version(path: str | Path = "data") -> str:
    """A short content digest of the split files: changes whenever any record changes."""
    digest = hashlib.sha256()
    for name, file in sorted(split_files(path).items()):
        digest.update(name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def load_splits(path: str | Path = "data"):
    """Load `train`, `validation`, `test` (and `challenge` when present) as a `DatasetDict`.

    >>> ds = load_splits("data")
    >>> ds["train"].features["label"].names
    ['pro_russia', 'pro_us', 'neutral']
    """
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    features = Features({f: ClassLabel(names=list(LABELS)) if f == "label" else Value("string")
                         for f in FIELDS})
    out = {}
    for name, records in read_splits(path).items():
        columns = {f: [r[f] for r in records] for f in FIELDS}
        columns["label"] = [LABELS.index(label) for label in columns["label"]]
        out[name] = Dataset.from_dict(columns, features=features)
    logger.info("loaded %s", {k: len(v) for k, v in out.items()})
    return DatasetDict(out)
