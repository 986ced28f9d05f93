"""Stored state of risk collaboration (contract section 9): the phrase library as risk control
edited it, sales scripts and their review, checked calls and reviewers' verdicts.

A library category that was never edited has no row: it reads its shipped definition
(`library.CATEGORIES`) as version 1, as a parameter reads its registry default. The first edit
stores the row at version 2, and every edit keeps the before and after in `PhraseCategoryChange`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import MD5

REGION_MAX = 32
MAX_TRANSCRIPT = 20_000


class Severity(models.TextChoices):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class PhraseCategory(models.Model):
    """Risk control's current definition of one of the 23 categories."""

    key = models.CharField(max_length=48, primary_key=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    patterns = models.JSONField(help_text="Regular expressions over folded text; {N} = a number.")
    suggestion_en = models.TextField()
    suggestion_zh = models.TextField()
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "compliance_category"

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


class PhraseCategoryChange(models.Model):
    """One edit of a category: who, when, why, what it was and what it became."""

    key = models.CharField(max_length=48)
    version = models.PositiveIntegerField(help_text="The version this edit made")
    old = models.JSONField(help_text="{severity, patterns, suggestion_en, suggestion_zh} before")
    new = models.JSONField(help_text="The same, after")
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        db_table = "compliance_category_change"
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="category_change_version_uniq")
        ]


class ScriptState(models.TextChoices):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    NEEDS_REVIEW = "needs_review"
    RETIRED = "retired"


class Script(models.Model):
    """A sales script (话术): written by marketing, approved by risk control, re-checked whenever
    the library or a parameter it depends on changes."""

    title = models.CharField(max_length=200)
    channel = models.CharField(max_length=32)
    text = models.TextField()
    state = models.CharField(max_length=16, choices=ScriptState.choices, default=ScriptState.DRAFT)
    version = models.PositiveIntegerField(default=1)
    findings = models.JSONField(default=list)
    compliant = models.BooleanField(default=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_against = models.JSONField(
        default=dict, help_text="The live parameter values and library versions of the last check."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField()
    review_note = models.TextField(blank=True, default="")

    class Meta:
        db_table = "compliance_script"
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["state"], name="script_state_idx")]

    def __str__(self) -> str:
        return f"script #{self.pk} {self.title} ({self.state})"


class ScriptRevision(models.Model):
    """The history of a script: every edit and every change of state, with who and why."""

    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    action = models.CharField(max_length=24)
    state = models.CharField(max_length=16, choices=ScriptState.choices)
    title = models.CharField(max_length=200)
    text = models.TextField()
    findings = models.JSONField(default=list)
    note = models.TextField(blank=True, default="")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        db_table = "compliance_script_revision"
        ordering = ["script_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["script", "version"], name="script_revision_uniq")
        ]


class Call(models.Model):
    """A sales call's transcript (import kind `calls`, or POSTed) and what its check found."""

    call_id = models.CharField(max_length=64, primary_key=True)
    started_at = models.DateTimeField()
    region = models.CharField(max_length=REGION_MAX)
    agent = models.CharField(max_length=64)
    transcript = models.TextField()
    lead_id = models.CharField(max_length=64, blank=True, default="")
    script_id = models.CharField(max_length=64, blank=True, default="")
    # outbound or inbound; NULL when not given (the import writes an empty choice as NULL)
    direction = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001
    # What the check found, for the transcript whose md5 is `checked_hash` ('' = not checked
    # yet). The import writes only the columns above, so these have database defaults.
    transcript_md5 = models.GeneratedField(
        expression=MD5("transcript"), output_field=models.CharField(max_length=32), db_persist=True
    )
    checked_hash = models.CharField(max_length=32, blank=True, default="", db_default="")
    checked_at = models.DateTimeField(null=True, blank=True)
    flagged = models.BooleanField(null=True, blank=True)
    findings = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "loanbook_call"
        indexes = [
            models.Index(fields=["started_at"], name="call_started_idx"),
            models.Index(fields=["region", "started_at"], name="call_region_started_idx"),
            models.Index(
                fields=["-started_at"], name="call_flagged_idx", condition=models.Q(flagged=True)
            ),
            # The calls not checked as they stand: found without reading every transcript.
            models.Index(
                fields=["started_at"],
                name="call_unchecked_idx",
                condition=~models.Q(checked_hash=models.F("transcript_md5")),
            ),
        ]


class Verdict(models.TextChoices):
    RIGHT = "right"
    WRONG = "wrong"
    MISSED = "missed"


class FindingVerdict(models.Model):
    """A reviewer's verdict on one finding of a call (right or wrong), or a finding the check
    missed. They give the running precision, and train the learned model."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="verdicts")
    category = models.CharField(max_length=48)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    excerpt = models.TextField()
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    note = models.TextField(blank=True, default="")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        db_table = "compliance_finding_verdict"
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "category", "start", "end"], name="finding_verdict_uniq"
            )
        ]


class TrainedModel(models.Model):
    """A learned model trained here, on the shipped labelled sets and reviewers' verdicts
    (`services.model_retrain`, weekly in the worker). It becomes the active one only when it
    does no worse than the one in use on the development set; the held-apart sets are only
    ever scored. No active row: the model shipped in `data/model.json` is used."""

    trained_at = models.DateTimeField()
    examples = models.PositiveIntegerField(help_text="Labelled texts and verdicts trained on.")
    verdicts = models.PositiveIntegerField(help_text="Of which reviewers' verdicts.")
    dev_precision = models.FloatField(null=True, blank=True)
    dev_recall = models.FloatField(null=True, blank=True)
    replaced_precision = models.FloatField(
        null=True, blank=True, help_text="The model in use then, on the same set."
    )
    replaced_recall = models.FloatField(null=True, blank=True)
    active = models.BooleanField(default=False)
    note = models.TextField(blank=True, default="")
    document = models.TextField(help_text="The model (LearnedModel.to_json()).")

    class Meta:
        db_table = "compliance_trained_model"
        ordering = ["-trained_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="one_active_model"
            )
        ]
