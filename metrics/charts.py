"""Plotly figures and display values for the dashboard pages, built from plain data.

Pure functions: no database, no request, no translation lookups (labels come in as arguments), so
they are tested on hand-made numbers. A figure is a plain dict `{"data", "layout", "config"}` that
the page hands to the locally served plotly.js (`Plotly.newPlot(el, f.data, f.layout, f.config)`).

The rules the pages rest on:

- `delta_tone`: whether a relative change is good or bad depends on the metric's direction (a
  rise in the overdue rate is bad, a rise in the approval rate good);
- `threshold_values`: the value at which a metric turns warn / critical, on the adverse side of
  its baseline: baseline + |baseline| × pct / 100 when lower is better, baseline − |baseline| ×
  pct / 100 when higher is better (the inverse of the status rule of contract section 3);
- `format_value`: a value in its unit, with the number of decimals a reader needs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from carloan.charts import (
    BAR_COLORS,
    INK,
    INK_3,
    LABEL_BG,
    STATUS_COLORS,
    TRANSPARENT,
    WHITE,
    base_layout,
    font,
)

Tone = Literal["good", "bad", "flat", "none"]
Figure = dict[str, Any]

# The palette is carloan.charts'; these are the dashboard's own roles in it.
BASELINE = INK_3  # the baseline: a muted dashed line
BAND = "rgba(47, 158, 106, 0.10)"  # the tolerance band: BAR_COLORS["ok"], faint
MARKER = "#8250df"  # parameter changes (the stylesheet's third budget colour)

# Decimals shown per unit (the API keeps full precision).
DECIMALS: dict[str, int] = {
    "%": 2,
    "CNY": 0,
    "ms": 0,
    "s": 2,
    "h": 1,
    "days": 1,
    "per 10k loans": 1,
}
FLAT_PCT = 0.05  # a change under 0.05 % reads as "no change"


# --- numbers -------------------------------------------------------------------------------------


def _finite(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _floats(values: Iterable[float | None]) -> list[float]:
    """The finite numbers among `values`."""
    return [float(v) for v in values if v is not None and _finite(v)]


def format_number(value: float | None, decimals: int) -> str:
    """1234.5 → "1,234.50" (decimals 2); None → "–"."""
    if not _finite(value):
        return "–"
    assert value is not None
    return f"{value:,.{decimals}f}"


def format_value(
    value: float | None, unit: str, unit_labels: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """(number, unit label) of a value: (“3.42”, “%”), (“¥1,234”, “”), (“245”, “ms”).

    CNY is written with its sign before the number; other units after it, in `unit_labels`'
    wording when given (translated "days", "per 10k loans"). None → ("–", "").
    """
    if not _finite(value):
        return "–", ""
    assert value is not None
    number = format_number(value, DECIMALS.get(unit, 2))
    if unit == "CNY":
        return ("−" if value < 0 else "") + "¥" + number.lstrip("-"), ""
    return number.replace("-", "−"), (unit_labels or {}).get(unit, unit)


def format_delta(delta_pct: float | None) -> str:
    """+38.2 % / −5.0 % / 0.0 %; "–" when there is no baseline to compare with."""
    if not _finite(delta_pct):
        return "–"
    assert delta_pct is not None
    if abs(delta_pct) < FLAT_PCT:
        return "0.0 %"
    sign = "+" if delta_pct > 0 else "−"
    return f"{sign}{abs(delta_pct):,.1f} %"


def delta_tone(delta_pct: float | None, direction: str) -> Tone:
    """Whether the change reads as good or bad for this metric.

    A rise is bad for a lower-is-better metric (overdue rate) and good for a higher-is-better one
    (approval rate); a fall the other way round. "flat" under FLAT_PCT, "none" without a delta.
    """
    if not _finite(delta_pct):
        return "none"
    assert delta_pct is not None
    if abs(delta_pct) < FLAT_PCT:
        return "flat"
    rising = delta_pct > 0
    lower_is_better = direction == "lower_is_better"
    return "bad" if rising == lower_is_better else "good"


def delta_arrow(delta_pct: float | None) -> str:
    """▲ for a rise, ▼ for a fall, ▶ for no change, "" without a delta."""
    if not _finite(delta_pct):
        return ""
    assert delta_pct is not None
    if abs(delta_pct) < FLAT_PCT:
        return "▶"
    return "▲" if delta_pct > 0 else "▼"


def panel_levels(panel: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """(warn, critical) values of a panel in its threshold mode: the service levels in the
    absolute mode, the baseline ± the deviation thresholds in the relative one."""
    if panel.get("threshold_mode") == "absolute":
        return panel["warn_at"], panel["critical_at"]
    return threshold_values(
        panel["baseline"], panel["warn_pct"], panel["critical_pct"], panel["direction"]
    )


def threshold_values(
    baseline: float | None, warn_pct: float, critical_pct: float, direction: str
) -> tuple[float | None, float | None]:
    """(warn, critical): the values at which the metric turns warn and critical.

    On the adverse side of the baseline: above it when lower is better, below it when higher is
    better; (None, None) when there is no baseline, or it is 0 (no relative deviation exists).
    """
    if not _finite(baseline) or baseline == 0:
        return None, None
    assert baseline is not None
    sign = 1.0 if direction == "lower_is_better" else -1.0
    scale = abs(baseline) / 100.0
    return baseline + sign * warn_pct * scale, baseline + sign * critical_pct * scale


# --- alerts --------------------------------------------------------------------------------------

_LEVEL_RANK = {"critical": 2, "warn": 1}


def alert_groups(alerts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Open alerts grouped by (metric, region): one line per drifting metric of a region.

    Each group: metric, region, `since` (the first day of its alerts), `latest` (the last day),
    `level` and `delta_pct` of the latest day (critical when that day has both), `count`, and the
    alert ids. Ordered critical first, then by the size of the latest deviation, then by metric
    and region.
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for alert in alerts:
        if alert.get("status", "open") != "open":
            continue
        key = (str(alert["metric"]), str(alert["region"]))
        day = str(alert["day"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "metric": key[0],
                "region": key[1],
                "since": day,
                "latest": day,
                "level": alert["level"],
                "delta_pct": alert.get("delta_pct"),
                "value": alert.get("value"),
                "count": 0,
                "ids": [],
            }
        group["count"] += 1
        group["ids"].append(alert["id"])
        group["since"] = min(group["since"], day)
        newer = day > group["latest"]
        worse_same_day = day == group["latest"] and _LEVEL_RANK.get(
            str(alert["level"]), 0
        ) > _LEVEL_RANK.get(str(group["level"]), 0)
        if newer or worse_same_day:
            group["latest"] = day
            group["level"] = alert["level"]
            group["delta_pct"] = alert.get("delta_pct")
            group["value"] = alert.get("value")
    return sorted(
        groups.values(),
        key=lambda g: (
            -_LEVEL_RANK.get(str(g["level"]), 0),
            -abs(g["delta_pct"] or 0.0),
            g["metric"],
            g["region"],
        ),
    )


# --- figures -------------------------------------------------------------------------------------

_STATIC_CONFIG: dict[str, Any] = {"staticPlot": True, "displayModeBar": False, "responsive": True}
_CHART_CONFIG: dict[str, Any] = {
    "displayModeBar": False,
    "responsive": True,
    "scrollZoom": False,
}


def sparkline_figure(
    series: Sequence[Mapping[str, Any]],
    status: str,
    baseline: float | None = None,
    warn: float | None = None,
) -> Figure:
    """A tiny static 30-day line: the values coloured by today's status, the baseline dashed and
    the warn level dotted (when known), the last point marked. No axes, no toolbar, no hover."""
    x = [p["date"] for p in series]
    y = [p["value"] for p in series]
    color = STATUS_COLORS.get(status, STATUS_COLORS["ok"])
    last = next((i for i in range(len(y) - 1, -1, -1) if _finite(y[i])), None)
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": y,
            "line": {"color": color, "width": 2.2, "shape": "linear"},
            "fill": "none",
            "connectgaps": False,
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "x": [x[last]] if last is not None else [],
            "y": [y[last]] if last is not None else [],
            "marker": {"color": color, "size": 6},
            "hoverinfo": "skip",
        },
    ]
    shapes = []
    values = [v for v in y if _finite(v)]
    if _finite(baseline):
        values.append(baseline)
        shapes.append(_hline(baseline, BASELINE, "dash", 1))
    if _finite(warn):
        shapes.append(_hline(warn, STATUS_COLORS["warn"], "dot", 1))
    layout = base_layout(
        margin={"l": 2, "r": 6, "t": 4, "b": 4},
        height=56,
        showlegend=False,
        xaxis={"visible": False, "fixedrange": True},
        yaxis={"visible": False, "fixedrange": True, "range": _padded_range(values)},
        shapes=shapes,
    )
    return {"data": data, "layout": layout, "config": _STATIC_CONFIG}


def _hline(y: float | None, color: str, dash: str, width: float) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": y,
        "y1": y,
        "line": {"color": color, "width": width, "dash": dash},
        "layer": "below",
    }


def _padded_range(values: Sequence[float | None]) -> list[float] | None:
    finite = _floats(values)
    if not finite:
        return None
    lo, hi = min(finite), max(finite)
    pad = (hi - lo) * 0.12 or (abs(hi) * 0.05 or 1.0)
    return [lo - pad, hi + pad]


def _unit_affixes(unit: str, labels: Mapping[str, str]) -> tuple[str, str]:
    """(prefix, suffix) of a value in its unit: "¥" before CNY, the unit's word after others."""
    if unit == "CNY":
        return "¥", ""
    return "", f" {labels.get('unit', unit)}"


