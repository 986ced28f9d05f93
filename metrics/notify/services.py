"""Writes of notifications (contract section 11).

- **Channels** are managed by managers: a webhook (generic, WeCom, DingTalk or Feishu payload,
  optionally signed with a secret that is never answered again) or an e-mail address, for a
  department (its metrics' alerts at or above `min_status`) or for the managers (escalations).
- **Deliveries**: when a refresh raises alerts, each enabled channel of their department gets
  one message per alert, or one digest when more than `DIGEST_AT` of its alerts rose together;
  a channel that got an alert message less than `GROUP_SECONDS` ago has the next ones held and
  sent together when the minute is over (`flush_held`: a digest, or the one alert alone), so a
  channel hears at most once a minute (no storms). Alerts of old days (a backfill) and silenced
  metrics send nothing. A delivery is
  sent from the worker (`metrics.notify_deliver`), retried with backoff (`RETRY_DELAYS`: the
  first retry within 30 s), every attempt logged; a target refused or a redirect is final.
- **Acknowledge**: who and when are kept, pushed live (`alert.acknowledged`); it stops the
  escalation.
- **Escalate**: a critical alert still open and unacknowledged `alert.escalate_after_minutes`
  after it was raised is sent, once, to the managers' channels (`metrics.notify_escalate`, every
  minute).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from carloan import departments
from carloan.errors import Conflict
from carloan.parameters.selectors import parameter_values
from carloan.realtime import broadcast
from carloan.roles import can_edit, is_manager
from metrics.events import ALERTS_GROUP, AlertData
from metrics.models import Alert
from metrics.notify import payloads
from metrics.notify.models import Channel, Delivery, DeliveryAttempt, Silence
from metrics.notify.targets import RefusedTarget, check_email, check_webhook
from metrics.registry import METRICS

logger = logging.getLogger(__name__)

DEPARTMENTS = (*departments.DEPARTMENTS, "managers")  # "managers": escalations only
MIN_STATUSES = ("warn", "critical")
DIGEST_AT = 3  # more alerts than this for one channel at once: one digest instead
GROUP_SECONDS = 60  # a channel gets at most one alert message (or digest) a minute
RETRY_DELAYS = (10, 30, 120, 600, 1800)  # seconds before each retry
TIMEOUT_SECONDS = 5.0
MAX_ALERT_AGE_DAYS = 3  # alerts of older days (a backfill) are not sent
ESCALATE_KEY = "alert.escalate_after_minutes"
MAX_SECRET = 200


def require_manager(user: Any) -> None:
    if user is None or not is_manager(user):
        raise PermissionDenied("Only managers may manage notification channels.")


# --- channels ------------------------------------------------------------------------------------


def _clean_channel(data: Mapping[str, Any], current: Channel | None = None) -> dict[str, Any]:
    """The channel's fields as stored, or ValidationError naming each bad field."""
    errors: dict[str, list[str]] = {}
    merged = {
        "name": current.name if current else "",
        "kind": current.kind if current else "",
        "preset": current.preset if current else Channel.Preset.GENERIC,
        "target": current.target if current else "",
        "department": current.department if current else "",
        "min_status": current.min_status if current else "warn",
        "enabled": current.enabled if current else True,
        **{k: v for k, v in data.items() if k != "secret"},
    }
    if merged["kind"] not in Channel.Kind.values:
        errors["kind"] = ["webhook or email."]
    if merged["preset"] not in Channel.Preset.values:
        errors["preset"] = [f"One of {', '.join(Channel.Preset.values)}."]
    if merged["department"] not in DEPARTMENTS:
        errors["department"] = [f"One of {', '.join(DEPARTMENTS)}."]
    if merged["min_status"] not in MIN_STATUSES:
        errors["min_status"] = ["warn or critical."]
    name = str(merged["name"] or "").strip()
    if len(name) > 100:
        errors["name"] = ["At most 100 characters."]
    try:
        if merged["kind"] == Channel.Kind.WEBHOOK:
            merged["target"] = check_webhook(str(merged["target"]))
        elif merged["kind"] == Channel.Kind.EMAIL:
            merged["target"] = check_email(str(merged["target"]))
            if not settings.EMAIL_URL:
                errors.setdefault("kind", []).append(
                    "E-mail needs an SMTP server: set EMAIL_URL (smtp://host:port)."
                )
    except RefusedTarget as exc:
        errors["target"] = [str(exc)]
    if "secret" in data and len(str(data["secret"] or "")) > MAX_SECRET:
        errors["secret"] = [f"At most {MAX_SECRET} characters."]
    if errors:
        raise ValidationError(errors)
    merged["name"] = name or f"{merged['department']} {merged['kind']}"
    return merged


