"""Runs that share one MLflow store at the same time: a new store opened by several processes at
once, two trainings started together, a sweep's children trained in parallel, and promotions
racing each other all end with every run finished and registered, and the better model champion."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import mlflow
import pytest

from stance.names import CHAMPION, REGISTERED_MODEL
from tests.helpers import ROOT, store_uri, tiny_overrides, train_args, write_tiny_data
from training import tracking

F1 = "validation_f1_macro"
LEARNS = ["training.epochs=6", "training.batch_size=8"]  # the tiny task, learned
STAYS_RANDOM = ["training.learning_rate=1e-7", "training.epochs=1"]  # next to untrained

OPEN_STORE = """
import sys, time
from pathlib import Path
from training.config import TrackingConfig
from training.tracking import open_tracking
ready, go, uri = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
ready.touch()
while not go.exists():
    time.sleep(0.005)
open_tracking(TrackingConfig(uri=uri, experiment="together"))
"""


def _champion_f1(client: mlflow.MlflowClient) -> float:
    version = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION)
    return client.get_run(version.run_id).data.metrics[F1]


@pytest.mark.integration
def test_a_new_store_opened_by_four_processes_at_once(tmp_path):
    """MLflow alone crashes here (alembic `CommandError ... alembic_version`, or `duplicate
    column`): it creates a new sqlite store's tables unlocked."""
    uri, go = store_uri(tmp_path), tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(4)]
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_STORE, str(r), str(go), uri], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for r in ready]
    deadline = time.monotonic() + 240
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()  # all four imported and waiting: they open the store within milliseconds
    errors = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, "\n".join(e[-600:] for e in errors)
    mlflow.set_tracking_uri(uri)
    assert mlflow.get_experiment_by_name("together") is not None


@pytest.mark.integration
def test_two_trainings_started_together_both_register_and_the_better_is_champion(
        tiny_model_dir, tmp_path):
    data = write_tiny_data(tmp_path / "data")
    commands = [[sys.executable, "-m", "training.train", *train_args(
        "configs/smoke.yaml", tmp_path, *tiny_overrides(tiny_model_dir, data, tmp_path,
                                                        f"run_name={name}", *extra))]
        for name, extra in (("learns", LEARNS), ("random", STAYS_RANDOM))]
    procs = [subprocess.Popen(c, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True) for c in commands]
    errors = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(e[-1500:] for e in errors)

    mlflow.set_tracking_uri(store_uri(tmp_path))
    client = mlflow.MlflowClient()
    versions = client.search_model_versions(f"name='{REGISTERED_MODEL}'")
    assert len(versions) == 2
    scores = [client.get_run(v.run_id).data.metrics[F1] for v in versions]
    assert scores[0] != scores[1]  # so that "the better one" means something
    assert _champion_f1(client) == max(scores)


@pytest.mark.integration
def test_a_parallel_sweep_trains_its_children_at_once_under_the_parent(tiny_model_dir, tmp_path):
    data = write_tiny_data(tmp_path / "data")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("base: configs/smoke.yaml\n"
                     "grid:\n  training.learning_rate: [3.0e-3, 1.0e-7]\n")
    sets = train_args("configs/smoke.yaml", tmp_path, *tiny_overrides(
        tiny_model_dir, data, tmp_path, *LEARNS))[2:]
    result = subprocess.run([sys.executable, "-m", "training.sweep", "--sweep", str(sweep),
                             "--parallel", "2", *sets], cwd=ROOT, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]

    mlflow.set_tracking_uri(store_uri(tmp_path))
    runs = mlflow.search_runs(experiment_names=["stance-smoke"], output_format="list")
    (parent,) = [r for r in runs if r.data.tags.get("model_family") == "sweep"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == 2 and {c.info.status for c in children} == {"FINISHED"}
    starts, ends = sorted(c.info.start_time for c in children), [c.info.end_time for c in children]
    assert starts[1] < min(ends), "the children did not run at the same time"
    scores = {c.info.run_id: c.data.metrics[F1] for c in children}
    assert len(set(scores.values())) == 2  # so that "the best" means something
    assert scores[parent.data.tags["best_run_id"]] == max(scores.values())
    client = mlflow.MlflowClient()
    assert len(client.search_model_versions(f"name='{REGISTERED_MODEL}'")) == 2
    assert _champion_f1(client) == max(scores.values())


@pytest.fixture(scope="module")
def three_versions(tmp_path_factory) -> tuple[str, dict[float, tuple[str, str]]]:
    """A store with versions of validation macro-F1 0.5, 0.8 and 0.6: `(uri, {score: (version,
    run id)})`."""
    store = tmp_path_factory.mktemp("race")
    mlflow.set_tracking_uri(store_uri(store))
    client = mlflow.MlflowClient()
    client.create_registered_model(REGISTERED_MODEL)
    experiment = client.create_experiment("race", artifact_location=str(store / "art"))
    versions = {}
    for score in (0.5, 0.8, 0.6):
        run = client.create_run(experiment)
        client.log_metric(run.info.run_id, F1, score)
        version = client.create_model_version(REGISTERED_MODEL, str(store), run_id=run.info.run_id)
        versions[score] = (str(version.version), run.info.run_id)
    return store_uri(store), versions


@pytest.mark.parametrize("delays", [(0.4, 1.5), (1.5, 0.4)], ids=["better-first", "worse-first"])
def test_racing_promotions_leave_the_better_version_champion(three_versions, monkeypatch, delays):
    """Both promotions read the champion (0.5) before either moves it; the move of the better
    version (0.8) lands first or last. Without the store lock the last move wins."""
    uri, versions = three_versions
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION, versions[0.5][0])
    delay = {versions[0.8][0]: delays[0], versions[0.6][0]: delays[1]}
    original = mlflow.MlflowClient.set_registered_model_alias

    def slow_move(self, name, alias, version):
        time.sleep(delay[str(version)])
        return original(self, name, alias, version)

    monkeypatch.setattr(mlflow.MlflowClient, "set_registered_model_alias", slow_move)
    start = threading.Barrier(2)

    def promote(score: float) -> None:
        version, run_id = versions[score]
        with mlflow.start_run(run_id=run_id):
            start.wait()
            tracking.promote_if_better(REGISTERED_MODEL, version)

    threads = [threading.Thread(target=promote, args=(s,)) for s in (0.8, 0.6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert _champion_f1(client) == 0.8
