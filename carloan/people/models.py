"""Stored state of people and access: API tokens (hashes only), the audit trail, saved views."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


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


class SavedView(models.Model):
    """A page as someone left it (its path and query string: region, period, comparison, board
    filters), kept under a name; when shared, every colleague finds it in their menu and may
    open it by its link. A person's start page is one of these (`Profile.start_view`)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=80)
    path = models.CharField(max_length=200, help_text="A page of this site, e.g. /kanban/.")
    query = models.CharField(max_length=1000, blank=True, default="", help_text="Without '?'.")
    shared = models.BooleanField(default=False)
    slug = models.CharField(max_length=16, unique=True, help_text="Of its link, /v/<slug>/.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "people_saved_view"
        ordering = ["name", "id"]
        constraints = [
            # One name once per person, whatever its case ("Risk" and "risk" would confuse).
            models.UniqueConstraint(
                "owner", Lower("name"), name="people_saved_view_owner_name_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["name"], condition=models.Q(shared=True), name="people_saved_view_shared"
            )
        ]

    def __str__(self) -> str:
        return self.name
