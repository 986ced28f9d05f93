"""The materialised metric values (one row per metric, region and business day) and the alerts
raised when a value drifts from its baseline.

Values are written only by `metrics.services.metrics_refresh` (set-based SQL); every read (panels,
series, the socket snapshot, KPI scoring) comes from this table, never from a recompute.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

REGION_MAX = 32
METRIC_MAX = 64


class Status(models.TextChoices):
    OK = "ok"
    WARN = "warn"
    CRITICAL = "critical"
    NO_DATA = "no_data"


class MetricValue(models.Model):
    """A metric's value for one region (or `all`) on one business day, with its baseline and status.

    `numerator` and `denominator` are the parts of the value (for a percentile: the number of
    values in `denominator`); `baseline` is the mean of the previous calendar month's daily values,
    `delta_pct` the relative deviation from it, `status` what the live thresholds make of it.
    """

    metric = models.CharField(max_length=METRIC_MAX)
    region = models.CharField(max_length=REGION_MAX)
    day = models.DateField()
    value = models.FloatField(null=True)
    numerator = models.FloatField(null=True)
    denominator = models.FloatField(null=True)
    baseline = models.FloatField(null=True)
    delta_pct = models.FloatField(null=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NO_DATA)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "region", "day"], name="metricvalue_metric_region_day_uniq"
            )
        ]
        indexes = [
            # panels: every metric of one region over the last 30 days
            models.Index(fields=["region", "day"], name="metricvalue_region_day_idx"),
            # a threshold change re-evaluates one metric's rows; the alert pass scans by day
            models.Index(fields=["day"], name="metricvalue_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.region} {self.day}: {self.value}"


class AlertLevel(models.TextChoices):
    WARN = "warn"
    CRITICAL = "critical"


class AlertStatus(models.TextChoices):
    OPEN = "open"
    RESOLVED = "resolved"


class Alert(models.Model):
    """A metric of a region that drifted to warn or critical on a day; resolved when its episode
    ends (that day, or any later day of the metric and region, is back to ok).

    Raised once per (metric, region, day, level), only for days of the current episode (see
    `metrics.services`, "Alert episodes"). `card_id` is the kanban card opened for it
    (filled by the kanban through `metrics.services.alert_card_attach`; metrics never imports it).
    """

    metric = models.CharField(max_length=METRIC_MAX)
    region = models.CharField(max_length=REGION_MAX)
    day = models.DateField()
    level = models.CharField(max_length=16, choices=AlertLevel.choices)
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    value = models.FloatField(null=True)
    baseline = models.FloatField(null=True)
    delta_pct = models.FloatField(null=True)
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    card_id = models.BigIntegerField(null=True, blank=True)
    # Someone took it (contract section 11): it stops the escalation.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When it was sent to the managers' channels, unacknowledged (once).
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "region", "day", "level"], name="alert_once_per_level_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["status", "-raised_at"], name="alert_status_raised_idx"),
            models.Index(fields=["metric", "region", "day"], name="alert_metric_region_day_idx"),
        ]
        ordering = ["-raised_at", "-id"]

    def __str__(self) -> str:
        return f"{self.level} {self.metric} {self.region} {self.day} ({self.status})"


class PendingRefresh(models.Model):
    """Days of one formula family that the worker has yet to recompute: at most one row per
    family, widened by every change that comes in before the worker gets to it.

    Samples arrive several times a second; each batch widens this row (in its own transaction,
    so a crash loses nothing) instead of queueing a refresh of its own. A task is queued only
    when the row is new (or its task looks lost); the task refreshes the row's days and deletes
    the row only if no change came in meanwhile (`token`), else it runs again shortly after.
    See `metrics.services.metrics_refresh_later` and `metrics_refresh_pending`.
    """

    family = models.CharField(max_length=16, primary_key=True)
    first_day = models.DateField()
    last_day = models.DateField()
    token = models.UUIDField()  # replaced by every change: "did anything come in meanwhile?"
    queued_at = models.DateTimeField()  # when a task was last queued for it

    def __str__(self) -> str:
        return f"{self.family} {self.first_day}..{self.last_day}"


class RefreshFailure(models.Model):
    """A formula family whose refresh failed over some days (a row the formulas cannot take):
    the other families went on; this one is retried by the hourly refresh and by every later
    refresh of its days, and the row is deleted once a refresh covering its days succeeds.
    Shown on the imports page and in /healthz."""

    family = models.CharField(max_length=16, primary_key=True)
    first_day = models.DateField()
    last_day = models.DateField()
    error = models.TextField()
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.family} {self.first_day}..{self.last_day}: {self.error[:60]}"


# KPI scoring's tables (metrics/kpi/models.py) belong to this app.
from metrics.kpi.models import (  # noqa: E402
    KPIDefinition,
    KPISetChange,
    QuarterClosing,
    ReviewAction,
    ReviewExport,
)

__all__ = [
    "Alert",
    "AlertLevel",
    "AlertStatus",
    "KPIDefinition",
    "KPISetChange",
    "MetricValue",
    "PendingRefresh",
    "QuarterClosing",
    "RefreshFailure",
    "ReviewAction",
    "ReviewExport",
    "Status",
]


# Notification channels and deliveries live in metrics/notify (alerts live here).
from metrics.notify.models import Channel, Delivery, DeliveryAttempt, Silence  # noqa: E402, F401
