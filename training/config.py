"""Training configuration: frozen dataclasses loaded from YAML and validated on load."""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml


@dataclass(frozen=True)
class DataConfig:
    path: str = "data"
    max_train_examples: int | None = None  # a stratified-free random subset, for smoke runs
    max_eval_examples: int | None = None
    subset_seed: int = 0  # subsets take their own seed, independent of the model's


@dataclass(frozen=True)
class ModelConfig:
    family: Literal["transformer", "tfidf", "embeddings"] = "transformer"
    base: str = "minilm"  # the encoder to fine-tune (transformer) or to embed with (embeddings)
    max_length: int = 128


@dataclass(frozen=True)
class BaselineConfig:
    c: float = 1.0  # inverse regularisation strength of the logistic regression
    ngram_max: int = 2
    min_df: int = 2


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 4
    batch_size: int = 16
    eval_batch_size: int = 64
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    group_by_length: bool = True  # batch passages of similar length: less padding, faster epochs
    device: Literal["auto", "cpu", "cuda"] = "auto"
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    calibrate: bool = True  # fit a temperature on validation after training
    checkpoint_every: int = 1  # epochs between checkpoints; 0 disables them


@dataclass(frozen=True)
class TrackingConfig:
    uri: str | None = None  # None: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db
    experiment: str = "stance"
    artifact_location: str | None = None  # None: MLflow's default (./mlruns beside a sqlite store)
    registered_model: str = "stance-classifier"
    log_model: bool = True


@dataclass(frozen=True)
class Config:
    seed: int = 42
    run_name: str | None = None
    output_dir: str = "models"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)


_POSITIVE = {"training.epochs", "training.batch_size", "training.eval_batch_size",
             "training.learning_rate", "model.max_length", "data.max_train_examples",
             "data.max_eval_examples", "baseline.c", "baseline.ngram_max", "baseline.min_df"}
_NON_NEGATIVE = {"training.weight_decay", "training.warmup_ratio", "training.max_grad_norm",
                 "training.checkpoint_every"}


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> Config:
    """Read a YAML file, apply `a.b=c` overrides, and validate the result.

    >>> load_config(None, ["training.epochs=2"]).training.epochs
    2
    """
    raw: dict = {}
    if path is not None:
        text = Path(path).read_text(encoding="utf-8")
        raw = yaml.safe_load(text) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: the top level must be a mapping")
    return config_from_dict(raw, overrides)


def config_from_dict(raw: dict, overrides: list[str] = ()) -> Config:
    """Validate a nested dict (as written by `dataclasses.asdict`) plus overrides."""
    raw = copy.deepcopy(raw)
    for item in overrides:
        _apply_override(raw, item)
    config = _build(Config, raw, "")
    _check_ranges(config)
    return config


def _apply_override(raw: dict, item: str) -> None:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise ValueError(f"override {item!r} must look like section.key=value")
    *parents, leaf = key.strip().split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"override {item!r}: {part!r} is not a section")
    node[leaf] = yaml.safe_load(value)


def _build(cls: type, raw: Any, prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise TypeError(f"config key {prefix.rstrip('.') or '<root>'!r} must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ValueError(f"unknown config key {prefix + unknown[0]!r} "
                         f"(allowed in this section: {', '.join(fields)})")
    hints = typing.get_type_hints(cls)
    values = {name: _coerce(hints[name], raw[name], prefix + name) for name in raw}
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key + ".")
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(inner, value, key)
    if origin is Literal:
        if value not in args:
            raise ValueError(f"config key {key!r} must be one of {list(args)}, got {value!r}")
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):
        try:  # YAML 1.1 reads `1e-4` (no dot) as text
            return float(value)
        except ValueError:
            pass
    if (hint is int and isinstance(value, bool)) or not isinstance(value, hint):
        raise TypeError(f"config key {key!r} must be {hint.__name__}, "
                        f"got {type(value).__name__} ({value!r})")
    return value


def _check_ranges(config: Config) -> None:
    for key, value in flatten(config).items():
        if value is None:
            continue
        if key in _POSITIVE and value <= 0:
            raise ValueError(f"config key {key!r} must be > 0, got {value!r}")
        if key in _NON_NEGATIVE and value < 0:
            raise ValueError(f"config key {key!r} must be >= 0, got {value!r}")
    if config.model.max_length > 512:
        raise ValueError(f"config key 'model.max_length' must be <= 512 (the encoder's "
                         f"position limit), got {config.model.max_length}")


def flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys to leaf values, as logged to MLflow params."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out.update(flatten(value, f"{prefix}{f.name}."))
        else:
            out[prefix + f.name] = value
    return out
