"""Shared fixtures: a tiny randomly initialised BERT, a tiny, learnable dataset, and a temporary
MLflow store holding one smoke training run with the real MiniLM (shared by the slow tests)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach for the hub

from stance.labels import LABELS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Each label has its own cue words; the filler words are shared, so the model must find the cues.
CUES = {
    "pro_russia": ["encirclement", "provocation", "sovereign"],
    "pro_us": ["reckless", "violation", "intimidation"],
    "neutral": ["delivered", "signed", "scheduled"],
}
FILLER = ["the", "radar", "missile", "treaty", "battery", "in", "poland", "moscow", "washington",
          "talks", "system", "was", "a", "of", "and"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + FILLER + [w for ws in CUES.values()
                                                                   for w in ws]


def tiny_records(n_per_label: int, seed: int, prefix: str) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for label in LABELS:
        for i in range(n_per_label):
            words = rng.sample(FILLER, 5) + [rng.choice(CUES[label])]
            rng.shuffle(words)
            records.append({"id": f"{prefix}-{label}-{i}", "text": " ".join(words), "label": label,
                            "topic": "inf_treaty", "register": "wire_news", "hard_case": "",
                            "group": f"{prefix}-{label}-{i}"})
    return records


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer, 64-wide BERT with random weights and a 30-word vocabulary, saved as a folder.

    64 wide rather than 32: at 32 the cue-word task was learned from 6 of 9 seeds (the others
    stalled with one label unlearned), at 64 from 8 of 9, so the tests do not rest on a lucky seed.
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=128, max_position_embeddings=64,
                        num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
                        label2id={label: i for i, label in enumerate(LABELS)})
    BertForSequenceClassification(config).save_pretrained(folder)
    write_vocab_tokenizer(folder)
    return folder


def write_vocab_tokenizer(folder: Path) -> None:
    """Save a word-piece tokenizer over `VOCAB` into `folder`."""
    from transformers import BertTokenizer

    BertTokenizer(vocab={w: i for i, w in enumerate(VOCAB)}).save_pretrained(folder)


@pytest.fixture
def tiny_clf(tiny_model_dir):
    from stance import StanceClassifier

    return StanceClassifier.from_pretrained(tiny_model_dir, device="cpu")


@pytest.fixture
def tiny_data(tmp_path) -> Path:
    """train / validation / test JSONL files of the tiny cue-word task."""
    folder = tmp_path / "data"
    folder.mkdir()
    for split, n, seed in (("train", 20, 1), ("validation", 6, 2), ("test", 6, 3)):
        write_jsonl(folder / f"{split}.jsonl", tiny_records(n, seed, split))
    return folder


def store_uri(store: Path) -> str:
    """The tracking URI of the sqlite store inside the folder `store`."""
    return f"sqlite:///{store}/mlflow.db"


def train_into(store: Path, config: str, *overrides: str) -> None:
    """Train `config` the way `make train` does, in a subprocess, into the temporary store:
    tracking in `store`/mlflow.db, artifacts under `store`/artifacts, models under `store`/models."""
    env = os.environ | {"MLFLOW_TRACKING_URI": store_uri(store), "HF_HUB_OFFLINE": "1"}
    sets = [f"output_dir={store}/models", f"tracking.artifact_location={store}/artifacts",
            *overrides]
    command = [sys.executable, "-m", "training.train", "--config", config]
    for item in sets:
        command += ["--set", item]
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=900)


@pytest.fixture(scope="session")
def smoke_store(tmp_path_factory) -> tuple[Path, str, object]:
    """The smoke config trained once (real MiniLM) into a temporary store as run `smoke` of
    experiment `stance-smoke`, registered as `stance-classifier@champion`:
    `(folder, tracking_uri, run)`. Session-scoped because training is the slow part; other
    tests may add runs of their own (the UI test adds a baseline), so runs are looked up by name.
    """
    import mlflow

    store = tmp_path_factory.mktemp("smoke")
    train_into(store, "configs/smoke.yaml", "run_name=smoke")
    mlflow.set_tracking_uri(store_uri(store))
    (run,) = mlflow.search_runs(experiment_names=["stance-smoke"], output_format="list",
                                filter_string="attributes.run_name = 'smoke'")
    return store, store_uri(store), run


@pytest.fixture
def smoke_run(smoke_store, monkeypatch) -> tuple[Path, str, object]:
    """`smoke_store`, with MLflow (in this process and its children) pointed at its store."""
    import mlflow

    _, uri, _ = smoke_store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    return smoke_store
