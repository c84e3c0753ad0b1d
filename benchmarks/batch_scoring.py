"""Streaming batch scoring at corpus scale: peak RSS and passages/s of `stance predict` on a large
CSV, and the resume check (SIGKILL about half way, `--resume`, same bytes as a run never
interrupted). A benchmark script, not a test.

    python benchmarks/batch_scoring.py                      # 200,000 passages, the tiny random BERT
    python benchmarks/batch_scoring.py --model tfidf --format csv
    python benchmarks/batch_scoring.py --model models/my-run --rows 20000

Passages are the texts of data/*.jsonl repeated with a row number (random filler words when the
folder has none). The scorer is the 2-layer, 64-wide random BERT of the tests (`--model tiny`),
TF-IDF fitted on data/train.jsonl (`--model tfidf`, the fastest on 2 cores), or a saved folder:
the first two measure the pipeline's memory and speed, not a real model's.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def texts_from_data(limit: int = 5000) -> list[str]:
    texts = []
    for path in sorted((ROOT / "data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line).get("text", ""))
    return [t for t in texts if isinstance(t, str) and t.strip()][:limit] or \
        [" ".join(random.Random(i).choices(["radar", "treaty", "moscow", "sanctions", "talks"], k=20))
         for i in range(1000)]


def write_corpus(path: Path, rows: int) -> None:
    texts = texts_from_data()
    rng = random.Random(0)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "date", "source", "text"])
        for i in range(rows):
            writer.writerow([f"p{i}", f"2024-{1 + i % 12:02d}-01", rng.choice("ABCDE"),
                             f"{texts[i % len(texts)]} ({i})"])


def tiny_model(folder: Path) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from stance.labels import LABELS
    from tests.helpers import VOCAB, write_vocab_tokenizer

    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=128, max_position_embeddings=64,
                        num_labels=3, id2label=dict(enumerate(LABELS)),
                        label2id={x: i for i, x in enumerate(LABELS)})
    BertForSequenceClassification(config).save_pretrained(folder)
    write_vocab_tokenizer(folder)
    return folder


def tfidf_model(folder: Path) -> Path:
    """TF-IDF + logistic regression (configs/tfidf.yaml) fitted on data/train.jsonl."""
    from stance.labels import LABELS
    from training.config import load_config
    from training.families import tfidf

    train = [json.loads(x) for x in (ROOT / "data" / "train.jsonl").read_text().splitlines() if x]
    split = {"text": [r["text"] for r in train], "label": [LABELS.index(r["label"]) for r in train]}
    tfidf.fit(load_config(ROOT / "configs" / "tfidf.yaml"), {"train": split}, None) \
        .save_pretrained(folder)
    return folder


def command(model: Path, src: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "stance.cli", "predict", "--model", str(model), "--input",
            str(src), "--output", str(out), *extra]


def _hwm_mb(pid: int) -> float | None:
    """The process's own peak RSS (VmHWM; ru_maxrss would carry this parent's over exec)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def run_measured(cmd: list[str], kill_at_parts: int | None = None,
                 out: Path | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB of the child, exit code); optionally SIGKILL the child once
    `kill_at_parts` parts of `out` exist."""
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    folder = out.with_name(f".{out.name}.partial") if out is not None else None
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _hwm_mb(proc.pid) or 0.0)
        if kill_at_parts is not None and len(list(folder.glob("part-*"))) >= kill_at_parts:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            break
        time.sleep(0.05)
    return time.perf_counter() - started, peak, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--model", help="a saved model folder; 'tiny' (default): the tests' random "
                                        "BERT; 'tfidf': TF-IDF fitted on data/train.jsonl")
    parser.add_argument("--format", default="parquet", choices=["parquet", "csv", "jsonl"])
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--work", type=Path, help="folder for the corpus and outputs (default: tmp)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="stance-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    builders = {"tiny": lambda: tiny_model(work / "tiny-bert"),
                "tfidf": lambda: tfidf_model(work / "tfidf")}
    name = args.model or "tiny"
    model = builders[name]() if name in builders else Path(name)
    src = work / "corpus.csv"
    write_corpus(src, args.rows)
    chunk = ["--chunk-size", str(args.chunk_size)]
    whole, half = work / f"whole.{args.format}", work / f"resumed.{args.format}"

    seconds, rss, status = run_measured(command(model, src, whole, *chunk))
    assert status == 0, "the uninterrupted run failed"
    print(f"uninterrupted: {args.rows} passages in {seconds:.1f} s = {args.rows / seconds:.0f} "
          f"passages/s, peak RSS {rss:.0f} MB (model: {name})")
    parts = -(-args.rows // args.chunk_size)
    killed_s, killed_rss, _ = run_measured(command(model, src, half, *chunk), parts // 2, half)
    done = len(list(half.with_name(f".{half.name}.partial").glob("part-*")))
    resumed_s, resumed_rss, status = run_measured(command(model, src, half, *chunk, "--resume"))
    assert status == 0, "the resumed run failed"
    same = whole.read_bytes() == half.read_bytes()
    print(f"killed with SIGKILL after {done} of {parts} parts ({killed_s:.1f} s); --resume took "
          f"{resumed_s:.1f} s (peak RSS {max(killed_rss, resumed_rss):.0f} MB); resumed file "
          f"{'IDENTICAL to' if same else 'DIFFERENT from'} the uninterrupted one "
          f"({whole.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
