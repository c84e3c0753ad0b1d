"""Prediction speed of saved models as users get them: each folder loaded with the defaults
(`backend="auto"` on the CPU, so an encoder runs its verified int8 ONNX copy when it has one)
and timed on the `test` split, best of `--reps` passes, each model in a fresh process.

    python benchmarks/model_speed.py models/run-a models/run-b [--reps 3] [--split test]

Prints one row per folder: the backend `auto` chose, passages/s, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, resource, sys, time
from stance import StanceClassifier
from stance.fileio import read_jsonl
folder, split, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
texts = [r["text"] for _, r in read_jsonl(f"data/{split}.jsonl")]
clf = StanceClassifier.from_pretrained(folder, device="cpu")
clf.predict(texts[:8])  # warm-up: first-call allocations are not the steady rate
times = []
for _ in range(reps):
    start = time.perf_counter()
    clf.predict(texts)
    times.append(time.perf_counter() - start)
member = getattr(clf.backend, "members", None)
backend = type(clf.backend).__name__
if member:
    backend += "(" + ", ".join(type(m.backend).__name__ for m in member.values()) + ")"
print(json.dumps({"backend": backend, "passages_per_s": len(texts) / min(times),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(folder: str, split: str, reps: int) -> dict:
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, folder, split, str(reps)], cwd=ROOT,
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--split", default="test")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; split {args.split}")
    print("| model | backend (auto, CPU) | passages/s | peak RSS |\n|---|---|---|---|")
    for folder in args.folders:
        row = measure(folder, args.split, args.reps)
        print(f"| {Path(folder).name} | {row['backend']} | {row['passages_per_s']:.1f} | "
              f"{row['peak_rss_mb']:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