def history_figure(
    rows: Sequence[Mapping[str, Any]],
    *,
    direction: str,
    warn_pct: float,
    critical_pct: float,
    unit: str,
    labels: Mapping[str, str],
    markers: Sequence[Mapping[str, Any]] = (),
    target: float | None = None,
    levels: tuple[float, float] | None = None,
) -> Figure:
    """The metric over time with its baseline band, warn and critical lines, and parameter
    change markers, on one chart; `target` (a live strategy target, e.g. the acquisition cost
    of `marketing.target_cac`) as a green dashed line when given.

    `rows`: [{date, value, baseline, status}] (the series API's rows). The baseline changes each
    month, so it and the threshold lines are step lines per day. The band is the tolerance zone
    between the baseline and the warn line. Values are drawn as a line; warn and critical days get
    coloured markers. `markers`: [{date, text, hover}] of parameter changes, drawn as vertical
    dotted lines with a short label on top. `labels`: the legend's words (value, baseline, band,
    warn, critical, change) in the reader's language. `levels` (warn_at, critical_at): the metric
    is judged in the absolute mode, so the warn and critical lines are those service levels,
    flat, whatever the baseline.
    """
    x = [r["date"] for r in rows]
    values = [r.get("value") for r in rows]
    baselines = [r.get("baseline") for r in rows]
    warn_line, critical_line = _threshold_lines(
        baselines, direction=direction, warn_pct=warn_pct, critical_pct=critical_pct, levels=levels
    )
    hover = _history_hover(unit, labels)
    data = [
        *_band_traces(x, baselines, warn_line, critical_line, labels=labels, hover=hover),
        _value_trace(x, values, labels=labels, hover=hover),
        *_status_day_traces(rows, labels=labels, hover=hover),
    ]
    if target is not None and _finite(target):
        data.append(_target_trace(x, target, labels=labels))
    if markers:
        data.append(_change_trace(markers, _marker_y(values, baselines), labels=labels))
    shapes, annotations = _change_lines(markers)
    return {
        "data": data,
        "layout": _history_layout(unit, labels, shapes=shapes, annotations=annotations),
        "config": _CHART_CONFIG,
    }


