"""Strategy presets from the business's playbook: a named budget split, applied as one change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from carloan.parameters.registry import BUDGET_KEYS, Value


@dataclass(frozen=True)
class Preset:
    """A playbook strategy: the budget split it prescribes, with its name in both languages."""

    name: str
    label_en: str
    label_zh: str
    description_en: str
    description_zh: str
    values: Mapping[str, Value]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": {"en": self.label_en, "zh": self.label_zh},
            "description": {"en": self.description_en, "zh": self.description_zh},
            "values": dict(self.values),
        }


def _split(data: float, risk: float, agile: float) -> dict[str, Value]:
    return dict(zip(BUDGET_KEYS, (float(data), float(risk), float(agile)), strict=True))


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "emerging_market",
            "Emerging market",
            "新兴市场",
            "Build the data foundation first: data platform 60 %, risk collaboration 20 %, "
            "agile platform 20 %.",
            "优先建设数据基础：数据平台 60%，风控协同 20%，敏捷平台 20%。",
            _split(60, 20, 20),
        ),
        Preset(
            "mature_optimisation",
            "Mature optimisation",
            "成熟期优化",
            "Tighten risk on an established book: data platform 30 %, risk collaboration 40 %, "
            "agile platform 30 %.",
            "在成熟业务上强化风控：数据平台 30%，风控协同 40%，敏捷平台 30%。",
            _split(30, 40, 30),
        ),
        Preset(
            "tech_transformation",
            "Tech transformation",
            "技术转型",
            "Rebuild delivery: data platform 15 %, risk collaboration 15 %, agile platform 70 %.",
            "重塑交付能力：数据平台 15%，风控协同 15%，敏捷平台 70%。",
            _split(15, 15, 70),
        ),
    )
}
