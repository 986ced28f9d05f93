"""The message of a delivery, per channel preset (pure: no database, no network).

- generic: contract section 11, `{"alert": {id, metric, region, day, status, value, baseline,
  delta_pct, url}, "text"}` (a digest: `{"alerts": [...], "text"}`), signed with the header
  `X-Carloan-Signature: sha256=<hex HMAC-SHA256 of the body with the channel's secret>`;
- wecom (企业微信群机器人): `{"msgtype": "markdown", "markdown": {"content"}}`;
- dingtalk (钉钉群机器人): `{"msgtype": "markdown", "markdown": {"title", "text"}}`;
- feishu (飞书群机器人): `{"msg_type": "text", "content": {"text"}}`.

The chat robots read only their own shape; the signature header is sent to every webhook with a
secret, and the robots ignore it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

SIGNATURE_HEADER = "X-Carloan-Signature"


def alert_json(alert: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    return {
        "id": alert["id"],
        "metric": alert["metric"],
        "region": alert["region"],
        "day": alert["day"],
        "status": alert["level"],
        "value": alert["value"],
        "baseline": alert["baseline"],
        "delta_pct": alert["delta_pct"],
        "url": (
            f"{base_url}/metrics/{alert['metric']}/?region={alert['region']}&date={alert['day']}"
        ),
        "acknowledge_url": f"{base_url}/alerts/{alert['id']}/acknowledge/",
    }


def _number(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def alert_line(alert: Mapping[str, Any], name: str) -> str:
    delta = alert.get("delta_pct")
    change = (
        f" ({delta:+.1f} % vs. baseline {_number(alert.get('baseline'))})"
        if delta is not None
        else ""
    )
    return (
        f"[{str(alert['level']).upper()}] {name}, {alert['region']}, {alert['day']}: "
        f"{_number(alert.get('value'))}{change}"
    )


def text_of(kind: str, alerts: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> str:
    """The human sentence(s) of a message."""
    lines = [alert_line(a, names.get(a["metric"], a["metric"])) for a in alerts]
    if kind == "test":
        return "Test message from the car-loan KPI dashboard: this channel works."
    if kind == "escalation":
        return "ESCALATION, not acknowledged in time: " + "; ".join(lines)
    if kind == "digest":
        return f"{len(alerts)} alerts raised together:\n" + "\n".join(lines)
    return lines[0] if lines else ""


def body(
    preset: str,
    kind: str,
    alerts: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    base_url: str,
) -> bytes:
    """The JSON body of a webhook delivery."""
    text = text_of(kind, alerts, names)
    items = [alert_json(a, base_url) for a in alerts]
    links = "\n".join(f"{i['url']}  (acknowledge: {i['acknowledge_url']})" for i in items)
    full = f"{text}\n{links}".strip()
    if preset == "wecom":
        payload: dict[str, Any] = {"msgtype": "markdown", "markdown": {"content": full}}
    elif preset == "dingtalk":
        payload = {"msgtype": "markdown", "markdown": {"title": text[:64], "text": full}}
    elif preset == "feishu":
        payload = {"msg_type": "text", "content": {"text": full}}
    else:
        payload = {"kind": kind, "text": text}
        if kind == "digest":
            payload["alerts"] = items
        elif items:
            payload["alert"] = items[0]
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, data: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
