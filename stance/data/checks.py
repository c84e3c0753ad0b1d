"""Checks across records (duplicates, leaks between splits, shortcut words) and the statistics
printed in the data card. `stance data check --report` runs both (through `stance.data`)."""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict

from stance.labels import LABELS

NEAR_DUPLICATE_COSINE = 0.8
_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")


def _normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def duplicate_problems(splits: dict[str, list[dict]]) -> list[str]:
    """Repeated ids, repeated texts (after normalising case and punctuation)."""
    problems, ids, texts = [], {}, {}
    for records in splits.values():
        for r in records:
            for kind, key, seen in (("id", r["id"], ids), ("text", _normalise(r["text"]), texts)):
                if key in seen:
                    problems.append(f"{r['_where']}: duplicate {kind} (first at {seen[key]})")
                else:
                    seen[key] = r["_where"]
    return problems


def straddle_problems(splits: dict[str, list[dict]]) -> list[str]:
    """A group whose passages sit in more than one split leaks between them."""
    where: dict[str, dict[str, str]] = defaultdict(dict)
    for name, records in splits.items():
        for r in records:
            where[r["group"]].setdefault(name, r["_where"])
    return [f"{', '.join(places.values())}: group {group!r} straddles splits {sorted(places)}"
            for group, places in sorted(where.items()) if len(places) > 1]


def near_duplicate_problems(splits: dict[str, list[dict]],
                            threshold: float = NEAR_DUPLICATE_COSINE) -> list[str]:
    """Pairs in different splits whose TF-IDF cosine is above `threshold` (only the blocks
    between two splits are computed: pairs within a split may be alike)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    names = [name for name, records in splits.items() if records]
    if len(names) < 2:
        return []
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(
        [r["text"] for name in names for r in splits[name]])
    matrices = {name: vectorizer.transform([r["text"] for r in splits[name]]) for name in names}
    problems = []
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            sims = (matrices[first] @ matrices[second].T).tocoo()
            close = sims.data > threshold  # millions of small overlaps: filter them in numpy
            for a, b, sim in zip(sims.row[close], sims.col[close], sims.data[close]):
                problems.append(f"{splits[second][b]['_where']}: near-duplicate (cosine "
                                f"{sim:.2f}) of {splits[first][a]['_where']} in another split")
    return problems


def shortcut_problems(splits: dict[str, list[dict]], most: float = 0.5,
                      rare: float = 0.1) -> list[str]:
    """Words in most passages of one label and rare in the others give the label away."""
    docs: dict[str, list[set[str]]] = defaultdict(list)
    for records in splits.values():
        for r in records:
            docs[r["label"]].append(set(_WORD.findall(r["text"].lower())))
    share = {label: Counter(w for d in ds for w in d) for label, ds in docs.items()}
    problems = []
    for label, counts in share.items():
        for word, n in counts.items():
            if n / len(docs[label]) < most:
                continue
            others = [share[o][word] / len(docs[o]) for o in share if o != label]
            if all(s <= rare for s in others):
                problems.append(f"shortcut word {word!r}: in {n / len(docs[label]):.0%} of "
                                f"{label} passages, at most {max(others, default=0):.0%} elsewhere")
    return problems


def _phrases(text: str) -> set[str]:
    """The 3- and 4-word n-grams of a passage, and its sentences' first words (as `^word`)."""
    from stance.text import split_sentences

    words = _WORD.findall(text.lower())
    grams = {" ".join(words[i : i + n]) for n in (3, 4) for i in range(len(words) - n + 1)}
    openers = {"^" + w[0] for w in (_WORD.findall(s.lower()) for s in split_sentences(text)) if w}
    return grams | openers


def shortcut_phrases(records: list[dict], min_count: int = 15,
                     max_share: float = 0.8) -> list[tuple[str, int, str, float]]:
    """Phrases (3-4 words) and sentence-opening words in `min_count` or more passages of which
    more than `max_share` carry one label: `(phrase, passages, label, share)`, commonest first.
    A model learns such a phrase instead of the framing ("Both ..." openers were 97% neutral)."""
    by_phrase: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        for phrase in _phrases(r["text"]):
            by_phrase[phrase][r["label"]] += 1
    found = []
    for phrase, counts in by_phrase.items():
        n = sum(counts.values())
        label, top = counts.most_common(1)[0] if n >= min_count else (None, 0)
        if label is not None and top / n > max_share:
            found.append((phrase, n, label, round(top / n, 2)))
    return sorted(found, key=lambda f: (-f[1], f[0]))


def shortcut_phrase_problems(splits: dict[str, list[dict]]) -> list[str]:
    """Shortcut phrases of the train split (the one a model learns from)."""
    return [f"shortcut phrase {phrase!r}: in {n} train passages, {share:.0%} {label}"
            for phrase, n, label, share in shortcut_phrases(splits.get("train", []))]


def cross_record_problems(splits: dict[str, list[dict]]) -> list[str]:
    return (duplicate_problems(splits) + straddle_problems(splits)
            + near_duplicate_problems(splits) + shortcut_problems(splits)
            + shortcut_phrase_problems(splits))


def length_bucket(text: str) -> str:
    """`one_sentence` (under 20 words), `paragraph` (60+ words) or `short` (in between)."""
    words = len(text.split())
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
    if len(sentences) == 1 and words < 20:
        return "one_sentence"
    return "paragraph" if words >= 60 else "short"


def statistics_of(splits: dict[str, list[dict]]) -> dict:
    """The numbers of the data card, computed from the records."""
    everything = [r for rs in splits.values() for r in rs]
    words = [len(r["text"].split()) for r in everything]
    return {
        "label_by_split": {s: {lab: sum(r["label"] == lab for r in rs) for lab in LABELS}
                           for s, rs in splits.items()},
        "topic": dict(sorted(Counter(r["topic"] for r in everything).items())),
        "register": dict(sorted(Counter(r["register"] for r in everything).items())),
        "hard_case": dict(sorted(Counter(r["hard_case"] or "(none)" for r in everything).items())),
        "length": dict(sorted(Counter(length_bucket(r["text"]) for r in everything).items())),
        "words": {"min": min(words), "median": statistics.median(words),
                  "mean": round(statistics.fmean(words), 1), "max": max(words)},
    }


def format_report(stats: dict) -> str:
    """The statistics as Markdown tables, the form used in data/README.md."""
    if not stats:
        return "(no records)"
    total = sum(sum(c.values()) for c in stats["label_by_split"].values())
    lines = ["| split | " + " | ".join(LABELS) + " | total |", "|---" * (len(LABELS) + 2) + "|"]
    for split, counts in stats["label_by_split"].items():
        n = sum(counts.values())
        cells = " | ".join(f"{counts[lab]} ({counts[lab] / n:.0%})" for lab in LABELS)
        lines.append(f"| {split} | {cells} | {n} |")
    for key in ("topic", "register", "hard_case", "length"):
        lines += ["", f"| {key} | passages | share |", "|---|---|---|"]
        lines += [f"| {k} | {v} | {v / total:.1%} |" for k, v in stats[key].items()]
    w = stats["words"]
    lines += ["", f"Words per passage: min {w['min']}, median {w['median']}, "
                  f"mean {w['mean']}, max {w['max']}."]
    return "\n".join(lines)
