"""Load test of the scoring server (a benchmark, not a test): many clients at once sending good
requests mixed with malformed ones, on loopback, a fixed number of requests, then it stops.

    python benchmarks/serve_load.py --tracking-uri sqlite:///mlflow.db
    python benchmarks/serve_load.py --clients 32 --requests 320 --model-uri models:/stance-classifier/3

A good request is a batch of 1-64 passages from data/ and must come back with the labels the
library gives in this process for the same batch (an int8 ONNX model quantizes activations per
batch, so a passage's scores depend slightly on its batch-mates); a malformed one (no `text`
column, a number for a text, an empty text, a 10 MB body, invalid JSON: one request in four)
must get a 4xx whose JSON message is one line without a stack trace. The server's processes must
be the same ones at the end (no worker crashed or was restarted), and their memory is sampled
all along. Prints a table of requests/s, passages/s, p50/p99 latency and RSS, and a check list;
exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from stance.names import DEFAULT_MODEL_URI, tracking_uri
from stance.serving.server import model_server

ROOT = Path(__file__).resolve().parents[1]
BAD_KINDS = ("no_text_column", "non_string", "empty_text", "10MB_body", "invalid_json")


@dataclass
class Job:
    kind: str  # "good" or one of BAD_KINDS
    body: bytes
    texts: list[str] = field(default_factory=list)
    status: int = 0
    answer: dict | None = None
    seconds: float = 0.0


def passages(limit: int = 2000) -> list[str]:
    texts = []
    for split in ("test", "validation", "challenge"):
        with open(ROOT / "data" / f"{split}.jsonl", encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f if line.strip()]
    return texts[:limit]


def _records(texts: list) -> bytes:
    return json.dumps({"dataframe_records": [{"text": t} for t in texts]}).encode()


def bad_body(kind: str, text: str) -> bytes:
    return {"no_text_column": json.dumps({"dataframe_records": [{"passage": text}]}).encode(),
            "non_string": _records([text, 12345]),
            "empty_text": _records([text, "   "]),
            "10MB_body": _records(["radar " * 1_750_000]),
            "invalid_json": b'{"dataframe_records": [{"text": "unterminated'}[kind]


def make_jobs(n: int, texts: list[str], seed: int) -> list[Job]:
    """`n` requests, every fourth malformed (cycling through the kinds), in a shuffled order."""
    rng = random.Random(seed)
    jobs = []
    for i in range(n):
        if i % 4 == 3:
            kind = BAD_KINDS[(i // 4) % len(BAD_KINDS)]
            jobs.append(Job(kind, bad_body(kind, rng.choice(texts))))
        else:
            batch = rng.sample(texts, rng.randint(1, 64))
            jobs.append(Job("good", _records(batch), batch))
    rng.shuffle(jobs)
    return jobs


def send(url: str, job: Job, timeout: float) -> Job:
    request = urllib.request.Request(f"{url}/invocations", data=job.body,
                                     headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            job.status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        job.status, raw = err.code, err.read()
    job.seconds = time.perf_counter() - started
    try:
        job.answer = json.loads(raw)
    except json.JSONDecodeError:
        job.answer = None
    return job


class Memory:
    """Samples the summed RSS of the server's processes every `every` seconds."""

    def __init__(self, root: psutil.Process, every: float = 0.25):
        self.root, self.every, self.samples = root, every, []
        self.peak_by_process: dict[int, int] = {}
        self.pids = self.processes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def processes(self) -> set[int]:
        return {self.root.pid} | {p.pid for p in self.root.children(recursive=True)}

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for pid in self.processes():
                try:
                    rss = psutil.Process(pid).memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                total += rss
                self.peak_by_process[pid] = max(rss, self.peak_by_process.get(pid, 0))
            self.samples.append(total)
            self._stop.wait(self.every)

    def __enter__(self) -> Memory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def server_process(port: int) -> psutil.Process:
    """The `mlflow models serve` process listening on `port` (the root of the server's tree)."""
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "serve" in cmdline and "-p" in cmdline and str(port) in cmdline:
            return proc
    raise RuntimeError(f"no `mlflow models serve` process found for port {port}")


def expected_predictions(model_uri: str, jobs: list[Job]) -> tuple[dict[int, list], str]:
    """The library's predictions for each good request, scored as one call like the server's."""
    from stance import StanceClassifier

    clf = StanceClassifier.from_pretrained(model_uri, device="cpu")
    expected = {id(j): clf.predict(j.texts) for j in jobs if j.kind == "good"}
    return expected, type(clf.backend).__name__


def label_agrees(label: str, want, tol: float = 1e-5) -> bool:
    """The library's label, or either of its top two when they are closer than float noise."""
    top_two = sorted(want.scores.values())[-2:]
    return label == want.label or (top_two[1] - top_two[0] <= 2 * tol
                                   and want.scores.get(label, -1) >= top_two[0])