def _threshold_lines(
    baselines: Sequence[float | None],
    *,
    direction: str,
    warn_pct: float,
    critical_pct: float,
    levels: tuple[float, float] | None,
) -> tuple[list[float | None], list[float | None]]:
    """The warn and the critical value of each day: from its baseline, or the flat service
    levels when the metric is judged in the absolute mode."""
    warn_line: list[float | None] = []
    critical_line: list[float | None] = []
    for b in baselines:
        w, c = (
            levels if levels is not None else threshold_values(b, warn_pct, critical_pct, direction)
        )
        warn_line.append(w)
        critical_line.append(c)
    return warn_line, critical_line


def _history_hover(unit: str, labels: Mapping[str, str]) -> str:
    """The hover of a point: its day, its value in the unit, and the name of its line."""
    prefix, suffix = _unit_affixes(unit, labels)
    value_format = f",.{DECIMALS.get(unit, 2)}f"
    return f"%{{x}}<br>{prefix}%{{y:{value_format}}}{suffix}<extra>%{{fullData.name}}</extra>"


def _step_line(
    name: str, x: list[Any], y: Sequence[float | None], line: dict[str, Any], hover: str
) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": x,
        "y": y,
        "line": {**line, "shape": "hv"},
        "hovertemplate": hover,
        "connectgaps": False,
    }


