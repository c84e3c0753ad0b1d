"""Long passages, evidence, abstaining and messy input, on the tiny model."""

import numpy as np
import pytest

from stance import LABELS
from stance.text import (
    aggregate_windows,
    check_texts,
    language_flags,
    sentence_spans,
    split_sentences,
    token_budget_batches,
)

SHORT = "moscow signed the treaty"


def test_a_5000_word_passage_is_scored_in_windows_without_truncation(tiny_clf):
    words = ("the radar in poland was a provocation and moscow signed the treaty " * 500).split()
    assert len(words) >= 5000
    text = " ".join(words)
    backend = tiny_clf.backend
    backend.max_length, backend.stride = 32, 8
    encoded = backend.tokenizer([text], truncation=True, max_length=32, stride=8,
                                return_overflowing_tokens=True)["input_ids"]
    assert len(encoded) > 100  # many windows, not one truncated one
    covered = [t for w in encoded[:1] for t in w[1:-1]] + [t for w in encoded[1:] for t in w[9:-1]]
    full = backend.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert covered == full  # every token is in a window, overlaps counted once
    proba = tiny_clf.predict_proba([text, SHORT])
    assert proba.shape == (2, 3)
    np.testing.assert_allclose(proba.sum(1), 1, atol=1e-5)


def test_result_does_not_depend_on_batch_composition(tiny_clf):
    tiny_clf.backend.max_length, tiny_clf.backend.stride = 16, 4
    long = "a reckless violation of the treaty and the talks " * 20
    alone = tiny_clf.predict_proba([long])
    mixed = tiny_clf.predict_proba([SHORT, long, "the radar"], batch_size=2)
    np.testing.assert_allclose(alone[0], mixed[1], atol=1e-5)


def test_aggregation_is_a_length_weighted_mean_of_logits():
    logits = np.array([[1.0, 0, 0], [3.0, 0, 0], [0, 2.0, 0]])
    out = aggregate_windows(logits, owner=[0, 0, 1], weights=[1, 3, 5], n_texts=2)
    np.testing.assert_allclose(out, [[2.5, 0, 0], [0, 2.0, 0]])


def test_token_budget_batches_cover_everything_once_and_respect_the_budget():
    lengths = [5, 40, 12, 40, 3, 33, 8]
    batches = token_budget_batches(lengths, max_tokens=80, max_batch=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 3 and len(b) * max(lengths[i] for i in b) <= 80


def test_explain_gives_every_sentence_ordered_by_support(tiny_clf):
    text = "Moscow signed the treaty. The radar was a provocation! A reckless violation?"
    (pred,) = tiny_clf.predict([text], explain=True)
    assert sorted(e.text for e in pred.evidence) == sorted(split_sentences(text))
    support = [e.scores[pred.label] for e in pred.evidence]
    assert support == sorted(support, reverse=True)
    assert all(text[e.start:e.end] == e.text for e in pred.evidence)
    assert tiny_clf.predict([text])[0].evidence == ()


def test_sentence_spans_point_at_the_sentences():
    text = " First one.  Second, \"quoted.\" Third?\nFourth line"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == split_sentences(text)
    assert split_sentences(text) == ["First one.", "Second, \"quoted.\"", "Third?", "Fourth line"]


def test_min_confidence_abstains_but_keeps_scores(tiny_clf):
    (pred,) = tiny_clf.predict([SHORT], min_confidence=1.0)
    assert pred.abstained and pred.label is None
    assert sum(pred.scores.values()) == pytest.approx(1.0)
    (pred,) = tiny_clf.predict([SHORT], min_confidence=0.0)
    assert not pred.abstained and pred.label in LABELS
    with pytest.raises(ValueError, match="min_confidence"):
        tiny_clf.predict([SHORT], min_confidence=1.5)


def test_messy_text_is_cleaned_and_handled(tiny_clf):
    messy = "\u200bmoscow\u200e signed\x07 the \u202etreaty 🚀 Москва"
    assert check_texts([messy]) == ["moscow signed the treaty 🚀 Москва"]
    assert len(tiny_clf.predict([messy])) == 1
    with pytest.raises(ValueError, match=r"texts\[0\] is empty"):
        check_texts(["\u200b\u200f \n"])


def test_language_flags():
    assert language_flags("The radar in Poland was declared operational in 2024.") == ()
    assert language_flags("Россия поставила Ирану зенитные ракетные комплексы С-300.") == (
        "non_english",)
    assert language_flags("La Russie a livré des systèmes de défense aérienne à l'Iran en "
                          "deux mille seize selon Moscou") == ("non_english",)
