"""Helpers for the tests (import them; fixtures live in conftest.py): the tiny cue-word task,
one way to train with overrides, passages from data/, and the check that a scored row matches
`StanceClassifier.predict`."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from stance.labels import LABELS

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


def write_tiny_data(folder: Path, sizes=(("train", 20, 1), ("validation", 6, 2),
                                         ("test", 6, 3))) -> Path:
    """train / validation / test JSONL files of the tiny cue-word task in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, n, seed in sizes:
        write_jsonl(folder / f"{split}.jsonl", tiny_records(n, seed, split))
    return folder


def write_random_bert(folder: Path, hidden: int, layers: int, intermediate: int) -> Path:
    """Save a BERT classifier with random weights (seed 0) over `VOCAB`, and its tokenizer."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=4, intermediate_size=intermediate,
                        max_position_embeddings=64, num_labels=len(LABELS),
                        id2label=dict(enumerate(LABELS)),
                        label2id={label: i for i, label in enumerate(LABELS)})
    BertForSequenceClassification(config).save_pretrained(folder)
    write_vocab_tokenizer(folder)
    return folder


def write_vocab_tokenizer(folder: Path) -> None:
    """Save a word-piece tokenizer over `VOCAB` into `folder`."""
    from transformers import BertTokenizer

    BertTokenizer(vocab={w: i for i, w in enumerate(VOCAB)}).save_pretrained(folder)


def store_uri(store: Path) -> str:
    """The tracking URI of the sqlite store inside the folder `store`."""
    return f"sqlite:///{store}/mlflow.db"


def tiny_overrides(model_dir: Path, data: Path, store: Path, *extra: str) -> list[str]:
    """`--set` values that train the tiny BERT on the tiny task into the store folder `store`
    (without the int8 ONNX copy, which tests of the CPU path turn back on)."""
    return [f"model.base={model_dir}", f"data.path={data}", "model.max_length=32",
            "training.learning_rate=3e-3", "training.epochs=2", "training.onnx_int8=false",
            *extra]


def train_args(config: str, store: Path, *overrides: str) -> list[str]:
    """The command-line arguments of `python -m training.train` that train `config` into the
    store folder `store` (tracking in store/mlflow.db, artifacts and models beside it)."""
    sets = [f"tracking.uri={store_uri(store)}", f"tracking.artifact_location={store}/artifacts",
            f"output_dir={store}/models", *overrides]
    return ["--config", config, *[a for s in sets for a in ("--set", s)]]


def train(config: str, store: Path, *overrides: str, subprocess_: bool = False,
          check: bool = True) -> int:
    """Train as `make train` does: in this process (fast) or, with `subprocess_`, in a child
    (for the real encoder: nothing stays loaded here). Returns the exit code."""
    args = train_args(config, store, *overrides)
    if not subprocess_:
        from training.train import main

        code = main(args)
    else:
        env = os.environ | {"HF_HUB_OFFLINE": "1"}
        code = subprocess.run([sys.executable, "-m", "training.train", *args], cwd=ROOT, env=env,
                              timeout=900).returncode
    if check and code != 0:
        raise AssertionError(f"training {config} {overrides} exited with {code}")
    return code


def runs_by_name(store: Path, experiment: str = "stance-smoke") -> dict:
    import mlflow

    mlflow.set_tracking_uri(store_uri(store))
    return {r.info.run_name: r for r in
            mlflow.search_runs(experiment_names=[experiment], output_format="list")}


def data_passages(n: int, splits: tuple[str, ...] = ("test", "validation", "challenge")) -> list[str]:
    """Up to `n` passages from data/, taken from the splits in order (test first)."""
    texts: list[str] = []
    for split in splits:
        for line in (ROOT / "data" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            if len(texts) == n:
                return texts
            texts.append(json.loads(line)["text"])
    return texts


def long_passage(n_words: int = 1500) -> str:
    """About `n_words` words of real passages run together: many token windows long."""
    words: list[str] = []
    for text in data_passages(10_000):
        words += text.split()
        if len(words) >= n_words:
            return " ".join(words[:n_words])
    raise ValueError(f"data/ holds fewer than {n_words} words")


def assert_matches(label: str, probs: dict[str, float], want, tol: float = 1e-5) -> None:
    """A scored row equals a library `Prediction`: probabilities within `tol`, the same label.

    Rows batched differently (Spark's Arrow batches) are padded differently, which moves the
    float sums by ~1e-7; so when the library's top two are closer than that, either is accepted.
    """
    for name, p in want.scores.items():
        assert abs(probs[name] - p) <= tol, (name, probs, want.scores)
    top_two = sorted(want.scores.values())[-2:]
    if top_two[1] - top_two[0] > 2 * tol:
        assert label == want.label, (label, want)
    else:
        assert want.scores[label] >= top_two[0], (label, want)
