"""Text handling that needs no model: input checks and cleaning, sentences (for evidence), language
flags, and the arithmetic of token windows for long passages (token-budget batches, aggregation)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

# Zero-width and bidirectional marks carry no meaning for the model; scraped text is full of them.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f"
                               "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# A sentence ends at . ! or ?, plus any closing quotes or brackets (kept with it), before
# whitespace and a capital or digit.
_SENTENCE_END = re.compile(r"(?<=[.!?])([\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_STOPWORDS = frozenset(
    "the of and to in a is that for on with as by was are it be this from at has have not which "
    "its an or will their were but been i you he she we they his her our them us my your who what "
    "when where why how all any both each more most other some such only own same so than too "
    "very can just should now do does did had about after before between into through during "
    "under over up down out off again then once here there if because until while against "
    "despite within without also may might must would could no nor per its new".split())


def clean_text(text: str) -> str:
    """Drop invisible marks and control characters (except line breaks and tabs)."""
    text = text.translate(_INVISIBLE)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")


def check_texts(texts: object) -> list[str]:
    """Validate a batch and return the cleaned passages.

    A bare string is refused so that results never change shape; an item that is not a string,
    or that is empty once invisible characters are removed, is an error naming its index.
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError("texts must be a list of strings, not a single string: pass [text]")
    if not isinstance(texts, Sequence):
        raise TypeError(f"texts must be a list of strings, got {type(texts).__name__}")
    cleaned = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] must be a str, got {type(text).__name__}")
        text = clean_text(text)
        if not text.strip():
            raise ValueError(f"texts[{i}] is empty or whitespace only")
        cleaned.append(text)
    return cleaned


def language_flags(text: str) -> tuple[str, ...]:
    """`("non_english",)` when the passage is probably not English, else `()`.

    A cheap heuristic: mostly non-Latin letters, or (from 8 words up) almost no common English
    function words. It misses short non-English passages in Latin script and can flag English
    lists of names or figures.
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return ()
    latin = sum(c.isascii() for c in letters) / len(letters)
    words = re.findall(r"[a-z']+", text.lower())
    if latin < 0.5:
        return ("non_english",)
    if len(words) >= 8 and sum(w in _STOPWORDS for w in words) / len(words) < 0.12:
        return ("non_english",)
    return ()


def split_sentences(text: str) -> list[str]:
    """Sentences by punctuation followed by a capital or digit; good enough for evidence."""
    return [text[start:end] for start, end in sentence_spans(text)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character offsets `(start, end)` of each sentence of `split_sentences`, in order.

    >>> sentence_spans("Moscow objected. Washington did not.")
    [(0, 16), (17, 36)]
    """
    spans, offset = [], 0
    for line in text.splitlines(keepends=True):
        start = 0
        for match in [*_SENTENCE_END.finditer(line), None]:
            end = match.start() + len(match.group(1)) if match else len(line)
            piece = line[start:end]
            stripped = piece.strip()
            if stripped:
                first = offset + start + (len(piece) - len(piece.lstrip()))
                spans.append((first, first + len(stripped)))
            start = match.end() if match else start
        offset += len(line)
    return spans


def token_budget_batches(lengths: Sequence[int], max_tokens: int, max_batch: int) -> list[list[int]]:
    """Group indices, longest first, so that `rows x longest row` stays within `max_tokens`.

    Sorting by length keeps padding small; the budget keeps memory flat whatever the lengths.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if batches and len(batches[-1]) < max_batch and \
                (len(batches[-1]) + 1) * lengths[batches[-1][0]] <= max_tokens:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def aggregate_windows(logits: np.ndarray, owner: Sequence[int], weights: Sequence[float],
                      n_texts: int) -> np.ndarray:
    """Length-weighted mean of each passage's window logits.

    Averaging logits (not probabilities) lets a window with a clear stance outweigh neutral
    filler around it, and the weights stop a short tail window from counting as much as a full
    one. A passage that fits in one window gets its logits unchanged.
    """
    owner = np.asarray(owner)
    w = np.asarray(weights, dtype=np.float64)[:, None]
    total = np.zeros((n_texts, logits.shape[1]))
    np.add.at(total, owner, logits * w)
    norm = np.zeros(n_texts)
    np.add.at(norm, owner, w[:, 0])
    return (total / norm[:, None]).astype(np.float32)
