"""`stance predict` on tables, as a user runs it: CSV, TSV, Parquet, XLSX and JSONL in and out,
every input column kept, predictions in pred_* columns, bad rows in the middle written with
pred_error, stdin, evidence offsets, abstentions, and a partial run that cannot be resumed with
other settings."""

import io
import json
import sys

import pandas as pd
import pytest

from stance.cli import main
from stance.tables import read_rows

TEXTS = ["moscow signed the treaty", "a provocation in poland", "the radar was delivered",
         "reckless violation", "", "caf\udce8 bad bytes", "the battery. A sovereign system.",
         "talks were scheduled", "intimidation and the missile"]
PRED = ["pred_label", "pred_prob_pro_russia", "pred_prob_pro_us", "pred_prob_neutral",
        "pred_abstained", "pred_flags", "pred_error"]


def corpus_csv(path, sep=","):
    """Nine rows with an id, a source and a gold label; row 5 is empty, row 6 is not UTF-8."""
    lines = [sep.join(["id", "text", "source", "label"])]
    lines += [sep.join([f"p{i}", t, "wire" if i % 2 else "blog", "neutral"])
              for i, t in enumerate(TEXTS, 1)]
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))
    return path


def predict(model, *args):
    return main(["predict", "--model", str(model), *map(str, args)])


def check_scored(frame: pd.DataFrame, not_utf8: bool = True) -> None:
    assert list(frame.columns) == ["id", "text", "source", "label", *PRED]
    assert list(frame["id"]) == [f"p{i}" for i in range(1, 10)]
    assert set(frame["label"]) == {"neutral"}  # the input's label is kept, not overwritten
    errors = frame["pred_error"].fillna("")
    assert errors[4] == "row 5 (id p5): 'text' is empty"
    assert errors[5] == ("row 6 (id p6): 'text' is not valid UTF-8" if not_utf8 else "")
    good = frame[errors == ""]
    assert len(good) == 9 - 1 - not_utf8
    assert good["pred_label"].isin(["pro_russia", "pro_us", "neutral"]).all()
    probs = good[PRED[1:4]].astype(float).sum(axis=1)
    assert ((probs - 1).abs() < 1e-4).all()


@pytest.mark.parametrize("out_name", ["scored.csv", "scored.parquet", "scored.tsv", "scored.xlsx",
                                      "scored.jsonl"])
def test_csv_in_any_table_out_with_bad_rows_in_the_middle(tiny_model_dir, tmp_path, capsys,
                                                          out_name):
    out = tmp_path / out_name
    assert predict(tiny_model_dir, "--input", corpus_csv(tmp_path / "in.csv"), "--output", out,
                   "--chunk-size", 4) == 0
    read = {".csv": lambda p: pd.read_csv(p, dtype=object, keep_default_na=False),
            ".tsv": lambda p: pd.read_csv(p, sep="\t", dtype=object, keep_default_na=False),
            ".parquet": pd.read_parquet, ".xlsx": lambda p: pd.read_excel(p, dtype=object),
            ".jsonl": lambda p: pd.read_json(p, lines=True, dtype=False)}[out.suffix]
    check_scored(read(out))
    err = capsys.readouterr().err
    assert "stance: 9 rows: 7 scored, 2 bad rows (pred_error; first: row 5 (id p5)" in err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_parquet_and_tsv_in_keep_their_columns(tiny_model_dir, tmp_path):
    tsv = corpus_csv(tmp_path / "in.tsv", sep="\t")
    assert predict(tiny_model_dir, "--input", tsv, "--output", tmp_path / "a.parquet") == 0
    source = pd.read_parquet(tmp_path / "a.parquet")[["id", "text", "source", "label"]]
    source["n"] = range(9)  # an integer column must come back as integers
    source.to_parquet(tmp_path / "in.parquet")
    assert predict(tiny_model_dir, "--input", tmp_path / "in.parquet", "--output",
                   tmp_path / "b.parquet", "--chunk-size", 2) == 0
    again = pd.read_parquet(tmp_path / "b.parquet")
    assert list(again["n"]) == list(range(9)) and str(again["n"].dtype) == "int64"
    # written out, the undecodable byte became U+FFFD: valid text, scored this time
    assert again["text"][5] == "caf\ufffd bad bytes"
    check_scored(again.drop(columns="n"), not_utf8=False)


def test_chunked_output_equals_one_chunk(tiny_model_dir, tmp_path):
    src = corpus_csv(tmp_path / "in.csv")
    for name, chunk in (("one.parquet", 100), ("many.parquet", 2)):
        assert predict(tiny_model_dir, "--input", src, "--output", tmp_path / name,
                       "--chunk-size", chunk) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "one.parquet"),
                                  pd.read_parquet(tmp_path / "many.parquet"))


def test_stdin_to_stdout_csv(tiny_model_dir, tmp_path, capsys, monkeypatch):
    data = corpus_csv(tmp_path / "in.csv").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert predict(tiny_model_dir, "--input", "-", "--input-format", "csv", "--format", "csv") == 0
    check_scored(pd.read_csv(io.StringIO(capsys.readouterr().out), dtype=object,
                             keep_default_na=False))


def test_explain_gives_sentences_with_offsets_and_min_confidence_abstains(tiny_model_dir,
                                                                          tmp_path):
    src = tmp_path / "in.jsonl"
    text = "The battery was delivered. Moscow called it a provocation! Talks were scheduled."
    src.write_text(json.dumps({"text": text}) + "\n")
    out = tmp_path / "out.jsonl"
    assert predict(tiny_model_dir, "--input", src, "--output", out, "--explain", 2,
                   "--min-confidence", 0.99) == 0
    (row,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert row["pred_abstained"] is True and row["pred_label"] is None
    evidence = row["pred_evidence"]
    assert len(evidence) == 2
    for e in evidence:
        assert text[e["start"]:e["end"]] == e["text"]
        assert e["text"] in {"The battery was delivered.", "Moscow called it a provocation!",
                             "Talks were scheduled."}


def test_input_with_prediction_columns_is_refused(tiny_model_dir, tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("text,pred_label\nmoscow signed,x\n")
    assert predict(tiny_model_dir, "--input", src, "--output", tmp_path / "o.csv") == 1
    assert "already has column(s) ['pred_label']" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_resume_refuses_a_partial_run_made_with_other_settings(tiny_model_dir, tmp_path, capsys):
    from stance.writers import PartialOutput

    src = corpus_csv(tmp_path / "in.csv")
    out = tmp_path / "o.csv"
    PartialOutput(out, {"model": "another"})  # what an interrupted run leaves behind
    assert predict(tiny_model_dir, "--input", src, "--output", out, "--resume") == 1
    assert "started with other settings" in capsys.readouterr().err


def test_unreadable_jsonl_lines_are_rows_with_a_problem(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text": "a"}\n\n{"text": "caf\xe8"}\n[1]\n{oops\n')
    rows = [r for chunk in read_rows(src, "jsonl") for r in chunk]
    assert [(r.n, r.line) for r in rows] == [(1, 1), (2, 3), (3, 4), (4, 5)]
    assert rows[0].values == {"text": "a"}
    assert [r.problem.split(" (")[0] for r in rows[1:]] == [
        "not valid UTF-8", "expected a JSON object, got list", "malformed JSON"]


def test_csv_line_numbers_count_multi_line_cells(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('text,label\n"two\nlines",x\nthird,y\n')
    rows = [r for chunk in read_rows(src, "csv") for r in chunk]
    assert [(r.n, r.line) for r in rows] == [(1, 2), (2, 4)]
