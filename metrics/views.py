"""The dashboard pages: `/` (the fourteen live panels) and `/metrics/<key>/` (one metric in depth).

The server renders each page whole from the same selectors as the API and the socket (values,
statuses, alerts, the figures as Plotly JSON from `metrics.charts`), so it reads well before any
script runs. `static/js/dashboard.js` and `static/js/metric_detail.js` then draw the figures with
the locally served plotly.js and keep the page live over `/ws/metrics/` (through `live.js`).
Data and translated words reach the scripts through `json_script`, never inline code.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carloan.departments import DEPARTMENT_LABELS
from carloan.i18n import is_chinese as _chinese
from carloan.parameters.models import ParameterChange
from carloan.parameters.registry import REGISTRY
from carloan.parameters.selectors import parameter_value
from carloan.roles import can_edit
from metrics import charts, periods, selectors
from metrics.events import AlertData, PanelData
from metrics.formulas import ALL
from metrics.models import AlertStatus
from metrics.notify import selectors as notify_selectors
from metrics.registry import METRICS, MetricDefinition

RANGES: tuple[int, ...] = (30, 90, 180, 365)
DEFAULT_RANGE = 180
MAX_OPEN_ALERTS = 1000

UNIT_LABELS: dict[str, Any] = {
    "%": _("%"),
    "CNY": _("CNY"),
    "ms": _("ms"),
    "s": _("s"),
    "h": _("h"),
    "days": _("days"),
    "per 10k loans": _("per 10k loans"),
}
STATUS_LABELS: dict[str, Any] = {
    "ok": pgettext_lazy("metric status", "On track"),
    "warn": pgettext_lazy("metric status", "Warn"),
    "critical": pgettext_lazy("metric status", "Critical"),
    "no_data": pgettext_lazy("metric status", "No data"),
}
LEVEL_LABELS: dict[str, Any] = {
    "warn": pgettext_lazy("alert level", "warn"),
    "critical": pgettext_lazy("alert level", "critical"),
}
DIRECTION_LABELS: dict[str, Any] = {
    "higher_is_better": _("Higher is better"),
    "lower_is_better": _("Lower is better"),
}
CATEGORY_LABELS: dict[str, Any] = {
    "business": _("Business"),
    "technical": _("Technical"),
}

# The formula of each metric in the reader's language (the registry's description, in English,
# is the exact definition and is shown beside it).
FORMULAS: dict[str, Any] = {
    "lead_conversion_rate": _("100 × loans funded in W / leads created in W"),
    "approval_rate": _("100 × approved / (approved + rejected), applications decided in W"),
    "customer_acquisition_cost": _("Σ marketing spend in W / loans funded in W"),
    "overdue_rate": _(
        "100 × Σ outstanding principal of active loans with dpd ≥ 1 / Σ outstanding principal "
        "of active loans, on the day"
    ),
    "npl_ratio": _(
        "100 × Σ outstanding principal of active loans with dpd > 90 / Σ outstanding "
        "principal of active loans, on the day"
    ),
    "valuation_accuracy": _(
        "100 × share of valuations completed in W with |model − reference| ≤ 0.1 × reference"
    ),
    "valuation_cycle_time": _(
        "Median of (completed − requested) in days, valuations completed in W"
    ),
    "compliance_complaint_rate": _("10,000 × complaints received in W / active loans on the day"),
    "api_response_time_p95": _("95th percentile of the day's API response time samples"),
    "availability": _("100 × mean of the day's availability samples (1 up, 0 down)"),
    "credit_query_latency_p95": _("95th percentile of the day's credit query latency samples"),
    "data_sync_lag_p95": _("95th percentile of the day's data sync lag samples"),
    "data_consistency_rate": _(
        "100 × mean of the day's data consistency samples (1 consistent, 0 not)"
    ),
    "incident_response_time": _("Median of the day's incident response time samples"),
}
WINDOW_NOTE = _("W = the 30 days ending on the day, both included.")

DASHBOARD_JS_TEXT: dict[str, Any] = {
    "baseline": _("Baseline"),
    "vsBaseline": _("vs. last month"),
    "noBaseline": _("no baseline yet"),
    "noValue": _("no data for the day"),
    "since": _("since {date}"),
    "days": _("{n} days"),
    "oneDay": _("1 day"),
    "noAlerts": _("No open alerts: every metric is within its thresholds."),
    "noAlertsRegion": _("No open alerts for this region."),
    "moreElsewhere": _("{n} more in other regions"),
    "updatedAt": _("Updated {time}"),
    "notComputed": _("Not computed yet"),
    "viewError": _("This view cannot be shown: {detail}"),
    "openMetric": _("Open {name}"),
    "acknowledge": _("Acknowledge"),
    "acknowledgedBy": _("Taken by {who}"),
    "notAcknowledged": _("Not acknowledged"),
    "acknowledgeFailed": _("It could not be acknowledged: try again."),
    "silencedUntil": _("Silenced until {until}: no message is sent"),
}
DETAIL_JS_TEXT: dict[str, Any] = {
    **DASHBOARD_JS_TEXT,
    "noAlertsMetric": _("No open alerts for this metric."),
}
CHART_LABELS: dict[str, Any] = {
    "value": _("Daily value"),
    "baseline": _("Baseline (last month's mean)"),
    "band": _("Tolerance (baseline to warn)"),
    "warn": _("Warn threshold"),
    "critical": _("Critical threshold"),
    "warn_days": _("Warn days"),
    "critical_days": _("Critical days"),
    "change": _("Parameter change"),
    "target": _("Target (a live parameter)"),
    "status_ok": STATUS_LABELS["ok"],
    "status_warn": STATUS_LABELS["warn"],
    "status_critical": STATUS_LABELS["critical"],
    "status_no_data": STATUS_LABELS["no_data"],
}


PERIOD_LABELS: dict[str, Any] = {
    "today": _("Today"),
    "7d": _("Last 7 days"),
    "30d": _("Last 30 days"),
    "90d": _("Last 90 days"),
    "180d": _("Last 180 days"),
    "365d": _("Last 365 days"),
    "this_month": _("This month"),
    "last_month": _("Last month"),
    "this_quarter": _("This quarter"),
    "custom": _("Custom…"),
}
COMPARE_LABELS: dict[str, Any] = {
    "previous_period": _("Previous period"),
    "previous_year": _("Same period last year"),
}
# The same, inside "… against {what} (start – end)".
COMPARE_PHRASES: dict[str, Any] = {
    "previous_period": _("the previous period"),
    "previous_year": _("the same period last year"),
}
PERIOD_TEXT: dict[str, Any] = {
    "bad_period": _(
        "Choose a first and a last day (the first not after the last, at most 3660 "
        "days apart): the period was not applied."
    ),
}


# --- request parsing -----------------------------------------------------------------------------


def _period_of(request: HttpRequest, anchor: date, default: str = "") -> dict[str, Any]:
    """The period of ?period=&start=&end=&compare= (`default` when none is chosen): preset,
    Period (None when not chosen or not valid), comparison, and an error to show. Presets end
    on `anchor` (the day the page shows: "last 30 days" of a chosen date, "last month" before
    its month)."""
    preset = request.GET.get("period") or default
    compare = request.GET.get("compare") or "previous_period"
    if compare not in periods.COMPARES:
        compare = "previous_period"
    choice: dict[str, Any] = {"preset": "", "period": None, "compare": compare, "error": ""}
    if preset not in periods.PRESETS:
        return choice
    choice["preset"] = preset
    if preset != "custom":
        choice["period"] = periods.preset_period(preset, anchor)
        return choice
    try:
        period = periods.Period(
            date.fromisoformat(request.GET.get("start") or ""),
            date.fromisoformat(request.GET.get("end") or ""),
        )
    except ValueError:
        choice["error"] = PERIOD_TEXT["bad_period"]
        return choice
    if period.days > periods.MAX_PERIOD_DAYS:
        choice["error"] = PERIOD_TEXT["bad_period"]
        return choice
    choice["period"] = period
    return choice


def _period_query(choice: dict[str, Any]) -> dict[str, str]:
    """The URL parameters of a chosen period (to carry it across links)."""
    if not choice["preset"]:
        return {}
    params = {"period": choice["preset"]}
    if choice["preset"] == "custom" and choice["period"] is not None:
        params["start"] = choice["period"].start.isoformat()
        params["end"] = choice["period"].end.isoformat()
    if choice["compare"] != "previous_period":
        params["compare"] = choice["compare"]
    return params


def _period_context(choice: dict[str, Any], today: date) -> dict[str, Any]:
    """What the period fields (partials/period_fields.html) show."""
    period = choice["period"]
    return {
        "period_presets": [(k, PERIOD_LABELS[k]) for k in periods.PRESETS],
        "period_preset": choice["preset"],
        "period_start": period.start if period else None,
        "period_end": period.end if period else None,
        "period_compare": choice["compare"],
        "period_compares": list(COMPARE_LABELS.items()),
        "period_error": choice["error"],
        "today": today,
    }


def _summary_rows(
    summary: dict[str, Any], panels: list[dict[str, Any]], units: dict[str, str]
) -> list[dict[str, Any]]:
    """The period's panels in words: value, comparison value and change, toned."""
    rows = []
    for panel in panels:
        definition = METRICS[panel["key"]]
        rows.append(
            {
                **panel,
                "name": metric_name(definition),
                "category": definition.category,
                "direction": definition.direction,
                "value_text": _formatted(panel["value"], definition.unit, units) or "–",
                "compare_text": _formatted(panel["compare_value"], definition.unit, units) or "–",
                "delta_text": charts.format_delta(panel["delta_pct"]),
                "arrow": charts.delta_arrow(panel["delta_pct"]),
                "tone": charts.delta_tone(panel["delta_pct"], definition.direction),
            }
        )
    return rows


