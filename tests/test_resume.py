"""Kill and resume, as a user would meet it: `stance predict` SIGKILLed about half way through a
corpus, then run again with --resume, writes the same bytes as a run never interrupted, and
scores only what was not done."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import FILLER, ROOT, tiny_records

pytestmark = pytest.mark.integration
N_ROWS, CHUNK = 4000, 100


def corpus(path):
    import csv

    records = tiny_records(N_ROWS // 3 + 1, 11, "r")[:N_ROWS]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "source"])
        for i, r in enumerate(records):
            text = "" if i % 397 == 5 else r["text"] + " " + " ".join(FILLER[: i % 7])
            writer.writerow([r["id"], text, "wire" if i % 3 else "blog"])
    return path


def command(model, src, out, *extra):
    return [sys.executable, "-m", "stance.cli", "predict", "--model", str(model), "--input",
            str(src), "--output", str(out), "--chunk-size", str(CHUNK), *extra]


def parts(out):
    folder = out.with_name(f".{out.name}.partial")
    return sorted(p.name for p in folder.glob("part-*")) if folder.exists() else []


@pytest.mark.parametrize("name", ["scored.parquet", "scored.csv"])
def test_resume_after_sigkill_writes_the_same_file(tiny_model_dir, tmp_path, name):
    src = corpus(tmp_path / "in.csv")
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    whole = tmp_path / f"whole-{name}"
    subprocess.run(command(tiny_model_dir, src, whole), cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=600)

    out = tmp_path / name
    proc = subprocess.Popen(command(tiny_model_dir, src, out), cwd=ROOT, env=env,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while len(parts(out)) < N_ROWS // CHUNK // 2 and proc.poll() is None:
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = parts(out)
    assert proc.returncode == -signal.SIGKILL and not out.exists()
    assert N_ROWS // CHUNK // 2 <= len(done) < N_ROWS // CHUNK, done

    resumed = subprocess.run(command(tiny_model_dir, src, out, "--resume"), cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    before = sum(int(re.search(r"-r(\d+)-", p)[1]) for p in done)
    assert f"{N_ROWS} rows ({before} of them scored before --resume)" in resumed.stderr
    assert out.read_bytes() == whole.read_bytes()
    assert not out.with_name(f".{out.name}.partial").exists()