def channel_create(*, user: Any, **data: Any) -> Channel:
    require_manager(user)
    fields = _clean_channel(data)
    now = timezone.now()
    return Channel.objects.create(
        **{k: fields[k] for k in ("name", "kind", "preset", "target", "department", "min_status")},
        enabled=bool(fields["enabled"]),
        secret=str(data.get("secret") or ""),
        created_by=user,
        created_at=now,
        updated_at=now,
    )


def channel_update(*, user: Any, channel_id: int, **data: Any) -> Channel:
    """Change a channel; a `secret` given replaces the stored one ('' removes it)."""
    require_manager(user)
    with transaction.atomic():
        channel = Channel.objects.select_for_update().filter(pk=channel_id).first()
        if channel is None:
            raise Http404(f"There is no channel {channel_id}.")
        fields = _clean_channel(data, channel)
        for name in ("name", "kind", "preset", "target", "department", "min_status"):
            setattr(channel, name, fields[name])
        channel.enabled = bool(fields["enabled"])
        if "secret" in data:
            channel.secret = str(data["secret"] or "")
        channel.updated_at = timezone.now()
        channel.save()
    return channel


def channel_delete(*, user: Any, channel_id: int) -> None:
    require_manager(user)
    deleted, _ = Channel.objects.filter(pk=channel_id).delete()
    if not deleted:
        raise Http404(f"There is no channel {channel_id}.")


def channel_test(*, user: Any, channel_id: int) -> Delivery:
    """Queue a test message to a channel (the page's "send a test")."""
    require_manager(user)
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise Http404(f"There is no channel {channel_id}.")
    delivery = Delivery.objects.create(
        channel=channel, kind=Delivery.Kind.TEST, created_at=timezone.now(), requested_by=user
    )
    _queue([delivery.pk])
    return delivery


# --- deliveries ----------------------------------------------------------------------------------


def _queue(delivery_ids: Sequence[int], countdown: float = 0) -> None:
    if not delivery_ids:
        return
    from metrics.tasks import notify_deliver

    ids = list(delivery_ids)
    transaction.on_commit(
        lambda: [notify_deliver.apply_async((i,), countdown=countdown) for i in ids], robust=True
    )


def _silenced(alert: Mapping[str, Any], silences: Sequence[Silence]) -> bool:
    return any(
        s.metric == alert["metric"] and s.region in ("all", alert["region"]) for s in silences
    )


