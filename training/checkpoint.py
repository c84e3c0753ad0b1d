"""Training checkpoints that survive a kill at any moment.

A checkpoint is a folder: `model.safetensors` (current weights), `best.safetensors` (weights of
the best epoch so far), `optimizer.pt` (optimizer, scheduler and RNG states, loaded with
`weights_only=True`, so it cannot run code) and `state.json` (epoch, history, best score). It is
written by `stance.fileio.atomic_folder`: beside the old one, flushed, and exchanged with it in one
step, so `kill -9` at any moment leaves the old or the new complete checkpoint at `path`, and a
full disk fails with one OSError naming it while the old checkpoint stays as it was.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from stance.fileio import atomic_folder


@dataclass
class TrainState:
    epoch: int = 0  # last completed epoch
    best_epoch: int = 0
    best_f1: float = -1.0
    history: list[dict[str, float]] = field(default_factory=list)


def _tensors(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}


def save_checkpoint(path: Path, model_state: dict, best_state: dict, optimizer, scheduler,
                    generator: torch.Generator, state: TrainState) -> None:
    with atomic_folder(path) as tmp:
        save_file(_tensors(model_state), tmp / "model.safetensors")
        save_file(_tensors(best_state), tmp / "best.safetensors")
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "torch_rng": torch.get_rng_state(), "generator": generator.get_state()},
                   tmp / "optimizer.pt")
        (tmp / "state.json").write_text(json.dumps(asdict(state), indent=1), encoding="utf-8")


def has_checkpoint(path: Path) -> bool:
    return (Path(path) / "state.json").is_file()


def load_checkpoint(path: Path, model, optimizer, scheduler,
                    generator: torch.Generator) -> tuple[TrainState, dict]:
    """Restore everything in place; returns the training state and the best epoch's weights."""
    path = Path(path)
    model.load_state_dict(load_file(path / "model.safetensors"))
    blob = torch.load(path / "optimizer.pt", weights_only=True)
    optimizer.load_state_dict(blob["optimizer"])
    scheduler.load_state_dict(blob["scheduler"])
    torch.set_rng_state(blob["torch_rng"])
    generator.set_state(blob["generator"])
    state = TrainState(**json.loads((path / "state.json").read_text(encoding="utf-8")))
    return state, load_file(path / "best.safetensors")
