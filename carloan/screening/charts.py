"""The Plotly figure of the `/risk/` page: an application's ring as a network, built from what
`page_data.ring` answers, as a JSON-ready dict. No I/O, no Django: every text arrives translated
(`labels`); the page draws it with the locally served plotly.js.

Nodes are applications, placed as a radial tree: the application at the centre, those sharing its
phone, device or VIN on the inner circle (each with an arc wide enough for its own links), those
one step further on the outer circle next to the application they link to. Colour says whether an
application is flagged (and whether risk control cleared the flag). Edges are coloured by what
they share (phone, device, VIN) and labelled with the masked value; two applications sharing two
things get two parallel lines. Each node carries its application id in `customdata`, so the page
opens the application a click lands on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from carloan.charts import CAUTION, INK_3, WHITE, base_layout

LINK_COLOURS = {"phone": "#1f6feb", "device": "#7c3aed", "vin": "#d97706"}
LINK_ORDER = ("phone", "device", "vin")
NODE_COLOURS = {
    "flagged": "#d92d20",
    "cleared": "#f59e0b",
    "clear": "#3b8f6b",
    "unchecked": "#98a2b3",
}
NODE_ORDER = ("flagged", "cleared", "clear", "unchecked")
FOCUS_LINE = "#0b1f33"
RADII = (0.0, 1.0, 2.0)
MAX_EDGE_TEXT = 30  # more edges than this: their labels only on hover
OFFSET = 0.035  # apart of parallel lines between the same two applications


def _label(labels: Mapping[str, Any], key: str) -> str:
    return str(labels.get(key, key))


def node_class(node: Mapping[str, Any]) -> str:
    """flagged (open), cleared (flagged, cleared by risk control), clear or unchecked."""
    if not node.get("checked", True):
        return "unchecked"
    if node.get("flagged"):
        return "cleared" if node.get("status") == "cleared" else "flagged"
    return "clear"


def layout_positions(
    nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[float, float]]:
    """{application_id: (x, y)}: a radial tree (see the module). Depth-2 applications sit in the
    arc of the first depth-1 application they share something with (the order of `nodes`)."""
    ids = [str(n["application_id"]) for n in nodes]
    depth = {str(n["application_id"]): int(n.get("depth") or 0) for n in nodes}
    rank = {app_id: i for i, app_id in enumerate(ids)}
    inner = [i for i in ids if depth[i] == 1]
    outer = [i for i in ids if depth[i] >= 2]
    neighbours: dict[str, set[str]] = {i: set() for i in ids}
    for edge in edges:
        a, b = str(edge["source"]), str(edge["target"])
        if a in neighbours and b in neighbours:
            neighbours[a].add(b)
            neighbours[b].add(a)
    children: dict[str, list[str]] = {i: [] for i in inner}
    orphans = []
    for app_id in outer:
        parents = sorted((p for p in neighbours[app_id] if depth[p] == 1), key=rank.__getitem__)
        if parents:
            children[parents[0]].append(app_id)
        else:
            orphans.append(app_id)
    positions: dict[str, tuple[float, float]] = {}
    for app_id in ids:
        if depth[app_id] == 0:
            positions[app_id] = (0.0, 0.0)
    weights = [max(1, len(children[i])) for i in inner]
    total = sum(weights) + len(orphans)
    angle = math.pi / 2  # start at the top, go clockwise
    step = 2 * math.pi / total if total else 0.0
    for app_id, weight in zip(inner, weights, strict=True):
        arc = weight * step
        middle = angle - arc / 2
        positions[app_id] = (RADII[1] * math.cos(middle), RADII[1] * math.sin(middle))
        kids = children[app_id]
        for k, kid in enumerate(kids):
            at = angle - arc * (k + 0.5) / len(kids)
            positions[kid] = (RADII[2] * math.cos(at), RADII[2] * math.sin(at))
        angle -= arc
    for orphan in orphans:
        at = angle - step / 2
        positions[orphan] = (RADII[2] * math.cos(at), RADII[2] * math.sin(at))
        angle -= step
    return positions


def text_position(x: float, y: float) -> str:
    """Where a node's label goes: away from the centre, so labels stay off the edges."""
    if abs(x) < 1e-9 and abs(y) < 1e-9:
        return "bottom center"
    if abs(x) < 0.08 * math.hypot(x, y):
        return "top center" if y > 0 else "bottom center"
    return "middle right" if x > 0 else "middle left"


