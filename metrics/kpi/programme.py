"""The programme's targets: the results the seed case reports, set beside the product's own
figures (issue 19). From a baseline quarter the manager picks, each target is either a level
(overdue 1.2 %), a change on the baseline (approval rate +22 %) or a from-to the case measured
(valuation cycle 5 → 1 day: the target is the "to").

`progress`: how far the current quarter has come from the baseline towards the target, in %
(100 = reached; negative = moved away); None when a figure is missing.
"""

from __future__ import annotations

from typing import Any

from metrics.kpi.quarters import Quarter
from metrics.registry import METRICS

# (metric, kind, value, the case's words): kind "level" (reach value), "change" (value % on the
# baseline), "to" (the case's from → to; the target is `value`, `from` is the case's start).
TARGETS: tuple[tuple[str, str, float, float | None, str], ...] = (
    ("valuation_cycle_time", "to", 1.0, 5.0, "valuation cycle 5 → 1 day"),
    ("approval_rate", "change", 22.0, None, "approval rate +22 %"),
    ("customer_acquisition_cost", "change", -34.0, None, "acquisition cost −34 %"),
    ("overdue_rate", "level", 1.2, None, "overdue rate 1.2 %"),
    ("npl_ratio", "level", 3.5, None, "NPL ratio 3.5 %"),
    ("incident_response_time", "to", 3.0, 24.0, "incident response 24 → 3 h"),
    ("credit_query_latency_p95", "to", 2.0, 15.0, "credit query 15 → 2 s"),
    ("valuation_accuracy", "level", 92.0, None, "valuation accuracy 92 %"),
    ("compliance_complaint_rate", "change", -35.0, None, "compliance complaints −35 %"),
)


def _target(kind: str, value: float, baseline: float | None) -> float | None:
    if kind == "change":
        return None if baseline is None else baseline * (1 + value / 100)
    return value


def programme(baseline: Quarter, current: Quarter) -> list[dict[str, Any]]:
    """Each reported result as a target, with the baseline quarter's and the current quarter's
    actuals and the progress between them."""
    from metrics.kpi.selectors import quarter_actuals

    metrics = [t[0] for t in TARGETS]
    before = quarter_actuals(baseline, metrics)
    now = quarter_actuals(current, metrics)
    rows = []
    for metric, kind, value, start, words in TARGETS:
        base, actual = before.get(metric), now.get(metric)
        target = _target(kind, value, base)
        progress = None
        if base is not None and actual is not None and target is not None and target != base:
            progress = round(100 * (actual - base) / (target - base), 1)
        lower = METRICS[metric].lower_is_better
        reached = (
            None
            if actual is None or target is None
            else (actual <= target if lower else actual >= target)
        )
        rows.append(
            {
                "metric": metric,
                "case": words,
                "kind": kind,
                "case_from": start,
                "baseline": base,
                "target": None if target is None else round(target, 4),
                "current": actual,
                "progress": progress,
                "reached": reached,
                "unit": METRICS[metric].unit,
            }
        )
    return rows
