"""A full disk and `kill -9` while a model folder or a training checkpoint is written: the write
fails with one line naming the path and the cause, or the process dies, and what is on disk is
the old complete folder or the new complete one, never a mix or a half-written file.

The disk fills up in a child process with a file-size limit (`RLIMIT_FSIZE`, as `ulimit -f`):
a write past it fails with EFBIG, as a write to a full disk fails with ENOSPC.
"""

from __future__ import annotations

import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from stance import StanceClassifier
from tests.helpers import ROOT, write_random_bert
from training.checkpoint import TrainState, has_checkpoint, load_checkpoint, save_checkpoint

pytestmark = pytest.mark.integration

LIMIT = 1_000_000  # bytes: more than config.json and the tokenizer, less than the weights
KILLS = 5

SAVE_MODEL = """
import sys
from stance.errors import report_errors
from tests.test_disk_faults import two_models
target, mode = sys.argv[2], sys.argv[3]
old, new = two_models(sys.argv[1])
if mode == "once":
    sys.exit(report_errors("save", lambda: new.save_pretrained(target) and None, False))
old.save_pretrained(target)  # a complete folder exists before the first kill can land
print("ready", flush=True)
while True:
    new.save_pretrained(target)
    old.save_pretrained(target)
"""

SAVE_CHECKPOINT = """
import itertools, sys
from stance.errors import report_errors
from tests.test_disk_faults import write_checkpoint
target, mode = sys.argv[1], sys.argv[2]
if mode == "once":
    sys.exit(report_errors("checkpoint", lambda: write_checkpoint(target, 2), False))
for epoch in itertools.count(2):
    write_checkpoint(target, epoch)
    print("ready", flush=True)
"""


def two_models(folder: str | Path) -> tuple[StanceClassifier, StanceClassifier]:
    """The model in `folder`, and a copy whose weights all differ from it."""
    old = StanceClassifier.from_pretrained(folder, device="cpu")
    new = StanceClassifier.from_pretrained(folder, device="cpu")
    with torch.no_grad():
        for p in new.backend.model.parameters():
            p.add_(0.5)
    return old, new


def _checkpoint_parts(epoch: int, width: int = 1024):
    model = torch.nn.Linear(width, width)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, width)).sum().backward()
    optimizer.step()  # so that the optimizer has state to save
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(epoch)  # every tensor of the checkpoint says which epoch wrote it
    return model, optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def write_checkpoint(path: str | Path, epoch: int) -> None:
    model, optimizer, scheduler = _checkpoint_parts(epoch)
    save_checkpoint(Path(path), model.state_dict(), model.state_dict(), optimizer, scheduler,
                    torch.Generator(), TrainState(epoch=epoch, best_epoch=epoch))


def _limited():
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


def _run_once(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, preexec_fn=_limited)


def _kill_while_writing(script: str, *args: str) -> None:
    """Start `script` writing in a loop, SIGKILL it at a random moment after its first write."""
    proc = subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    time.sleep(random.uniform(0.0, 0.6))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


@pytest.fixture(scope="module")
def medium_model_dir(tmp_path_factory) -> Path:
    """A BERT of 13 MB (256 wide, 4 layers): writing it takes long enough to be interrupted."""
    return write_random_bert(tmp_path_factory.mktemp("medium-bert"), 256, 4, 1024)


def test_a_full_disk_while_saving_a_model_is_one_line_and_the_old_folder_stays(
        medium_model_dir, tmp_path):
    target = tmp_path / "model"
    two_models(medium_model_dir)[0].save_pretrained(target)
    before = _contents(target)
    result = _run_once(SAVE_MODEL, str(medium_model_dir), str(target), "once")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"save: error: could not write {target}")
    assert "file-size limit" in lines[0]
    assert _contents(target) == before
    assert _leftovers(target) == []


def test_a_full_disk_while_writing_a_checkpoint_is_one_line_and_the_old_one_stays(tmp_path):
    target = tmp_path / "last"
    write_checkpoint(target, 1)
    before = _contents(target)
    result = _run_once(SAVE_CHECKPOINT, str(target), "once")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"checkpoint: error: could not write {target}")
    assert "file-size limit" in lines[0]
    assert _contents(target) == before
    assert _leftovers(target) == []