def alerts_raised(alerts: Sequence[Mapping[str, Any]], today: dt.date | None = None) -> list[int]:
    """Create the deliveries of newly raised alerts (AlertData) and queue them; their ids."""
    today = today or timezone.localdate()
    recent = [
        a
        for a in alerts
        if dt.date.fromisoformat(str(a["day"])) >= today - dt.timedelta(days=MAX_ALERT_AGE_DAYS)
    ]
    if not recent:
        return []
    now = timezone.now()
    silences = list(Silence.objects.filter(until__gt=now))
    recent = [a for a in recent if not _silenced(a, silences)]
    channels = list(
        Channel.objects.filter(
            enabled=True, department__in={a["department"] for a in recent if a["department"]}
        )
    )
    rows: list[Delivery] = []
    flushes: dict[int, dt.datetime] = {}
    for channel in channels:
        mine = [
            a
            for a in recent
            if a["department"] == channel.department
            and (channel.min_status == "warn" or a["level"] == "critical")
        ]
        if not mine:
            continue
        hold_until = _hold_until(channel, now)
        if hold_until is not None:
            # The channel heard from us less than a minute ago: hold these for one digest.
            rows += [
                Delivery(
                    channel=channel,
                    kind=Delivery.Kind.ALERT,
                    alert_id=a["id"],
                    created_at=now,
                    hold_until=hold_until,
                )
                for a in mine
            ]
            flushes[channel.pk] = hold_until
        elif len(mine) > DIGEST_AT:
            rows.append(
                Delivery(
                    channel=channel,
                    kind=Delivery.Kind.DIGEST,
                    alert_ids=[a["id"] for a in mine],
                    created_at=now,
                )
            )
        else:
            rows += [
                Delivery(
                    channel=channel, kind=Delivery.Kind.ALERT, alert_id=a["id"], created_at=now
                )
                for a in mine
            ]
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    # ignore_conflicts leaves the primary keys unset: read back the pending ones just made
    ids = list(
        Delivery.objects.filter(
            created_at=now, status=Delivery.Status.PENDING, hold_until__isnull=True
        ).values_list("pk", flat=True)
    )
    _queue(ids)
    for channel_id, at in flushes.items():
        _queue_flush(channel_id, max(0.0, (at - now).total_seconds()))
    return ids


