"""The review loop's last step on the tiny BERT: a labeled file imported with `stance data
import` and trained with `--set data.extra=[name]`, as `make train` runs it (the smoke config, with
the tiny model and data): the passages join train, are logged as their own split, and a passage
that repeats a test passage is refused. The run and its registered version carry their
headline numbers for the MLflow UI."""

import json

import mlflow
import pytest

from stance.cli import main
from tests.helpers import runs_by_name, store_uri, tiny_overrides, tiny_records, train

pytestmark = pytest.mark.integration


def labeled_csv(path, records):
    path.write_text("text,label,source\n" + "".join(f"{r['text']},{r['label']},wire\n"
                                                   for r in records) + "the radar,,wire\n")
    return path


def test_imported_corpus_trains_as_its_own_split(tiny_model_dir, tiny_data, tmp_path):
    src = labeled_csv(tmp_path / "labeled.csv", tiny_records(4, 99, "mine"))
    assert main(["data", "import", str(src), "--name", "mine", "--path", str(tiny_data)]) == 0
    store = tmp_path / "store"
    train("configs/smoke.yaml", store, *tiny_overrides(tiny_model_dir, tiny_data, store,
                                                      "data.extra=[mine]", "run_name=with-mine"))
    run = runs_by_name(store)["with-mine"]
    assert run.data.tags["data_extra"] == "mine" and run.data.params["data.extra"] == "('mine',)"
    inputs = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert {"stance-train", "stance-user_mine"} <= set(inputs)
    assert json.loads(inputs["stance-user_mine"].dataset.profile)["num_rows"] == 12
    # smoke.yaml keeps 48 train passages (max_train_examples); the 12 imported ones are added
    assert json.loads(inputs["stance-train"].dataset.profile)["num_rows"] == 48 + 12
    card = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/model_card/README.md")
    assert "user_mine" in card

    # what the UI shows: the experiment kind, the run's and the version's descriptions
    client = mlflow.MlflowClient(store_uri(store))
    assert client.get_experiment(run.info.experiment_id).tags["mlflow.experimentKind"] == \
        "custom_model_development"
    f1 = run.data.metrics["test_f1_macro"]
    assert f"test macro-F1 **{f1:.3f}**" in run.data.tags["mlflow.note.content"]
    (version,) = client.search_model_versions(f"run_id = '{run.info.run_id}'")
    assert f"test macro-F1 **{f1:.3f}**" in version.description
    assert version.tags["test_f1_macro"] == f"{f1:.4f}"


def test_a_user_passage_that_repeats_a_test_passage_is_refused(tiny_model_dir, tiny_data,
                                                               tmp_path, capsys):
    test_passage = json.loads((tiny_data / "test.jsonl").read_text().splitlines()[0])
    src = labeled_csv(tmp_path / "labeled.csv", [test_passage])
    assert main(["data", "import", str(src), "--name", "leak", "--path", str(tiny_data)]) == 0
    store = tmp_path / "store"
    code = train("configs/smoke.yaml", store, *tiny_overrides(tiny_model_dir, tiny_data, store,
                                                             "data.extra=[leak]"), check=False)
    assert code == 1
    assert "duplicate text" in capsys.readouterr().err


def test_an_unknown_user_corpus_is_named(tiny_model_dir, tiny_data, tmp_path, capsys):
    store = tmp_path / "store"
    code = train("configs/smoke.yaml", store, *tiny_overrides(tiny_model_dir, tiny_data, store,
                                                             "data.extra=[nope]"), check=False)
    assert code == 1
    assert "no user corpus 'nope'" in capsys.readouterr().err
