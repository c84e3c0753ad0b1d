"""Frozen layers computed once (`training.cache_frozen`): with the embeddings and the lowest N
encoder layers frozen (`model.freeze_layers`), their output for a passage is the same in every
epoch, so it is computed once before the first epoch and every step runs only the layers above.

Two differences from running the whole model each step, both by design: the frozen layers run
without dropout (in eval mode), and padding positions of the stored outputs are zeros rather
than what the frozen layers compute for pad tokens (no unmasked position ever attends to them).

Works for any `transformers` encoder whose `base_model` has `embeddings` and `encoder.layer`
(BERT, MPNet, ...). The model keeps all its layers: the top layers are swapped in only for the
duration of one forward pass (`top_only`), so checkpoints and evaluation see the whole model.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import torch

logger = logging.getLogger(__name__)


class _Stop(Exception):
    """Raised by the capturing hook: nothing above the frozen layers needs computing."""


def frozen_depth(model: torch.nn.Module) -> int:
    """How many of the lowest encoder layers are frozen, when the embeddings are too (else 0)."""
    base = model.base_model
    if any(p.requires_grad for p in base.embeddings.parameters()):
        return 0
    depth = 0
    for layer in base.encoder.layer:
        if any(p.requires_grad for p in layer.parameters()):
            break
        depth += 1
    return depth


@torch.no_grad()
def frozen_outputs(model: torch.nn.Module, depth: int, batches) -> list[torch.Tensor]:
    """The output of layer `depth` for every passage of `batches` (dicts with `input_ids` and
    `attention_mask`), one `(length, hidden)` tensor per passage without its padding, on the
    CPU, in batch order."""
    captured: list[torch.Tensor] = []

    def capture(module, args, output):
        captured.append(output[0] if isinstance(output, tuple) else output)
        raise _Stop

    was_training = model.training
    model.eval()
    out: list[torch.Tensor] = []
    handle = model.base_model.encoder.layer[depth - 1].register_forward_hook(capture)
    try:
        for batch in batches:
            try:
                model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            except _Stop:
                pass
            hidden = captured.pop()
            lengths = batch["attention_mask"].sum(1).tolist()
            out += [h[:n].detach().cpu() for h, n in zip(hidden, lengths)]
    finally:
        handle.remove()
        model.train(was_training)
    return out


@contextmanager
def top_only(model: torch.nn.Module, depth: int, hidden: torch.Tensor) -> Iterator[None]:
    """Within the block, a forward pass of `model` starts from `hidden` (the padded output of
    layer `depth`) instead of computing the embeddings and the frozen layers."""
    base = model.base_model
    layers = base.encoder.layer
    # The embeddings still run (lookups: cheap), and their output is replaced.
    handle = base.embeddings.register_forward_hook(lambda module, args, output: hidden)
    base.encoder.layer = torch.nn.ModuleList(list(layers)[depth:])
    try:
        yield
    finally:
        base.encoder.layer = layers
        handle.remove()