def metric_name(definition: MetricDefinition) -> str:
    """The metric's name in the reader's language (Chinese names come from the registry)."""
    return definition.name_zh if _chinese() else definition.name_en


def _view_of(request: HttpRequest) -> tuple[str, date, bool]:
    """(region, day, whether the day was chosen) from ?region=&date=; unknown or malformed
    values fall back to `all` and today (a stale bookmark still opens the dashboard)."""
    region = request.GET.get("region") or ALL
    if not selectors.region_exists(region):
        region = ALL
    today = selectors.business_today()
    raw = request.GET.get("date") or ""
    try:
        chosen = date.fromisoformat(raw)
    except ValueError:
        return region, today, False
    return region, chosen, True


def _query(region: str, day: date, explicit: bool, **extra: Any) -> str:
    params: dict[str, Any] = {}
    if region != ALL:
        params["region"] = region
    if explicit:
        params["date"] = day.isoformat()
    params.update({k: v for k, v in extra.items() if v is not None})
    return f"?{urlencode(params)}" if params else ""


def _text(mapping: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in mapping.items()}


def _region_label(region: str) -> str:
    return str(_("All regions")) if region == ALL else region


# --- what a panel shows --------------------------------------------------------------------------


def panel_view(panel: PanelData, link_query: str) -> dict[str, Any]:
    """A panel as the template shows it: names, formatted value, baseline and change, tone,
    status, sparkline figure and link."""
    definition = METRICS[panel["key"]]
    units = _text(UNIT_LABELS)
    number, unit = charts.format_value(panel["value"], panel["unit"], units)
    base_number, base_unit = charts.format_value(panel["baseline"], panel["unit"], units)
    warn, _critical = charts.panel_levels(panel)
    return {
        "key": panel["key"],
        "name": metric_name(definition),
        "unit": panel["unit"],
        "value_text": number,
        "unit_text": unit,
        "baseline_text": f"{base_number} {base_unit}".strip()
        if panel["baseline"] is not None
        else "",
        "delta_text": charts.format_delta(panel["delta_pct"]),
        "arrow": charts.delta_arrow(panel["delta_pct"]),
        "tone": charts.delta_tone(panel["delta_pct"], panel["direction"]),
        "status": panel["status"],
        "status_label": STATUS_LABELS.get(panel["status"], panel["status"]),
        "department": DEPARTMENT_LABELS.get(panel["department"], panel["department"]),
        "direction": DIRECTION_LABELS.get(panel["direction"], ""),
        "computed_at": parse_datetime(panel["computed_at"]) if panel["computed_at"] else None,
        "url": reverse("metric-detail", args=[panel["key"]]) + link_query,
        "sparkline": charts.sparkline_figure(
            panel["series"], panel["status"], panel["baseline"], warn
        ),
    }


