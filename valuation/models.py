"""Fitted valuation models, the vehicles that secure loans, and each loan's latest collateral check.

References to the loan book are plain ids (as in the loan book itself): a loan's vehicle may be
described before the loan arrives in an import.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from carloan.models import REGION_MAX


class ValuationModel(models.Model):
    """One fit of the valuation model: its parameters and its accuracy on held-out sales."""

    class Decision(models.TextChoices):
        ACTIVATED = "activated"
        KEPT_PREVIOUS = "kept_previous"

    version = models.PositiveIntegerField(unique=True)
    fitted_at = models.DateTimeField()
    sales_count = models.PositiveIntegerField(help_text="Sales the model was fitted on")
    holdout_count = models.PositiveIntegerField(default=0, help_text="Held-out sales evaluated")
    first_sale_day = models.DateField(null=True, blank=True)
    last_sale_day = models.DateField(null=True, blank=True)
    parameters = models.JSONField(help_text="Knots, levels, coefficients, range calibration")
    ppe10 = models.FloatField(null=True, blank=True, help_text="% of held-out prices within ±10 %")
    mape = models.FloatField(null=True, blank=True, help_text="Mean absolute % error, held out")
    median_error_pct = models.FloatField(null=True, blank=True, help_text="Median signed % error")
    coverage = models.FloatField(null=True, blank=True, help_text="% of held-out prices in range")
    fit_seconds = models.FloatField(default=0.0)
    active = models.BooleanField(default=False)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    decision_note = models.TextField(blank=True, default="")
    compared_with = models.PositiveIntegerField(
        null=True, blank=True, help_text="Version that was active when this one was fitted"
    )
    previous_mape = models.FloatField(null=True, blank=True)
    previous_ppe10 = models.FloatField(null=True, blank=True)
    holdout_points = models.JSONField(
        default=list, help_text="[actual, predicted, low, high] of up to 1,000 held-out sales"
    )

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="valuation_one_active_model"
            )
        ]

    def __str__(self) -> str:
        return f"valuation model v{self.version}"


class CollateralVehicle(models.Model):
    """The vehicle that secures (or will secure) a loan, as described when it was valued.

    Filled by a quote made for a loan application (the application's vehicle) and by the demo
    seeding; the nightly revaluation finds a loan's vehicle by `vehicle_id`, else by
    `application_id`.
    """

    class Source(models.TextChoices):
        QUOTE = "quote"
        DEMO = "demo"
        IMPORT = "import"

    vehicle_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    application_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    region = models.CharField(max_length=REGION_MAX)
    make = models.CharField(max_length=64)
    model = models.CharField(max_length=64)
    year = models.PositiveSmallIntegerField()
    new_price = models.DecimalField(max_digits=16, decimal_places=2)
    mileage_km = models.PositiveIntegerField()
    recorded_on = models.DateField(help_text="Day the mileage was read")
    condition_grade = models.CharField(max_length=1)
    accidents = models.PositiveSmallIntegerField()
    repairs = models.PositiveSmallIntegerField()
    violations = models.PositiveSmallIntegerField()
    owners = models.PositiveSmallIntegerField()
    fuel_type = models.CharField(max_length=8)
    source = models.CharField(max_length=8, choices=Source.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle_id"], condition=~Q(vehicle_id=""), name="collateral_vehicle_uniq"
            ),
            models.UniqueConstraint(
                fields=["application_id"],
                condition=Q(vehicle_id="") & ~Q(application_id=""),
                name="collateral_application_uniq",
            ),
        ]


class CollateralCheck(models.Model):
    """A loan's latest collateral check: its vehicle's model value, LTV and appraisal flags."""

    loan_id = models.CharField(max_length=64, unique=True)
    application_id = models.CharField(max_length=64, blank=True, default="")
    vehicle_id = models.CharField(max_length=64, blank=True, default="")
    region = models.CharField(max_length=REGION_MAX)
    branch = models.CharField(max_length=64, blank=True, default="")
    as_of = models.DateField(help_text="Day of the loan snapshot whose outstanding is used")
    outstanding = models.DecimalField(max_digits=16, decimal_places=2)
    model_value = models.FloatField()
    value_low = models.FloatField()
    value_high = models.FloatField()
    value_at_funding = models.FloatField(null=True, blank=True)
    appraised_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    appraisal_excess_pct = models.FloatField(
        null=True, blank=True, help_text="100 × (appraised − model value at funding) / model value"
    )
    ltv_pct = models.FloatField()
    over_limit = models.BooleanField(default=False)
    inflated = models.BooleanField(default=False)
    max_ltv_pct = models.FloatField(help_text="risk.max_ltv_pct when checked")
    tolerance_pct = models.FloatField(help_text="risk.appraisal_tolerance_pct when checked")
    model_version = models.PositiveIntegerField()
    checked_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["region", "branch"], name="collateral_region_branch_idx"),
            models.Index(fields=["over_limit"], name="collateral_over_limit_idx"),
            models.Index(fields=["inflated"], name="collateral_inflated_idx"),
        ]
