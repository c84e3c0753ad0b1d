"""Data-parallel training under `accelerate launch` needs no code change: two CPU processes
(gloo) train together and the main one alone tracks and saves."""

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_two_processes_train_one_run(tiny_model_dir, tiny_data, tmp_path):
    sets = [f"model.base={tiny_model_dir}", f"data.path={tiny_data}", "model.max_length=32",
            f"tracking.uri=sqlite:///{tmp_path}/mlflow.db", f"output_dir={tmp_path}/models",
            "training.epochs=2", "run_name=ddp", "training.device=auto"]
    launcher = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2",
                "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    subprocess.run([*launcher, "-m", "training.train", "--config", "configs/smoke.yaml",
                    *[a for s in sets for a in ("--set", s)]],
                   cwd=ROOT, env=os.environ | {"HF_HUB_OFFLINE": "1"}, check=True, timeout=600,
                   capture_output=True)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    (run,) = mlflow.search_runs(experiment_names=["stance-smoke"], output_format="list")
    assert run.info.status == "FINISHED"
    assert (tmp_path / "models/ddp/model.safetensors").is_file()