def alert_group_views(alerts: list[AlertData], region: str = ALL) -> list[dict[str, Any]]:
    """Open alerts grouped by (metric, region) with names, level and change ready to show:
    "Overdue rate · SOUTH-01 · critical · since 2026-11-10 · +38.2 %"."""
    groups = []
    for group in charts.alert_groups(alerts):
        if region != ALL and group["region"] != region:
            continue
        definition = METRICS.get(group["metric"])
        if definition is None:
            continue
        groups.append(
            {
                **group,
                "name": metric_name(definition),
                "region_label": _region_label(group["region"]),
                "level_label": LEVEL_LABELS.get(group["level"], group["level"]),
                "delta_text": charts.format_delta(group["delta_pct"]),
                "tone": charts.delta_tone(group["delta_pct"], definition.direction),
                "url": reverse("metric-detail", args=[group["metric"]])
                + _query(group["region"], date.fromisoformat(group["latest"]), True),
            }
        )
    return groups


def _latest(panels: list[PanelData]) -> datetime | None:
    moments = [parse_datetime(p["computed_at"]) for p in panels if p["computed_at"]]
    return max((m for m in moments if m is not None), default=None)


def _names() -> dict[str, dict[str, str]]:
    return {
        key: {"name": metric_name(d), "unit": d.unit, "direction": d.direction}
        for key, d in METRICS.items()
    }