def _hold_until(channel: Channel, now: dt.datetime) -> dt.datetime | None:
    """When the alerts raised now for `channel` may go out: the end of the group already held,
    or a minute after its last alert message; None when they may go at once."""
    held = (
        Delivery.objects.filter(
            channel=channel, status=Delivery.Status.PENDING, hold_until__isnull=False
        )
        .order_by("hold_until")
        .values_list("hold_until", flat=True)
        .first()
    )
    if held is not None:
        return held
    last = (
        Delivery.objects.filter(
            channel=channel,
            kind__in=[Delivery.Kind.ALERT, Delivery.Kind.DIGEST],
            hold_until__isnull=True,
            created_at__gt=now - dt.timedelta(seconds=GROUP_SECONDS),
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return last + dt.timedelta(seconds=GROUP_SECONDS) if last is not None else None


def _queue_flush(channel_id: int, countdown: float) -> None:
    from metrics.tasks import notify_flush

    transaction.on_commit(
        lambda: notify_flush.apply_async((channel_id,), countdown=countdown), robust=True
    )


def flush_held(channel_id: int | None = None, now: dt.datetime | None = None) -> list[int]:
    """Send what was held for a channel (or every channel) whose minute is over: one digest when
    several alerts were held, the alert alone when one was. The deliveries queued."""
    now = now or timezone.now()
    queued: list[int] = []
    with transaction.atomic():
        held = Delivery.objects.select_for_update(skip_locked=True).filter(
            status=Delivery.Status.PENDING, hold_until__lte=now
        )
        if channel_id is not None:
            held = held.filter(channel_id=channel_id)
        by_channel: dict[int, list[Delivery]] = {}
        for delivery in held.order_by("channel_id", "alert_id"):
            by_channel.setdefault(delivery.channel_id, []).append(delivery)
        for channel, rows in by_channel.items():
            if len(rows) == 1:
                rows[0].hold_until = None
                rows[0].save(update_fields=["hold_until"])
                queued.append(rows[0].pk)
                continue
            digest = Delivery.objects.create(
                channel_id=channel,
                kind=Delivery.Kind.DIGEST,
                alert_ids=[d.alert_id for d in rows],
                created_at=now,
            )
            Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(
                status=Delivery.Status.GROUPED, last_error=f"Sent in digest #{digest.pk}."
            )
            queued.append(digest.pk)
    _queue(queued)
    return queued


def _message_alerts(delivery: Delivery) -> list[AlertData]:
    from metrics.selectors import alerts_by_id

    if delivery.kind == Delivery.Kind.DIGEST:
        return alerts_by_id(delivery.alert_ids)
    if delivery.alert_id is not None:
        return alerts_by_id([delivery.alert_id])
    return []


def _names() -> dict[str, str]:
    return {key: d.name_en for key, d in METRICS.items()}


def _send_webhook(channel: Channel, data: bytes) -> tuple[int | None, str]:
    """(HTTP status, error) of one POST; the error is '' when it was accepted (2xx)."""
    import httpx

    try:
        check_webhook(channel.target)
    except RefusedTarget as exc:
        raise _Final(str(exc)) from None
    headers = {"Content-Type": "application/json", "User-Agent": "carloan-kpi-notify/1"}
    if channel.secret:
        headers[payloads.SIGNATURE_HEADER] = payloads.signature(channel.secret, data)
    try:
        response = httpx.post(
            channel.target,
            content=data,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 300 <= response.status_code < 400:
        raise _Final(f"HTTP {response.status_code}: redirects are not followed.")
    if response.status_code >= 300:
        return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"
    return response.status_code, ""


def _send_email(channel: Channel, subject: str, text: str) -> str:
    from django.core.mail import send_mail

    try:
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [channel.target])
    except Exception as exc:  # any SMTP failure is a failed attempt
        return f"{type(exc).__name__}: {exc}"[:500]
    return ""


class _Final(Exception):
    """A failure no retry can mend (a refused target, a redirect)."""


def deliver(delivery_id: int) -> float | None:
    """One attempt of a pending delivery; the seconds before the next attempt, or None when it
    is done (sent, failed for good, skipped)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("channel")
            .filter(pk=delivery_id, status=Delivery.Status.PENDING)
            .first()
        )
        if delivery is None or (delivery.hold_until and delivery.hold_until > timezone.now()):
            return None  # done, or held for a digest (flush_held sends it)
        channel = delivery.channel
        if not channel.enabled:
            delivery.status = Delivery.Status.SKIPPED
            delivery.last_error = "The channel is disabled."
            delivery.save(update_fields=["status", "last_error"])
            return None
        alerts = _message_alerts(delivery)
        names = _names()
        started = time.monotonic()
        status_code: int | None = None
        final = False
        try:
            if channel.kind == Channel.Kind.WEBHOOK:
                data = payloads.body(
                    channel.preset, delivery.kind, alerts, names, settings.SITE_URL
                )
                status_code, error = _send_webhook(channel, data)
            else:
                text = payloads.text_of(delivery.kind, alerts, names)
                links = "\n".join(
                    payloads.alert_json(a, settings.SITE_URL)["acknowledge_url"] for a in alerts
                )
                subject = f"[car-loan KPI] {text.splitlines()[0][:150]}" if text else "Alert"
                error = _send_email(channel, subject, f"{text}\n\n{links}".strip())
        except _Final as exc:
            error, final = str(exc), True
        delivery.attempts += 1
        DeliveryAttempt.objects.create(
            delivery=delivery,
            at=timezone.now(),
            ok=not error,
            status_code=status_code,
            error=error[:500],
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        retry = None
        if not error:
            delivery.status = Delivery.Status.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
        else:
            delivery.last_error = error[:500]
            if final or delivery.attempts > len(RETRY_DELAYS):
                delivery.status = Delivery.Status.FAILED
                logger.warning(
                    "delivery %s to channel %s failed: %s", delivery.pk, channel.pk, error
                )
            else:
                retry = float(RETRY_DELAYS[delivery.attempts - 1])
        delivery.save(update_fields=["status", "attempts", "last_error", "sent_at"])
    return retry


# --- acknowledge and escalate --------------------------------------------------------------------


def alert_acknowledge(*, alert_id: int, user: Any) -> AlertData:
    """Someone took the alert: kept with who and when, pushed live to every open dashboard.
    Department heads and managers; Conflict (409) when it was acknowledged already."""
    from metrics.selectors import advance_read_generations, alert_data

    if user is None or not can_edit(user):
        raise PermissionDenied("Only department heads and managers may acknowledge alerts.")
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update(of=("self",))
            .select_related("acknowledged_by")
            .filter(pk=alert_id)
            .first()
        )
        if alert is None:
            raise Http404(f"There is no alert {alert_id}.")
        if alert.acknowledged_at is not None:
            who = alert.acknowledged_by.get_username() if alert.acknowledged_by else "someone"
            raise Conflict(
                f"Alert {alert_id} was already acknowledged by {who}.", alert_data(alert)
            )
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = user
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        data = alert_data(alert)
        transaction.on_commit(lambda: advance_read_generations(values=False), robust=True)
        broadcast(ALERTS_GROUP, {"type": "alert.acknowledged", "alert": data})
    return data


def escalate_due(now: dt.datetime | None = None) -> list[int]:
    """Send, once, every critical alert still open and unacknowledged after
    `alert.escalate_after_minutes` to the managers' channels; the escalated alerts' ids."""
    from metrics.selectors import advance_read_generations

    now = now or timezone.now()
    minutes = int(parameter_values()[ESCALATE_KEY])
    with transaction.atomic():
        due = list(
            Alert.objects.select_for_update(skip_locked=True)
            .filter(
                level="critical",
                status="open",
                acknowledged_at__isnull=True,
                escalated_at__isnull=True,
                raised_at__lte=now - dt.timedelta(minutes=minutes),
                day__gte=timezone.localdate(now) - dt.timedelta(days=MAX_ALERT_AGE_DAYS),
            )
            .order_by("raised_at", "id")
        )
        if not due:
            return []
        Alert.objects.filter(pk__in=[a.pk for a in due]).update(escalated_at=now)
        transaction.on_commit(lambda: advance_read_generations(values=False), robust=True)
        channels = list(Channel.objects.filter(enabled=True, department="managers"))
        rows = [
            Delivery(channel=c, kind=Delivery.Kind.ESCALATION, alert=a, created_at=now)
            for c in channels
            for a in due
        ]
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        ids = list(
            Delivery.objects.filter(
                kind=Delivery.Kind.ESCALATION, created_at=now, status=Delivery.Status.PENDING
            ).values_list("pk", flat=True)
        )
        _queue(ids)
        for alert in due:
            broadcast(ALERTS_GROUP, {"type": "alert.escalated", "alert": _alert_data(alert.pk)})
    return [a.pk for a in due]


def _alert_data(alert_id: int) -> AlertData:
    from metrics.selectors import alerts_by_id

    return alerts_by_id([alert_id])[0]


# --- silences ------------------------------------------------------------------------------------


def silence_create(
    *, user: Any, metric: str, region: str, until: dt.datetime, reason: str
) -> Silence:
    """No message for the metric in the region ('all': every region) until `until`."""
    if user is None or not can_edit(user):
        raise PermissionDenied("Only department heads and managers may silence alerts.")
    errors: dict[str, list[str]] = {}
    if metric not in METRICS:
        errors["metric"] = ["One of the fourteen metric keys."]
    if not region or len(region) > 32:
        errors["region"] = ["A region code, or all."]
    if until <= timezone.now():
        errors["until"] = ["Is not in the future."]
    elif until > timezone.now() + dt.timedelta(days=30):
        errors["until"] = ["At most 30 days ahead."]
    if not (reason or "").strip():
        errors["reason"] = ["Say why, in a few words."]
    if errors:
        raise ValidationError(errors)
    silence = Silence.objects.create(
        metric=metric,
        region=region,
        until=until,
        reason=reason.strip()[:500],
        created_by=user,
        created_at=timezone.now(),
    )
    _silences_changed()
    return silence


def _silences_changed() -> None:
    """Every open dashboard and metric page shows which alerts are silenced (after commit)."""
    from metrics.notify.selectors import silences

    broadcast(ALERTS_GROUP, {"type": "silence.changed", "silences": silences()})


def silence_end(*, user: Any, silence_id: int) -> Silence:
    if user is None or not can_edit(user):
        raise PermissionDenied("Only department heads and managers may end silences.")
    silence = Silence.objects.filter(pk=silence_id).first()
    if silence is None:
        raise Http404(f"There is no silence {silence_id}.")
    silence.until = min(silence.until, timezone.now())
    silence.save(update_fields=["until"])
    _silences_changed()
    return silence


__all__ = [
    "alert_acknowledge",
    "alerts_raised",
    "channel_create",
    "channel_delete",
    "channel_test",
    "channel_update",
    "deliver",
    "escalate_due",
    "silence_create",
    "silence_end",
]
