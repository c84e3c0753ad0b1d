import json

from stance.cli import main


def test_predict_arguments_print_json_lines(tiny_model_dir, capsys):
    assert main(["predict", "--model", str(tiny_model_dir), "moscow signed", "a provocation"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["text"] for x in lines] == ["moscow signed", "a provocation"]
    for x in lines:
        probs = {k: v for k, v in x.items() if k.startswith("pred_prob_")}
        assert abs(sum(probs.values()) - 1) < 1e-4 and x["pred_label"] in {k[10:] for k in probs}


def test_predict_jsonl_keeps_other_fields_and_never_overwrites_them(tiny_model_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 7, "text": "moscow signed", "source": "wire", "label": "gold"}\n'
                   '{"id": 8, "text": "the radar"}\n')
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(tiny_model_dir), "--input", str(src),
                 "--output", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [7, 8]
    assert rows[0]["source"] == "wire" and rows[0]["label"] == "gold"  # the input's own label
    assert rows[0]["pred_label"] in {"pro_russia", "pro_us", "neutral"}
    assert rows[0]["pred_error"] == "" and rows[0]["pred_abstained"] is False
    assert not list(tmp_path.glob(".*partial*"))


def test_strict_errors_are_one_line_and_nothing_is_written(tiny_model_dir, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "fine"}\n{"body": "no text field"}\n')
    out = tmp_path / "out.jsonl"
    code = main(["predict", "--model", str(tiny_model_dir), "--input", str(src),
                 "--output", str(out), "--strict"])
    err = capsys.readouterr().err
    assert code == 1
    assert "in.jsonl: row 2: no 'text' column" in err and "Traceback" not in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_data_check_reports(tiny_data, capsys):
    assert main(["data", "check", "--path", str(tiny_data), "--report"]) == 0
    captured = capsys.readouterr()
    assert "| train |" in captured.out
    assert "0 problem(s)" in captured.err


def test_evaluate_prints_the_report_and_logs_to_a_run(tiny_model_dir, tiny_data, tmp_path, capsys):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    experiment = mlflow.create_experiment("e", artifact_location=str(tmp_path / "art"))
    run_id = mlflow.MlflowClient().create_run(experiment).info.run_id
    assert main(["evaluate", "--model", str(tiny_model_dir), "--data", str(tiny_data),
                 "--split", "test", "--log-to", run_id]) == 0
    out = capsys.readouterr().out
    assert "== test (18 passages) ==" in out and "95% bootstrap CI" in out
    metrics = mlflow.get_run(run_id).data.metrics
    assert {"test_f1_macro", "test_ece", "test_f1_macro_ci_low"} <= set(metrics)
    assert "topic=inf_treaty" in out and "too small" in out  # 18 passages: no slice score


def test_promote_moves_the_alias_and_refuses_unknown_versions(tmp_path, capsys, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    client = mlflow.MlflowClient()
    client.create_registered_model("stance-classifier")
    for _ in range(2):
        client.create_model_version("stance-classifier", source=str(tmp_path))
    assert main(["promote", "2"]) == 0
    assert str(client.get_model_version_by_alias("stance-classifier", "champion").version) == "2"
    assert main(["promote", "9"]) == 1
    assert "version 9 not found" in capsys.readouterr().err
