"""The look every Plotly figure shares: one palette, one font, one base layout.

Every figure builder (`metrics.charts`, `metrics.kpi.charts`, `kanban.charts`, `valuation.charts`,
`carloan.compliance.charts`, `carloan.screening.charts`) writes its figure as a plain JSON-ready
dict `{"data": [...], "layout": {...}}`, its layout started from `base_layout(...)`, and takes
its colours from here. A colour that only one chart uses (the screening ring's link kinds, the
cumulative flow's steps) stays a named constant at the top of that chart's module.

The colours that the stylesheet (`static/css/app.css`) also defines have its values, so a chart
and the page around it agree: the greys (`--ink`, `--ink-2`, `--ink-3`, `--line`, `--line-2`),
brand, good and bad (`--brand`, `--ok`, `--error`), the departments (`--mkt`, `--risk`, `--tech`
of the kanban pages) and the font (`--font`).
"""

from __future__ import annotations

import copy
from typing import Any

from carloan.departments import MARKETING, RISK, TECH

# --- neutral greys -------------------------------------------------------------------------------

INK = "#15202b"  # text (--ink)
INK_2 = "#4a5868"  # secondary text, an unknown department's line (--ink-2)
INK_3 = "#6b7a8c"  # muted text, baselines, empty-chart notes (--ink-3)
LINE = "#dde3ea"  # axis lines (--line)
GRID = "#eef2f6"  # grid lines (--line-2)
WHITE = "#ffffff"
TRANSPARENT = "rgba(0,0,0,0)"

# --- brand, good and bad -------------------------------------------------------------------------

BRAND = "#1f6feb"  # --brand
GOOD = "#137a4b"  # --ok: a target, a good band
BAD = "#b42318"  # --error: a threshold, a poor band, an average to stay under
CAUTION = "#9a6100"  # --warn: a note that something was left out

# --- departments ---------------------------------------------------------------------------------

# Marketing orange, risk violet, tech teal: the kanban's lanes and cards (the stylesheet's --mkt,
# --risk, --tech), so every page draws a department in the same colour. They stay clear of the
# status colours (a red risk line over the red "poor" band would read as an alarm).
DEPARTMENT_COLOURS: dict[str, str] = {MARKETING: "#c2410c", RISK: "#7c3aed", TECH: "#0e7490"}

# --- status of a metric (the dashboard) ----------------------------------------------------------

# Lines and markers by the day's status (the same as the stylesheet's).
STATUS_COLORS: dict[str, str] = {
    "ok": "#1f6feb",
    "warn": "#d18b00",
    "critical": "#c0362c",
    "no_data": "#9aa7b5",
}
# Bars by status: lighter, so a region's bar does not shout.
BAR_COLORS: dict[str, str] = {
    "ok": "#2f9e6a",
    "warn": "#e0a800",
    "critical": "#c0362c",
    "no_data": "#c5cfda",
}

# --- up and down (a valuation's factors) ---------------------------------------------------------

UP = "#1b7f5b"  # the stylesheet's .val-up
DOWN = "#c2412d"

# --- font and base layout ------------------------------------------------------------------------

# The page's own font (the stylesheet's --font): Latin and Chinese text in a chart look like the
# text around it.
FONT_FAMILY = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", '
    '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", '
    '"Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif'
)
FONT: dict[str, Any] = {"family": FONT_FAMILY, "size": 12, "color": INK}


def font(**extra: Any) -> dict[str, Any]:
    """The shared font with some of it changed (`font(size=13)`)."""
    return {**FONT, **extra}


# --- the light template --------------------------------------------------------------------------

# A legend's and a text label's white backing over the lines they name.
LEGEND_BG = "rgba(255,255,255,0.8)"
LABEL_BG = "rgba(255,255,255,0.85)"

# The neutral frame of every figure as a Plotly template (grid and axis lines, the legend's
# backing, hover labels, annotations' text): figures do not name these colours themselves, so a
# page in dark mode swaps the whole template for the dark one. static/js/plot_theme.js holds the
# same light template and its dark twin (tests/test_plot_theme.py keeps the two light ones
# equal); the PDF of the quarterly review, drawn without that module, stays light.
TEMPLATE: dict[str, Any] = {
    "layout": {
        "font": {"color": INK},
        "paper_bgcolor": TRANSPARENT,
        "plot_bgcolor": TRANSPARENT,
        "xaxis": {"gridcolor": GRID, "linecolor": LINE, "zerolinecolor": LINE},
        "yaxis": {"gridcolor": GRID, "linecolor": LINE, "zerolinecolor": LINE},
        "legend": {"bgcolor": LEGEND_BG},
        "hoverlabel": {"bgcolor": WHITE, "bordercolor": LINE, "font": {"color": INK}},
        "annotationdefaults": {"font": {"color": INK_3}},
    }
}


def base_layout(**extra: Any) -> dict[str, Any]:
    """The layout every figure starts from: the shared font on a transparent background (the
    page's card shows through) and the light template, with `extra` (height, margins, axes...)
    added or replacing."""
    layout: dict[str, Any] = {
        "font": font(),
        "paper_bgcolor": TRANSPARENT,
        "plot_bgcolor": TRANSPARENT,
        "template": copy.deepcopy(TEMPLATE),
    }
    layout.update(extra)
    return layout