# --- pages ---------------------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The fourteen panels of a region on a day, in two groups, with the open alerts; live."""
    region, day, explicit = _view_of(request)
    today = selectors.business_today()
    choice = _period_of(request, day)
    panels = selectors.panels_for_day(day, region)
    link_query = _query(region, day, explicit, **_period_query(choice))
    views = [panel_view(p, link_query) for p in panels]
    summary: dict[str, Any] | None = None
    if choice["period"] is not None:
        summary = periods.period_summary(choice["period"], choice["compare"], region)
    open_alerts, alerts_json = selectors.alerts_with_json(
        status=AlertStatus.OPEN, limit=MAX_OPEN_ALERTS
    )
    groups = alert_group_views(open_alerts, region)
    elsewhere = 0
    if region != ALL:
        elsewhere = len(charts.alert_groups(open_alerts)) - len(groups)
    status_counts = {s: sum(1 for p in panels if p["status"] == s) for s in STATUS_LABELS}
    data = {
        "region": region,
        "date": day.isoformat(),
        "explicitDate": explicit,
        "today": selectors.business_today().isoformat(),
        "panels": panels,
        "sparklines": {v["key"]: v["sparkline"] for v in views},
        "names": _names(),
        "units": _text(UNIT_LABELS),
        "statuses": _text(STATUS_LABELS),
        "levels": _text(LEVEL_LABELS),
        "allRegions": str(_("All regions")),
        "canAcknowledge": can_edit(request.user),
        "silences": notify_selectors.silences(),
        "text": _text(DASHBOARD_JS_TEXT),
        # The sparklines' colours, redrawn by the script as panels change.
        "colors": {**charts.STATUS_COLORS, "baseline": charts.BASELINE},
        "timeZone": timezone.get_current_timezone_name(),
        # The period's summary is fetched again (GET /api/metrics/summary/) as data change.
        "period": {
            **_period_query(choice),
            **({"start": summary["start"], "end": summary["end"]} if summary else {}),
        },
    }
    units = _text(UNIT_LABELS)
    summary_rows = _summary_rows(summary, summary["panels"], units) if summary else []
    return render(
        request,
        "dashboard.html",
        {
            **_period_context(choice, today),
            "summary": summary,
            "summary_groups": [
                (CATEGORY_LABELS[c], [r for r in summary_rows if r["category"] == c])
                for c in ("business", "technical")
            ],
            "compare_label": COMPARE_PHRASES[choice["compare"]],
            "link_query": link_query,
            "period_none_label": _("One day, live"),
            "active": "dashboard",
            "region": region,
            "region_label": _region_label(region),
            "day": day,
            "today": selectors.business_today(),
            "is_today": day == selectors.business_today(),
            "regions": [(r, _region_label(r)) for r in selectors.region_list()],
            "business": [v for v in views if METRICS[v["key"]].category == "business"],
            "technical": [v for v in views if METRICS[v["key"]].category == "technical"],
            "alert_groups": groups,
            "alerts_elsewhere": elsewhere,
            "status_counts": status_counts,
            "updated_at": _latest(panels),
            # The open alerts' JSON comes ready with the cached list (the bulk of the data).
            "data_script": format_html(
                '<script id="dashboard-data" type="application/json">{}</script>',
                mark_safe(f'{selectors.json_for_script(data)[:-1]},"alerts":{alerts_json}}}'),  # noqa: S308
            ),
        },
    )


