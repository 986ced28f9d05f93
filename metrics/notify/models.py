"""Stored state of notifications: channels, deliveries and their attempts, silences."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Channel(models.Model):
    """Where alerts of a department (or the managers' escalations) are sent."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook"
        EMAIL = "email"

    class Preset(models.TextChoices):
        GENERIC = "generic"
        WECOM = "wecom"
        DINGTALK = "dingtalk"
        FEISHU = "feishu"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    preset = models.CharField(max_length=10, choices=Preset.choices, default=Preset.GENERIC)
    target = models.CharField(max_length=500, help_text="An http(s) URL or an e-mail address.")
    department = models.CharField(
        max_length=16, help_text="marketing, risk, tech, or managers (escalations only)."
    )
    min_status = models.CharField(max_length=8, default="warn", help_text="warn or critical")
    # Signs webhook bodies (HMAC-SHA256); written once, never answered.
    secret = models.CharField(max_length=200, blank=True, default="")
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "notify_channel"
        ordering = ["department", "name", "id"]


class Delivery(models.Model):
    """One message to one channel: an alert (once per alert and channel), a digest of several
    alerts raised together, an escalation, or a test. Sent from the worker with retries."""

    class Kind(models.TextChoices):
        ALERT = "alert"
        DIGEST = "digest"
        ESCALATION = "escalation"
        TEST = "test"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"  # every retry failed
        SKIPPED = "skipped"  # the channel was disabled meanwhile
        GROUPED = "grouped"  # held, then sent within a digest (see `last_error`)

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    alert = models.ForeignKey(
        "metrics.Alert", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    alert_ids = models.JSONField(default=list, blank=True, help_text="A digest's alerts.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Held: the channel got a message less than a minute ago; alerts held together until then go
    # out as one digest (or alone, when only one was held).
    hold_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "notify_delivery"
        ordering = ["-created_at", "-id"]
        constraints = [
            # One message per alert and channel (and one escalation per alert and channel).
            models.UniqueConstraint(
                fields=["channel", "alert", "kind"],
                condition=models.Q(kind__in=["alert", "escalation"]),
                name="notify_once_per_alert",
            )
        ]
        indexes = [models.Index(fields=["channel", "-created_at"], name="notify_delivery_ch_idx")]


class DeliveryAttempt(models.Model):
    """One try of a delivery: when, how long, what came back."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField()
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "notify_attempt"
        ordering = ["-at", "-id"]


class Silence(models.Model):
    """No message for a metric (and a region, or all) until `until`: alerts are still raised and
    shown, only not sent."""

    metric = models.CharField(max_length=64)
    region = models.CharField(max_length=32, help_text="A region, or 'all' for every region.")
    until = models.DateTimeField()
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        db_table = "notify_silence"
        ordering = ["-until", "-id"]
