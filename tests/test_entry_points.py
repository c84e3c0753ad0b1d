"""Every command a user runs turns a user error (config, data, paths, store) into one line on
stderr and exit code 1 (2 for a usage error); the traceback comes only with `--debug`. Each
entry point is run as a user runs it: a new process (four at a time, as most of each is imports)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers import ROOT, write_tiny_data

pytestmark = pytest.mark.integration

PY = [sys.executable, "-m"]
BAD_KEY = ["--set", "training.epochz=2"]
BAD_STORE = ["--set", "tracking.uri=bogus://nowhere"]


def _run(cmd: list[str], cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=os.environ | {"HF_HUB_OFFLINE": "1", **env})


def _assert_one_line(result: subprocess.CompletedProcess, prog: str, fragment: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{prog}: error: ") and fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_tiny_data(tmp_path_factory.mktemp("entry") / "data")


CASES = [
    # (id, command, prog, fragment in the one line)
    ("train unknown key", [*PY, "training.train", *BAD_KEY], "training", "'training.epochz'"),
    ("train wrong type", [*PY, "training.train", "--set", "training.batch_size=big"], "training",
     "'training.batch_size'"),
    ("train negative lr", [*PY, "training.train", "--set", "training.learning_rate=-1"],
     "training", "must be > 0"),
    ("train missing config", [*PY, "training.train", "--config", "no/such.yaml"], "training",
     "no/such.yaml"),
    ("sweep unknown key", [*PY, "training.sweep", *BAD_KEY], "sweep", "'training.epochz'"),
    ("sweep missing file", [*PY, "training.sweep", "--sweep", "no/such.yaml"], "sweep",
     "no/such.yaml"),
    ("sweep bad parallel", [*PY, "training.sweep", "--parallel", "0"], "sweep", "--parallel"),
    ("compare unknown key", [*PY, "training.compare", *BAD_KEY], "compare", "'training.epochz'"),
    ("compare bad store", [*PY, "training.compare", *BAD_STORE], "compare", "bogus://nowhere"),
    ("stance no model", [*PY, "stance.cli", "predict", "--model", "no/such/model", "hi"], "stance",
     "no/such/model"),
    ("stance no data", [*PY, "stance.cli", "evaluate", "--data", "no/such/data"], "stance",
     "no/such/data"),
]




@pytest.fixture(scope="module")
def results() -> dict[str, subprocess.CompletedProcess]:
    with ThreadPoolExecutor(4) as pool:
        return dict(zip([c[0] for c in CASES], pool.map(_run, [c[1] for c in CASES])))


@pytest.mark.parametrize("name, prog, fragment", [(c[0], *c[2:]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_user_error_is_one_line_and_exit_code_1(results, name, prog, fragment):
    _assert_one_line(results[name], prog, fragment)


def test_a_bad_store_is_one_line_from_training(tiny):
    """A store MLflow cannot open is reported like a config error (MLflow's own exception)."""
    result = _run([*PY, "training.train", "--config", "configs/tfidf.yaml", "--set",
                   f"data.path={tiny}", "--set", "baseline.min_df=1", *BAD_STORE])
    _assert_one_line(result, "training", "bogus://nowhere")


def test_stance_reports_an_unknown_store_in_one_line():
    result = _run([*PY, "stance.cli", "promote", "3"], MLFLOW_TRACKING_URI="bogus://nowhere")
    _assert_one_line(result, "stance", "bogus://nowhere")


def test_make_train_passes_the_one_line_through():
    """make adds its own `make: *** ... Error 1` trailer (and exits 2, as make does for any failed
    recipe); the training command's own output is the one error line."""
    venv = Path(sys.executable).parent.parent
    # Under `make test` (as CI runs it) the outer make's MAKEFLAGS would carry its own variables
    # (ARGS among them) into this make: run it as a user would, from a plain shell.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run([shutil.which("make") or "make", "--no-print-directory", "-o",
                             f"{venv}/.installed", "train", f"VENV={venv}",
                             f"ARGS={' '.join(BAD_KEY)}"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, env=env | {"HF_HUB_OFFLINE": "1"})
    ours = [x for x in result.stderr.strip().splitlines() if not x.startswith("make: ***")]
    assert ours == [ours[0]] and ours[0].startswith("training: error: unknown config key"), \
        result.stderr
    assert "Error 1" in result.stderr  # the training command itself exited with 1


def test_usage_errors_exit_2():
    modules = ["training.train", "training.sweep", "training.compare", "stance.cli"]
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda m: _run([*PY, m, "--no-such-option"]).returncode, modules))
    assert dict(zip(modules, codes)) == dict.fromkeys(modules, 2)


@pytest.mark.parametrize("cmd", [[*PY, "training.train", "--debug", *BAD_KEY],
                                 [*PY, "stance.cli", "--debug", "predict", "--model", "nope", "x"]])
def test_debug_shows_the_traceback(cmd):
    result = _run(cmd)
    assert result.returncode == 1 and "Traceback (most recent call last)" in result.stderr
