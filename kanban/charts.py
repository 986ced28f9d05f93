"""Plotly figures of the flow view, built from plain data (what `kanban.flow.board_flow` answers)
as JSON-ready dicts: no I/O, no Django. Every text arrives already translated (`labels`); the
page draws the figures with the locally served plotly.js.

- `cumulative_flow_figure`: cards per column at the end of each day, stacked (Done at the
  bottom, as a cumulative flow diagram is read: the bands' widths are the work in each step).
- `cycle_time_figure`: one point per card done in the period (done day × days from creation),
  coloured by owning department, hollow when the card stayed in one lane, with the 50th and
  85th percentile lines.
- `handoff_figure`: who waits for whom, a department × department heatmap of hand-off counts
  whose cells also say the median wait.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from carloan.charts import BAD, BRAND, DEPARTMENT_COLOURS, GRID, LABEL_BG, WHITE, base_layout
from carloan.departments import DEPARTMENTS

# Backlog … Done: cool to warm, Done a calm green at the bottom of the stack.
STEP_COLOURS = ["#94a3b8", "#3b82f6", "#f59e0b", "#a855f7", "#16a34a", "#0ea5e9", "#ef4444"]
DONE_COLOUR = "#16a34a"
P50_COLOUR = BRAND
P85_COLOUR = BAD


def _layout(**extra: Any) -> dict[str, Any]:
    layout = base_layout(
        margin={"l": 56, "r": 16, "t": 16, "b": 48},
        hovermode="closest",
        legend={"orientation": "h", "y": -0.18, "x": 0},
    )
    layout.update(extra)
    return layout


def _label(labels: Mapping[str, str], key: str) -> str:
    return str(labels.get(key, key))


def cumulative_flow_figure(
    cumulative_flow: Mapping[str, Any],
    *,
    column_names: Mapping[str, str] | None = None,
    done_columns: Sequence[int] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Stacked areas of cards per column per day. `cumulative_flow` is `{"days": [...],
    "columns": [{"id", "name", "counts"}]}` in board order; `column_names` translates column
    names; `done_columns` are drawn green."""
    names = column_names or {}
    labels = labels or {}
    columns = list(cumulative_flow.get("columns", []))
    days = list(cumulative_flow.get("days", []))
    traces = []
    # Stack from the last column (Done) up, so the work still to do sits on top.
    for index, column in reversed(list(enumerate(columns))):
        name = str(names.get(column["name"], column["name"]))
        colour = (
            DONE_COLOUR if column["id"] in done_columns else STEP_COLOURS[index % len(STEP_COLOURS)]
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": days,
                "y": list(column["counts"]),
                "stackgroup": "flow",
                "line": {"width": 0.5, "color": colour},
                "fillcolor": colour,
                "hovertemplate": f"%{{x}}<br>{name}: %{{y}}<extra></extra>",
            }
        )
    return {
        "data": traces,
        "layout": _layout(
            height=360,
            hovermode="x unified",
            xaxis={"type": "date", "tickformat": "%m-%d"},
            yaxis={
                "title": {"text": _label(labels, "cards")},
                "rangemode": "tozero",
            },
            legend={"orientation": "h", "y": -0.2, "x": 0, "traceorder": "reversed"},
        ),
    }


