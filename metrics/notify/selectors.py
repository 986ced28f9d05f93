"""Reads of notifications: channels (never their secrets), the delivery log, silences."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Q
from django.utils import timezone

from metrics.notify.models import Channel, Delivery, DeliveryAttempt, Silence


def failing_channels(window: int = 3) -> set[int]:
    """Channels whose last `window` finished deliveries all failed."""
    finished = (
        Delivery.objects.filter(status__in=[Delivery.Status.SENT, Delivery.Status.FAILED])
        .order_by("channel_id", "-created_at", "-id")
        .values_list("channel_id", "status")
    )
    recent: dict[int, list[str]] = defaultdict(list)
    for channel_id, status in finished:
        if len(recent[channel_id]) < window:
            recent[channel_id].append(status)
    return {
        channel_id
        for channel_id, statuses in recent.items()
        if statuses and all(s == Delivery.Status.FAILED for s in statuses)
    }


def channel_data(channel: Channel, failing: set[int] | None = None) -> dict[str, Any]:
    """A channel as the API shows it: the secret only as `has_secret`."""
    return {
        "id": channel.pk,
        "name": channel.name,
        "kind": channel.kind,
        "preset": channel.preset,
        "target": channel.target,
        "department": channel.department,
        "min_status": channel.min_status,
        "enabled": channel.enabled,
        "has_secret": bool(channel.secret),
        "failing": channel.pk in (failing if failing is not None else failing_channels()),
        "created_by": channel.created_by.get_username() if channel.created_by else "",
        "created_at": channel.created_at.isoformat(),
        "updated_at": channel.updated_at.isoformat(),
    }


def channels() -> list[dict[str, Any]]:
    failing = failing_channels()
    rows = Channel.objects.select_related("created_by")
    return [channel_data(c, failing) for c in rows]


def delivery_data(delivery: Delivery, tries: list[DeliveryAttempt] | None = None) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "channel": delivery.channel_id,
        "kind": delivery.kind,
        "alert": delivery.alert_id,
        "alerts": list(delivery.alert_ids) or ([delivery.alert_id] if delivery.alert_id else []),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at.isoformat(),
        "sent_at": delivery.sent_at.isoformat() if delivery.sent_at else None,
        "tries": [
            {
                "at": t.at.isoformat(),
                "ok": t.ok,
                "status_code": t.status_code,
                "error": t.error,
                "duration_ms": t.duration_ms,
            }
            for t in (tries or [])
        ],
    }


def deliveries(
    *, channel_id: int | None = None, alert_id: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The latest deliveries with every attempt, newest first."""
    rows = Delivery.objects.all()
    if channel_id is not None:
        rows = rows.filter(channel_id=channel_id)
    if alert_id is not None:
        rows = rows.filter(alert_id=alert_id)
    page = list(rows.order_by("-created_at", "-id")[:limit])
    tries: dict[int, list[DeliveryAttempt]] = defaultdict(list)
    for attempt in DeliveryAttempt.objects.filter(delivery__in=page).order_by("at", "id"):
        tries[attempt.delivery_id].append(attempt)
    return [delivery_data(d, tries[d.pk]) for d in page]


def silence_data(silence: Silence) -> dict[str, Any]:
    return {
        "id": silence.pk,
        "metric": silence.metric,
        "region": silence.region,
        "until": silence.until.isoformat(),
        "reason": silence.reason,
        "active": silence.until > timezone.now(),
        "created_by": silence.created_by.get_username() if silence.created_by else "",
        "created_at": silence.created_at.isoformat(),
    }


def silences(*, active_only: bool = True) -> list[dict[str, Any]]:
    rows = Silence.objects.select_related("created_by")
    if active_only:
        rows = rows.filter(until__gt=timezone.now())
    return [silence_data(s) for s in rows[:200]]


def alert_history(alert_id: int) -> list[dict[str, Any]] | None:
    """What happened to an alert, in order: raised, silences over it, each message sent or failed
    (channel and kind), acknowledged (who), escalated, resolved. None when there is no such
    alert."""
    from metrics.models import Alert

    alert = Alert.objects.select_related("acknowledged_by").filter(pk=alert_id).first()
    if alert is None:
        return None
    events: list[dict[str, Any]] = [
        {"at": alert.raised_at, "event": "raised", "who": "", "detail": alert.level}
    ]
    deliveries = Delivery.objects.select_related("channel").filter(
        Q(alert_id=alert_id) | Q(alert_ids__contains=[alert_id])
    )
    for delivery in deliveries:
        if delivery.status in (Delivery.Status.SENT, Delivery.Status.FAILED):
            events.append(
                {
                    "at": delivery.sent_at or delivery.created_at,
                    "event": f"{delivery.kind}_{delivery.status}",
                    "who": delivery.channel.name,
                    "detail": delivery.last_error,
                }
            )
    silences = Silence.objects.select_related("created_by").filter(
        metric=alert.metric,
        region__in=["all", alert.region],
        until__gt=alert.raised_at,
        created_at__lte=alert.resolved_at or timezone.now(),
    )
    for silence in silences:
        events.append(
            {
                "at": silence.created_at,
                "event": "silenced",
                "who": silence.created_by.get_username() if silence.created_by else "",
                "detail": f"until {timezone.localtime(silence.until):%Y-%m-%d %H:%M}: "
                f"{silence.reason}",
            }
        )
    if alert.acknowledged_at:
        who = alert.acknowledged_by.get_username() if alert.acknowledged_by else ""
        events.append(
            {"at": alert.acknowledged_at, "event": "acknowledged", "who": who, "detail": ""}
        )
    if alert.escalated_at:
        events.append({"at": alert.escalated_at, "event": "escalated", "who": "", "detail": ""})
    if alert.resolved_at:
        events.append({"at": alert.resolved_at, "event": "resolved", "who": "", "detail": ""})
    events.sort(key=lambda e: e["at"])
    return [{**e, "at": e["at"].isoformat()} for e in events]