def _answered_like_the_library(job: Job, expected: list) -> bool:
    rows = (job.answer or {}).get("predictions", [])
    return job.status == 200 and len(rows) == len(expected) and all(
        label_agrees(row["label"], want) for row, want in zip(rows, expected))


def check(jobs: list[Job], expected: dict, pids_same: bool) -> list[tuple[str, bool, str]]:
    good = [j for j in jobs if j.kind == "good"]
    not_ok = sum(j.status != 200 for j in good)
    wrong = sum(not _answered_like_the_library(j, expected[id(j)]) for j in good)
    results = [("every good request answered 200", not_ok == 0, f"{len(good) - not_ok}/{len(good)}"),
               ("... with the library's labels", wrong == 0, f"{len(good) - wrong}/{len(good)}")]
    for kind in BAD_KINDS:
        mine = [j for j in jobs if j.kind == kind]
        four = sum(400 <= j.status < 500 and isinstance(j.answer, dict) for j in mine)
        one_line = sum(isinstance(j.answer, dict) and "\n" not in str(j.answer.get("message", "\n"))
                       for j in mine)
        traced = sum(isinstance(j.answer, dict) and "stack_trace" in j.answer for j in mine)
        results += [(f"{kind}: a 4xx with a JSON body", four == len(mine), f"{four}/{len(mine)}"),
                    (f"{kind}: a one-line message", one_line == len(mine),
                     f"{one_line}/{len(mine)}"),
                    (f"{kind}: no stack trace", traced == 0, f"{len(mine) - traced}/{len(mine)}")]
    results.append(("no server process crashed or was replaced", pids_same, ""))
    return results


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 \
        else values[0]


def report(args, jobs: list[Job], elapsed: float, memory: Memory,
           checks: list[tuple[str, bool, str]]) -> None:
    good = [j for j in jobs if j.kind == "good"]
    bad = [j for j in jobs if j.kind != "good"]
    n_passages = sum(len(j.texts) for j in good)
    quarter = max(1, len(memory.samples) // 4)
    first, last = memory.samples[:quarter], memory.samples[-quarter:]
    mb = 2**20
    print(f"\nmodel {args.model_uri}, {args.workers} worker(s), {psutil.cpu_count()} cores, "
          f"load average {psutil.getloadavg()[0]:.1f}")
    print("| clients | requests (good + bad) | passages | failed checks | requests/s | "
          "passages/s | good p50 / p99 | bad p50 / p99 | peak RSS (largest process) | "
          "RSS first -> last quarter |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    latency = {name: [j.seconds for j in js] for name, js in (("good", good), ("bad", bad))}
    print(f"| {args.clients} | {len(jobs)} ({len(good)} + {len(bad)}) | {n_passages} | "
          f"{sum(not ok for _, ok, _ in checks)} | {len(jobs) / elapsed:.2f} | "
          f"{n_passages / elapsed:.1f} | "
          f"{percentile(latency['good'], 50):.2f} s / {percentile(latency['good'], 99):.2f} s | "
          f"{percentile(latency['bad'], 50):.2f} s / {percentile(latency['bad'], 99):.2f} s | "
          f"{max(memory.samples) / mb:.0f} MB ({max(memory.peak_by_process.values()) / mb:.0f} MB) | "
          f"{statistics.median(first) / mb:.0f} -> "
          f"{statistics.median(last) / mb:.0f} MB |")
    print("\nchecks:")
    for name, ok, detail in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}  {detail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-uri", default=DEFAULT_MODEL_URI)
    parser.add_argument("--tracking-uri", default=tracking_uri())
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=320)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=300.0, help="per request, seconds")
    args = parser.parse_args()

    import mlflow

    mlflow.set_tracking_uri(args.tracking_uri)
    jobs = make_jobs(args.requests, passages(), args.seed)
    expected, backend = expected_predictions(args.model_uri, jobs)
    print(f"library backend: {backend}")
    log = Path(tempfile.mkdtemp(prefix="serve-load-")) / "server.log"
    with model_server(args.model_uri, args.tracking_uri, log, workers=args.workers) as url:
        root = server_process(int(url.rsplit(":", 1)[1]))
        with Memory(root) as memory, ThreadPoolExecutor(args.clients) as pool:
            started = time.perf_counter()
            list(pool.map(lambda job: send(url, job, args.timeout), jobs))  # fills in each job
            elapsed = time.perf_counter() - started
        pids_same = memory.processes() == memory.pids
    checks = check(jobs, expected, pids_same)
    report(args, jobs, elapsed, memory, checks)
    print(f"server log: {log}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
