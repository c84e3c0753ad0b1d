import json

from stance.cli import main


def test_predict_arguments_print_json_lines(tiny_model_dir, capsys):
    assert main(["predict", "--model", str(tiny_model_dir), "moscow signed", "a provocation"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["text"] for x in lines] == ["moscow signed", "a provocation"]
    assert all(abs(sum(x["scores"].values()) - 1) < 1e-5 for x in lines)


def test_predict_jsonl_keeps_other_fields(tiny_model_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 7, "text": "moscow signed", "source": "wire"}\n'
                   '{"id": 8, "text": "the radar"}\n')
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(tiny_model_dir), "--input", str(src),
                 "--output", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [7, 8]
    assert rows[0]["source"] == "wire"
    assert rows[0]["label"] in rows[0]["scores"]
    assert not list(tmp_path.glob("*.partial"))


def test_errors_are_one_line_and_nothing_is_written(tiny_model_dir, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "fine"}\n{"body": "no text field"}\n')
    out = tmp_path / "out.jsonl"
    code = main(["predict", "--model", str(tiny_model_dir), "--input", str(src),
                 "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "in.jsonl:2" in err and "Traceback" not in err
    assert not out.exists()


def test_data_check_reports(tiny_data, capsys):
    assert main(["data", "check", "--path", str(tiny_data), "--report"]) == 0
    captured = capsys.readouterr()
    assert "| train |" in captured.out
    assert "0 problem(s)" in captured.err
