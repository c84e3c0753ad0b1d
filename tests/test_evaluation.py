import numpy as np
import pytest

from stance import LABELS
from stance.eval import evaluate
from stance.eval.behaviour import load_cases, pass_rates, run_suite
from stance.eval.metrics import (
    bootstrap_f1_interval,
    expected_calibration_error,
    fit_temperature,
    paired_f1_difference,
    sliced_metrics,
)
from stance.eval.report import evaluate_split
from stance.prediction import softmax
from tests.helpers import ROOT


def _overconfident(n: int = 600, seed: int = 0):
    """Logits that are right 70% of the time but claim ~99% confidence."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    pred = np.where(rng.random(n) < 0.7, y, (y + 1) % 3)
    logits = rng.normal(0, 0.3, (n, 3))
    logits[np.arange(n), pred] += 6.0
    return logits, y


def test_ece_is_zero_when_confidence_matches_accuracy():
    proba = np.array([[0.5, 0.25, 0.25]] * 4)
    assert expected_calibration_error([0, 0, 1, 2], proba) == pytest.approx(0.0)
    assert expected_calibration_error([0, 1, 1, 2], proba) == pytest.approx(0.25)


def test_temperature_scaling_reduces_calibration_error():
    logits, y = _overconfident()
    t = fit_temperature(logits, y)
    assert t > 1.5  # overconfident logits must be softened
    before = expected_calibration_error(y, softmax(logits))
    after = expected_calibration_error(y, softmax(logits, t))
    assert after < before / 2
    np.testing.assert_array_equal(softmax(logits).argmax(1), softmax(logits, t).argmax(1))


def test_bootstrap_interval_brackets_the_estimate():
    logits, y = _overconfident()
    low, high = bootstrap_f1_interval(y, softmax(logits), 3, n_boot=200)
    assert 0.6 < low < 0.7 < high < 0.8


def test_report_has_slices_intervals_and_figures(tmp_path):
    logits, y = _overconfident(60)
    records = {"id": [str(i) for i in range(60)], "text": ["t"] * 60, "label": list(y),
               "topic": ["inf_treaty", "thaad"] * 30, "register": ["op_ed"] * 60,
               "hard_case": ["", "sarcasm", "negation"] * 20}
    report = evaluate_split("test", records, softmax(logits), list(LABELS), tmp_path)
    for key in ("test_f1_macro", "test_f1_macro_ci_low", "test_ece",
                "test_f1_macro__topic_inf_treaty", "test_f1_macro__hard_case_none",
                "test_f1_macro__register_op_ed"):
        assert key in report.metrics
    assert {p.name for p in report.files} >= {"test_confusion.png", "test_reliability.png"}
    errors = report.tables["test_errors.json"]
    assert errors["confidence"] == sorted(errors["confidence"], reverse=True)
    assert "macro-F1" in report.text and "topic=thaad" in report.text
    rows = sliced_metrics(records, softmax(logits), LABELS)
    assert sum(r["n"] for r in rows if r["column"] == "topic") == 60
    predictions = report.tables["test_predictions.json"]
    assert predictions["id"] == records["id"] and len(predictions["prob_neutral"]) == 60


def test_small_slices_are_marked_not_scored(tmp_path):
    logits, y = _overconfident(45)
    records = {"text": ["t"] * 45, "label": list(y), "source": ["wire"] * 40 + ["blog"] * 5}
    report = evaluate_split("mine", records, softmax(logits), list(LABELS), tmp_path,
                            slice_by=["source"])
    assert "mine_f1_macro__source_wire" in report.metrics
    assert "mine_f1_macro__source_blog" not in report.metrics
    assert "source=blog" in report.text and "too small" in report.text
    assert report.tables["mine_errors.json"]["id"]  # ids are made up when the file has none


def test_evaluate_reports_every_split_and_the_uncalibrated_ece(tiny_clf, tmp_path):
    texts = ["moscow signed the treaty", "the radar was a provocation", "a reckless violation"]
    records = {"id": ["a", "b", "c"], "text": texts, "label": [2, 0, 1]}
    tiny_clf.temperature = 2.0
    result = evaluate(tiny_clf, {"test": records, "news": records}, tmp_path,
                      behaviour=ROOT / "data/behaviour.jsonl")
    metrics = result.metrics
    assert {"test_f1_macro", "news_f1_macro", "news_ece", "news_ece_uncalibrated",
            "behaviour_all"} <= set(metrics)
    assert metrics["test_f1_macro"] == metrics["news_f1_macro"]
    assert "== news (3 passages) ==" in result.text and "behavioural suite" in result.text


def test_behaviour_suite_is_committed_and_well_formed():
    cases = load_cases(ROOT / "data/behaviour.jsonl")
    assert len(cases) >= 60
    kinds = {c["type"] for c in cases}
    assert kinds == {"invariance", "directional", "negation", "quote_rebut"}
    for c in cases:
        assert c.get("expected", c.get("toward", "neutral")) in LABELS


def test_behaviour_suite_judges_each_type():
    cases = [
        {"id": "i", "type": "invariance", "text": "alpha", "variant": "alpha beta"},
        {"id": "d", "type": "directional", "text": "alpha", "append": "beta", "toward": "pro_us"},
        {"id": "n", "type": "negation", "text": "gamma", "expected": "neutral"},
        {"id": "q", "type": "quote_rebut", "text": "alpha", "expected": "pro_us"},
    ]

    def fake_proba(texts):  # "beta" pushes toward pro_us, "gamma" is neutral
        rows = []
        for t in texts:
            row = np.array([0.6, 0.2, 0.2])
            if "beta" in t:
                row = np.array([0.2, 0.7, 0.1])
            if "gamma" in t:
                row = np.array([0.1, 0.1, 0.8])
            rows.append(row)
        return np.array(rows)

    results = {r.id: r.passed for r in run_suite(cases, fake_proba)}
    assert results == {"i": False, "d": True, "n": True, "q": False}
    assert pass_rates(run_suite(cases, fake_proba))["all"] == 0.5


def test_paired_difference_of_identical_models_is_exactly_zero():
    rng = np.random.default_rng(0)
    y, pred = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    assert paired_f1_difference(y, pred, pred, 3) == (0.0, 0.0, 0.0)
    diff, low, high = paired_f1_difference(y, y, pred, 3)
    assert 0 < low <= diff <= high  # perfect against random: clearly better
    with pytest.raises(ValueError, match="differ in length"):
        paired_f1_difference(y, pred[:10], pred, 3)
