"""Stored state of people and access: API tokens (hashes only)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """One API token of a person: only its SHA-256 and its first characters (to recognise it in
    a list) are kept; the token itself is shown once, when it is made."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise it.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "people_api_token"
        ordering = ["-created_at", "-id"]


class AuditEvent(models.Model):
    """Something a person did or was refused that an auditor asks about: sign-ins and their
    failures, permission refusals, role changes, deactivations, tokens made and revoked, exports.
    (Parameter changes and imports keep their own records; the audit trail reads those too.)"""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=40, db_index=True)
    target = models.CharField(max_length=200, blank=True, default="")
    detail = models.CharField(max_length=500, blank=True, default="")
    ip = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        db_table = "people_audit_event"
        ordering = ["-at", "-id"]
