"""Plotly figures of the valuation page, built from plain data as JSON-ready dicts (no I/O).

Colours follow the app's palette (`carloan.charts`); every text arrives already translated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from carloan.charts import DOWN, UP, base_layout

TOTAL = "#24477a"
POINT = "#3f6fb0"


def _layout(**extra: Any) -> dict[str, Any]:
    layout = base_layout(margin={"l": 60, "r": 20, "t": 30, "b": 40}, showlegend=False)
    layout.update(extra)
    return layout


def waterfall_figure(
    quote: dict[str, Any], *, baseline_label: str, value_label: str
) -> dict[str, Any]:
    """The twelve factor effects from the new price (baseline) down (or up) to the value.

    A horizontal waterfall: the new price as the first bar, one relative bar per factor (its
    CNY effect; hover shows the % effect), and the value as the total.
    """
    factors = quote["factors"]
    labels = [baseline_label, *[f["label"] for f in factors], value_label]
    values = [quote["baseline"], *[f["effect_cny"] for f in factors], quote["value"]]
    measures = ["absolute", *["relative"] * len(factors), "total"]
    hover = [
        f"{baseline_label}: {quote['baseline']:,.0f} CNY",
        *[f"{f['label']}: {f['effect_cny']:+,.0f} CNY ({f['effect_pct']:+.1f} %)" for f in factors],
        f"{value_label}: {quote['value']:,.0f} CNY",
    ]
    text = [
        f"{quote['baseline']:,.0f}",
        *[f"{f['effect_cny']:+,.0f}" for f in factors],
        f"{quote['value']:,.0f}",
    ]
    return {
        "data": [
            {
                "type": "waterfall",
                "orientation": "h",
                "y": labels,
                "x": values,
                "measure": measures,
                "text": text,
                "textposition": "outside",
                "cliponaxis": False,
                "hovertext": hover,
                "hoverinfo": "text",
                "increasing": {"marker": {"color": UP}},
                "decreasing": {"marker": {"color": DOWN}},
                "totals": {"marker": {"color": TOTAL}},
                "connector": {"line": {"color": "#9aa5b1", "width": 1}},
            }
        ],
        "layout": _layout(
            height=460,
            margin={"l": 250, "r": 70, "t": 10, "b": 40},
            yaxis={"autorange": "reversed", "automargin": True},
            xaxis={"title": {"text": "CNY"}, "separatethousands": True, "zeroline": False},
        ),
    }


def holdout_scatter(
    points: Sequence[Sequence[float]], *, x_label: str, y_label: str, hover: str
) -> dict[str, Any]:
    """Predicted against actual prices of held-out sales, with the 45° line and ±10 % band."""
    actual = [p[0] for p in points]
    predicted = [p[1] for p in points]
    top = max([*actual, *predicted, 1.0]) * 1.05
    line = [0.0, top]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": line,
                "y": [v * 1.1 for v in line],
                "line": {"color": "rgba(27,127,91,0.35)", "width": 1, "dash": "dot"},
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": line,
                "y": [v * 0.9 for v in line],
                "line": {"color": "rgba(27,127,91,0.35)", "width": 1, "dash": "dot"},
                "fill": "tonexty",
                "fillcolor": "rgba(27,127,91,0.08)",
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": line,
                "y": line,
                "line": {"color": "#6b7785", "width": 1},
                "hoverinfo": "skip",
            },
            {
                # SVG, not WebGL: a few hundred held-out sales draw fast, and meeting-room PCs,
                # remote desktops and headless printers often have no WebGL.
                "type": "scatter",
                "mode": "markers",
                "x": actual,
                "y": predicted,
                "marker": {"color": POINT, "size": 5, "opacity": 0.55},
                "hovertemplate": hover + "<extra></extra>",
            },
        ],
        "layout": _layout(
            height=380,
            xaxis={"title": {"text": x_label}, "range": [0, top], "separatethousands": True},
            yaxis={"title": {"text": y_label}, "range": [0, top], "separatethousands": True},
        ),
    }
