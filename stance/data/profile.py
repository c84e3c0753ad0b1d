"""How much a set of passages reads like real published text: the measures of the realism profile.

Each measure is a share of passages (or a number per passage) computed from the text alone, plus
`register` and `label` when a record has them. `TARGETS` holds the figures measured on a few
hundred real published passages on our topics; `BANDS` the ranges the committed data must sit in
(checked by the tests, explained in data/README.md). Standard library only, so it also runs as a
plain script on any JSONL file:

    python stance/data/profile.py data/train.jsonl data/news.jsonl

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
_TITLES = (r"(?:[Ss]pokes(?:man|woman|person)|[Mm]inister|[Ss]ecretary|[Pp]resident|[Ss]enator|"
           r"[Aa]mbassador|[Gg]eneral|[Aa]dmiral|[Dd]irector|[Cc]hief|[Cc]hairman|[Cc]hairwoman|"
           r"[Cc]ommander|[Oo]fficial|[Ee]nvoy|[Aa]dviser|[Aa]dvisor|[Aa]nalyst|[Hh]ead|[Ll]eader|"
           r"[Cc]ongressman|[Cc]ongresswoman|[Rr]epresentative|[Rr]ep\.|[Ss]en\.|[Gg]en\.|"
           r"[Ss]peaker|[Cc]hancellor|[Pp]remier|[Nn]egotiator|[Ff]ellow|[Ee]xpert|[Pp]rofessor|"
           r"[Ee]ditor|[Ss]ecretary-[Gg]eneral|[Dd]eputy|[Cc]ounterpart|[Pp]eskov)")
_NAME = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_TITLE_NAME = re.compile(rf"\b{_TITLES}\s+(?:of\s+[A-Z][a-z]+\s+)?{_NAME}\s+(?:[A-Z]\.\s+)?{_NAME}\b")
# A named person: two capitalised words of which the first is a common given name, or a known
# surname of the people who appear in this field's news.
_GIVEN = set("""Sergei Sergey Dmitry Dmitri Vladimir Maria Alexander Aleksandr Alexei Alexey Mikhail
Nikolai Yuri Andrei Andrey Viktor Igor Oleg Anatoly Valery Vyacheslav Konstantin Grigory Leonid
Boris Ivan Pavel Mike Michael John George Donald Joe Barack Hillary Antony Tony Rex Condoleezza
Colin Robert Bob James Jim Mark Lloyd Jake Jens Mark Ash Ashton Chuck Rose Ellen Frank Dan Daniel
Steven Stephen Steve Richard David Paul Peter Thomas Tom William Bill Charles Anne Ann Jen Ned
Marshall Heather Kay Kurt Karen Victoria Wendy Linton Lindsey Marco Ted Bernie Elizabeth Jack Adam
Nancy Mitch Jeanne Jeffrey Jeff Jon Matthew Matt Patrick Brian Ben Henry Sam Samuel Eric Kathleen
Recep Mevlut Hulusi Ibrahim Ismail Ali Hassan Hossein Mohammad Mohammed Javad Abbas Nasser Ebrahim
Hugo Nicolas Jorge Delcy Vladimir Narendra Rajnath Subrahmanyam Nirmala Manohar Sushma Xi Wang Zhao
Hua Geng Mariusz Andrzej Mateusz Radoslaw Witold Antoni Jaroslaw Klaus Traian Mircea Ion Vasile
Bogdan Miroslav Mirek Petr Jan Vaclav Mirek Kristina Kaja Linas Gabrielius Dalia Vytautas Heiko
Angela Olaf Emmanuel Boris Theresa Anders Rasmus Javier Shinzo Taro Fumio Moon Yoon Park Kim Shigeru
Yoshihide Bashar Bashir Walid Faisal Mohammed Abdullah Khalid Lee Sean Kevin Gordon Ryan Rand
Avril Christopher Chris Gina Mara Rebecca Laura Lynn Susan Sarah Sergei Hans Rolf Joschka Nikki
Ilya Yevgeny Evgeny Gennady Kirill Roman Vasily Fyodor Ruslan Vitaly Artem Alexandra Elena Olga
Tatiana Natalia Mikhailov Jaap Gilles Ursula Josep Federica Javad Hossein Amir Ahmad Mahmoud""".split())
_SURNAMES = set("""Putin Lavrov Peskov Ryabkov Zakharova Shoigu Medvedev Ivanov Gerasimov Antonov
Nebenzia Chemezov Shugayev Kislyak Baluevsky Yakovenko Grushko Belousov Ulyanov Kosachev Rudskoi
Bush Obama Trump Biden Clinton Pompeo Tillerson Kerry Blinken Rice Rumsfeld Cheney Gates Mattis
Esper Austin Bolton Gottemoeller Thompson Nuland Hagel Carter Panetta Stoltenberg Rutte Rasmussen
Erdogan Cavusoglu Akar Fidan Chavez Maduro Rouhani Zarif Khamenei Raisi Araghchi Modi Jaishankar
Sitharaman Singh Assad Netanyahu Abe Kishida Duda Morawiecki Tusk Blaszczak Kaczynski Macierewicz
Iohannis Basescu Ponta Landsbergis Nauseda Scholz Merkel Macron Sullivan Kendall McConnell Schumer
Pelosi Graham Menendez Inhofe Risch Cotton Rubio Cruz Markey Warren Sanders McCain Kirby Price
Psaki Nauert Ortagus Miller Wright Bondarev Ushakov Lukashenko Kimball Kristensen Postol Lewis
Pifer Kroenig Karako Obering Syring Hill Greaves Mueller Poblete Vershbow Volker Gorbachev Yeltsin
Xi Wang Zhao Kim Moon Yoon""".split())
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
# Words by which a narrator (or a speaker) takes sides: judgement, alarm, scorn, distancing.
EVALUATIVE = frozenset("""
absurd aggression aggressive aggressor alarming alleged allegedly arrogant baseless belligerent
bellicose blackmail blatant brazen bully bullying careless claim claimed claims coercion coercive
condemn condemned contempt cynical dangerous deceitful deceptive defiance defiant deliberate
destabilising destabilizing disgraceful dishonest disingenuous dismissed double-standard duplicitous
egregious escalation escalatory excuse false farce flagrant flimsy foolish groundless hawkish
hostile hypocrisy hypocritical hysteria hysterical illegal illegitimate imperial imperialist
intimidate intimidation irresponsible justified lawful legitimate lie lies malign menace menacing
militarist militaristic misguided myth naked nonsense notorious outrageous paranoid pretext
propaganda provocation provocative provocatively rash reckless recklessly reckless
responsible ridiculous rogue russophobia russophobic sabotage sham shameful so-called sinister
spurious threat threaten threatened threatening threats unacceptable unfounded unjust unjustified
unlawful unprovoked unreliable vindicated violate violated violation violations wise wisely
wrongly bizarre cavalier coercing hegemony hegemonic unilateral unilaterally defensive peaceful
stabilising stabilizing sovereign sovereignty bluster boast boasted rhetoric fearmongering
""".split())


def _outside_quotes(text: str) -> str:
    return _QUOTE.sub(" ", text)


def sentences(text: str) -> list[str]:
    """The sentences of a passage (a full stop, ! or ? followed by a capital starts a new one)."""
    return [s for s in _SENTENCE.split(text.strip()) if s.strip()]


def _words(text: str) -> list[str]:
    return _WORDS.findall(text)


def _named_person(text: str) -> bool:
    if _TITLE_NAME.search(text) or any(m.group(1) in _GIVEN for m in _GIVEN_NAME.finditer(text)):
        return True
    return any(w in _SURNAMES for w in _words(text))


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


if __name__ == "__main__":  # a plain script too: python stance/data/profile.py FILE...
    print(format_profile({Path(f).stem: profile(read_jsonl(f)) for f in sys.argv[1:]}))