def _number(value: Any) -> str:
    """5.0 → "5", 4.5 → "4.5"; anything else as it is."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _parameter_markers(
    definition: MetricDefinition, start: date, end: date
) -> list[dict[str, Any]]:
    """Changes of the parameters that move this metric or its alerts, inside [start, end]:
    its alert thresholds, and for risk metrics the risk parameters (credit policy moves the
    book). One marker per change: the date, a short label and the full story on hover."""
    keys = Q(key__in=[definition.warn_key, definition.critical_key])
    if definition.department == "risk":
        keys |= Q(key__startswith="risk.")
    tz = timezone.get_current_timezone()
    lo = datetime.combine(start, datetime.min.time(), tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    changes = (
        ParameterChange.objects.filter(keys, changed_at__gte=lo, changed_at__lt=hi)
        .select_related("changed_by")
        .order_by("changed_at", "id")[:50]
    )
    chinese = _chinese()
    markers = []
    for change in changes:
        spec = REGISTRY.get(change.key)
        short = change.key.removeprefix(f"alert.{definition.key}.").removeprefix("risk.")
        short = {
            "warn_pct": str(LEVEL_LABELS["warn"]),
            "critical_pct": str(LEVEL_LABELS["critical"]),
        }.get(short, short)
        unit = "%" if change.key.endswith("_pct") else ""
        text = f"{short} {_number(change.old_value)}→{_number(change.new_value)}{unit}"
        description = ""
        if spec is not None:
            description = spec.description_zh if chinese else spec.description_en
        who = change.changed_by.get_username() if change.changed_by else ""
        when = timezone.localtime(change.changed_at).strftime("%Y-%m-%d %H:%M")
        hover = "<br>".join(
            part
            for part in (
                f"<b>{change.key}</b>: {_number(change.old_value)} → {_number(change.new_value)}",
                description,
                f"{when} · {who}" if who else when,
                change.reason,
            )
            if part
        )
        markers.append(
            {
                "date": timezone.localtime(change.changed_at).date().isoformat(),
                "text": text,
                "hover": hover,
                "key": change.key,
            }
        )
    return markers


# Strategy targets a manager sets live, drawn on their metric's history (contract section 3).
TARGET_PARAMETERS = {"customer_acquisition_cost": "marketing.target_cac"}


def _target(key: str) -> float | None:
    parameter = TARGET_PARAMETERS.get(key)
    return float(parameter_value(parameter)) if parameter else None


def _budget(key: str, region: str, day: date) -> dict[str, Any] | None:
    """Availability's error budget of the month, as of the end of the day shown (or now)."""
    if key != "availability":
        return None
    from metrics.budget import error_budget

    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return error_budget(region, now=min(timezone.now(), end))


