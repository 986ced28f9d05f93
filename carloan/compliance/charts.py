"""Plotly figures of the `/compliance/` page, built from plain data (what
`selectors.flagged_calls_series` and `selectors.risk_matrix` answer) as JSON-ready dicts: no I/O,
no Django. Every text arrives already translated (`labels`, `category_names`); the page draws
the figures with the locally served plotly.js.

- `flagged_calls_figure`: flagged calls per 100 checked calls, one bar per day, with the
  period's overall rate as a dashed line.
- `risk_matrix_figure`: which scripts and which agents produce which categories (a heatmap of
  finding counts, rows the worst first), and beside it the complaints received in the regions of
  each row's calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from carloan.charts import BAD, INK_3, LABEL_BG, base_layout

BAR = "#d97706"
BAR_EMPTY = "#cbd5e1"
AVERAGE = BAD
COMPLAINTS = "#7c3aed"
HEAT = [[0, "#fff7ed"], [0.35, "#fdba74"], [0.7, "#ea580c"], [1, "#9a3412"]]
MAX_LABEL = 28


def _layout(**extra: Any) -> dict[str, Any]:
    layout = base_layout(
        margin={"l": 48, "r": 16, "t": 12, "b": 32},
        hovermode="closest",
        showlegend=False,
    )
    layout.update(extra)
    return layout


def _label(labels: Mapping[str, str], key: str) -> str:
    return str(labels.get(key, key))


def _empty(message: str, height: int) -> dict[str, Any]:
    return {
        "data": [],
        "layout": _layout(
            height=height,
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": message,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "showarrow": False,
                    "font": {"size": 13, "color": INK_3},
                }
            ],
        ),
    }


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def flagged_calls_figure(
    series: Sequence[Mapping[str, Any]], *, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Bars of flagged calls per 100 checked calls per day (`series`: `[{"day", "calls",
    "flagged", "per_100"}]`); a day without calls has no bar. A dashed line is the rate over the
    whole period."""
    labels = labels or {}
    rows = list(series)
    calls = sum(int(r.get("calls") or 0) for r in rows)
    if not rows or not calls:
        return _empty(_label(labels, "noCalls"), 250)
    flagged = sum(int(r.get("flagged") or 0) for r in rows)
    overall = 100 * flagged / calls
    per_100 = _label(labels, "per100")
    trace = {
        "type": "bar",
        "name": per_100,
        "x": [r["day"] for r in rows],
        "y": [r.get("per_100") for r in rows],
        "customdata": [[int(r.get("flagged") or 0), int(r.get("calls") or 0)] for r in rows],
        "marker": {"color": BAR},
        "hovertemplate": (
            "%{x}<br>"
            + per_100
            + ": %{y:.1f}<br>"
            + _label(labels, "flagged")
            + ": %{customdata[0]} / %{customdata[1]} "
            + _label(labels, "calls")
            + "<extra></extra>"
        ),
    }
    return {
        "data": [trace],
        "layout": _layout(
            height=250,
            bargap=0.25,
            xaxis={"type": "date", "tickformat": "%m-%d", "fixedrange": True},
            yaxis={
                "title": {"text": per_100},
                "rangemode": "tozero",
                "fixedrange": True,
            },
            shapes=[
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "yref": "y",
                    "y0": overall,
                    "y1": overall,
                    "line": {"color": AVERAGE, "width": 1.5, "dash": "dash"},
                }
            ],
            annotations=[
                {
                    "xref": "paper",
                    "x": 1,
                    "xanchor": "right",
                    "yref": "y",
                    "y": overall,
                    "yanchor": "bottom",
                    "showarrow": False,
                    "text": f"{_label(labels, 'overall')}: {overall:.1f}",
                    "font": {"color": AVERAGE, "size": 11},
                    "bgcolor": LABEL_BG,
                }
            ],
        ),
    }


