"""Training configuration: frozen dataclasses loaded from YAML and validated on load."""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from stance.names import DEFAULT_EXPERIMENT, REGISTERED_MODEL
from training.families import FAMILIES


def _field(default: Any, minimum: float | None = None, exclusive: bool = False,
           choices: Sequence[str] | None = None, help: str = "") -> Any:
    """A config field with its constraints beside it: a lower bound (`exclusive`: > rather than
    >=) or a list of allowed values, checked when a config is loaded."""
    return field(default=default, metadata={"minimum": minimum, "exclusive": exclusive,
                                            "choices": choices, "help": help})


def positive(default: Any, help: str = "") -> Any:
    return _field(default, minimum=0, exclusive=True, help=help)


def non_negative(default: Any, help: str = "") -> Any:
    return _field(default, minimum=0, help=help)


@dataclass(frozen=True)
class DataConfig:
    path: str = "data"
    max_train_examples: int | None = positive(None, "a random subset, for smoke runs")
    max_eval_examples: int | None = positive(None)
    subset_seed: int = 0  # subsets take their own seed, independent of the model's
    # user corpora (data/user/<name>.jsonl, from `stance data import`) added to train
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelConfig:
    family: str = _field("transformer", choices=FAMILIES, help="see training/families")
    base: str = "minilm"  # the encoder to fine-tune (transformer) or to embed with (embeddings)
    max_length: int = _field(128, minimum=8, help="tokens per window, <= the encoder's positions")
    freeze_layers: int = non_negative(0, "freeze the embeddings and the lowest N encoder layers")
    members: tuple[str, ...] = ("transformer", "tfidf")  # the families an ensemble averages


@dataclass(frozen=True)
class BaselineConfig:
    c: float = positive(1.0, "inverse regularisation strength of the logistic regression")
    ngram_max: int = positive(2)
    min_df: int = positive(2)


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = positive(4)
    batch_size: int = positive(16)
    eval_batch_size: int = positive(64)
    learning_rate: float = positive(5e-5)
    weight_decay: float = non_negative(0.01)
    warmup_ratio: float = non_negative(0.1)
    max_grad_norm: float = non_negative(1.0)
    group_by_length: bool = True  # batch passages of similar length: less padding, faster epochs
    device: Literal["auto", "cpu", "cuda"] = "auto"
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    calibrate: bool = True  # fit a temperature on validation after training
    checkpoint_every: int = non_negative(1, "epochs between checkpoints; 0 disables them")
    patience: int = non_negative(0, "stop after N epochs without a better validation macro-F1")
    onnx_int8: bool = True  # keep a verified int8 ONNX copy beside the weights (the CPU default)
    cache_frozen: bool = False  # run the frozen layers once per passage, not every epoch


@dataclass(frozen=True)
class DistillConfig:
    """The transformer learns a fine-tuned teacher's probabilities (training/distill.py)."""

    teacher: str | None = None  # a saved model folder or MLflow URI; None: labels only
    alpha: float = _field(0.5, minimum=0, help="the teacher's share of a labeled target (<= 1)")
    unlabeled: bool = True  # also learn the teacher's probabilities on data/unlabeled.jsonl


@dataclass(frozen=True)
class TrackingConfig:
    uri: str | None = None  # None: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db
    experiment: str = DEFAULT_EXPERIMENT
    artifact_location: str | None = None  # None: MLflow's default (./mlruns beside a sqlite store)
    registered_model: str = REGISTERED_MODEL
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
    distill: DistillConfig = field(default_factory=DistillConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)


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
    if origin is tuple:  # tuple[str, ...]: a YAML list, or one value
        items = value if isinstance(value, (list, tuple)) else [value]
        return tuple(_coerce(args[0], item, key) for item in items)
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


def _check_ranges(config: Any, prefix: str = "") -> None:
    for f in dataclasses.fields(config):
        value, key = getattr(config, f.name), prefix + f.name
        if dataclasses.is_dataclass(value):
            _check_ranges(value, key + ".")
            continue
        minimum, choices = f.metadata.get("minimum"), f.metadata.get("choices")
        if value is None:
            continue
        if choices is not None and value not in choices:
            raise ValueError(f"config key {key!r} must be one of {list(choices)}, got {value!r}")
        if minimum is not None and f.metadata["exclusive"] and value <= minimum:
            raise ValueError(f"config key {key!r} must be > {minimum}, got {value!r}")
        if minimum is not None and value < minimum:
            raise ValueError(f"config key {key!r} must be >= {minimum}, got {value!r}")
    if prefix == "" and config.training.cache_frozen and config.model.freeze_layers == 0:
        raise ValueError("config key 'training.cache_frozen' needs model.freeze_layers > 0")
    if prefix == "" and config.distill.alpha > 1:
        raise ValueError(f"config key 'distill.alpha' must be <= 1, got {config.distill.alpha}")
    if prefix == "" and config.model.max_length > 512:
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
