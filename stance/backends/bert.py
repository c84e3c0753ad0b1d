"""A small, inference-only BERT sequence classifier in plain PyTorch, and the config it reads.

Why it exists: importing the `transformers` modeling stack takes about 2.5 s on a 2-core CPU (it
pulls in torch.distributed, dynamo and sympy), more than loading and running MiniLM itself, and a
cold `stance predict` paid it every time. This module reads the same `config.json` and
`model.safetensors`, under the same weight names, and computes the same logits as
`transformers.BertForSequenceClassification` in eval mode (no dropout, no gradients needed).
`stance.backends.torch` falls back to `transformers` for anything it does not support exactly.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from stance.backends import BACKENDS, FolderConfig


def supports(config: FolderConfig) -> bool:
    """True when `config` describes a model `BertClassifier` computes exactly."""
    return (getattr(config, "architectures", None) == ["BertForSequenceClassification"]
            and getattr(config, "model_type", None) == "bert"
            and getattr(config, "hidden_act", "gelu") == "gelu"
            and getattr(config, "position_embedding_type", "absolute") == "absolute"
            and not getattr(config, "is_decoder", False))


class _Layer(nn.Module):
    """One encoder block; submodule names follow `transformers` so the weights load as saved."""

    def __init__(self, hidden: int, intermediate: int, eps: float):
        super().__init__()
        self.attention = nn.ModuleDict({
            "self": nn.ModuleDict({n: nn.Linear(hidden, hidden) for n in ("query", "key", "value")}),
            "output": nn.ModuleDict({"dense": nn.Linear(hidden, hidden),
                                     "LayerNorm": nn.LayerNorm(hidden, eps=eps)}),
        })
        self.intermediate = nn.ModuleDict({"dense": nn.Linear(hidden, intermediate)})
        self.output = nn.ModuleDict({"dense": nn.Linear(intermediate, hidden),
                                     "LayerNorm": nn.LayerNorm(hidden, eps=eps)})

    def forward(self, x: torch.Tensor, mask: torch.Tensor, heads: int) -> torch.Tensor:
        batch, length, hidden = x.shape
        qkv = self.attention["self"]
        q, k, v = (qkv[n](x).view(batch, length, heads, hidden // heads).transpose(1, 2)
                   for n in ("query", "key", "value"))
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        context = context.transpose(1, 2).reshape(batch, length, hidden)
        out = self.attention["output"]
        x = out["LayerNorm"](x + out["dense"](context))
        inner = F.gelu(self.intermediate["dense"](x))
        return self.output["LayerNorm"](x + self.output["dense"](inner))


class BertClassifier(nn.Module):
    """BERT encoder, pooler and linear head; `model(input_ids=..., attention_mask=...).logits`.

    >>> config = FolderConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1,
    ...     num_attention_heads=2, intermediate_size=16, max_position_embeddings=16,
    ...     id2label={"0": "a", "1": "b"})
    >>> BertClassifier(config)(input_ids=torch.tensor([[2, 5, 3]])).logits.shape
    torch.Size([1, 2])
    """

    def __init__(self, config: FolderConfig):
        super().__init__()
        self.config = config
        hidden, eps = config.hidden_size, getattr(config, "layer_norm_eps", 1e-12)
        self.bert = nn.ModuleDict({
            "embeddings": nn.ModuleDict({
                "word_embeddings": nn.Embedding(config.vocab_size, hidden),
                "position_embeddings": nn.Embedding(config.max_position_embeddings, hidden),
                "token_type_embeddings": nn.Embedding(getattr(config, "type_vocab_size", 2),
                                                      hidden),
                "LayerNorm": nn.LayerNorm(hidden, eps=eps),
            }),
            "encoder": nn.ModuleDict({"layer": nn.ModuleList(
                _Layer(hidden, config.intermediate_size, eps)
                for _ in range(config.num_hidden_layers))}),
            "pooler": nn.ModuleDict({"dense": nn.Linear(hidden, hidden)}),
        })
        self.classifier = nn.Linear(hidden, len(config.id2label))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None) -> SimpleNamespace:
        emb = self.bert["embeddings"]
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        types = torch.zeros_like(input_ids) if token_type_ids is None else token_type_ids
        x = emb["word_embeddings"](input_ids) + emb["position_embeddings"](positions)
        x = emb["LayerNorm"](x + emb["token_type_embeddings"](types))
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        # Broadcast over heads and query positions: padding is hidden from every query.
        mask = attention_mask[:, None, None, :].bool()
        for layer in self.bert["encoder"]["layer"]:
            x = layer(x, mask, self.config.num_attention_heads)
        pooled = torch.tanh(self.bert["pooler"]["dense"](x[:, 0]))
        return SimpleNamespace(logits=self.classifier(pooled))

    def save_pretrained(self, folder: str | Path, **_: object) -> None:
        """Write `config.json` and `model.safetensors`, readable by `transformers` as well."""
        self.config.save_pretrained(folder)
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        save_file(tensors, Path(folder) / BACKENDS["torch"].weights, metadata={"format": "pt"})

