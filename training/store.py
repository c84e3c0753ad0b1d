"""One MLflow store shared by runs that start and finish at the same time: a new store's schema is
created once, and every promotion's read-compare-set of the champion alias runs alone.

Why a file lock beside the store rather than re-read and compare-and-set: MLflow's registry has
no conditional update ("move the alias only if it still points at version N"), so a re-read after
setting can only notice a lost race, never prevent it, and two promotions could still leave the
worse version as champion. A lock serialises the whole decision among the processes of the
machine holding the store file: for `sqlite:///path/mlflow.db` it is `path/mlflow.db.lock`; for a
tracking server it lives in the temporary folder, which covers runs started from one machine only.

>>> lock_path("sqlite:////data/runs/mlflow.db")
PosixPath('/data/runs/mlflow.db.lock')
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

# A schema set-up takes seconds and a promotion less than one; far longer means a stuck holder.
LOCK_TIMEOUT_S = 600


def lock_path(uri: str) -> Path:
    """The lock file of the store at tracking URI `uri`."""
    from sqlalchemy.engine import make_url

    if uri.startswith("sqlite:"):
        database = Path(make_url(uri).database or "mlflow.db").absolute()
        return database.with_name(database.name + ".lock")
    digest = hashlib.sha256(uri.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"stance-store-{digest}.lock"


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Hold the store's lock (waiting for other processes) for the duration of the block."""
    from filelock import FileLock, Timeout

    path = lock_path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=LOCK_TIMEOUT_S)
    except Timeout:
        raise TimeoutError(f"{path}: another process has held the store's lock for over "
                           f"{LOCK_TIMEOUT_S} s; if no run is active, delete the file") from None
    try:
        yield
    finally:
        lock.release()


def prepare_store(uri: str) -> None:
    """Make sure the store at `uri` exists with its schema, creating it under the lock.

    MLflow creates a new sqlite store's tables without any lock: two processes opening the same
    new store at once crash in its migrations (`alembic ... CommandError ... alembic_version`, or
    `duplicate column`). Once the tables exist, opening the store only reads them.
    """
    import mlflow

    with store_lock(uri):
        client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.search_experiments(max_results=1)
        client.search_registered_models(max_results=1)
