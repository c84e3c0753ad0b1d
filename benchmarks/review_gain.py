"""What labeling the passages `stance review` picks is worth against labeling random ones.

A labeled JSONL (default: data/news.jsonl, the realistic split, when it exists; else the file
given, e.g. data/test.jsonl as a stand-in) is split in half by group: a pool and a test half. A
TF-IDF model trained on data/train.jsonl scores the pool (`stance predict`), `stance review`
picks N passages, and their gold labels stand in for a person's. The model is retrained the same
way on train + those N, and on train + N chosen at random (several seeds); each is scored on the
test half: macro-F1 with a 95% bootstrap interval, and review minus random with a 95% paired
interval. A benchmark script, not a test.

    python benchmarks/review_gain.py [--labeled data/news.jsonl] [-n 100] [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stance.cli import main as cli  # noqa: E402
from stance.eval.metrics import bootstrap_f1_interval, macro_f1, paired_f1_difference  # noqa: E402
from stance.labels import LABELS  # noqa: E402


def read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def halves(records: list[dict], seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Pool and test halves, whole groups on one side (no paraphrase leaks across)."""
    groups = sorted({r.get("group") or r["id"] for r in records})
    random.Random(seed).shuffle(groups)
    pool_groups = set(groups[: len(groups) // 2])
    pool = [r for r in records if (r.get("group") or r["id"]) in pool_groups]
    return pool, [r for r in records if (r.get("group") or r["id"]) not in pool_groups]


def fit(train: list[dict]):
    """TF-IDF + logistic regression, configured as configs/tfidf.yaml."""
    from training.config import load_config
    from training.families import tfidf

    config = load_config(ROOT / "configs" / "tfidf.yaml")
    split = {"text": [r["text"] for r in train], "label": [LABELS.index(r["label"]) for r in train]}
    return tfidf.fit(config, {"train": split}, None)


def reviewed(clf, pool: list[dict], n: int, work: Path) -> list[dict]:
    """The pool passages `stance review` picks, through the command line as a user runs it."""
    model, src = work / "base-model", work / "pool.jsonl"
    clf.save_pretrained(model)
    src.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in pool))
    assert cli(["predict", "--model", str(model), "--input", str(src), "--output",
                str(work / "pool-scored.parquet")]) == 0
    assert cli(["review", str(work / "pool-scored.parquet"), "-n", str(n), "--out",
                str(work / "to_label.csv")]) == 0
    import pandas as pd

    chosen = set(pd.read_csv(work / "to_label.csv", dtype=str)["id"])
    return [r for r in pool if r["id"] in chosen]


def score(clf, test: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    proba = clf.predict_proba([r["text"] for r in test])
    return np.array([LABELS.index(r["label"]) for r in test]), proba


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ROOT / "data" / "news.jsonl"
    parser.add_argument("--labeled", type=Path, default=default if default.exists()
                        else ROOT / "data" / "test.jsonl")
    parser.add_argument("--train", type=Path, default=ROOT / "data" / "train.jsonl")
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=5, help="random draws to compare against")
    args = parser.parse_args()
    train, (pool, test) = read(args.train), halves(read(args.labeled))
    print(f"{args.labeled}: pool {len(pool)}, test {len(test)}; base model trained on "
          f"{len(train)} passages of {args.train}")
    base = fit(train)
    y, proba = score(base, test)
    k = len(LABELS)
    report = lambda name, p: print(f"{name:<28} macro-F1 {macro_f1(y, p.argmax(1), k):.3f} "  # noqa: E731
                                   "(95% CI {:.3f}-{:.3f})".format(*bootstrap_f1_interval(y, p, k)))
    report("base (no new labels)", proba)
    with tempfile.TemporaryDirectory() as tmp:
        chosen = reviewed(base, pool, args.n, Path(tmp))
    _, review_proba = score(fit(train + chosen), test)
    report(f"+{len(chosen)} chosen by review", review_proba)
    gains = []
    for seed in range(args.seeds):
        sample = random.Random(seed).sample(pool, len(chosen))
        _, random_proba = score(fit(train + sample), test)
        report(f"+{len(sample)} at random (seed {seed})", random_proba)
        diff, low, high = paired_f1_difference(y, review_proba.argmax(1), random_proba.argmax(1), k)
        gains.append(diff)
        print(f"{'':<28} review - random: {diff:+.3f} (95% paired CI {low:+.3f} to {high:+.3f})")
    print(f"mean gain of review over random across {args.seeds} draws: {np.mean(gains):+.3f}")


if __name__ == "__main__":
    main()