def _band_traces(
    x: list[Any],
    baselines: Sequence[float | None],
    warn_line: Sequence[float | None],
    critical_line: Sequence[float | None],
    *,
    labels: Mapping[str, str],
    hover: str,
) -> list[dict[str, Any]]:
    """The baseline (dashed), the tolerance band filled from it up to the warn line, and the
    warn and critical lines (dotted), as step lines: the baseline changes each month."""
    return [
        _step_line(
            labels.get("baseline", "Baseline"),
            x,
            baselines,
            {"color": BASELINE, "width": 1.5, "dash": "dash"},
            hover,
        ),
        {
            "type": "scatter",
            "mode": "lines",
            "name": labels.get("band", "Tolerance band"),
            "x": x,
            "y": warn_line,
            "line": {"color": TRANSPARENT, "width": 0, "shape": "hv"},
            "fill": "tonexty",
            "fillcolor": BAND,
            "hoverinfo": "skip",
            "connectgaps": False,
        },
        _step_line(
            labels.get("warn", "Warn"),
            x,
            warn_line,
            {"color": STATUS_COLORS["warn"], "width": 1.3, "dash": "dot"},
            hover,
        ),
        _step_line(
            labels.get("critical", "Critical"),
            x,
            critical_line,
            {"color": STATUS_COLORS["critical"], "width": 1.3, "dash": "dot"},
            hover,
        ),
    ]


def _value_trace(
    x: list[Any], values: Sequence[float | None], *, labels: Mapping[str, str], hover: str
) -> dict[str, Any]:
    """The daily value: the one solid line."""
    return {
        "type": "scatter",
        "mode": "lines",
        "name": labels.get("value", "Value"),
        "x": x,
        "y": values,
        "line": {"color": INK, "width": 2.2},
        "hovertemplate": hover,
        "connectgaps": False,
    }


def _status_day_traces(
    rows: Sequence[Mapping[str, Any]], *, labels: Mapping[str, str], hover: str
) -> list[dict[str, Any]]:
    """The warn days and the critical days as markers of their status colour (in the legend
    only when there are some)."""
    traces = []
    for status in ("warn", "critical"):
        picked = [(r["date"], r.get("value")) for r in rows if r.get("status") == status]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": labels.get(f"{status}_days", status),
                "x": [p[0] for p in picked],
                "y": [p[1] for p in picked],
                "marker": {
                    "color": STATUS_COLORS[status],
                    "size": 7,
                    "line": {"color": WHITE, "width": 1},
                },
                "hovertemplate": hover,
                "showlegend": bool(picked),
            }
        )
    return traces


def _target_trace(x: list[Any], target: float, *, labels: Mapping[str, str]) -> dict[str, Any]:
    """A live strategy target as a flat green dashed line across the period."""
    name = labels.get("target", "Target")
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": [x[0], x[-1]] if x else [],
        "y": [target, target],
        "line": {"color": BAR_COLORS["ok"], "width": 2, "dash": "dash"},
        "hovertemplate": f"{name}: %{{y:,.2f}}<extra></extra>",
    }


def _change_trace(
    markers: Sequence[Mapping[str, Any]], y: float, *, labels: Mapping[str, str]
) -> dict[str, Any]:
    """The parameter changes as diamonds low on the chart: their legend entry and hover."""
    return {
        "type": "scatter",
        "mode": "markers",
        "name": labels.get("change", "Parameter change"),
        "x": [str(m["date"]) for m in markers],
        "y": [y] * len(markers),
        "marker": {"symbol": "diamond", "size": 9, "color": MARKER},
        "text": [str(m.get("hover", m["text"])) for m in markers],
        "hovertemplate": "%{x}<br>%{text}<extra></extra>",
    }


