"""The loan book (what the lender imports), who may do what, and the record of each import.

Ids are the lender's own (text) and rows are upserted by them. References between kinds
(an application's lead, a loan's application) are kept as plain ids, not foreign keys: a lender's
files arrive in any order, and a loan whose application is in next week's file is still a loan.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from carloan import departments

REGION_MAX = 32


class Department(models.TextChoices):
    """The departments of `carloan.departments` (codes and names) as model choices."""

    MARKETING = departments.MARKETING, departments.DEPARTMENT_LABELS[departments.MARKETING]
    RISK = departments.RISK, departments.DEPARTMENT_LABELS[departments.RISK]
    TECH = departments.TECH, departments.DEPARTMENT_LABELS[departments.TECH]


class Profile(models.Model):
    """A person's department (department heads belong to one) and start page."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    department = models.CharField(max_length=16, choices=Department.choices, blank=True)
    # The saved view `/` opens for this person (carloan.people): their own or one shared with
    # them. Loaded with the user on every request (carloan.roles), so `/` checks it for free.
    start_view = models.ForeignKey(
        "SavedView", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.user} ({self.department or '-'})"


class Lead(models.Model):
    """A prospective borrower coming in through a marketing channel."""

    lead_id = models.CharField(max_length=64, primary_key=True)
    created_at = models.DateTimeField()
    region = models.CharField(max_length=REGION_MAX)
    branch = models.CharField(max_length=64, blank=True, default="")
    channel = models.CharField(max_length=64)

    class Meta:
        db_table = "loanbook_lead"
        indexes = [
            models.Index(fields=["created_at"], name="lead_created_idx"),
            models.Index(fields=["region", "created_at"], name="lead_region_created_idx"),
        ]


class Decision(models.TextChoices):
    APPROVED = "approved"
    REJECTED = "rejected"
    PENDING = "pending"


IDENTIFIER_MAX = 69  # a keyed hash (64 hex), a colon and the last four characters


class LoanApplication(models.Model):
    """A credit application and the risk department's decision on it."""

    application_id = models.CharField(max_length=64, primary_key=True)
    lead_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    region = models.CharField(max_length=REGION_MAX)
    applied_at = models.DateTimeField()
    decision = models.CharField(max_length=16, choices=Decision.choices)
    decided_at = models.DateTimeField(null=True, blank=True)
    credit_score = models.SmallIntegerField(null=True, blank=True)
    # Identifiers of the person, the car, the dealer and the device: only as keyed hashes with
    # their last four characters (carloan.screening.identifiers); '' when not given.
    applicant_key = models.CharField(max_length=IDENTIFIER_MAX, blank=True, default="")
    phone = models.CharField(max_length=IDENTIFIER_MAX, blank=True, default="")
    vin = models.CharField(max_length=IDENTIFIER_MAX, blank=True, default="")
    dealer_id = models.CharField(max_length=IDENTIFIER_MAX, blank=True, default="")
    device_id = models.CharField(max_length=IDENTIFIER_MAX, blank=True, default="")
    monthly_income = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    amount_requested = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    vehicle_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)

    class Meta:
        db_table = "loanbook_application"
        indexes = [
            models.Index(fields=["decided_at"], name="app_decided_idx"),
            models.Index(fields=["region", "decided_at"], name="app_region_decided_idx"),
            models.Index(fields=["applied_at"], name="app_applied_idx"),
            # The cross-checks join applications on these (only where one is given).
            models.Index(
                fields=["phone", "applied_at"], name="app_phone_idx", condition=~models.Q(phone="")
            ),
            models.Index(
                fields=["device_id", "applied_at"],
                name="app_device_idx",
                condition=~models.Q(device_id=""),
            ),
            models.Index(
                fields=["vin", "applied_at"], name="app_vin_idx", condition=~models.Q(vin="")
            ),
            # A blacklist entry for an applicant or a dealer finds its holders by these.
            models.Index(
                fields=["applicant_key"],
                name="app_applicant_idx",
                condition=~models.Q(applicant_key=""),
            ),
            models.Index(
                fields=["dealer_id"], name="app_dealer_idx", condition=~models.Q(dealer_id="")
            ),
        ]


class Loan(models.Model):
    """A funded car loan, with the vehicle that secures it."""

    loan_id = models.CharField(max_length=64, primary_key=True)
    application_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    region = models.CharField(max_length=REGION_MAX)
    funded_at = models.DateTimeField()
    principal = models.DecimalField(max_digits=16, decimal_places=2)
    term_months = models.PositiveSmallIntegerField()
    annual_rate = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    vehicle_id = models.CharField(max_length=64, blank=True, default="")
    appraised_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)

    class Meta:
        db_table = "loanbook_loan"
        indexes = [
            models.Index(fields=["funded_at"], name="loan_funded_idx"),
            models.Index(fields=["region", "funded_at"], name="loan_region_funded_idx"),
        ]


class LoanStatus(models.TextChoices):
    ACTIVE = "active"
    CLOSED = "closed"
    CHARGED_OFF = "charged_off"


