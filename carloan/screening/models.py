"""Stored state of screening (contract section 10): the shared blacklist and each application's
six cross-checks. Identifiers are stored only as keyed hashes with their last four characters
(`carloan.screening.identifiers`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from carloan.models import IDENTIFIER_MAX


class BlacklistEntry(models.Model):
    """One listed applicant, phone, VIN, dealer or device (import kind `blacklist`)."""

    entry_id = models.CharField(max_length=64, primary_key=True)
    type = models.CharField(max_length=16)
    value = models.CharField(max_length=IDENTIFIER_MAX, help_text="Keyed hash and last four.")
    reason = models.CharField(max_length=500)
    added_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    # NULL when not given (the import writes an empty optional choice as NULL)
    department = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001

    class Meta:
        db_table = "screening_blacklist_entry"
        indexes = [models.Index(fields=["type", "value"], name="blacklist_type_value_idx")]


class BlacklistChange(models.Model):
    """One change to the blacklist, and its history: a department head proposes adding, changing
    or removing an entry and risk control confirms it (four-eyes: the confirmer is not the
    proposer); or risk control imports entries (recorded as confirmed at once, `source`
    import). The entry is written only when the change is confirmed."""

    class Action(models.TextChoices):
        ADD = "add"
        CHANGE = "change"
        REMOVE = "remove"

    class Status(models.TextChoices):
        PENDING = "pending"
        CONFIRMED = "confirmed"
        REJECTED = "rejected"
        WITHDRAWN = "withdrawn"

    class Source(models.TextChoices):
        PROPOSAL = "proposal"
        IMPORT = "import"

    action = models.CharField(max_length=8, choices=Action.choices)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.PROPOSAL)
    entry_id = models.CharField(max_length=64, db_index=True)
    type = models.CharField(max_length=16)
    value = models.CharField(max_length=IDENTIFIER_MAX, help_text="Keyed hash and last four.")
    # The entry as it would be after the change (for add and change) ...
    reason = models.CharField(max_length=500, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    department = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001
    # ... and as it stood when the change was proposed (change and remove): a confirmation
    # finding the entry otherwise is refused as stale (409).
    before = models.JSONField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True, default="", help_text="Why, in words.")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "screening_blacklist_change"
        ordering = ["-proposed_at", "-id"]
        indexes = [
            models.Index(
                fields=["proposed_at"],
                name="blacklist_change_pending_idx",
                condition=models.Q(status="pending"),
            )
        ]


class Check(models.TextChoices):
    PASS = "pass"  # noqa: S105 (a check's outcome, not a password)
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


CHECK_KEYS = ("blacklist", "shared_phone", "vin_reuse", "ltv", "debt_to_income", "shared_device")


class ApplicationCheck(models.Model):
    """The six cross-checks of one application as they stand (re-made by set-based SQL for the
    applications an arrival, a blacklist change or a threshold change affects)."""

    application_id = models.CharField(max_length=64, primary_key=True)
    blacklist = models.CharField(max_length=16, choices=Check.choices)
    shared_phone = models.CharField(max_length=16, choices=Check.choices)
    vin_reuse = models.CharField(max_length=16, choices=Check.choices)
    ltv = models.CharField(max_length=16, choices=Check.choices)
    debt_to_income = models.CharField(max_length=16, choices=Check.choices)
    shared_device = models.CharField(max_length=16, choices=Check.choices)
    failed = models.PositiveSmallIntegerField(help_text="How many of the six failed.")
    flagged = models.BooleanField()
    checked_at = models.DateTimeField()
    status = models.CharField(
        max_length=16,
        default="open",
        db_default="open",
        help_text="open, or cleared by risk control (a flag reviewed and let through)",
    )
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "screening_application_check"
        indexes = [
            models.Index(
                fields=["checked_at"],
                name="app_check_flagged_idx",
                condition=models.Q(flagged=True),
            )
        ]


class PrescreenDecision(models.Model):
    """One lead pre-screened for marketing (`POST /api/leads/prescreen/`): what was decided, for
    whom (identifiers as keyed hashes), so invited leads whose application is later declined
    give the false-invitation rate."""

    at = models.DateTimeField()
    region = models.CharField(max_length=32)
    channel = models.CharField(max_length=64)
    applicant_key = models.CharField(max_length=IDENTIFIER_MAX, blank=True, default="")
    phone = models.CharField(max_length=IDENTIFIER_MAX, blank=True, default="")
    decision = models.CharField(max_length=8)
    lead_score = models.SmallIntegerField(null=True, blank=True)
    credit_score = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        db_table = "screening_prescreen"
        indexes = [
            models.Index(fields=["at"], name="prescreen_at_idx"),
            models.Index(
                fields=["applicant_key", "at"],
                name="prescreen_applicant_idx",
                condition=~models.Q(applicant_key=""),
            ),
        ]
