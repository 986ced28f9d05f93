"""Reads of KPI scoring: the KPI sets, the actuals over a quarter, the scorecards (frozen or
live), the trends, and what the quarterly review shows beside them.

Actuals come from the metric engine, once per quarter and in one pass for every metric the KPI
sets need (`metric_values_for_period`: flow metrics over the quarter, stock metrics on its last
day, the kanban's collaboration metrics through the metrics registry); region `all`.
A closed quarter's scorecards come from its frozen record instead and never change.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from carloan.models import ImportRun, Sample
from carloan.parameters.models import ParameterChange
from carloan.parameters.selectors import parameter_value, parameter_values
from metrics.formulas import ALL, metric_values_for_period
from metrics.kpi.models import KPIDefinition, KPISetChange, QuarterClosing
from metrics.kpi.quarters import Quarter
from metrics.kpi.scoring import (
    COLLABORATION_METRICS,
    DEPARTMENTS,
    KPI,
    metrics_of,
    score_departments,
)
from metrics.models import Alert, MetricValue
from metrics.registry import METRICS, PERIOD_METRICS

TREND_QUARTERS = 8
MIN_COLLABORATION_KEY = "kpi.min_collaboration_weight_pct"
ACTUALS_CACHE_SECONDS = 600


# Risk collaboration's two figures (contract section 9), registered by the metrics app.
COMPLIANCE_METRICS: tuple[str, ...] = (
    "script_discrepancy_rate",
    "flagged_calls_per_100",
    "false_invitation_rate",
)


def known_metrics() -> list[str]:
    """What a KPI may measure: the fourteen metrics, the two collaboration metrics and the two
    compliance figures."""
    return [
        *METRICS,
        *(k for k in COLLABORATION_METRICS if k not in METRICS),
        *(k for k in COMPLIANCE_METRICS if k in PERIOD_METRICS),
    ]


def metric_info(key: str) -> dict[str, Any]:
    """Name, unit and direction of a KPI's metric (the collaboration metrics included)."""
    if key in METRICS:
        d = METRICS[key]
        return {
            "key": key,
            "name": d.name_en,
            "name_zh": d.name_zh,
            "unit": d.unit,
            "url": f"/metrics/{key}/",
            "collaboration_metric": False,
        }
    names = {
        "handoff_wait_time": ("Hand-off wait time", "交接等待时间", "h"),
        "cross_department_cycle_time": ("Cross-department cycle time", "跨部门周期", "days"),
        "script_discrepancy_rate": ("Script–parameter discrepancy rate", "话术与参数偏差率", "%"),
        "flagged_calls_per_100": ("Flagged calls per 100 calls", "每百通电话违规通话数", "/100"),
        "false_invitation_rate": ("False-invitation rate", "误邀率", "%"),
    }
    name, name_zh, unit = names.get(key, (key, key, ""))
    compliance = key in COMPLIANCE_METRICS
    return {
        "key": key,
        "name": name,
        "name_zh": name_zh,
        "unit": unit,
        "url": ("/risk/" if key == "false_invitation_rate" else "/compliance/")
        if compliance
        else "/kanban/",
        "collaboration_metric": not compliance,
    }


def min_collaboration_weight() -> float:
    """The live minimum weight of a department's collaboration KPIs."""
    return float(parameter_value(MIN_COLLABORATION_KEY))


# --- KPI sets -----------------------------------------------------------------------------------


def kpi_sets() -> dict[str, list[KPI]]:
    """Every department's current KPIs, in their order (one query)."""
    sets: dict[str, list[KPI]] = {d: [] for d in DEPARTMENTS}
    for row in KPIDefinition.objects.order_by("department", "position", "id"):
        sets.setdefault(row.department, []).append(
            KPI(row.metric, row.target, row.threshold, row.weight, row.collaboration)
        )
    return sets


def kpi_set(department: str) -> list[KPI]:
    return [
        KPI(r.metric, r.target, r.threshold, r.weight, r.collaboration)
        for r in KPIDefinition.objects.filter(department=department).order_by("position", "id")
    ]


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def kpi_set_state(department: str) -> dict[str, Any]:
    """A department's KPI set with its version, who changed it last and when."""
    last = (
        KPISetChange.objects.filter(department=department)
        .select_related("changed_by")
        .order_by("-version")
        .first()
    )
    return {
        "department": department,
        "kpis": [k.as_dict() for k in kpi_set(department)],
        "version": last.version if last else 0,
        "updated_by": _username(last.changed_by) if last else None,
        "updated_at": last.changed_at.isoformat() if last else None,
    }


