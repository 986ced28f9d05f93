"""KPI scoring of contract section 7, as pure functions of plain data (no database, no I/O).

- A KPI's score is clamp(100 × (actual − threshold) / (target − threshold), 0, 100): the
  threshold scores 0 and the target 100, whichever way round they are (a target below the
  threshold means lower is better). A KPI whose actual is null (or not a finite number) scores
  0 and is marked `missing`: it stays in the scorecard and in the weighted mean.
- A department's score is the weighted mean of its KPI scores; its collaboration weight is the
  sum of the weights of the KPIs marked `collaboration`.
- A KPI set is valid when it is not empty, names each metric once and only known metrics, has
  target ≠ threshold and positive weights, its weights sum to 100, and its collaboration KPIs
  weigh at least the minimum (the live parameter `kpi.min_collaboration_weight_pct`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from carloan.departments import DEPARTMENTS

COLLABORATION_METRICS: tuple[str, ...] = ("handoff_wait_time", "cross_department_cycle_time")
WEIGHT_TOTAL = 100.0
WEIGHT_TOLERANCE = 1e-6

Band = Literal["good", "fair", "poor", "missing"]
GOOD_FROM = 80.0
FAIR_FROM = 50.0


@dataclass(frozen=True)
class KPI:
    """A department's KPI: a metric with the value that scores 100, the one that scores 0, and
    its weight (of 100)."""

    metric: str
    target: float
    threshold: float
    weight: float
    collaboration: bool = False

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> KPI:
        return cls(
            metric=str(data["metric"]),
            target=float(data["target"]),
            threshold=float(data["threshold"]),
            weight=float(data["weight"]),
            collaboration=bool(data.get("collaboration", False)),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "target": self.target,
            "threshold": self.threshold,
            "weight": self.weight,
            "collaboration": self.collaboration,
        }

    @property
    def lower_is_better(self) -> bool:
        return self.target < self.threshold


class KPIScore(TypedDict):
    metric: str
    target: float
    threshold: float
    weight: float
    collaboration: bool
    actual: float | None
    score: float
    missing: bool


class DepartmentScore(TypedDict):
    department: str
    score: float
    collaboration_weight: float
    kpis: list[KPIScore]


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def kpi_score(actual: float | None, target: float, threshold: float) -> float:
    """clamp(100 × (actual − threshold) / (target − threshold), 0, 100); 0 for a null actual."""
    value = _finite(actual)
    if value is None:
        return 0.0
    if target == threshold:  # refused by the rules; never divide by zero
        raise ValueError("a KPI's target and threshold must differ")
    raw = 100.0 * (value - threshold) / (target - threshold)
    return min(100.0, max(0.0, raw))


def score_kpi(kpi: KPI, actual: float | None) -> KPIScore:
    value = _finite(actual)
    return {
        **kpi.as_dict(),  # type: ignore[typeddict-item]
        "actual": value,
        "score": kpi_score(value, kpi.target, kpi.threshold),
        "missing": value is None,
    }


def score_department(
    department: str, kpis: Sequence[KPI], actuals: Mapping[str, float | None]
) -> DepartmentScore:
    """The department's scorecard: each KPI scored from `actuals` (by metric key; an absent key
    is a null actual), the weighted mean, and the weight of its collaboration KPIs."""
    scored = [score_kpi(kpi, actuals.get(kpi.metric)) for kpi in kpis]
    total_weight = sum(k["weight"] for k in scored)
    score = sum(k["score"] * k["weight"] for k in scored) / total_weight if total_weight else 0.0
    return {
        "department": department,
        "score": score,
        "collaboration_weight": sum(k["weight"] for k in scored if k["collaboration"]),
        "kpis": scored,
    }


def score_departments(
    kpi_sets: Mapping[str, Sequence[KPI]], actuals: Mapping[str, float | None]
) -> list[DepartmentScore]:
    """Every department's scorecard, in the order of DEPARTMENTS (then any other, sorted)."""
    order = [d for d in DEPARTMENTS if d in kpi_sets] + sorted(set(kpi_sets) - set(DEPARTMENTS))
    return [score_department(d, kpi_sets[d], actuals) for d in order]


def band(score: float | None, missing: bool = False) -> Band:
    """The colour band of a score: good ≥ 80, fair ≥ 50, poor below; `missing` without data."""
    if missing or score is None:
        return "missing"
    if score >= GOOD_FROM:
        return "good"
    if score >= FAIR_FROM:
        return "fair"
    return "poor"


def metrics_of(kpi_sets: Mapping[str, Iterable[KPI]]) -> list[str]:
    """The metric keys the sets need, each once, in first-seen order."""
    return list(dict.fromkeys(k.metric for kpis in kpi_sets.values() for k in kpis))


def _fmt(number: float) -> str:
    return f"{number:g}"


def check_kpi_set(
    kpis: Sequence[KPI], *, known_metrics: Collection[str], min_collaboration_weight: float
) -> dict[str, list[str]]:
    """The rules a department's KPI set breaks, as field → messages ({} when it is valid)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not kpis:
        add("kpis", "A department needs at least one KPI.")
        return errors
    seen: set[str] = set()
    for number, kpi in enumerate(kpis, start=1):
        name = f"KPI {number} ({kpi.metric})"
        if kpi.metric not in known_metrics:
            add(
                "metric",
                f"{name}: unknown metric {kpi.metric!r}; use one of the fourteen metrics, "
                f"{' or '.join(COLLABORATION_METRICS)}, or a compliance figure "
                "(script_discrepancy_rate, flagged_calls_per_100, false_invitation_rate).",
            )
        if kpi.metric in seen:
            add("metric", f"{name}: the metric appears more than once.")
        seen.add(kpi.metric)
        numbers = (kpi.target, kpi.threshold, kpi.weight)
        if not all(math.isfinite(n) for n in numbers):
            add("kpis", f"{name}: target, threshold and weight must be finite numbers.")
            continue
        if kpi.target == kpi.threshold:
            add(
                "target",
                f"{name}: the target and the threshold are both {_fmt(kpi.target)}; they must "
                "differ (the threshold scores 0, the target 100).",
            )
        if not 0 < kpi.weight <= WEIGHT_TOTAL:
            add("weight", f"{name}: the weight must be above 0 and at most 100.")
    weights = [k.weight for k in kpis if math.isfinite(k.weight)]
    total = math.fsum(weights)
    if not math.isclose(total, WEIGHT_TOTAL, abs_tol=WEIGHT_TOLERANCE):
        add("weight", f"The weights sum to {_fmt(round(total, 6))}; they must sum to 100.")
    collaboration = math.fsum(k.weight for k in kpis if k.collaboration and math.isfinite(k.weight))
    if collaboration + WEIGHT_TOLERANCE < min_collaboration_weight:
        add(
            "collaboration",
            f"The collaboration KPIs weigh {_fmt(round(collaboration, 6))}; they must weigh at "
            f"least {_fmt(min_collaboration_weight)} (parameter "
            "kpi.min_collaboration_weight_pct).",
        )
    return errors
