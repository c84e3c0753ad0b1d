"""Files that are never seen half-written, and the one JSONL reader.

Every file or folder a user relies on (a saved model, a checkpoint, a scored corpus) is written
beside its final path under a temporary name, flushed to disk, and renamed into place: a crash, a
full disk or `kill -9` leaves either the old complete file or the new complete one. A folder is
swapped in with one atomic exchange of the two names where Linux offers it (`renameat2`), so
not even for an instant is the folder missing. A write that fails (a full disk, a file-size
limit) is one OSError naming the path and the cause; temporary siblings left by a killed
writer are removed by the next write to the same path.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?:partial|old)-(?P<pid>\d+)-[0-9a-f]{8}")
_SPACE_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
_LOW_SPACE = 64 * 2**20  # bytes free below which a failed write is put down to a full disk


def _sibling(path: Path, tag: str) -> Path:
    # Unique per writer, so two processes saving the same target never share a temporary name.
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(path: Path) -> None:
    """Delete temporary siblings of `path` whose writer process is gone (killed mid-write)."""
    if not path.parent.is_dir():
        return
    for sibling in path.parent.iterdir():
        match = _TEMPORARY.fullmatch(sibling.name)
        if match and match["name"] == path.name and not _alive(int(match["pid"])):
            if sibling.is_dir():
                shutil.rmtree(sibling, ignore_errors=True)
            else:
                sibling.unlink(missing_ok=True)


def _space_problem(folder: Path) -> str | None:
    """Why a write in `folder` may have run out of room: a file-size limit, or a full disk."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        return f"a file-size limit of {soft} bytes is set (ulimit -f)"
    with contextlib.suppress(OSError):
        free = shutil.disk_usage(folder).free
        if free < _LOW_SPACE:
            return f"the disk is full ({free // 2**20} MiB free)"
    return None


def _write_error(path: Path, exc: Exception) -> Exception:
    """`exc` as one OSError naming `path` when it is a failed write: an OSError, or any writer's
    error (safetensors, torch.save) while space ran out. Anything else (a bug) is returned as is."""
    is_os = isinstance(exc, OSError)
    space = _space_problem(path.parent) if not is_os or exc.errno in _SPACE_ERRNOS else None
    if not is_os and space is None:
        return exc
    what = (exc.strerror if is_os else None) or (str(exc).strip().splitlines() or [""])[0]
    cause = f" ({space})" if space else ""
    return OSError(f"could not write {path}: {what or type(exc).__name__}{cause}; nothing at "
                   f"{path} was changed")


def _reraise_as_write_error(path: Path, exc: Exception) -> None:
    translated = _write_error(path, exc)
    if translated is exc:
        raise exc
    raise translated from exc


@functools.cache
def _renameat2():
    function = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if function is not None:
        function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                             ctypes.c_uint]
    return function


def _exchange(a: Path, b: Path) -> bool:
    """Swap the names of `a` and `b` in one atomic step; False where the system cannot."""
    at_cwd, rename_exchange = -100, 2  # AT_FDCWD and RENAME_EXCHANGE from <fcntl.h>, <stdio.h>
    function = _renameat2()
    if function is None:
        return False
    if function(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # a filesystem without exchange
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (the renames in it) to disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary sibling of `path` for writing; on success it replaces `path`.

    >>> with atomic_file("/tmp/stance-doctest.txt") as f:
    ...     _ = f.write("done")
    >>> Path("/tmp/stance-doctest.txt").read_text()
    'done'
    """
    path = Path(path)
    _remove_stale(path)
    tmp = _sibling(path, "partial")
    try:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except Exception as exc:
        _reraise_as_write_error(path, exc)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling folder to fill; on success it replaces the folder `path`.

    The new folder is flushed to disk and exchanged with the old one in one step (where the
    system cannot exchange, the old one is renamed aside first, leaving `path` absent between
    two renames but never partial); the old one is deleted afterwards.

    >>> with atomic_folder("/tmp/stance-doctest-folder") as tmp:
    ...     _ = (tmp / "a.txt").write_text("new")
    >>> sorted(p.name for p in Path("/tmp/stance-doctest-folder").iterdir())
    ['a.txt']
    """
    path = Path(path)
    _remove_stale(path)
    tmp = _sibling(path, "partial")
    tmp.mkdir(parents=True)
    try:
        yield tmp
        for file in tmp.rglob("*"):
            if file.is_file():
                with open(file, "rb") as f:
                    os.fsync(f.fileno())
        _swap_in(tmp, path)
    except Exception as exc:
        _reraise_as_write_error(path, exc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # after an exchange: the old folder


def _swap_in(new: Path, path: Path) -> None:
    """Put the folder `new` at `path`; whatever was at `path` ends up at `new`'s name or gone."""
    if not (path.exists() and _exchange(new, path)):
        old = _sibling(path, "old")
        if path.exists():
            path.rename(old)
        new.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    _fsync_folder(path.parent)


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


def read_json_objects(path: str | Path, problems: list[str]) -> Iterator[tuple[str, dict]]:
    """`("file:line", object)` for every JSON object of a JSONL file; a line that is not one
    (malformed, or another JSON value) is appended to `problems` as `file:line: message`."""
    for n, record in read_jsonl(path, problems):
        where = f"{path}:{n}"
        if isinstance(record, dict):
            yield where, record
        else:
            problems.append(f"{where}: expected a JSON object, got {type(record).__name__}")
