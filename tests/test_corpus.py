"""The analyst's loop without a browser: evaluate on a two-column file, summarize a scored file
(shares, prevalence correction, charts, HTML), review the least sure passages, import labels;
and the warning for a sqlite store that does not exist."""

import json

import numpy as np
import pandas as pd
import pytest

from stance.cli import main
from stance.corpus.review import select
from stance.corpus.shares import Calibration, adjusted_shares, shares
from stance.labels import LABELS
from tests.helpers import tiny_records


def scored_file(path, n=120, seed=0):
    """A scored file as `stance predict` writes it: sources, dates, a gold label, predictions
    that are right 80% of the time, some abstentions, one bad row, evidence for the first rows."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, r in enumerate(tiny_records(n // 3, seed, "s")[:n]):
        true = LABELS.index(r["label"])
        pred = true if rng.random() < 0.8 else int(rng.integers(3))
        probs = np.full(3, 0.1)
        probs[pred] = 0.8
        abstain = i % 10 == 3
        rows.append({"id": r["id"], "text": r["text"], "source": ["wire", "blog"][i % 2],
                     "date": f"2024-0{1 + i % 3}-15", "label": r["label"],
                     "pred_label": None if abstain else LABELS[pred],
                     **{f"pred_prob_{x}": float(p) for x, p in zip(LABELS, probs)},
                     "pred_abstained": abstain, "pred_flags": "", "pred_error": "",
                     "pred_evidence": json.dumps([{"text": r["text"], "start": 0,
                                                   "end": len(r["text"]), "label": LABELS[pred],
                                                   "prob": 0.8}])})
    rows[7] |= {"pred_label": None, "pred_error": "row 8: 'text' is empty", "pred_abstained": None}
    pd.DataFrame(rows).to_parquet(path)
    return path


def test_adjusted_classify_and_count_recovers_the_true_shares():
    truth = np.array([0.2, 0.3, 0.5])
    matrix = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.1, 0.6]])  # under-calls neutral
    observed = matrix.T @ truth
    assert not np.allclose(observed, truth)
    assert np.allclose(adjusted_shares(observed, matrix), truth, atol=1e-6)


def test_share_intervals_cover_the_share_and_shrink_with_more_passages():
    small, large = shares(np.array([6, 3, 1])), shares(np.array([600, 300, 100]))
    assert np.allclose(small.share, [0.6, 0.3, 0.1]) and np.allclose(large.share, small.share)
    assert (small.low <= small.share).all() and (small.share <= small.high).all()
    assert ((large.high - large.low) < (small.high - small.low)).all()
    calibrated = shares(np.array([60, 30, 10]), Calibration(np.diag([20, 20, 20]), "x"))
    assert np.allclose(calibrated.share, [0.6, 0.3, 0.1], atol=1e-6)  # a perfect model: no change


def test_evaluate_on_a_two_column_file_saves_the_report(tiny_model_dir, tmp_path, capsys):
    src = tmp_path / "labeled.csv"
    records = tiny_records(9, 4, "e")
    src.write_text("text,label\n" + "".join(f"{r['text']},{r['label']}\n" for r in records))
    out = tmp_path / "report"
    assert main(["evaluate", "--model", str(tiny_model_dir), "--input", str(src),
                 "--out", str(out)]) == 0
    assert "== labeled (27 passages) ==" in capsys.readouterr().out
    names = {p.name for p in out.iterdir()}
    assert {"labeled_confusion.png", "labeled_reliability.png", "labeled_errors.csv",
            "labeled_report.txt", "metrics.json"} <= names
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["labeled_f1_macro_ci_low"] <= metrics["labeled_f1_macro"] <= 1


def test_evaluate_slices_by_a_column_and_marks_small_slices(tiny_model_dir, tmp_path, capsys):
    src = tmp_path / "gold.jsonl"
    rows = [{"text": r["text"], "label": r["label"], "source": "big" if i < 25 else "small"}
            for i, r in enumerate(tiny_records(10, 4, "e"))]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["evaluate", "--model", str(tiny_model_dir), "--input", str(src), "--by", "source",
                 "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "source=big" in out and "source=small" in out
    assert [line for line in out.splitlines() if line.startswith("source=small")][0].endswith(
        "(too small to score)")


def test_evaluate_names_bad_rows_by_file_and_line(tiny_model_dir, tmp_path, capsys):
    src = tmp_path / "labeled.csv"
    src.write_text("text,label\nfine,neutral\nalso fine,pro-us\n,neutral\n")
    assert main(["evaluate", "--model", str(tiny_model_dir), "--input", str(src)]) == 1
    assert f"{src}:3: unknown label 'pro-us'" in capsys.readouterr().err


def test_summarize_writes_shares_charts_and_the_report(tmp_path, capsys):
    src = scored_file(tmp_path / "scored.parquet")
    out = tmp_path / "report"
    assert main(["summarize", str(src), "--by", "source", "--by", "month", "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "shares.png", "over_time.png", "shares_overall.csv",
            "shares_source.csv", "shares_month.csv", "shares_source_month.csv"} <= names
    by_source = pd.read_csv(out / "shares_source.csv")
    assert list(by_source["source"]) == ["blog", "wire"] and by_source["n"].sum() == 107
    assert list(pd.read_csv(out / "shares_month.csv")["month"]) == ["2024-01", "2024-02", "2024-03"]
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["rows"], summary["bad"], summary["abstained"]) == (120, 1, 12)
    html = (out / "report.html").read_text()
    assert "raw classify-and-count" in html and html.count("data:image/png;base64,") == 2
    assert "<mark>" in html and 'id="abstained"' in html


def test_summarize_with_a_labeled_sample_says_it_corrected(tmp_path):
    src = scored_file(tmp_path / "scored.parquet")
    out = tmp_path / "report"
    assert main(["summarize", str(src), "--by", "source", "--out", str(out),
                 "--calibrate-with", str(src)]) == 0
    html = (out / "report.html").read_text()
    assert "adjusted classify-and-count" in html and "107 labeled passages" in html
    raw = tmp_path / "raw"
    assert main(["summarize", str(src), "--out", str(raw)]) == 0
    adjusted = pd.read_csv(out / "shares_overall.csv")
    assert not np.allclose(adjusted.filter(like="share_"), pd.read_csv(
        raw / "shares_overall.csv").filter(like="share_"))


def test_reports_never_replace_a_folder_they_did_not_write(tiny_model_dir, tmp_path, capsys):
    src = scored_file(tmp_path / "scored.parquet")
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    assert main(["summarize", str(src), "--out", str(mine)]) == 1
    assert main(["evaluate", "--model", str(tiny_model_dir), "--input", str(src), "--out",
                 str(mine)]) == 1
    assert "is not a report folder" in capsys.readouterr().err
    assert (mine / "thesis.txt").read_text() == "years of work"
    assert main(["summarize", str(src), "--out", str(tmp_path / "r")]) == 0
    assert main(["summarize", str(src), "--out", str(tmp_path / "r")]) == 0  # its own: replaced


def test_summarize_names_an_unknown_key(tmp_path, capsys):
    assert main(["summarize", str(scored_file(tmp_path / "s.parquet")), "--by", "outlet"]) == 1
    assert "--by outlet: no such column" in capsys.readouterr().err


def test_review_prefers_unsure_passages_and_skips_near_duplicates():
    texts = ["the radar in poland is aimed at iran"] * 3 + [
        "moscow signed the treaty", "sanctions on the battery sale", "talks were scheduled"]
    margins = [0.01, 0.01, 0.01, 0.5, 0.02, 0.9]
    picked = select(texts, margins, 3)
    assert picked[0] == 0 and len({texts[i] for i in picked}) == 3  # no duplicate twice
    assert 4 in picked and 5 not in picked  # the surest passage is not worth the time
    assert sorted(select(texts, margins, 5)) == [0, 3, 4, 5]  # asked for 5, only 4 are distinct


def test_review_then_import_round_trip(tmp_path, tiny_data, capsys):
    src = scored_file(tmp_path / "scored.parquet")
    out = tmp_path / "to_label.csv"
    assert main(["review", str(src), "-n", "10", "--out", str(out)]) == 0
    sheet = pd.read_csv(out, dtype=object, keep_default_na=False)
    assert len(sheet) == 10 and list(sheet.columns)[-1] == "label" and (sheet["label"] == "").all()
    tasks = json.loads(out.with_suffix(".labelstudio.json").read_text())
    assert len(tasks) == 10 and tasks[0]["data"]["text"] == sheet["text"][0]
    assert tasks[0]["predictions"][0]["result"][0]["value"]["choices"][0] in LABELS
    sheet.loc[:6, "label"] = "pro_us"  # a person labels seven of them
    sheet.to_csv(out, index=False)
    data = tiny_data
    assert main(["data", "import", str(out), "--name", "my-corpus", "--path", str(data)]) == 0
    stored = [json.loads(x) for x in (data / "user" / "my-corpus.jsonl").read_text().splitlines()]
    assert len(stored) == 7 and {r["label"] for r in stored} == {"pro_us"}
    assert all(r["group"].startswith("my-corpus:") for r in stored)
    assert "3 rows without a label skipped" in capsys.readouterr().err
    assert main(["data", "check", "--path", str(data), "--extra", "my-corpus"]) == 0
    assert "103 records, 0 problem(s)" in capsys.readouterr().err  # 96 of the tiny task + 7


def test_import_reports_every_bad_row_by_line_and_writes_nothing(tmp_path, capsys):
    src = tmp_path / "labels.csv"
    src.write_text("text,label\nok one,neutral\n,pro_us\nok two,Pro-US\nok one,neutral\n")
    data = tmp_path / "data"
    assert main(["data", "import", str(src), "--name", "x", "--path", str(data)]) == 1
    err = capsys.readouterr().err
    assert f"{src}:3: 'text' is empty" in err and f"{src}:4: unknown label 'Pro-US'" in err
    assert f"{src}:5: duplicate text (first at {src}:2)" in err
    assert not (data / "user").exists()


@pytest.mark.parametrize("name", ["My Corpus", "../up", ""])
def test_import_refuses_bad_names(tmp_path, name):
    assert main(["data", "import", str(tmp_path / "x.csv"), "--name", name]) == 1


def test_a_missing_sqlite_store_is_warned_about_in_one_line(tmp_path, capsys):
    from stance.names import warn_if_new_store

    assert warn_if_new_store(f"sqlite:///{tmp_path}/typo.db") is True
    err = capsys.readouterr().err
    assert err == (f"stance: warning: no MLflow store at {tmp_path}/typo.db; an empty one is "
                   "created (set MLFLOW_TRACKING_URI if the runs are elsewhere)\n")
    (tmp_path / "here.db").touch()
    assert warn_if_new_store(f"sqlite:///{tmp_path}/here.db") is False
    assert warn_if_new_store("http://127.0.0.1:5000") is False and capsys.readouterr().err == ""


@pytest.mark.integration  # MLflow takes seconds to create a store
def test_loading_from_a_missing_store_warns_before_the_error(tmp_path, capsys, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/typo.db")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/typo.db")
    assert main(["predict", "--model", "models:/stance-classifier@champion", "hi"]) == 1
    ours = [x for x in capsys.readouterr().err.splitlines() if x.startswith("stance:")]
    assert ours[0].startswith(f"stance: warning: no MLflow store at {tmp_path}/typo.db")
    assert ours[1].startswith("stance: error: could not load MLflow model") and len(ours) == 2
