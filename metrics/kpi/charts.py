"""Plotly figures of KPI scoring, built from plain data (pure: no database, no request).

Each returns a figure as a JSON-ready dict (`data`, `layout`), drawn in the browser by the
locally served plotly.js and in the PDF by the same plotly.js from the installed package. Labels
come in as arguments, so the caller chooses the language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from carloan.charts import (
    BAD,
    BRAND,
    DEPARTMENT_COLOURS,
    GOOD,
    INK_2,
    TRANSPARENT,
    base_layout,
)

BAND_FILLS = (
    (0, 50, "rgba(180, 35, 24, 0.07)"),
    (50, 80, "rgba(154, 97, 0, 0.08)"),
    (80, 100, "rgba(19, 122, 75, 0.08)"),
)


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout = base_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        margin={"l": 56, "r": 16, "t": 44, "b": 40},
        legend={"orientation": "h", "y": -0.18, "x": 0},
        hovermode="x unified",
        xaxis={"type": "category"},
        yaxis={"zeroline": False},
    )
    layout.update(extra)
    return layout


def _department_colour(department: str) -> str:
    return DEPARTMENT_COLOURS.get(department, INK_2)


def score_trend(
    quarters: Sequence[str],
    scores: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    department_labels: Mapping[str, str],
    only: str | None = None,
) -> dict[str, Any]:
    """Department scores over the quarters (one line each, or only `only`), over the colour
    bands (red below 50, amber to 80, green above)."""
    data = [
        {
            "type": "scatter",
            "x": list(quarters),
            "y": list(values),
            "name": department_labels.get(department, department),
            "mode": "lines+markers",
            "connectgaps": False,
            "line": {"color": _department_colour(department), "width": 2.5},
            "hovertemplate": "%{y:.1f}<extra>%{fullData.name}</extra>",
        }
        for department, values in scores.items()
        if only is None or department == only
    ]
    shapes = [
        {
            "type": "rect",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "yref": "y",
            "y0": low,
            "y1": high,
            "fillcolor": fill,
            "line": {"width": 0},
            "layer": "below",
        }
        for low, high, fill in BAND_FILLS
    ]
    layout = _layout(title, shapes=shapes, showlegend=only is None)
    layout["yaxis"] = {**layout["yaxis"], "range": [0, 105], "dtick": 20}
    return {"data": data, "layout": layout}


def kpi_trend(
    quarters: Sequence[str],
    actuals: Sequence[float | None],
    *,
    target: float,
    threshold: float,
    title: str,
    unit: str,
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """One KPI's actual over the quarters, with its target and threshold as dashed lines.
    `labels` names the traces: `actual`, `target`, `threshold`."""
    x = list(quarters)
    data = [
        {
            "type": "scatter",
            "x": x,
            "y": list(actuals),
            "name": labels.get("actual", "actual"),
            "mode": "lines+markers",
            "line": {"color": BRAND, "width": 2.5},
            "hovertemplate": "%{y:.4g}" + (f" {unit}" if unit else "") + "<extra></extra>",
        },
        {
            "type": "scatter",
            "x": x,
            "y": [target] * len(x),
            "name": labels.get("target", "target"),
            "mode": "lines",
            "line": {"color": GOOD, "dash": "dash", "width": 1.5},
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": x,
            "y": [threshold] * len(x),
            "name": labels.get("threshold", "threshold"),
            "mode": "lines",
            "line": {"color": BAD, "dash": "dot", "width": 1.5},
            "hoverinfo": "skip",
        },
    ]
    layout = _layout(title)
    layout["title"]["font"] = {"size": 13}
    layout["yaxis"] = {**layout["yaxis"], "title": {"text": unit}}
    layout["xaxis"] = {**layout["xaxis"], "tickfont": {"size": 10}}
    layout["legend"] = {
        "orientation": "h",
        "x": 1,
        "xanchor": "right",
        "y": 1.0,
        "yanchor": "bottom",
        "font": {"size": 10},
    }
    layout["margin"] = {"l": 52, "r": 8, "t": 44, "b": 44}
    return {"data": data, "layout": layout}


def department_comparison(
    quarters: Sequence[str],
    scores: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    department_labels: Mapping[str, str],
) -> dict[str, Any]:
    """The three departments side by side: one group of bars per quarter."""
    data = [
        {
            "type": "bar",
            "x": list(quarters),
            "y": list(values),
            "name": department_labels.get(department, department),
            "marker": {"color": _department_colour(department)},
            "hovertemplate": "%{y:.1f}<extra>%{fullData.name}</extra>",
        }
        for department, values in scores.items()
    ]
    layout = _layout(title, barmode="group", bargap=0.25)
    layout["yaxis"] = {**layout["yaxis"], "range": [0, 100], "dtick": 20}
    return {"data": data, "layout": layout}


PILLAR_COLOURS = {
    "data_platform": BRAND,
    "risk_collaboration": BAD,
    "agile_platform": GOOD,
}


def strategy_split(
    trend: Sequence[Mapping[str, Any]],
    *,
    title: str,
    pillar_labels: Mapping[str, str],
    target_label: str,
    done_label: str,
) -> dict[str, Any]:
    """Per quarter and pillar, the share of finished work (solid bars) beside the budget share in
    force (hollow bars of the same colour): a pillar whose solid bar falls short of its hollow one
    got less of the work than the strategy planned."""
    quarters = [row["quarter"] for row in trend]
    data: list[dict[str, Any]] = []
    for pillar, colour in PILLAR_COLOURS.items():
        name = pillar_labels.get(pillar, pillar)
        data.append(
            {
                "type": "bar",
                "x": quarters,
                "y": [row["target"][pillar] for row in trend],
                "name": f"{name} · {target_label}",
                "offsetgroup": pillar,
                "legendgroup": pillar,
                "marker": {"color": TRANSPARENT, "line": {"color": colour, "width": 2}},
                "hovertemplate": "%{y:.1f} %<extra>%{fullData.name}</extra>",
            }
        )
        data.append(
            {
                "type": "bar",
                "x": quarters,
                "y": [row["shares"][pillar] for row in trend],
                "name": f"{name} · {done_label}",
                "offsetgroup": pillar,
                "legendgroup": pillar,
                "width": 0.16,
                "marker": {"color": colour},
                "hovertemplate": "%{y:.1f} %<extra>%{fullData.name}</extra>",
            }
        )
    layout = _layout(title, barmode="group", bargap=0.3)
    layout["yaxis"] = {**layout["yaxis"], "range": [0, 100], "dtick": 20, "ticksuffix": " %"}
    return {"data": data, "layout": layout}