def kpi_set_history(department: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Changes of the KPI sets, newest first: who, when, the set before and after, why."""
    rows = KPISetChange.objects.select_related("changed_by").order_by("-changed_at", "-id")
    if department:
        rows = rows.filter(department=department)
    return [
        {
            "department": row.department,
            "version": row.version,
            "changed_by": _username(row.changed_by),
            "changed_at": row.changed_at.isoformat(),
            "old_set": row.old_set,
            "new_set": row.new_set,
            "reason": row.reason,
        }
        for row in rows[:limit]
    ]


# --- actuals and scorecards ---------------------------------------------------------------------


def _data_stamp() -> str | None:
    """Changes whenever the data behind a past quarter can have changed: an import (a new
    import run), a sample recorded through the API, a metric value recomputed. It keys the
    cached actuals; None when nothing was ever computed (then nothing is cached)."""
    latest = MetricValue.objects.aggregate(latest=Max("computed_at"))["latest"]
    if latest is None:
        return None
    last_run = ImportRun.objects.aggregate(last=Max("id"))["last"]
    last_sample = Sample.objects.aggregate(last=Max("id"))["last"]
    return f"{latest.isoformat()}|{last_run}|{last_sample}"


def quarter_actuals(quarter: Quarter, metrics: Sequence[str]) -> dict[str, float | None]:
    """Each metric's actual over the quarter (region `all`), computed in one pass.

    A quarter that ended before today is cached until a metric value is recomputed (its data
    can only change by an import); the current quarter is always computed afresh.
    """
    wanted = [m for m in dict.fromkeys(metrics) if m in METRICS or m in PERIOD_METRICS]
    if not wanted:
        return dict.fromkeys(metrics)
    key = None
    stamp = _data_stamp() if quarter.end < timezone.localdate() else None
    if stamp is not None:
        name = connection.settings_dict["NAME"]
        digest = hashlib.sha1(  # noqa: S324 - a cache key, not security
            f"{name}|{stamp}|{','.join(sorted(wanted))}".encode()
        ).hexdigest()
        key = f"kpi:actuals:{quarter.label}:{digest}"
        cached = cache.get(key)
        if cached is not None:
            return {m: cached.get(m) for m in metrics}
    values = metric_values_for_period(quarter.start, quarter.end, metrics=wanted)
    actuals = {m: values.get(m, {}).get(ALL) for m in metrics}
    if key is not None:
        cache.set(key, actuals, timeout=ACTUALS_CACHE_SECONDS)
    return actuals


def open_closing(quarter: Quarter) -> QuarterClosing | None:
    """The closing that freezes `quarter`, or None while it is computed live."""
    return (
        QuarterClosing.objects.filter(quarter=quarter.label, reopened_at__isnull=True)
        .select_related("closed_by")
        .first()
    )


def _header(quarter: Quarter) -> dict[str, Any]:
    return {
        "quarter": quarter.label,
        "start": quarter.start.isoformat(),
        "end": quarter.end.isoformat(),
    }


def live_review(quarter: Quarter) -> dict[str, Any]:
    """The quarter's scorecards computed now, with the inputs they come from."""
    sets = kpi_sets()
    actuals = quarter_actuals(quarter, metrics_of(sets))
    return {
        **_header(quarter),
        "frozen": False,
        "closed_at": None,
        "closed_by": None,
        "computed_at": timezone.now().isoformat(),
        "scorecards": score_departments(sets, actuals),
        "inputs": {
            "actuals": actuals,
            "kpi_sets": {d: [k.as_dict() for k in kpis] for d, kpis in sets.items()},
            "parameters": parameter_values(),
        },
    }


def _frozen(closing: QuarterClosing, quarter: Quarter) -> dict[str, Any]:
    return {
        **_header(quarter),
        "frozen": True,
        "closed_at": closing.closed_at.isoformat(),
        "closed_by": _username(closing.closed_by),
        "computed_at": closing.inputs.get("computed_at", closing.closed_at.isoformat()),
        "scorecards": closing.scorecards,
        "inputs": {k: v for k, v in closing.inputs.items() if k != "computed_at"},
    }


def quarter_review(quarter: Quarter) -> dict[str, Any]:
    """The quarter's scorecards: from its frozen record when it is closed, else live."""
    closing = open_closing(quarter)
    return _frozen(closing, quarter) if closing else live_review(quarter)


def scorecard_rows(review: dict[str, Any]) -> list[dict[str, Any]]:
    """The scorecards as the contract's list, each department with its quarter and frozen flag."""
    return [
        {
            **card,
            "quarter": review["quarter"],
            "frozen": review["frozen"],
        }
        for card in review["scorecards"]
    ]


def trends(
    quarter: Quarter,
    count: int = TREND_QUARTERS,
    *,
    known: dict[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """Each department's score and each KPI's actual over the `count` quarters ending with
    `quarter` (frozen quarters as frozen; the others with today's KPI sets). A quarter in which
    none of a department's KPIs has an actual gets no score (null), not 0: nothing was measured."""
    quarters = quarter.last(count)
    closings = {
        c.quarter: c
        for c in QuarterClosing.objects.filter(
            quarter__in=[q.label for q in quarters], reopened_at__isnull=True
        ).select_related("closed_by")
    }
    sets = kpi_sets()
    needed = metrics_of(sets)
    scores: dict[str, list[float | None]] = defaultdict(list)
    actuals: dict[str, dict[str, list[float | None]]] = {
        d: {k.metric: [] for k in kpis} for d, kpis in sets.items()
    }
    for q in quarters:
        closing = closings.get(q.label)
        if closing is not None:
            cards = closing.scorecards
        elif known and q.label in known:  # already scored by the caller
            cards = known[q.label]
        else:
            cards = score_departments(sets, quarter_actuals(q, needed))
        by_department = {c["department"]: c for c in cards}
        for department, kpis in sets.items():
            card = by_department.get(department)
            # A quarter without a single actual (before the book starts) has no score to chart.
            measured = card is not None and any(not k["missing"] for k in card["kpis"])
            scores[department].append(card["score"] if card is not None and measured else None)
            by_metric = {k["metric"]: k for k in card["kpis"]} if card else {}
            for kpi in kpis:
                row = by_metric.get(kpi.metric)
                actuals[department][kpi.metric].append(row["actual"] if row else None)
    return {
        "quarters": [q.label for q in quarters],
        "frozen": [q.label in closings for q in quarters],
        "scores": dict(scores),
        "actuals": actuals,
    }


def quarter_closings(quarter: Quarter | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Closings and reopenings, newest first."""
    rows = QuarterClosing.objects.select_related("closed_by", "reopened_by")
    if quarter is not None:
        rows = rows.filter(quarter=quarter.label)
    return [
        {
            "id": row.pk,
            "quarter": row.quarter,
            "closed_by": _username(row.closed_by),
            "closed_at": row.closed_at.isoformat(),
            "reason": row.reason,
            "reopened_by": _username(row.reopened_by),
            "reopened_at": row.reopened_at.isoformat() if row.reopened_at else None,
            "reopen_reason": row.reopen_reason,
        }
        for row in rows.order_by("-closed_at", "-id")[:limit]
    ]


# --- what the review shows beside the scores ----------------------------------------------------


TOP_ALERTS = 10


def quarter_alerts(quarter: Quarter) -> dict[str, Any]:
    """The alerts whose day falls in the quarter: counts by metric, region and level, and the
    worst ones (critical first, then by the size of the deviation)."""
    rows = list(
        Alert.objects.filter(day__range=(quarter.start, quarter.end)).values(
            "id", "metric", "region", "day", "level", "status", "value", "baseline", "delta_pct"
        )
    )
    by_metric = Counter(r["metric"] for r in rows)
    by_region = Counter(r["region"] for r in rows)
    by_level = Counter(r["level"] for r in rows)
    groups = Counter((r["metric"], r["region"], r["level"]) for r in rows)

    def severity(r: dict[str, Any]) -> tuple[int, float]:
        return (1 if r["level"] == "critical" else 0, abs(r["delta_pct"] or 0.0))

    top = sorted(rows, key=severity, reverse=True)[:TOP_ALERTS]
    return {
        "total": len(rows),
        "open": sum(1 for r in rows if r["status"] == "open"),
        "by_level": {level: by_level.get(level, 0) for level in ("critical", "warn")},
        "by_metric": [{"metric": m, "count": n} for m, n in by_metric.most_common()],
        "by_region": [{"region": r, "count": n} for r, n in by_region.most_common()],
        "groups": [
            {"metric": m, "region": r, "level": lv, "count": n}
            for (m, r, lv), n in groups.most_common(15)
        ],
        "top": [
            {
                **r,
                "day": r["day"].isoformat(),
                "department": METRICS[r["metric"]].department if r["metric"] in METRICS else "",
            }
            for r in top
        ],
    }


def quarter_parameter_changes(quarter: Quarter, limit: int = 200) -> list[dict[str, Any]]:
    """The parameter changes made during the quarter (business days), oldest first."""
    start, end = _day_bounds(quarter.start, quarter.end)
    rows = (
        ParameterChange.objects.filter(changed_at__gte=start, changed_at__lt=end)
        .select_related("changed_by")
        .order_by("changed_at", "id")[:limit]
    )
    return [
        {
            "key": row.key,
            "version": row.version,
            "old_value": row.old_value,
            "new_value": row.new_value,
            "reason": row.reason,
            "action": row.action,
            "changed_by": _username(row.changed_by),
            "changed_at": row.changed_at.isoformat(),
        }
        for row in rows
    ]


def _day_bounds(first: date, last: date) -> tuple[Any, Any]:
    """Aware datetimes: the business zone's midnight starting `first` and the one after `last`."""
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
    )


def review_context(quarter: Quarter) -> dict[str, Any]:
    """Everything the quarterly review shows: scorecards, trends, alerts, parameter changes."""
    review = quarter_review(quarter)
    return {
        "review": review,
        "trends": trends(quarter, known={quarter.label: review["scorecards"]}),
        "alerts": quarter_alerts(quarter),
        "parameter_changes": quarter_parameter_changes(quarter),
        "metrics": {key: metric_info(key) for key in known_metrics()},
    }