def _hover(node: Mapping[str, Any], labels: Mapping[str, Any]) -> str:
    names: Mapping[str, str] = labels.get("checkNames") or {}  # type: ignore[assignment]
    lines = [f"<b>{node['application_id']}</b>"]
    if node.get("region"):
        lines.append(f"{_label(labels, 'region')}: {node['region']}")
    if node.get("applied_at"):
        lines.append(f"{_label(labels, 'applied')}: {str(node['applied_at'])[:10]}")
    klass = node_class(node)
    state = _label(labels, klass)
    failed = node.get("failed_checks") or []
    if failed:
        state += ": " + ", ".join(str(names.get(k, k)) for k in failed)
    lines.append(state)
    identifiers = node.get("identifiers") or {}
    shown = [
        f"{_label(labels, kind)} {identifiers.get(field)}"
        for kind, field in (("phone", "phone"), ("device", "device_id"), ("vin", "vin"))
        if identifiers.get(field)
    ]
    if shown:
        lines.append(" · ".join(shown))
    return "<br>".join(lines)


def _empty_note(text: str) -> dict[str, Any]:
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.12,
        "showarrow": False,
        "font": {"size": 13, "color": INK_3},
    }


def ring_figure(
    ring: Mapping[str, Any], *, labels: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ring as a Plotly network figure: `{"data": [...], "layout": {...}}`.

    `labels`: translated texts: `phone`, `device`, `vin`, `flagged`, `cleared`, `clear`,
    `unchecked`, `region`, `applied`, `noRing`, `truncated` ({shown} and {max} filled in) and
    `checkNames` ({check key: name})."""
    labels = labels or {}
    nodes = list(ring.get("nodes") or [])
    edges = list(ring.get("edges") or [])
    focus = str(ring.get("application_id") or (nodes[0]["application_id"] if nodes else ""))
    positions = layout_positions(nodes, edges)
    data: list[dict[str, Any]] = []

    # Edges: one trace per kind of link (its legend entry), lines with gaps between edges.
    mids: dict[str, tuple[list[float], list[float], list[str]]] = {
        kind: ([], [], []) for kind in LINK_ORDER
    }
    lines: dict[str, tuple[list[float | None], list[float | None]]] = {
        kind: ([], []) for kind in LINK_ORDER
    }
    for edge in edges:
        a, b = str(edge["source"]), str(edge["target"])
        if a not in positions or b not in positions:
            continue
        (x0, y0), (x1, y1) = positions[a], positions[b]
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length  # unit normal
        links = [link for link in edge.get("links") or [] if link.get("type") in LINK_ORDER]
        for k, link in enumerate(links):
            shift = (k - (len(links) - 1) / 2) * OFFSET * 2
            dx, dy = nx * shift, ny * shift
            xs, ys = lines[link["type"]]
            xs += [x0 + dx, x1 + dx, None]
            ys += [y0 + dy, y1 + dy, None]
            mx, my, texts = mids[link["type"]]
            mx.append((x0 + x1) / 2 + dx)
            my.append((y0 + y1) / 2 + dy)
            texts.append(f"{_label(labels, link['type'])} {link.get('masked') or ''}".strip())
    show_text = sum(len(m[2]) for m in mids.values()) <= MAX_EDGE_TEXT
    for kind in LINK_ORDER:
        xs, ys = lines[kind]
        if not xs:
            continue
        name = _label(labels, kind)
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "legendgroup": f"link-{kind}",
                "x": xs,
                "y": ys,
                "line": {"color": LINK_COLOURS[kind], "width": 2},
                "hoverinfo": "skip",
                "meta": {"role": "edges", "link": kind},
            }
        )
        mx, my, texts = mids[kind]
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text" if show_text else "markers",
                "name": name,
                "legendgroup": f"link-{kind}",
                "showlegend": False,
                "x": mx,
                "y": my,
                "text": [t.split(" ", 1)[-1] for t in texts],
                "hovertext": texts,
                "hoverinfo": "text",
                "textposition": "top center",
                "textfont": {"size": 10, "color": LINK_COLOURS[kind]},
                "marker": {
                    "size": 6,
                    "color": WHITE,
                    "line": {"color": LINK_COLOURS[kind], "width": 1.5},
                },
                "meta": {"role": "edge-labels", "link": kind},
            }
        )

    # Nodes: one trace per class (its legend entry); the application itself larger, outlined.
    for klass in NODE_ORDER:
        members = [
            n for n in nodes if node_class(n) == klass and str(n["application_id"]) in positions
        ]
        if not members:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": _label(labels, klass),
                "x": [positions[str(n["application_id"])][0] for n in members],
                "y": [positions[str(n["application_id"])][1] for n in members],
                "text": [str(n["application_id"]) for n in members],
                "textposition": [
                    text_position(*positions[str(n["application_id"])]) for n in members
                ],
                "textfont": {"size": 10},
                "customdata": [str(n["application_id"]) for n in members],
                "hovertext": [_hover(n, labels) for n in members],
                "hoverinfo": "text",
                "marker": {
                    "color": NODE_COLOURS[klass],
                    "size": [30 if str(n["application_id"]) == focus else 16 for n in members],
                    "line": {
                        "color": [
                            FOCUS_LINE if str(n["application_id"]) == focus else WHITE
                            for n in members
                        ],
                        "width": [3 if str(n["application_id"]) == focus else 1.5 for n in members],
                    },
                },
                "meta": {"role": "nodes", "class": klass},
            }
        )

    deep = any(int(n.get("depth") or 0) >= 2 for n in nodes)
    across = [x for x, _ in positions.values()] or [0.0]
    up = [y for _, y in positions.values()] or [0.0]
    pad_x, pad_y = 0.55, 0.35  # room for the labels beside and under the nodes
    x_range = [min(across) - pad_x, max(across) + pad_x]
    y_range = [min(up) - pad_y, max(up) + pad_y]
    if y_range[1] - y_range[0] < 1.4:  # a lone application, or one in a line: not squashed
        middle = sum(y_range) / 2
        y_range = [middle - 0.7, middle + 0.7]
    annotations = []
    if len(nodes) <= 1:
        annotations.append(_empty_note(_label(labels, "noRing")))
    elif ring.get("truncated"):
        annotations.append(
            {
                **_empty_note(
                    _label(labels, "truncated")
                    .replace("{shown}", str(len(nodes)))
                    .replace("{max}", str(ring.get("max_nodes") or len(nodes)))
                ),
                "y": 0.0,
                "yanchor": "bottom",
                "font": {"size": 11, "color": CAUTION},
            }
        )
    height = 600 if deep else 520
    return {
        "data": data,
        "layout": base_layout(
            height=height,
            margin={"l": 8, "r": 8, "t": 8, "b": 8},
            hovermode="closest",
            showlegend=True,
            legend={
                "orientation": "h",
                "x": 0,
                "y": 1.02,
                "yanchor": "bottom",
                "font": {"size": 11},
            },
            dragmode="pan",
            xaxis={"visible": False, "range": x_range},
            yaxis={
                "visible": False,
                "range": y_range,
                "scaleanchor": "x",
                "scaleratio": 1,
            },
            annotations=annotations,
        ),
    }