def cycle_time_figure(
    cycle_times: Mapping[str, Any],
    *,
    department_names: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Cycle time (days) of each card done in the period against its done day, one trace per
    owning department, with horizontal 50th and 85th percentile lines. Cards that passed
    through two lanes or more are filled dots; single-lane cards are hollow."""
    departments = department_names or {}
    labels = labels or {}
    cards = list(cycle_times.get("cards", []))
    traces: list[dict[str, Any]] = []
    for department in DEPARTMENTS:
        # Cross-department cards first: the legend shows the first point's (filled) marker.
        mine = sorted(
            (c for c in cards if c.get("department") == department),
            key=lambda c: int(c.get("lanes", 1)) < 2,
        )
        if not mine:
            continue
        colour = DEPARTMENT_COLOURS[department]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": str(departments.get(department, department)),
                "x": [c["done_at"] for c in mine],
                "y": [round(float(c["days"]), 2) for c in mine],
                "text": [f"#{c['card']} {c['title']}" for c in mine],
                "customdata": [int(c.get("lanes", 1)) for c in mine],
                "marker": {
                    "size": 9,
                    "color": [colour if int(c.get("lanes", 1)) >= 2 else WHITE for c in mine],
                    "line": {"color": colour, "width": 1.5},
                },
                "hovertemplate": (
                    "%{text}<br>%{y:.1f} "
                    + _label(labels, "days")
                    + " · %{customdata} "
                    + _label(labels, "lanes")
                    + "<extra></extra>"
                ),
            }
        )
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for key, colour, dash in (("p50", P50_COLOUR, "dash"), ("p85", P85_COLOUR, "dot")):
        value = cycle_times.get(key)
        if value is None:
            continue
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": value,
                "y1": value,
                "line": {"color": colour, "width": 1.5, "dash": dash},
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "x": 1,
                "xanchor": "right",
                "yref": "y",
                "y": value,
                "yanchor": "bottom",
                "showarrow": False,
                "text": f"{_label(labels, key)}: {float(value):.1f} {_label(labels, 'days')}",
                "font": {"color": colour, "size": 11},
                "bgcolor": LABEL_BG,
            }
        )
    return {
        "data": traces,
        "layout": _layout(
            height=360,
            xaxis={"type": "date", "tickformat": "%m-%d"},
            yaxis={
                "title": {"text": _label(labels, "cycleDays")},
                "rangemode": "tozero",
            },
            shapes=shapes,
            annotations=annotations,
        ),
    }


def _hours(value: float | None, labels: Mapping[str, str] | None = None) -> str:
    """A wait in hours as people read it: hours up to two days, then days."""
    labels = labels or {}
    if value is None:
        return "–"
    if value >= 48:
        return f"{value / 24:.1f} {_label(labels, 'dayUnit') if 'dayUnit' in labels else 'd'}"
    return f"{value:.1f} {_label(labels, 'hourUnit') if 'hourUnit' in labels else 'h'}"


def handoff_figure(
    handoffs: Sequence[Mapping[str, Any]],
    *,
    department_names: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Who waits for whom: rows are the departments handing work off, columns the departments
    it waits for; the colour is the number of hand-offs made in the period and each cell's text
    says that count and the median wait of those picked up."""
    departments = department_names or {}
    labels = labels or {}
    cells = {(h["from_department"], h["to_department"]): h for h in handoffs}
    names = [str(departments.get(d, d)) for d in DEPARTMENTS]
    z: list[list[int | None]] = []
    text: list[list[str]] = []
    hover: list[list[str]] = []
    for source in DEPARTMENTS:
        z_row: list[int | None] = []
        text_row: list[str] = []
        hover_row: list[str] = []
        for target in DEPARTMENTS:
            cell = cells.get((source, target))
            if source == target:
                z_row.append(None)
                text_row.append("")
                hover_row.append("")
                continue
            count = int(cell["count"]) if cell else 0
            median = cell.get("median_wait_hours") if cell else None
            p85 = cell.get("p85_wait_hours") if cell else None
            waiting = int(cell.get("waiting_now", 0)) if cell else 0
            z_row.append(count)
            if not count and not waiting:
                text_row.append("")
                hover_row.append("")
                continue
            text_row.append(
                f"<b>{count}</b><br>{_label(labels, 'median')} {_hours(median, labels)}"
                + (f"<br>{_label(labels, 'waitingNow')} {waiting}" if waiting else "")
            )
            hover_row.append(
                f"{departments.get(source, source)} → {departments.get(target, target)}<br>"
                f"{_label(labels, 'handoffs')}: {count}<br>"
                f"{_label(labels, 'median')}: {_hours(median, labels)} · "
                f"p85: {_hours(p85, labels)}<br>"
                f"{_label(labels, 'waitingNow')}: {waiting}"
            )
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    return {
        "data": [
            {
                "type": "heatmap",
                "x": names,
                "y": names,
                "z": z,
                "text": text,
                "texttemplate": "%{text}",
                "hovertext": hover,
                "hoverinfo": "text",
                "colorscale": [[0, GRID], [0.5, "#9cc1f5"], [1, "#1f4e9c"]],
                "zmin": 0,
                "showscale": False,
                "xgap": 3,
                "ygap": 3,
                "textfont": {"size": 12},
            }
        ],
        "layout": _layout(
            height=320,
            margin={"l": 110, "r": 16, "t": 64, "b": 16},
            xaxis={
                "side": "top",
                "title": {"text": _label(labels, "waitsFor"), "standoff": 10},
                "fixedrange": True,
                "automargin": True,
                "showgrid": False,
            },
            yaxis={
                "autorange": "reversed",
                "title": {"text": _label(labels, "handsOff"), "standoff": 10},
                "fixedrange": True,
                "automargin": True,
                "showgrid": False,
            },
        ),
    }
