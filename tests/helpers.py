"""Helpers shared by the serving and Spark tests and benchmarks/serve_bench.py: MLflow's own
model server (`mlflow models serve`) in a child process on a free loopback port, passages from
data/, and the check that a scored row matches `StanceClassifier.predict`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A port nobody listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def model_server(model_uri: str, tracking_uri: str, log_path: Path, workers: int = 1,
                 startup_timeout: float = 180.0) -> Iterator[str]:
    """Serve `model_uri` and yield its base URL; the server is always stopped on exit.

    >>> with model_server("models:/stance-classifier@champion", "sqlite:///mlflow.db",
    ...                   Path("serve.log")) as url:  # doctest: +SKIP
    ...     post_records(url, ["Moscow sold S-400s to Ankara."])
    """
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)
    # `mlflow models serve` execs `uvicorn` by name, so the venv's bin must be on PATH.
    env = os.environ | {"MLFLOW_TRACKING_URI": tracking_uri, "HF_HUB_OFFLINE": "1",
                        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    cmd = [str(Path(bin_dir) / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager",
           "local", "-h", HOST, "-p", str(port), "--workers", str(workers)]
    with open(log_path, "wb") as log:
        # A session of its own, so that stopping it also stops the uvicorn it spawns.
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        try:
            url = f"http://{HOST}:{port}"
            wait_until_up(url, proc, log_path, startup_timeout)
            yield url
        finally:
            stop_server(proc)


def wait_until_up(url: str, proc: subprocess.Popen, log_path: Path, timeout: float,
                  probe: str = "/ping") -> None:
    """Poll `url + probe` until it answers 200; fail early, with the log, if `proc` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n"
                               f"{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}{probe}", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"server not up after {timeout:.0f}s:\n"
                       f"{log_path.read_text()[-3000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (uvicorn included), SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
            return
        except subprocess.TimeoutExpired:
            continue


def post_json(url: str, payload: dict, timeout: float = 120.0) -> tuple[int, dict]:
    """POST `payload` to `<url>/invocations`; returns (HTTP status, decoded JSON body)."""
    request = urllib.request.Request(f"{url}/invocations", data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def post_records(url: str, texts: list[str]) -> list[dict]:
    """Score passages in MLflow's `dataframe_records` format; one dict per passage."""
    status, body = post_json(url, {"dataframe_records": [{"text": t} for t in texts]})
    if status != 200:
        raise RuntimeError(f"/invocations answered {status}: {body}")
    return body["predictions"]


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