def _span(request: HttpRequest) -> int:
    """The history's length in days from `?range=` (one of RANGES, else the default)."""
    try:
        span = int(request.GET.get("range") or DEFAULT_RANGE)
    except ValueError:
        return DEFAULT_RANGE
    return span if span in RANGES else DEFAULT_RANGE


def _formatted(value: float | None, unit: str, units: dict[str, str]) -> str:
    return " ".join(charts.format_value(value, unit, units)).strip() if value is not None else ""


def _detail_figures(
    definition: Any,
    current: PanelData,
    rows: list[dict[str, Any]],
    comparison: list[dict[str, Any]],
    markers: list[dict[str, Any]],
    *,
    region: str,
    labels: dict[str, str],
    limits: tuple[float, float],
) -> dict[str, Any]:
    """The page's two Plotly figures: the history (band, thresholds or fixed levels, parameter
    changes, target) and the regions compared on the day."""
    key = definition.key
    absolute = current["threshold_mode"] == "absolute"
    return {
        "history": charts.history_figure(
            rows,
            direction=definition.direction,
            warn_pct=limits[0],
            critical_pct=limits[1],
            unit=definition.unit,
            labels=labels,
            markers=markers,
            target=_target(key),
            levels=(current["warn_at"], current["critical_at"]) if absolute else None,
        ),
        "comparison": charts.comparison_figure(
            comparison,
            unit=definition.unit,
            labels=labels,
            region_labels={ALL: str(_("All regions"))},
            selected=region,
        ),
    }


def _comparison_rows(
    comparison: list[dict[str, Any]], definition: Any, units: dict[str, str]
) -> list[dict[str, Any]]:
    """The regions' table: each region's value, change and status in words."""
    return [
        {
            **row,
            "label": _region_label(row["region"]),
            "value_text": _formatted(row["value"], definition.unit, units),
            "delta_text": charts.format_delta(row["delta_pct"]),
            "tone": charts.delta_tone(row["delta_pct"], definition.direction),
            "status_label": STATUS_LABELS.get(row["status"], row["status"]),
        }
        for row in comparison
    ]


def _csv_url(key: str, region: str, start: date, day: date) -> str:
    query = urlencode(
        {
            "metric": key,
            "region": region,
            "start": start.isoformat(),
            "end": day.isoformat(),
            "format": "csv",
        }
    )
    return f"{reverse('api-metrics-series')}?{query}"


