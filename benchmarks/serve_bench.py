"""Throughput of the two scale-out paths on this machine (not a test):

- MLflow's REST server (`mlflow models serve`, as `make serve`): requests/s for batches of 32
  passages, sent one after another by one client;
- Spark in local mode (`stance.spark.score`): passages/s over 2 partitions on `local[2]`.

    python benchmarks/serve_bench.py --tracking-uri sqlite:///mlflow.db
    python benchmarks/serve_bench.py --skip-spark --requests 50

Passages come from data/ (test split first), cycled as needed. Both paths load the model named by
`--model-uri` from the tracking store; figures depend on the model's `max_length`, which it prints.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from stance.names import DEFAULT_MODEL_URI, tracking_uri
from stance.serving.server import model_server, post_records

ROOT = Path(__file__).resolve().parents[1]


def data_passages(n: int, splits: tuple[str, ...] = ("test", "validation", "challenge")) -> list[str]:
    """Up to `n` passages from data/, taken from the splits in order (test first)."""
    texts: list[str] = []
    for split in splits:
        for line in (ROOT / "data" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            texts.append(json.loads(line)["text"])
    return texts[:n]


def load() -> str:
    """Other processes on the machine skew every figure: print the load beside each."""
    return f"load average {os.getloadavg()[0]:.1f}"


def cycled(texts: list[str], n: int) -> list[str]:
    return list(itertools.islice(itertools.cycle(texts), n))


def request_batches(args, texts: list[str]) -> list[list[str]]:
    stream = cycled(texts, args.requests * args.batch)
    return [stream[i : i + args.batch] for i in range(0, len(stream), args.batch)]


def bench_library(args, clf, texts: list[str]) -> None:
    """The same batches through `StanceClassifier` in this process, for comparison."""
    batches = request_batches(args, texts)
    clf.predict_proba(batches[0])
    start = time.perf_counter()
    for batch in batches:
        clf.predict_proba(batch)
    elapsed = time.perf_counter() - start
    print(f"library (in process, same batches): {args.requests / elapsed:.2f} batches/s, "
          f"{args.requests * args.batch / elapsed:.1f} passages/s, {load()}")


def bench_server(args, texts: list[str]) -> None:
    log = Path(tempfile.mkdtemp(prefix="serve-bench-")) / "server.log"
    batches = request_batches(args, texts)
    with model_server(args.model_uri, args.tracking_uri, log, workers=args.workers) as url:
        for batch in batches[:2]:  # warm-up: first requests pay for lazy initialisation
            post_records(url, batch)
        latencies = []
        start = time.perf_counter()
        for batch in batches:
            t0 = time.perf_counter()
            post_records(url, batch)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
    print(f"server: {args.requests} requests x {args.batch} passages, {args.workers} worker(s): "
          f"{args.requests / elapsed:.2f} requests/s, {args.requests * args.batch / elapsed:.1f} "
          f"passages/s, median latency {statistics.median(latencies) * 1000:.0f} ms, {load()}")


def spark_session(threads_per_task: int | None):
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (SparkSession.builder.master("local[2]").appName("stance-bench")
               .config("spark.driver.memory", "1g")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false"))
    if threads_per_task:
        # Two tasks run at once on 2 cores; by default each torch also wants every core.
        builder = builder.config("spark.executorEnv.OMP_NUM_THREADS", str(threads_per_task))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def bench_spark(args, texts: list[str]) -> None:
    from stance.serving.spark import score

    spark = spark_session(args.spark_threads)
    try:
        def run(n: int) -> float:
            rows = [(i, t) for i, t in enumerate(cycled(texts, n))]
            df = spark.createDataFrame(rows, ["id", "text"]).repartition(2)
            start = time.perf_counter()
            score(df, args.model_uri).write.format("noop").mode("overwrite").save()
            return time.perf_counter() - start

        run(16)  # warm-up: JVM, Python workers, imports
        elapsed = run(args.spark_passages)
    finally:
        spark.stop()
    print(f"spark: {args.spark_passages} passages, local[2], 2 partitions, torch threads per "
          f"task {args.spark_threads or 'default'}: {args.spark_passages / elapsed:.1f} "
          f"passages/s ({elapsed:.1f} s, model loaded once per task), {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-uri", default=DEFAULT_MODEL_URI)
    parser.add_argument("--tracking-uri", default=tracking_uri())
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--spark-passages", type=int, default=1024)
    parser.add_argument("--spark-threads", type=int, default=None,
                        help="OMP_NUM_THREADS for each Spark task (default: torch's own)")
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--skip-spark", action="store_true")
    args = parser.parse_args()

    import mlflow

    os.environ["MLFLOW_TRACKING_URI"] = args.tracking_uri
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    mlflow.set_tracking_uri(args.tracking_uri)
    from stance import StanceClassifier

    clf = StanceClassifier.from_pretrained(args.model_uri, device="cpu")
    print(f"model {args.model_uri}: max_length {clf.max_length}, cores {os.cpu_count()}, "
          f"{load()}")
    texts = data_passages(10_000)
    if not args.skip_server:
        bench_library(args, clf, texts)
        del clf  # free its threads and memory before the server starts
        bench_server(args, texts)
    if not args.skip_spark:
        bench_spark(args, texts)


if __name__ == "__main__":
    main()