def _unique(names: Sequence[str]) -> list[str]:
    """Plotly merges equal category labels: a repeated one gets an invisible suffix."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name + "\u200b" * count)
    return out


def risk_matrix_figure(
    matrix: Mapping[str, Any],
    *,
    category_names: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    max_rows: int = 8,
) -> dict[str, Any]:
    """Scripts and agents (at most `max_rows` of each, the most flagged first) × the categories
    found in their calls: a heatmap of finding counts, and a bar of the complaints received in
    the regions of each row's calls, alongside on a shared axis."""
    names = category_names or {}
    labels = labels or {}
    rows: list[tuple[str, Mapping[str, Any]]] = [
        ("script", row) for row in list(matrix.get("scripts", []))[:max_rows]
    ] + [("agent", row) for row in list(matrix.get("agents", []))[:max_rows]]
    rows = [(kind, row) for kind, row in rows if row.get("calls")]
    if not rows:
        return _empty(_label(labels, "noCalls"), 320)
    totals: dict[str, int] = {}
    for _kind, row in rows:
        for key, count in (row.get("categories") or {}).items():
            totals[key] = totals.get(key, 0) + int(count)
    order = list(matrix.get("categories") or totals)
    columns = sorted(
        (key for key in totals if totals[key] > 0),
        key=lambda key: (-totals[key], order.index(key) if key in order else len(order)),
    )
    y = _unique(
        [
            f"{_label(labels, kind)} · "
            + _short(
                str(row.get("label") or row.get("key"))
                if row.get("key")
                else _label(labels, "noScript")
            )
            for kind, row in rows
        ]
    )
    x = [_short(str(names.get(key, key)), 40) for key in columns]
    z: list[list[int | None]] = []
    hover: list[list[str]] = []
    for (_kind, row), row_label in zip(rows, y, strict=True):
        counts = row.get("categories") or {}
        z.append([int(counts.get(key, 0)) or None for key in columns])
        hover.append(
            [
                f"{row_label}<br>{names.get(key, key)}: {int(counts.get(key, 0))}<br>"
                f"{_label(labels, 'flagged')}: {row.get('flagged', 0)} / {row.get('calls', 0)} "
                f"{_label(labels, 'calls')}"
                for key in columns
            ]
        )
    data: list[dict[str, Any]] = []
    if columns:
        data.append(
            {
                "type": "heatmap",
                "x": x,
                "y": y,
                "z": z,
                "text": [[str(v) if v else "" for v in line] for line in z],
                "texttemplate": "%{text}",
                "hovertext": hover,
                "hoverinfo": "text",
                "colorscale": HEAT,
                "zmin": 0,
                "showscale": False,
                "xgap": 2,
                "ygap": 2,
                "xaxis": "x",
                "yaxis": "y",
            }
        )
    complaints = _label(labels, "complaints")
    data.append(
        {
            "type": "bar",
            "orientation": "h",
            "name": complaints,
            "x": [int(row.get("complaints") or 0) for _kind, row in rows],
            "y": y,
            "text": [str(int(row.get("complaints") or 0)) for _kind, row in rows],
            "textposition": "auto",
            "marker": {"color": COMPLAINTS},
            "hovertemplate": "%{y}<br>" + complaints + ": %{x}<extra></extra>",
            "xaxis": "x2",
            "yaxis": "y",
        }
    )
    height = max(300, 190 + 28 * len(rows))
    layout = _layout(
        height=height,
        margin={"l": 8, "r": 24, "t": 24, "b": 16},
        xaxis={
            "domain": [0, 0.86],
            "side": "top",
            "tickangle": -40,
            "tickfont": {"size": 11},
            "fixedrange": True,
            "automargin": True,
            "showgrid": False,
            "visible": bool(columns),
        },
        xaxis2={
            "domain": [0.89, 1],
            "side": "top",
            "anchor": "y",
            "title": {"text": complaints, "standoff": 6},
            "fixedrange": True,
            "showgrid": True,
            "rangemode": "tozero",
        },
        yaxis={
            "autorange": "reversed",
            "type": "category",
            "fixedrange": True,
            "automargin": True,
            "showgrid": False,
        },
    )
    if not columns:
        layout["annotations"] = [
            {
                "text": _label(labels, "noFindings"),
                "xref": "paper",
                "yref": "paper",
                "x": 0.4,
                "y": 0.5,
                "showarrow": False,
                "font": {"size": 13, "color": INK_3},
            }
        ]
    return {"data": data, "layout": layout}
