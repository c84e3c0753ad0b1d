"""How much a set of passages reads like real published text: the measures of the realism profile.

Each measure is a share of passages (or a number per passage) computed from the text alone, plus
`register` and `label` when a record has them. `TARGETS` holds the figures measured on a few
hundred real published passages on our topics; `BANDS` the ranges the committed data must sit in
(checked by the tests, explained in data/README.md). For any JSONL file:

    python -m stance.data.profile data/train.jsonl data/news.jsonl
    stance data check --profile            # every split of data/

>>> p = profile([{"text": 'Kremlin spokesman Dmitry Peskov said on Monday the plan "threatens '
...               'our national security".', "label": "pro_russia"}])
>>> p["quote4"], p["title_name"], p["weekday"]
(1.0, 1.0, 1.0)
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path

from stance.data.lexicon import EVALUATIVE, GIVEN, SURNAMES, TITLES

NEWS_REGISTERS = frozenset({"wire_news", "newspaper_report", "state_media_news", "foreign_media_news"})
# Registers imitated by the first dataset that real published text on these topics hardly has.
UNREAL_REGISTERS = frozenset({"academic_abstract", "diplomatic_cable", "interview", "letter_to_editor"})

_QUOTE = re.compile(r"[\"“]([^\"“”]*)[\"”]")
_SAID = re.compile(r"\b(said|says|told)\b", re.I)
_ATTRIBUTION = re.compile(
    r"\b(said|says|say|told|tells|according to|claim(?:s|ed)?|insist(?:s|ed)?|stated|states|added|"
    r"noted|warn(?:s|ed)|argue[sd]?|asserted|announced|declared|maintain(?:s|ed)|allege[sd]|"
    r"acknowledged|conceded|quoted|reported|wrote|writes|accused|den(?:y|ies|ied)|call(?:s|ed)|"
    r"describe[sd]|urge[sd]|stress(?:es|ed)|complain(?:s|ed)|point(?:s|ed) out|in a statement|"
    r"countered|replied|responded)\b", re.I)
_NAME = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_TITLE_NAME = re.compile(rf"\b{TITLES}\s+(?:of\s+[A-Z][a-z]+\s+)?{_NAME}\s+(?:[A-Z]\.\s+)?{_NAME}\b")
_GIVEN_NAME = re.compile(r"\b([A-Z][a-z]+)\s+(?:[A-Z]\.\s+)?[A-Z][a-z]+")
_WORDS = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_AGENCY = re.compile(r"\b(Interfax|TASS|RIA(?: Novosti)?|Reuters|AP|Associated Press|AFP|"
                     r"Agence France-Presse|Sputnik|Anadolu|IRNA|Tasnim|Fars|Xinhua|Yonhap|Kyodo|"
                     r"PTI|Press Trust of India|ANI|PAP|Agerpres|Bloomberg|dpa|EFE|ANSA|ISNA|"
                     r"Mehr|BNS|ELTA|CTK|ČTK|UNIAN|Ukrinform|Prensa Latina|AVN)\b")
_WEEKDAY = re.compile(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_FIRST_PERSON = re.compile(r"\b(I|me|my|mine|we|us|our|ours)\b")
_SENTENCE = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“(]?[A-Z0-9])")
_BOTH = re.compile(r"\b(both|neither|each side|either side)\b", re.I)
# Topics of the passages on neighbouring subjects, with no Russia-US angle (always neutral).
NEIGHBOURING_TOPICS = frozenset({"adjacent"})
def _outside_quotes(text: str) -> str:
    return _QUOTE.sub(" ", text)


def sentences(text: str) -> list[str]:
    """The sentences of a passage (a full stop, ! or ? followed by a capital starts a new one)."""
    return [s for s in _SENTENCE.split(text.strip()) if s.strip()]


def _words(text: str) -> list[str]:
    return _WORDS.findall(text)


def _named_person(text: str) -> bool:
    if _TITLE_NAME.search(text) or any(m.group(1) in GIVEN for m in _GIVEN_NAME.finditer(text)):
        return True
    return any(w in SURNAMES for w in _words(text))


def _evaluative(text: str) -> int:
    return sum(w.lower().strip("'’") in EVALUATIVE for w in _words(text))


def _attributed_stance(text: str) -> bool:
    """The stance is voiced by someone the narrator reports, not by the narrator."""
    outside = _outside_quotes(text)
    reported = bool(_QUOTE.search(text)) or bool(_ATTRIBUTION.search(text))
    return reported and not _FIRST_PERSON.search(outside)


def passage_features(record: dict) -> dict:
    """The per-passage facts that the profile counts."""
    text = record["text"]
    outside = _outside_quotes(text)
    n_words = len(text.split())
    sents = sentences(text)
    return {
        "news": record.get("register") in NEWS_REGISTERS if "register" in record else None,
        "unreal": record.get("register") in UNREAL_REGISTERS if "register" in record else None,
        "quote4": any(len(q.split()) >= 4 for q in _QUOTE.findall(text)),
        "said": bool(_SAID.search(text)),
        "attribution": bool(_ATTRIBUTION.search(text)),
        "named_person": _named_person(text),
        "title_name": bool(_TITLE_NAME.search(text)),
        "agency": bool(_AGENCY.search(text)),
        "weekday": bool(_WEEKDAY.search(text)),
        "short20": n_words <= 20,
        "words": n_words,
        "sentences": len(sents),
        "first_person": bool(_FIRST_PERSON.search(outside)),
        "question": "?" in text,
        "semicolon": ";" in text,
        "parentheses": "(" in text,
        "us_dotted": "U.S." in text,
        "eval_outside": _evaluative(outside),
        "words_outside": len(outside.split()),
        "eval_by_sentence": [_evaluative(s) for s in sents],
        "attributed_stance": _attributed_stance(text),
        "both_formula": bool(_BOTH.search(text)),
        "neighbouring": record.get("topic") in NEIGHBOURING_TOPICS if "topic" in record else None,
    }


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def profile(records: list[dict]) -> dict:
    """The realism measures of `records` (dicts with `text`, optionally `label` and `register`)."""
    if not records:
        return {}
    feats = [passage_features(r) for r in records]
    labels = [r.get("label") for r in records]
    words = sorted(f["words"] for f in feats)
    stance = [f for f, lab in zip(feats, labels) if lab in ("pro_russia", "pro_us")]
    neutral = [f for f, lab in zip(feats, labels) if lab == "neutral"]
    long_stance = [f["eval_by_sentence"] for f in stance if f["sentences"] >= 3]
    evals = sum(sum(e) for e in long_stance) or 1
    out = {key: _share([f[key] for f in feats]) for key in (
        "quote4", "said", "attribution", "named_person", "title_name", "agency", "weekday",
        "short20", "first_person", "question", "semicolon", "parentheses", "us_dotted")}
    has_register = all(f["news"] is not None for f in feats)
    out |= {
        "news": _share([f["news"] for f in feats]) if has_register else None,
        "unreal": _share([f["unreal"] for f in feats]) if has_register else None,
        "words_median": statistics.median(words),
        "words_q1": words[len(words) // 4],
        "words_q3": words[(3 * len(words)) // 4],
        "words_per_sentence": round(sum(words) / max(sum(f["sentences"] for f in feats), 1), 1),
        "eval_per_100_outside": round(100 * sum(f["eval_outside"] for f in feats)
                                      / max(sum(f["words_outside"] for f in feats), 1), 2),
        "attributed_stance": _share([f["attributed_stance"] for f in stance]),
        "eval_first": round(sum(e[0] for e in long_stance) / evals, 3) if long_stance else None,
        "eval_last": round(sum(e[-1] for e in long_stance) / evals, 3) if long_stance else None,
        "neutral_both": _share([f["both_formula"] for f in neutral]),
        "neutral_neighbouring": (_share([f["neighbouring"] for f in neutral])
                                 if all(f["neighbouring"] is not None for f in neutral) else None),
        "n": len(records),
    }
    if all(lab is not None for lab in labels):
        out |= {f"label_{lab}": _share([x == lab for x in labels])
                for lab in ("pro_russia", "pro_us", "neutral")}
    return out


# (key, what it measures, the real-text figure). Shares are of all passages unless the row says.
MEASURES: tuple[tuple[str, str, float | None], ...] = (
    ("news", "register: news reports (incl. state media)", 0.85),
    ("unreal", "registers with no real counterpart", 0.0),
    ("quote4", "a direct quotation of 4+ words", 0.42),
    ("said", '"said / says / told"', 0.48),
    ("attribution", "any attribution (said, according to, claimed, ...)", 0.77),
    ("named_person", "a named person", 0.44),
    ("title_name", "title + name (Kremlin spokesman Dmitry Peskov)", 0.20),
    ("agency", "a news agency credited", 0.07),
    ("weekday", "a weekday", 0.14),
    ("short20", "passages of 20 words or fewer", 0.0),
    ("words_median", "words per passage: median", 55),
    ("words_per_sentence", "words per sentence", 24),
    ("first_person", "first person outside quotes", 0.05),
    ("question", "question marks", 0.02),
    ("semicolon", "semicolons", 0.01),
    ("parentheses", "parentheses", 0.12),
    ("us_dotted", '"U.S." spelling', 0.22),
    ("eval_per_100_outside", "evaluative words per 100 words outside quotes", 0.68),
    ("attributed_stance", "stance passages carried by an attributed voice", 0.80),
    ("eval_first", "evaluative words in the first sentence (3+ sentence stance passages)", 0.41),
    ("eval_last", "evaluative words in the last sentence (3+ sentence stance passages)", 0.35),
    ("neutral_both", 'neutral passages with "both / neither / each side" formulas', 0.12),
    ("neutral_neighbouring", "neutral passages on neighbouring subjects (no Russia-US angle)", 0.16),
    ("label_pro_russia", "label mix: pro_russia", 0.30),
    ("label_pro_us", "label mix: pro_us", 0.30),
    ("label_neutral", "label mix: neutral", 0.40),
)
TARGETS = {key: target for key, _, target in MEASURES}

# The ranges the committed data must sit in (tests/test_data.py checks them; data/README.md
# explains them). `news`, the held-out stand-in for real text, within a few points of every
# real-text figure of the first twelve measures; `train` at least halfway from where the first
# dataset stood (10% news, 35% unreal registers, 1% quotes, ...) to those figures.
BANDS: dict[str, dict[str, tuple[float, float]]] = {
    "news": {"news": (0.80, 0.90), "unreal": (0.0, 0.02), "quote4": (0.35, 0.50),
             "said": (0.40, 0.56), "attribution": (0.70, 0.88), "named_person": (0.38, 0.55),
             "title_name": (0.15, 0.26), "agency": (0.04, 0.11), "weekday": (0.09, 0.18),
             "short20": (0.0, 0.02), "words_median": (50, 62), "words_per_sentence": (21.5, 26),
             "label_neutral": (0.36, 0.44)},
    # the third round's passages (in train, validation and test): the real-text profile, with
    # about a quarter op-eds, analysis and statements beside the news reports
    "round 3": {"news": (0.70, 0.90), "unreal": (0.0, 0.02), "quote4": (0.35, 0.50),
                "said": (0.40, 0.56), "attribution": (0.70, 0.90), "named_person": (0.38, 0.55),
                "title_name": (0.15, 0.26), "agency": (0.04, 0.11), "weekday": (0.09, 0.18),
                "short20": (0.0, 0.02), "words_median": (50, 62),
                "words_per_sentence": (21.5, 26), "label_neutral": (0.36, 0.44)},
    "train": {"news": (0.475, 1.0), "unreal": (0.0, 0.15), "quote4": (0.215, 1.0),
              "said": (0.325, 1.0), "attribution": (0.605, 1.0), "named_person": (0.245, 1.0),
              "title_name": (0.11, 1.0), "agency": (0.035, 1.0), "weekday": (0.095, 1.0),
              "short20": (0.0, 0.08), "words_median": (52, 70), "words_per_sentence": (21.5, 30)},
}


def outside_bands(measured: dict, bands: dict[str, tuple[float, float]]) -> list[str]:
    """The measures of `measured` outside their band, as readable lines.

    >>> outside_bands({"news": 0.3}, {"news": (0.475, 1.0)})
    ['news = 0.3, outside [0.475, 1.0]']
    """
    return [f"{key} = {measured.get(key)}, outside [{lo}, {hi}]"
            for key, (lo, hi) in bands.items()
            if measured.get(key) is None or not lo <= measured[key] <= hi]


def _cell(key: str, value) -> str:
    if value is None:
        return "n/a"
    if key in ("words_median", "words_per_sentence", "eval_per_100_outside"):
        return f"{value:g}"
    return f"{value:.0%}"


def format_profile(profiles: dict[str, dict]) -> str:
    """A Markdown table: one column per named profile, then the real-text target."""
    names = list(profiles)
    lines = ["| measure | " + " | ".join(names) + " | real text |",
             "|---" * (len(names) + 2) + "|"]
    for key, what, target in MEASURES:
        cells = " | ".join(_cell(key, profiles[n].get(key)) for n in names)
        lines.append(f"| {what} | {cells} | {_cell(key, target)} |")
    counts = " | ".join(str(profiles[n].get("n", 0)) for n in names)
    lines.append(f"| passages | {counts} | |")
    return "\n".join(lines)


def read_jsonl(path: str | Path) -> list[dict]:
    """The records of a JSONL file (blank lines skipped)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def report(profiles: dict[str, dict]) -> str:
    """The table, then each profile's measures outside its band (for names with bands)."""
    lines = [format_profile(profiles)]
    for name, measured in profiles.items():
        if name in BANDS:
            off = outside_bands(measured, BANDS[name])
            lines.append(f"{name}: " + ("within its bands" if not off else "; ".join(off)))
    return "\n".join(lines)


if __name__ == "__main__":
    print(report({Path(f).stem: profile(read_jsonl(f)) for f in sys.argv[1:]}))
