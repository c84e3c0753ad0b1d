"""`make bench`: speed, memory, cold start and agreement of the inference backends.

    python benchmarks/bench.py [MODEL_FOLDER] [--reps 3] [--rounds 1] [--articles 12]

Backends: (a) plain `transformers.pipeline("text-classification")` with its defaults,
(b) `StanceClassifier` fp32 (torch), (c) ONNX Runtime fp32, (d) ONNX Runtime int8, all on the
same model folder (the ONNX folders are exported into a temporary folder first). Each backend is
measured in its own subprocess, so its peak RSS is its own; cold start is a further fresh process
that imports `stance`, loads the model and predicts one passage.

Inputs: the `test` split (the short-passage mix) and long articles built deterministically by
joining test passages into 400-1,500-word texts. Timings are the best of `--reps` passes (and of
`--rounds` repetitions of the whole set of subprocesses), which is the least disturbed by other
load on the machine; the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

def _backends() -> tuple[str, ...]:
    """The plain pipeline, the model as trained, and every export format of `stance.export`
    in fp32 and int8 (each run by the backend the exported folder names)."""
    from stance.export import FORMATS

    return ("pipeline", "torch", *[f"{f}-{p}" for f in FORMATS for p in ("fp32", "int8")])


BACKENDS = _backends()
FLOP_FORMULA = ("FLOPs per sequence of n real tokens (padding excluded) = "
                "layers * (8*n*d^2 + 4*n*d*f + 4*n^2*d) + 2*d^2 + 2*d*k, with d the hidden size, "
                "f the feed-forward size, k the labels (Q/K/V/output projections, feed-forward, "
                "attention scores and weighted sum, pooler, classifier; one multiply-add = 2 FLOPs)")
ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- inputs

def read_split(path: Path) -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def build_articles(passages: list[str], n: int, seed: int = 0) -> list[str]:
    """`n` texts of 400-1,500 words, each whole test passages joined as paragraphs."""
    rng = random.Random(seed)
    articles = []
    for _ in range(n):
        target, words, parts = rng.randint(400, 1500), 0, []
        order = rng.sample(range(len(passages)), len(passages))
        for i in order * 20:  # cycling: the placeholder split may hold few words
            size = len(passages[i].split())
            if words + size <= 1500:
                parts.append(passages[i])
                words += size
            if words >= target:
                break
        articles.append("\n\n".join(parts))
    return articles


def latest_model(models: Path = ROOT / "models") -> Path:
    folders = [p.parent for p in models.glob("*/model.safetensors")]
    if not folders:
        raise SystemExit("no model given and none under models/: run `make train` or pass MODEL")
    return max(folders, key=lambda p: p.stat().st_mtime)


def model_folder(model: str | None, tmp: Path) -> Path:
    """The folder to measure: `model` itself, an MLflow model URI saved into `tmp` (the pipeline
    needs a folder), or the newest folder under models/."""
    if not model:
        return latest_model()
    if model.startswith(("models:/", "runs:/")):
        from stance import StanceClassifier

        StanceClassifier.from_pretrained(model, device="cpu").save_pretrained(tmp / "model")
        return tmp / "model"
    return Path(model)


# ---------------------------------------------------------------- one backend, in its own process

def _choice(backend: str) -> str:
    """The `backend=` of `from_pretrained` for a row: a trained folder may hold an int8 ONNX copy
    that "auto" would pick on a CPU, so the torch row insists on PyTorch."""
    return "torch" if backend == "torch" else "auto"


def load_backend(backend: str, folder: str):
    """A function `texts -> (labels, probabilities or None)` for the backend."""
    if backend == "pipeline":
        from transformers import pipeline

        pipe = pipeline("text-classification", model=folder)
        return lambda texts, long=False: (
            # Without truncation the pipeline fails on texts longer than 512 tokens.
            [r["label"] for r in (pipe(texts, truncation=True) if long else pipe(texts))], None)
    from stance import StanceClassifier

    clf = StanceClassifier.from_pretrained(folder, device="cpu", backend=_choice(backend))

    def run(texts, long=False):
        preds = clf.predict(texts)
        return [p.label for p in preds], [[p.scores[k] for k in clf.labels] for p in preds]
    run.clf = clf
    return run


def best_time(fn, reps: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def fed_lengths(backend: str, run, folder: str, texts: list[str], long: bool) -> dict:
    """Lengths of the sequences the backend runs, and the padded size of its batches."""
    from transformers import AutoTokenizer

    if backend == "pipeline":  # batch size 1: no padding
        tok = AutoTokenizer.from_pretrained(folder)
        lengths = [len(ids) for ids in tok(texts, truncation=long)["input_ids"]]
        return {"lengths": lengths, "padded": sum(lengths)}
    from stance.text import token_budget_batches

    backend = run.clf.backend
    windows, _ = backend.windows(texts)
    lengths = [len(ids) for ids in windows]
    batches = token_budget_batches(lengths, backend.tokens_per_batch, 64)
    return {"lengths": lengths, "padded": sum(len(b) * lengths[b[0]] for b in batches)}


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not `ru_maxrss`: Linux carries it over from the parent
    through fork and exec, so a worker would report at least the parent's peak."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(backend: str, folder: str, inputs: Path, reps: int) -> None:
    data = json.loads(inputs.read_text())
    run = load_backend(backend, folder)
    run(data["short"][:8]), run(data["long"][:1], long=True)  # warm-up
    out = {}
    out["short_s"], (out["labels"], out["proba"]) = best_time(lambda: run(data["short"]), reps)
    out["rss_mb"] = peak_rss_mb()
    out["long_s"], (out["long_labels"], out["long_proba"]) = best_time(
        lambda: run(data["long"], long=True), reps)
    out["rss_long_mb"] = peak_rss_mb()
    out["fed"] = {kind: fed_lengths(backend, run, folder, data[kind], kind == "long")
                  for kind in ("short", "long")}
    print(json.dumps(out))


COLD = """import time; t = time.perf_counter()
from stance import StanceClassifier
clf = StanceClassifier.from_pretrained({folder!r}, device="cpu", backend={choice!r})
clf.predict([{text!r}]); print(time.perf_counter() - t)
"""
COLD_PIPELINE = """import time; t = time.perf_counter()
from transformers import pipeline
pipeline("text-classification", model={folder!r})([{text!r}]); print(time.perf_counter() - t)
"""


# ---------------------------------------------------------------- the parent

def subprocess_python(args: list[str]) -> str:
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                        "PYTHONPATH": str(ROOT), "TRANSFORMERS_VERBOSITY": "error"}
    done = subprocess.run([sys.executable, *args], check=False, capture_output=True, text=True,
                          env=env, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"subprocess {args[:3]} failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def cold_start(backend: str, folder: str, text: str) -> tuple[float, float]:
    """(seconds inside the process, seconds from spawn to exit)."""
    code = (COLD_PIPELINE if backend == "pipeline" else COLD).format(
        folder=folder, text=text, choice=_choice(backend))
    start = time.perf_counter()
    inside = float(subprocess_python(["-c", code]))
    return inside, time.perf_counter() - start


def matmul_rate(n: int = 2048, reps: int = 10) -> tuple[float, int]:
    """(GFLOP/s of a large fp32 `torch.matmul`, torch's default thread count it ran on)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    seconds, _ = best_time(lambda: torch.matmul(a, b), reps)
    return 2 * n**3 / seconds / 1e9, torch.get_num_threads()


def flops(lengths: list[int], config: dict) -> float:
    d, f = config["hidden_size"], config["intermediate_size"]
    layers, k = config["num_hidden_layers"], len(config["id2label"])
    per_seq = [layers * (8 * n * d * d + 4 * n * d * f + 4 * n * n * d) for n in lengths]
    return sum(per_seq) + len(lengths) * (2 * d * d + 2 * d * k)


def macro_f1(gold: list[str], pred: list[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, pred, average="macro", labels=sorted(set(gold)), zero_division=0))


def agreement(ref: dict, other: dict, kind: str) -> tuple[float, float]:
    """(share of identical labels, max absolute probability difference)."""
    labels, proba = f"{kind}labels", f"{kind}proba"
    same = sum(a == b for a, b in zip(ref[labels], other[labels])) / len(ref[labels])
    diff = max(abs(x - y) for r, o in zip(ref[proba], other[proba]) for x, y in zip(r, o))
    return same, diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?",
                        help="model folder or MLflow model URI (default: newest under models/)")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "test.jsonl")
    parser.add_argument("--articles", type=int, default=12, help="number of long articles")
    parser.add_argument("--reps", type=int, default=3, help="timed passes per backend process")
    parser.add_argument("--rounds", type=int, default=1, help="repetitions of every process")
    parser.add_argument("--worker", nargs=3, metavar=("BACKEND", "FOLDER", "INPUTS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker[0], args.worker[1], Path(args.worker[2]), args.reps)
    texts, gold = read_split(args.data)
    long = build_articles(texts, args.articles)
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as tmp:
        model = model_folder(args.model, Path(tmp))
        config = json.loads((model / "config.json").read_text())
        folders = {"pipeline": str(model), "torch": str(model)}
        for name in BACKENDS[2:]:
            fmt, precision = name.rsplit("-", 1)
            folders[name] = str(Path(tmp) / name)
            subprocess_python(["-m", "stance.cli", "export", "--format", fmt,
                               *(["--int8"] if precision == "int8" else []), str(model),
                               folders[name]])
        inputs = Path(tmp) / "inputs.json"
        inputs.write_text(json.dumps({"short": texts, "long": long}))
        rate, threads = matmul_rate()
        results = {}
        for _ in range(args.rounds):
            for b in BACKENDS:
                new = json.loads(subprocess_python([__file__, "--worker", b, folders[b],
                                                    str(inputs), "--reps", str(args.reps)]))
                old = results.get(b)
                if old:  # keep the fastest round of each set
                    new["short_s"] = min(new["short_s"], old["short_s"])
                    new["long_s"] = min(new["long_s"], old["long_s"])
                results[b] = new
        cold = {b: cold_start(b, folders[b], texts[0]) for b in BACKENDS}
        report(results, cold, (rate, threads), config, texts, gold, long, args.model or model,
               model)


def report(results, cold, machine, config, texts, gold, long, name, model) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    n_tokens = {"short": sum(map(len, tok(texts)["input_ids"])),
                "long": sum(map(len, tok(long)["input_ids"]))}
    base = results["pipeline"]
    print(f"\nmodel {name}: {len(texts)} test passages ({n_tokens['short']} tokens), "
          f"{len(long)} long articles ({n_tokens['long']} tokens, "
          f"{min(len(t.split()) for t in long)}-{max(len(t.split()) for t in long)} words)")
    rate, threads = machine
    print(f"{os.cpu_count()} CPUs, {threads} torch threads, load average "
          f"{os.getloadavg()[0]:.2f} at the end; measured fp32 matmul rate {rate:.1f} GFLOP/s "
          f"(2048x2048 torch.matmul, best of 10)\n")
    head = ("backend", "short p/s", "short tok/s", "x pipe", "long p/s", "long tok/s", "x pipe",
            "GFLOP/s", "% matmul", "padding", "RSS MB", "RSS+long", "cold s", "macro-F1")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for b, r in results.items():
        fed = r["fed"]["short"]
        gflops = flops(fed["lengths"], config) / r["short_s"] / 1e9
        pad = 1 - sum(fed["lengths"]) / fed["padded"]
        row = (b, f"{len(texts) / r['short_s']:.1f}", f"{n_tokens['short'] / r['short_s']:.0f}",
               f"{base['short_s'] / r['short_s']:.2f}", f"{len(long) / r['long_s']:.2f}",
               f"{n_tokens['long'] / r['long_s']:.0f}", f"{base['long_s'] / r['long_s']:.2f}",
               f"{gflops:.1f}", f"{100 * gflops / rate:.0f}%", f"{100 * pad:.1f}%",
               f"{r['rss_mb']:.0f}", f"{r['rss_long_mb']:.0f}", f"{cold[b][0]:.2f} ({cold[b][1]:.2f})",
               f"{macro_f1(gold, r['labels']):.3f}")
        print("| " + " | ".join(row) + " |")
    kept = sum(results["pipeline"]["fed"]["long"]["lengths"])
    print(f"\n- pipeline TRUNCATES long articles to the tokenizer's limit: it reads {kept} of "
          f"{n_tokens['long']} tokens ({100 * kept / n_tokens['long']:.0f}%); the others score "
          f"every token in overlapping {config.get('stance_max_length')}-token windows.")
    print("- tok/s counts each passage's own tokens ([CLS] and [SEP] included) for every backend;"
          " GFLOP/s counts the sequences each backend actually ran, on the short mix.")
    print(f"- {FLOP_FORMULA}. For onnx-int8 these are int8 operations.")
    print("- cold s: import + load + predict one passage in a fresh process (spawn to exit).")
    print("- RSS MB: peak after scoring the test split; RSS+long: after the long articles too.")
    ref = results["torch"]
    for b in BACKENDS[2:]:
        same, diff = agreement(ref, results[b], "")
        same_l, diff_l = agreement(ref, results[b], "long_")
        delta = macro_f1(gold, results[b]["labels"]) - macro_f1(gold, ref["labels"])
        print(f"- {b} vs torch: identical labels {100 * same:.1f}% on test "
              f"({100 * same_l:.1f}% on long), max probability difference {diff:.4f} "
              f"({diff_l:.4f}), macro-F1 change on test {delta:+.3f}")


if __name__ == "__main__":
    main()
