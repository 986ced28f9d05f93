"""How well the checker does on a labelled set it was not tuned on: precision and recall per
category, and of "not compliant" as a whole (the seed's bar: 86 % for both).

The set (`data/evaluation.jsonl`) was written by someone who never saw the library's patterns:
one JSON object a line, `{"id", "lang", "text", "categories"}`, `categories` empty for a
compliant text. It assumes `risk.max_ltv_pct` 80 and `marketing.max_promo_discount_pct` 10.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carloan.compliance.checker import check_text
from carloan.compliance.library import CATEGORIES

EVALUATION_SET = Path(__file__).resolve().parent / "data" / "evaluation.jsonl"
SET_PARAMETERS = {"risk.max_ltv_pct": 80, "marketing.max_promo_discount_pct": 10}


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float | None:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else None

    @property
    def recall(self) -> float | None:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else None


@dataclass
class Evaluation:
    utterances: int = 0
    not_compliant: Score = field(default_factory=Score)
    categories: dict[str, Score] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)


def load(path: Path = EVALUATION_SET) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate(
    items: Iterable[Mapping[str, Any]], parameters: Mapping[str, Any] = SET_PARAMETERS
) -> Evaluation:
    result = Evaluation(categories={c.key: Score() for c in CATEGORIES})
    for item in items:
        result.utterances += 1
        expected = set(item["categories"])
        checked = check_text(item["text"], parameters=parameters)
        found = {f.category for f in checked.findings}
        flagged, violating = not checked.compliant, bool(expected)
        overall = result.not_compliant
        overall.true_positives += flagged and violating
        overall.false_positives += flagged and not violating
        overall.false_negatives += violating and not flagged
        for key, score in result.categories.items():
            score.true_positives += key in found and key in expected
            score.false_positives += key in found and key not in expected
            score.false_negatives += key in expected and key not in found
        if found != expected:
            result.misses.append(
                {
                    "id": item["id"],
                    "text": item["text"],
                    "expected": sorted(expected),
                    "found": sorted(found),
                }
            )
    return result
