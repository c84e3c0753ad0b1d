"""Files that are never seen half-written, and the one JSONL reader.

Every file or folder a user relies on (a saved model, a checkpoint, a scored corpus) is written
beside its final path under a temporary name, flushed to disk, and renamed into place: a crash, a
full disk or `kill -9` leaves either the old complete file or the new complete one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _sibling(path: Path, tag: str) -> Path:
    # Unique per writer, so two processes saving the same target never share a temporary name.
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary sibling of `path` for writing; on success it replaces `path`.

    >>> with atomic_file("/tmp/stance-doctest.txt") as f:
    ...     _ = f.write("done")
    >>> Path("/tmp/stance-doctest.txt").read_text()
    'done'
    """
    path = Path(path)
    tmp = _sibling(path, "partial")
    try:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling folder to fill; on success it replaces the folder `path`.

    The old folder is moved aside first and deleted only once the new one is in place, so at
    every moment `path` is either the old complete folder or the new one (or, between the two
    renames, absent, never partial).
    """
    path = Path(path)
    tmp, old = _sibling(path, "partial"), _sibling(path, "old")
    tmp.mkdir(parents=True)
    try:
        yield tmp
        for file in tmp.rglob("*"):
            if file.is_file():
                with open(file, "rb") as f:
                    os.fsync(f.fileno())
        if path.exists():
            path.rename(old)
        tmp.rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def check_replaceable(folder: str | Path, marker: str) -> Path:
    """Refuse to replace a folder that is not empty unless it holds `marker` (a file that only
    a previous report writes): `--out ~/Documents` must never be swept away.

    >>> check_replaceable("/nonexistent/report", "summary.json")
    PosixPath('/nonexistent/report')
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or
                            (any(folder.iterdir()) and not (folder / marker).is_file())):
        raise ValueError(f"{folder} exists and is not a report folder written before (no "
                         f"{marker}); give --out a new folder")
    return folder


def read_jsonl(path: str | Path, problems: list[str] | None = None) -> Iterator[tuple[int, object]]:
    """`(line number, parsed value)` for every non-blank line of a JSONL file.

    A malformed line, or a file that is not UTF-8, is a ValueError naming `file:line` (or the
    file); with a `problems` list the message is appended there instead and reading goes on.
    """
    path = Path(path)

    def fail(message: str) -> None:
        if problems is None:
            raise ValueError(message)
        problems.append(message)

    try:
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    fail(f"{path}:{n}: malformed JSON ({exc.msg})")
                    continue
                yield n, value
    except UnicodeDecodeError as exc:
        fail(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})")