def _change_lines(
    markers: Sequence[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(shapes, annotations): each parameter change as a vertical dotted line across the chart
    with its short label on top."""
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for marker in markers:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "x0": marker["date"],
                "x1": marker["date"],
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": MARKER, "width": 1.5, "dash": "dot"},
            }
        )
        annotations.append(
            {
                "x": marker["date"],
                "xref": "x",
                "y": 1,
                "yref": "paper",
                "yanchor": "bottom",
                "text": str(marker["text"]),
                "showarrow": False,
                "font": {"size": 11, "color": MARKER},
                "bgcolor": LABEL_BG,
                "hovertext": str(marker.get("hover", marker["text"])),
            }
        )
    return shapes, annotations


def _history_layout(
    unit: str,
    labels: Mapping[str, str],
    *,
    shapes: list[dict[str, Any]],
    annotations: list[dict[str, Any]],
) -> dict[str, Any]:
    """The chart's frame: a legend under it, a date axis that zooms, a value axis in the unit."""
    prefix, suffix = _unit_affixes(unit, labels)
    return base_layout(
        height=380,
        margin={"l": 64, "r": 16, "t": 36, "b": 40},
        font=font(size=13),
        hovermode="closest",
        showlegend=True,
        legend={
            "orientation": "h",
            "y": -0.14,
            "x": 0,
            "font": {"size": 12},
            "traceorder": "normal",
        },
        xaxis={"type": "date", "fixedrange": False},
        yaxis={
            "zeroline": False,
            "tickformat": f",.{min(DECIMALS.get(unit, 2), 2)}f",
            "tickprefix": prefix,
            "ticksuffix": suffix,
            "fixedrange": True,
        },
        shapes=shapes,
        annotations=annotations,
    )


def _marker_y(values: Sequence[float | None], baselines: Sequence[float | None]) -> float:
    finite = _floats([*values, *baselines])
    return min(finite) if finite else 0.0


def comparison_figure(
    rows: Sequence[Mapping[str, Any]],
    *,
    unit: str,
    labels: Mapping[str, str],
    region_labels: Mapping[str, str] | None = None,
    selected: str = "",
) -> Figure:
    """One bar per region for a day, coloured by its status, with its baseline as a tick.

    `rows`: [{region, value, baseline, status}] (the compare API's rows). The selected region's
    bar is outlined. Regions without a value show an empty slot.
    """
    names = [(region_labels or {}).get(r["region"], r["region"]) for r in rows]
    values = [r.get("value") for r in rows]
    statuses = [str(r.get("status", "no_data")) for r in rows]
    decimals = DECIMALS.get(unit, 2)
    texts = []
    for v in values:
        number, unit_label = format_value(v, unit, {unit: labels.get("unit", unit)})
        texts.append("" if number == "–" else f"{number}{' ' + unit_label if unit_label else ''}")
    prefix, suffix = _unit_affixes(unit, labels)
    data = [
        {
            "type": "bar",
            "name": labels.get("value", "Value"),
            "x": names,
            "y": values,
            "text": texts,
            "textposition": "none",
            "cliponaxis": False,
            "marker": {
                "color": [BAR_COLORS.get(s, BAR_COLORS["no_data"]) for s in statuses],
                "line": {
                    "color": [INK if r["region"] == selected else TRANSPARENT for r in rows],
                    "width": 2,
                },
            },
            "customdata": [labels.get(f"status_{s}", s) for s in statuses],
            "hovertemplate": f"%{{x}}<br>{prefix}%{{y:,.{decimals}f}}{suffix}"
            "<br>%{customdata}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": labels.get("baseline", "Baseline"),
            "x": names,
            "y": [r.get("baseline") for r in rows],
            "marker": {
                "symbol": "line-ew",
                "size": 26,
                "line": {"color": INK, "width": 2.5},
            },
            "hovertemplate": f"%{{x}}<br>{labels.get('baseline', 'Baseline')}: "
            f"{prefix}%{{y:,.{decimals}f}}{suffix}<extra></extra>",
        },
    ]
    finite = _floats([*values, *(r.get("baseline") for r in rows)])
    top = max(finite) if finite else 1.0
    layout = base_layout(
        height=320,
        margin={"l": 64, "r": 16, "t": 28, "b": 48},
        font=font(size=13),
        showlegend=False,
        bargap=0.35,
        xaxis={"fixedrange": True},
        yaxis={
            "zeroline": True,
            "fixedrange": True,
            "rangemode": "tozero",
            "range": [min(0.0, min(finite) if finite else 0.0), top * 1.18 if top > 0 else 1.0],
            "tickprefix": prefix,
            "ticksuffix": suffix,
        },
    )
    return {"data": data, "layout": layout, "config": _STATIC_CONFIG | {"staticPlot": False}}
