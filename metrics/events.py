"""Typed socket messages of `/ws/metrics/` (contract section 5) and the groups they go to.

- `panels.snapshot`: the fourteen panels of the socket's region and date, the open alerts and the
  regions; sent on connect, on `{"type": "resync"}` and after `{"type": "view", ...}`.
- `panel.updated`: one panel of one (region, date) whose value, baseline, status or 30-day series
  changed, or whose thresholds changed. Sent to the group of that (region, date) only.
- `alert.raised` / `alert.resolved`: to every metrics socket.
- `alert.acknowledged` / `alert.escalated` (metrics/notify): the same alert, with who took it or
  when it reached the managers.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Literal, TypedDict

ALERTS_GROUP = "metrics.alerts"
_SAFE = re.compile(r"[A-Za-z0-9_.-]{1,40}")


def panel_group(region: str, day: date) -> str:
    """The group of the sockets showing `region`'s panels on `day`.

    Channels group names are ASCII letters, digits, '-', '_' and '.', under 100 characters:
    region codes that are not (say, Chinese names) are named by a hash.
    """
    if _SAFE.fullmatch(region):
        code = region
    else:
        code = "h" + hashlib.sha256(region.encode()).hexdigest()[:32]
    return f"metrics.panels.{code}.{day.isoformat()}"


class SeriesPoint(TypedDict):
    date: str
    value: float | None


class PanelData(TypedDict):
    key: str
    name: str
    name_zh: str
    category: str
    unit: str
    direction: str
    department: str
    value: float | None
    baseline: float | None
    delta_pct: float | None
    status: str
    numerator: float | None
    denominator: float | None
    warn_pct: float
    critical_pct: float
    threshold_mode: str
    warn_at: float
    critical_at: float
    computed_at: str | None
    series: list[SeriesPoint]


class AlertData(TypedDict):
    id: int
    metric: str
    region: str
    day: str
    level: str
    status: str
    value: float | None
    baseline: float | None
    delta_pct: float | None
    raised_at: str
    resolved_at: str | None
    card: int | None
    department: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    escalated_at: str | None


class PanelsSnapshot(TypedDict):
    type: Literal["panels.snapshot"]
    date: str
    region: str
    panels: list[PanelData]
    alerts: list[AlertData]
    regions: list[str]


class PanelUpdated(TypedDict):
    type: Literal["panel.updated"]
    date: str
    region: str
    panel: PanelData


class AlertEvent(TypedDict):
    type: Literal["alert.raised", "alert.resolved"]
    alert: AlertData


def panel_updated(region: str, day: date, panel: PanelData) -> PanelUpdated:
    return {"type": "panel.updated", "date": day.isoformat(), "region": region, "panel": panel}


def alert_event(alert: AlertData, type_: Literal["alert.raised", "alert.resolved"]) -> AlertEvent:
    return {"type": type_, "alert": alert}
