"""Stored state of KPI scoring: each department's KPIs, every change of a KPI set, and the
quarters a manager closed (their scorecards frozen with the inputs they came from).

Imported by `metrics.models`, so the tables belong to the metrics app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from metrics.kpi.scoring import DEPARTMENTS

DEPARTMENT_CHOICES = [(d, d) for d in DEPARTMENTS]


class KPIDefinition(models.Model):
    """One KPI of a department: a metric, the value that scores 100 (target), the one that scores
    0 (threshold), its weight of 100, and whether it counts as collaboration."""

    department = models.CharField(max_length=16, choices=DEPARTMENT_CHOICES)
    position = models.PositiveSmallIntegerField(default=0)
    metric = models.CharField(max_length=64)
    target = models.FloatField()
    threshold = models.FloatField()
    weight = models.FloatField()
    collaboration = models.BooleanField(default=False)

    class Meta:
        app_label = "metrics"
        db_table = "kpi_definition"
        ordering = ["department", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["department", "metric"], name="kpi_department_metric")
        ]

    def __str__(self) -> str:
        return f"{self.department}: {self.metric} ({self.weight:g})"


class KPISetChange(models.Model):
    """One replacement of a department's KPI set: who, when, the set before and after, and why.
    `version` counts the department's sets (1 is the set installed by the migration)."""

    department = models.CharField(max_length=16, choices=DEPARTMENT_CHOICES)
    version = models.PositiveIntegerField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()
    old_set = models.JSONField(default=list)
    new_set = models.JSONField(default=list)
    reason = models.TextField(blank=True, default="")

    class Meta:
        app_label = "metrics"
        db_table = "kpi_set_change"
        ordering = ["department", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["department", "version"], name="kpi_set_change_version")
        ]

    def __str__(self) -> str:
        return f"{self.department} KPI set v{self.version}"


class QuarterClosing(models.Model):
    """A quarter closed by a manager: its scorecards frozen as they were, with their inputs
    (actuals, the KPI sets and the parameter values in force). Reopening fills `reopened_*`; the
    quarter is frozen while one of its closings has not been reopened."""

    quarter = models.CharField(max_length=6)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField()
    reason = models.TextField(blank=True, default="")
    scorecards = models.JSONField()
    inputs = models.JSONField()
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.TextField(blank=True, default="")

    class Meta:
        app_label = "metrics"
        db_table = "kpi_quarter_closing"
        ordering = ["-closed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["quarter"],
                condition=models.Q(reopened_at__isnull=True),
                name="kpi_quarter_closed_once",
            )
        ]

    def __str__(self) -> str:
        state = "reopened" if self.reopened_at else "closed"
        return f"{self.quarter} {state}"


class ReviewExport(models.Model):
    """A PDF of a quarter's review that someone asked for: printed by the worker (a headless
    Chromium takes seconds, too long to hold a web request), kept a day for its download."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RENDERING = "rendering"
        DONE = "done"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True)
    quarter = models.CharField(max_length=6)
    language = models.CharField(max_length=16)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    document = models.BinaryField(null=True, blank=True, editable=False)
    pages = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        app_label = "metrics"
        db_table = "kpi_review_export"
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["status", "requested_at"], name="kpi_export_status_idx")]

    def __str__(self) -> str:
        return f"{self.quarter} PDF ({self.status})"


class ReviewAction(models.Model):
    """A decision of a quarterly review (contract section 7a): what is to be done, by which
    department, by when, and the metric it aims at. Its card on the kanban carries the work; its
    status is read from the card."""

    quarter = models.CharField(max_length=6, help_text="The review that decided it.")
    title = models.CharField(max_length=200)
    department = models.CharField(max_length=16, choices=DEPARTMENT_CHOICES)
    due_date = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    metric = models.CharField(max_length=64, blank=True, default="")
    card_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["quarter", "due_date", "id"]
        indexes = [models.Index(fields=["quarter"], name="review_action_quarter_idx")]