def test_kill_9_while_saving_a_model_leaves_the_old_or_the_new_folder(medium_model_dir, tmp_path):
    references = []
    for i, clf in enumerate(two_models(medium_model_dir)):
        references.append(_contents(clf.save_pretrained(tmp_path / f"reference-{i}")))
    target = tmp_path / "model"
    for _ in range(KILLS):
        _kill_while_writing(SAVE_MODEL, str(medium_model_dir), str(target), "loop")
        assert target.is_dir(), "the model folder vanished"
        assert _contents(target) in references, "a mix of two saves, or a half-written file"
        StanceClassifier.from_pretrained(target, device="cpu")  # loads, checksums and all
    two_models(medium_model_dir)[0].save_pretrained(target)
    assert _leftovers(target) == []  # the killed writers' temporary folders are cleaned up


def test_kill_9_while_writing_a_checkpoint_leaves_the_old_or_the_new_one(tmp_path):
    target = tmp_path / "last"
    write_checkpoint(target, 1)
    for _ in range(KILLS):
        _kill_while_writing(SAVE_CHECKPOINT, str(target), "loop")
        assert has_checkpoint(target), "no complete checkpoint left"
        model, optimizer, scheduler = _checkpoint_parts(0)
        state, best = load_checkpoint(target, model, optimizer, scheduler, torch.Generator())
        tensors = [*model.state_dict().values(), *best.values()]
        assert all(bool((t == state.epoch).all()) for t in tensors), \
            f"tensors of another epoch than state.json's {state.epoch}"
    write_checkpoint(target, 99)
    assert _leftovers(target) == []


def _corpus(path: Path, rows: int) -> Path:
    from tests.helpers import tiny_records

    records = tiny_records(rows // 3 + 1, 5, "c")[:rows]
    path.write_text("id,text\n" + "".join(f"{r['id']},{r['text']}\n" for r in records))
    return path


def _predict(model_dir: Path, src: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "stance.cli", "predict", "--model", str(model_dir), "--input",
            str(src), "--output", str(out), "--chunk-size", "100"]


def test_a_full_disk_while_writing_predictions_is_one_line_and_the_old_output_stays(
        tiny_model_dir, tmp_path):
    out = tmp_path / "scored.csv"
    subprocess.run(_predict(tiny_model_dir, _corpus(tmp_path / "small.csv", 30), out), cwd=ROOT,
                   check=True, capture_output=True, timeout=300)
    before = out.read_bytes()
    big = _corpus(tmp_path / "big.csv", 1500)  # ~150 KB of output, one part of ~10 KB per chunk
    result = subprocess.run(_predict(tiny_model_dir, big, out), cwd=ROOT, capture_output=True,
                            text=True, timeout=300, preexec_fn=lambda: resource.setrlimit(
                                resource.RLIMIT_FSIZE, (100_000, 100_000)))
    lines = [x for x in result.stderr.strip().splitlines() if not x.startswith("scoring:")]
    assert result.returncode == 1 and len(lines) == 1, result.stderr  # and the progress bar
    assert lines[0].startswith("stance: error: could not write") and str(out) in lines[0]
    assert "file-size limit" in lines[0]
    assert out.read_bytes() == before


def _parts(partial: Path) -> int:
    try:
        return len(list(partial.glob("part-*")))
    except FileNotFoundError:  # the folder removed after the join, while being listed
        return 0


def test_kill_9_while_writing_predictions_leaves_the_old_or_the_new_output(tiny_model_dir,
                                                                             tmp_path):
    small, big = _corpus(tmp_path / "small.csv", 30), _corpus(tmp_path / "big.csv", 1500)
    references = []
    for src in (small, big):
        ref = tmp_path / f"reference-{src.stem}.csv"
        subprocess.run(_predict(tiny_model_dir, src, ref), cwd=ROOT, check=True,
                       capture_output=True, timeout=300)
        references.append(ref.read_bytes())
    out = tmp_path / "scored.csv"
    partial = out.with_name(f".{out.name}.partial")
    for kill_after_parts in (1, 8, 15, 15, 15):  # 15 parts: killed while they are joined
        out.write_bytes(references[0])
        proc = subprocess.Popen(_predict(tiny_model_dir, big, out), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None and _parts(partial) < kill_after_parts:
            pass  # no sleep: the join right after the last part takes milliseconds
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert out.read_bytes() in references, "a half-written output file"
