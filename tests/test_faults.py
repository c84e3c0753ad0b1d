"""Faults lose nothing: a killed training resumes into the same run; predictions hold up under
random input and under threads."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import mlflow
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file

from tests.helpers import ROOT, tiny_overrides, tiny_records, train_args, write_jsonl


def _train_cmd(model_dir, data, tmp, *extra):
    args = train_args("configs/smoke.yaml", tmp, *tiny_overrides(
        model_dir, data, tmp, "training.epochs=6", "training.batch_size=8", "run_name=faulty",
        "tracking.log_model=false"))
    return [sys.executable, "-m", "training.train", *args, *extra]


@pytest.mark.integration
def test_sigterm_keeps_the_checkpoint_and_resume_finishes_the_same_run(tiny_model_dir, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for split, n in (("train", 150), ("validation", 10), ("test", 10)):
        write_jsonl(data / f"{split}.jsonl", tiny_records(n, len(split), split))
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(_train_cmd(tiny_model_dir, data, tmp_path), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = tmp_path / "models/checkpoints/faulty/last/state.json"
    deadline = time.monotonic() + 120
    while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.exists(), "no checkpoint appeared"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    (run,) = mlflow.search_runs(experiment_names=["stance-smoke"], output_format="list")
    assert run.info.status == "KILLED"
    last = state.parent
    assert load_file(last / "model.safetensors") and (last / "optimizer.pt").is_file()
    assert not (tmp_path / "models/faulty").exists()  # no half-written final model

    subprocess.run(_train_cmd(tiny_model_dir, data, tmp_path, "--resume", run.info.run_id),
                   cwd=ROOT, env=env, check=True, timeout=300, capture_output=True)
    (resumed,) = mlflow.search_runs(experiment_names=["stance-smoke"], output_format="list")
    assert resumed.info.run_id == run.info.run_id
    assert resumed.info.status == "FINISHED"
    epochs = [m.step for m in mlflow.MlflowClient().get_metric_history(
        run.info.run_id, "epoch/validation_f1_macro")]
    assert sorted(set(epochs)) == list(range(1, 7))
    assert (tmp_path / "models/faulty/model.safetensors").is_file()
    assert not (tmp_path / "models/checkpoints/faulty").exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(min_size=1, max_size=300).filter(
    lambda t: t.translate(dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f"
                                                  "\u202a\u202b\u202c\u202d\u202e\u2066\u2067"
                                                  "\u2068\u2069"))).strip()
    and any(c.isprintable() and not c.isspace() for c in t)), max_size=12))
def test_any_list_of_strings_gives_one_prediction_each(tiny_clf, texts):
    try:
        preds = tiny_clf.predict(texts)
    except ValueError as exc:  # only passages that are empty once cleaned may be refused
        assert "is empty" in str(exc)
        return
    assert len(preds) == len(texts)
    for p in preds:
        assert abs(sum(p.scores.values()) - 1) < 1e-5
        assert p.label == max(p.scores, key=p.scores.get)


def test_threads_get_the_same_results_as_one_thread(tiny_clf):
    texts = [f"the radar {'and the treaty ' * i}was a provocation" for i in range(40)]
    expected = tiny_clf.predict_proba(texts, batch_size=8)
    chunks = [texts[i::4] for i in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: tiny_clf.predict_proba(c, batch_size=3), chunks * 3))
    for i, got in enumerate(results):
        np.testing.assert_allclose(got, expected[i % 4::4], atol=1e-5)