@login_required
def metric_detail(request: HttpRequest, key: str) -> HttpResponse:
    """One metric in depth: its history with baseline band, thresholds and parameter changes,
    the regions compared on the day, its open alerts, its formula, and a CSV download.

    1. what to show: region, day and span from the URL;
    2. the metric's data: its series, the regions on the day, parameter changes, its panel and
       open alerts;
    3. the figures and the data the page's script reads;
    4. the page itself (the same in words, for readers without the script)."""
    definition = METRICS.get(key)
    if definition is None:
        raise Http404(f"no metric {key!r}")
    region, day, explicit = _view_of(request)
    today = selectors.business_today()
    choice = _period_of(request, day, default=f"{_span(request)}d")
    if choice["period"] is None:  # custom days not valid: the default span, and say so
        choice = {**choice, "preset": f"{DEFAULT_RANGE}d",
                  "period": periods.preset_period(f"{DEFAULT_RANGE}d", day)}  # fmt: skip
    start, end = choice["period"].start, choice["period"].end
    summary = periods.period_summary(
        choice["period"], choice["compare"], region, by_region=True, families=[definition.family]
    )

    rows = selectors.metric_series(key, region, start, end)
    comparison = selectors.region_comparison(key, day)
    markers = _parameter_markers(definition, start, end)
    panel = selectors.panels_for_day(day, region)
    current = next(p for p in panel if p["key"] == key)
    open_alerts = selectors.alerts(status=AlertStatus.OPEN, metric=key, limit=MAX_OPEN_ALERTS)

    limits = selectors.thresholds()[key]
    units = _text(UNIT_LABELS)
    units_text = units.get(definition.unit, definition.unit)
    labels = {**_text(CHART_LABELS), "unit": units_text}
    data = {
        "key": key,
        "region": region,
        "date": day.isoformat(),
        "explicitDate": explicit,
        "panel": current,
        "alerts": open_alerts,
        "names": _names(),
        "units": units,
        "statuses": _text(STATUS_LABELS),
        "levels": _text(LEVEL_LABELS),
        "allRegions": str(_("All regions")),
        "canAcknowledge": can_edit(request.user),
        "text": _text(DETAIL_JS_TEXT),
        "colors": charts.STATUS_COLORS,
        "timeZone": timezone.get_current_timezone_name(),
        "figures": _detail_figures(
            definition,
            current,
            rows,
            comparison,
            markers,
            region=region,
            labels=labels,
            limits=limits,
        ),
    }

    warn, critical = charts.panel_levels(current)
    back_query = _query(region, day, explicit)
    # Each region's link keeps the day and the period.
    region_links = {
        r["region"]: _query(r["region"], day, explicit, **_period_query(choice))
        for r in summary["by_region"]
    }
    period_rows = [
        {
            **_summary_rows(summary, [p for p in r["panels"] if p["key"] == key], units)[0],
            "region": r["region"],
            "label": _region_label(r["region"]),
            "url": region_links[r["region"]] or "?",
        }
        for r in summary["by_region"]
    ]
    return render(
        request,
        "metric_detail.html",
        {
            "active": "dashboard",
            "metric": definition,
            "name": metric_name(definition),
            "other_name": definition.name_en if _chinese() else definition.name_zh,
            "formula": FORMULAS[key],
            "window_note": WINDOW_NOTE if "in W" in definition.description else "",
            "category": CATEGORY_LABELS[definition.category],
            "department": DEPARTMENT_LABELS[definition.department],
            "direction": DIRECTION_LABELS[definition.direction],
            "unit_text": units_text,
            "panel": panel_view(current, back_query),
            "warn_pct": limits[0],
            "critical_pct": limits[1],
            "absolute": current["threshold_mode"] == "absolute",
            "budget": _budget(key, region, day),
            "warn_text": _formatted(warn, definition.unit, units),
            "critical_text": _formatted(critical, definition.unit, units),
            "region": region,
            "region_label": _region_label(region),
            "regions": [(r, _region_label(r)) for r in selectors.region_list()],
            "day": day,
            "today": selectors.business_today(),
            **_period_context(choice, today),
            "start": start,
            "end": end,
            "summary": summary,
            "period_rows": period_rows,
            "compare_label": COMPARE_PHRASES[choice["compare"]],
            "explicit": explicit,
            "comparison": [
                {**row, "url": _query(row["region"], day, explicit, **_period_query(choice))}
                for row in _comparison_rows(comparison, definition, units)
            ],
            "alert_groups": alert_group_views(open_alerts),
            "markers": markers,
            "csv_url": _csv_url(key, region, start, end),
            "dashboard_url": reverse("dashboard") + back_query,
            "data": data,
        },
    )
