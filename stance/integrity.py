"""Checksums of a saved model folder: the sha256 of every file is recorded in its config.json when
the folder is saved and checked when it is loaded.

Why: a truncated weights file or a damaged header fails to parse, but a bit flipped inside a
tensor's data, or a tokenizer or ONNX file copied in from another model with the same shapes,
loads without complaint and gives wrong answers later. Hashing costs about 0.1 s for MiniLM's
90 MB on the project's machine. Folders saved before checksums existed load unchecked.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "config.json").write_text("{}")
>>> _ = (folder / "weights.bin").write_bytes(b"abc")
>>> seal(folder)
>>> verify(folder, json.loads((folder / "config.json").read_text()))
>>> _ = (folder / "weights.bin").write_bytes(b"abd")
>>> verify(folder, json.loads((folder / "config.json").read_text()))  # doctest: +ELLIPSIS
Traceback (most recent call last):
ValueError: .../weights.bin is corrupt or was replaced: ...
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from stance.names import CHECKSUMS_KEY, CONFIG_FILE, MODEL_CARD_FILE

# config.json holds the checksums; the model card is prose a person may edit.
_UNCHECKED = (CONFIG_FILE, MODEL_CARD_FILE)


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _files(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).as_posix() not in _UNCHECKED}


def seal(folder: str | Path) -> None:
    """Record the sha256 of every file of `folder` (but config.json and README.md) under
    `stance_sha256` in its config.json."""
    folder = Path(folder)
    config_file = folder / CONFIG_FILE
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config[CHECKSUMS_KEY] = {name: sha256(path) for name, path in _files(folder).items()}
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def verify(folder: str | Path, config: dict) -> None:
    """A ValueError naming the first file that is missing or differs from its recorded sha256."""
    folder = Path(folder)
    expected = config.get(CHECKSUMS_KEY) or {}
    if not isinstance(expected, dict):
        raise ValueError(f"{folder / CONFIG_FILE}: {CHECKSUMS_KEY} must map file names to sha256")
    for name, digest in expected.items():
        path = folder / name
        if not path.is_file():
            raise ValueError(f"{path} is missing (its checksum is recorded in {CONFIG_FILE})")
        if sha256(path) != digest:
            raise ValueError(f"{path} is corrupt or was replaced: its sha256 differs from the one "
                             f"recorded in {folder / CONFIG_FILE} when the model was saved")
