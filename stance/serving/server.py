"""MLflow's own scoring server (`mlflow models serve`) in a child process on a free loopback
port, for scripts, benchmarks and tests that need one for a while, and a small client for it.

>>> with model_server("models:/stance-classifier@champion", "sqlite:///mlflow.db",
...                   Path("serve.log")) as url:  # doctest: +SKIP
...     post_records(url, ["Moscow sold S-400s to Ankara."])
"""

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


def free_port() -> int:
    """A port nobody listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def model_server(model_uri: str, tracking_uri: str, log_path: Path, workers: int = 1,
                 startup_timeout: float = 180.0) -> Iterator[str]:
    """Serve `model_uri` and yield its base URL; the server is always stopped on exit."""
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
                               f"{Path(log_path).read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}{probe}", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"server not up after {timeout:.0f}s:\n{Path(log_path).read_text()[-3000:]}")


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


def post_json(url: str, payload: dict | bytes, timeout: float = 120.0) -> tuple[int, dict]:
    """POST `payload` (a dict, or raw bytes) to `<url>/invocations`; (HTTP status, JSON body)."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    request = urllib.request.Request(f"{url}/invocations", data=data,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        body = err.read()
        try:
            return err.code, json.loads(body)
        except json.JSONDecodeError:
            return err.code, {"message": body.decode("utf-8", "replace")}


def post_records(url: str, texts: list[str]) -> list[dict]:
    """Score passages in MLflow's `dataframe_records` format; one dict per passage."""
    status, body = post_json(url, {"dataframe_records": [{"text": t} for t in texts]})
    if status != 200:
        raise RuntimeError(f"/invocations answered {status}: {body}")
    return body["predictions"]
