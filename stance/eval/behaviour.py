"""A behavioural test suite in the spirit of CheckList (Ribeiro et al. 2020).

Cases live in `data/behaviour.jsonl`, one per line, of four types:
- `invariance`: `text` and `variant` differ only in a weapon, buyer or place; labels must match.
- `directional`: appending `append` (a sentence condemning one side) to `text` must raise the
  probability of `toward`.
- `negation`, `quote_rebut`: the label must be `expected`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stance.labels import LABELS

TYPES = ("invariance", "directional", "negation", "quote_rebut")
ProbaFn = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class CaseResult:
    id: str
    type: str
    passed: bool
    detail: str


def load_cases(path: str | Path) -> list[dict]:
    cases = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        case = json.loads(line)
        if case.get("type") not in TYPES:
            raise ValueError(f"{path}:{n}: unknown case type {case.get('type')!r}")
        cases.append(case)
    return cases


def _pairs(case: dict) -> tuple[str, str]:
    """The two passages a case compares (the second is unused by expected-label cases)."""
    if case["type"] == "invariance":
        return case["text"], case["variant"]
    if case["type"] == "directional":
        return case["text"], case["text"].rstrip() + " " + case["append"]
    return case["text"], case["text"]


def run_suite(cases: list[dict], predict_proba: ProbaFn) -> list[CaseResult]:
    """Score every case with one batched call of `predict_proba` (columns in LABELS order)."""
    texts = [t for case in cases for t in _pairs(case)]
    proba = predict_proba(texts)
    results = []
    for i, case in enumerate(cases):
        before, after = proba[2 * i], proba[2 * i + 1]
        results.append(_judge(case, before, after))
    return results


def _judge(case: dict, before: np.ndarray, after: np.ndarray) -> CaseResult:
    kind = case["type"]
    first, second = LABELS[int(before.argmax())], LABELS[int(after.argmax())]
    if kind == "invariance":
        return CaseResult(case["id"], kind, first == second, f"{first} vs {second}")
    if kind == "directional":
        k = LABELS.index(case["toward"])
        return CaseResult(case["id"], kind, bool(after[k] > before[k]),
                          f"p({case['toward']}) {before[k]:.3f} -> {after[k]:.3f}")
    return CaseResult(case["id"], kind, first == case["expected"],
                      f"expected {case['expected']}, got {first}")


def pass_rates(results: list[CaseResult]) -> dict[str, float]:
    """Share of passed cases per type, plus `all`."""
    by_type: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_type[r.type].append(r.passed)
        by_type["all"].append(r.passed)
    return {t: float(np.mean(v)) for t, v in by_type.items()}
