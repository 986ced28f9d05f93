"""Stored state of the live parameters: current values, every change, and change requests.

A parameter that was never changed has no row: it reads its registry default as version 1.
The first change stores that default row (version 1) and moves it on to version 2, so the
history always says what the value was before.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Parameter(models.Model):
    """The current value of one live parameter and its version (bumped by every change)."""

    key = models.CharField(max_length=128, primary_key=True)
    value = models.JSONField()
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "parameters_parameter"

    def __str__(self) -> str:
        return f"{self.key}={self.value!r} (v{self.version})"


class ChangeRequest(models.Model):
    """A proposed change of risk thresholds, waiting for a second manager (four-eyes)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    class Source(models.TextChoices):
        MANUAL = "manual"
        CALIBRATION = "calibration"

    class Action(models.TextChoices):
        SET = "set"
        REVERT = "revert"
        PRESET = "preset"

    changes = models.JSONField(help_text="{key: proposed value}")
    base_versions = models.JSONField(help_text="{key: version the proposal was made against}")
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.SET)
    reason = models.TextField(blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    evidence = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "parameters_change_request"
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"], name="param_request_status_idx")]

    def __str__(self) -> str:
        return f"request #{self.pk} {self.status}: {self.changes}"


class ParameterChange(models.Model):
    """One change of one parameter: who, when, from what, to what and why (the history)."""

    class Action(models.TextChoices):
        SET = "set"
        REVERT = "revert"
        PRESET = "preset"
        APPROVAL = "approval"

    key = models.CharField(max_length=128)
    version = models.PositiveIntegerField(help_text="The version this change made")
    old_value = models.JSONField()
    new_value = models.JSONField()
    reason = models.TextField(blank=True, default="")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()
    change_set = models.UUIDField(default=uuid.uuid4, help_text="Changes made together share it")
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.SET)
    request = models.ForeignKey(
        ChangeRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="applied"
    )

    class Meta:
        db_table = "parameters_change"
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="parameter_change_version_uniq")
        ]
        indexes = [models.Index(fields=["change_set"], name="param_change_set_idx")]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}: {self.old_value!r} → {self.new_value!r}"