class LoanSnapshot(models.Model):
    """A loan's state as of a day; it holds until the loan's next snapshot."""

    loan_id = models.CharField(max_length=64)
    as_of = models.DateField()
    outstanding_principal = models.DecimalField(max_digits=16, decimal_places=2)
    dpd = models.PositiveIntegerField(help_text="Days past due")
    status = models.CharField(max_length=16, choices=LoanStatus.choices)
    # The as_of of the loan's next snapshot (null: the latest), kept by the database itself
    # (a trigger, migration 0018), so the state on a day reads the snapshots current that day
    # instead of ordering every loan's whole history.
    superseded_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "loanbook_snapshot"
        constraints = [
            models.UniqueConstraint(fields=["loan_id", "as_of"], name="snapshot_loan_day_uniq")
        ]
        indexes = [
            models.Index(fields=["as_of"], name="snapshot_as_of_idx"),
            models.Index(fields=["superseded_on"], name="snapshot_superseded_idx"),
        ]


class MarketingSpend(models.Model):
    """Money spent on one marketing channel in one region on one day."""

    date = models.DateField()
    region = models.CharField(max_length=REGION_MAX)
    channel = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        db_table = "loanbook_marketing_spend"
        constraints = [
            models.UniqueConstraint(
                fields=["date", "region", "channel"], name="spend_day_region_channel_uniq"
            )
        ]
        indexes = [models.Index(fields=["region", "date"], name="spend_region_date_idx")]


class Valuation(models.Model):
    """A collateral valuation: the model's value beside the reference (sale or expert) value."""

    valuation_id = models.CharField(max_length=64, primary_key=True)
    region = models.CharField(max_length=REGION_MAX)
    requested_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    model_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    reference_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    vehicle_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        db_table = "loanbook_valuation"
        indexes = [
            models.Index(fields=["completed_at"], name="valuation_completed_idx"),
            models.Index(fields=["region", "completed_at"], name="valuation_region_done_idx"),
        ]


class Complaint(models.Model):
    """A compliance complaint received from a customer or regulator."""

    complaint_id = models.CharField(max_length=64, primary_key=True)
    received_at = models.DateTimeField()
    region = models.CharField(max_length=REGION_MAX)
    category = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        db_table = "loanbook_complaint"
        indexes = [
            models.Index(fields=["received_at"], name="complaint_received_idx"),
            models.Index(fields=["region", "received_at"], name="complaint_region_recv_idx"),
        ]


class Sample(models.Model):
    """One measurement of a technical series (API latency, availability, ...).

    Measurements are kept, not merged: two gateways may report the same series at the same
    instant, and both count. A sample is identified by all it says (metric, ts, region, source,
    value) and its `occurrence`, the 0-based count of identical rows before it in the file or
    batch that brought it: importing the same file again stores nothing new, a late or corrected
    measurement is one more sample. `region` is '' when the sample belongs to no region (it
    still counts for `all`).
    """

    metric = models.CharField(max_length=64)
    ts = models.DateTimeField()
    value = models.FloatField()
    region = models.CharField(max_length=REGION_MAX, blank=True, default="")
    source = models.CharField(max_length=64, blank=True, default="")
    occurrence = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "loanbook_sample"
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "ts", "region", "source", "value", "occurrence"],
                name="sample_identity_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["metric", "region", "ts"], name="sample_metric_region_ts_idx"),
        ]


class VehicleSale(models.Model):
    """A used-vehicle sale: what the valuation model learns from."""

    sale_id = models.CharField(max_length=64, primary_key=True)
    sold_at = models.DateTimeField()
    region = models.CharField(max_length=REGION_MAX)
    make = models.CharField(max_length=64)
    model = models.CharField(max_length=64)
    year = models.PositiveSmallIntegerField()
    new_price = models.DecimalField(max_digits=16, decimal_places=2)
    mileage_km = models.PositiveIntegerField()
    condition_grade = models.CharField(max_length=1)
    accidents = models.PositiveSmallIntegerField()
    repairs = models.PositiveSmallIntegerField()
    violations = models.PositiveSmallIntegerField()
    owners = models.PositiveSmallIntegerField()
    fuel_type = models.CharField(max_length=8)
    price = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        db_table = "loanbook_vehicle_sale"
        indexes = [
            models.Index(fields=["sold_at"], name="sale_sold_idx"),
            models.Index(fields=["region", "sold_at"], name="sale_region_sold_idx"),
        ]


class ImportRun(models.Model):
    """One attempt to import a file: who, what, and how it went (kept for the imports page)."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded"
        REJECTED = "rejected"

    kind = models.CharField(max_length=32)
    file_name = models.CharField(max_length=255, blank=True, default="")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    started_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list)
    errors = models.JSONField(default=list)
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    refreshed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the metric values of the touched days were recomputed",
    )
    refresh_error = models.TextField(
        blank=True,
        default="",
        help_text="What the recompute could not do (formula family: why); empty when it all went",
    )

    class Meta:
        ordering = ["-started_at", "-id"]


from carloan.compliance.models import (  # noqa: E402, F401
    Call,
    FindingVerdict,
    PhraseCategory,
    PhraseCategoryChange,
    Script,
    ScriptRevision,
    TrainedModel,
)
from carloan.parameters.models import ChangeRequest, Parameter, ParameterChange  # noqa: E402, F401
from carloan.people.models import ApiToken  # noqa: E402, F401
from carloan.screening.models import (  # noqa: E402, F401
    ApplicationCheck,
    BlacklistEntry,
    PrescreenDecision,
)
