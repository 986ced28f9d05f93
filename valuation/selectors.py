"""Reads of the valuation app: the active model's figures, fit history, collateral checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Q, QuerySet

from valuation.models import CollateralCheck, ValuationModel

MODEL_FIELDS = (
    "version",
    "fitted_at",
    "sales_count",
    "holdout_count",
    "first_sale_day",
    "last_sale_day",
    "ppe10",
    "mape",
    "median_error_pct",
    "coverage",
    "fit_seconds",
    "active",
    "decision",
    "decision_note",
    "compared_with",
    "previous_mape",
    "previous_ppe10",
)


def model_summary(row: ValuationModel) -> dict[str, Any]:
    """A fitted model's figures (no parameters)."""
    data = {name: getattr(row, name) for name in MODEL_FIELDS}
    data["fitted_at"] = row.fitted_at.isoformat()
    data["first_sale_day"] = row.first_sale_day.isoformat() if row.first_sale_day else None
    data["last_sale_day"] = row.last_sale_day.isoformat() if row.last_sale_day else None
    return data


def active_model_row(*, with_points: bool = False) -> ValuationModel | None:
    """The active model's row, without its parameters (and its held-out points if asked)."""
    rows = ValuationModel.objects.filter(active=True).defer("parameters")
    if not with_points:
        rows = rows.defer("holdout_points")
    return rows.first()


def model_history(limit: int = 20) -> list[dict[str, Any]]:
    """The latest fits, newest first."""
    rows = ValuationModel.objects.defer("parameters", "holdout_points")[:limit]
    return [model_summary(row) for row in rows]


def collateral_checks(
    *,
    over_limit: bool | None = None,
    inflated: bool | None = None,
    region: str = "",
    branch: str = "",
) -> QuerySet[CollateralCheck]:
    """Collateral checks filtered; with both flags asked for, a loan with either shows (risk
    wants the loans above the limit and the inflated appraisals)."""
    rows = CollateralCheck.objects.all()
    if over_limit and inflated:
        rows = rows.filter(Q(over_limit=True) | Q(inflated=True))
    elif over_limit is not None:
        rows = rows.filter(over_limit=over_limit)
    elif inflated is not None:
        rows = rows.filter(inflated=inflated)
    if region:
        rows = rows.filter(region=region)
    if branch:
        rows = rows.filter(branch=branch)
    return rows.order_by("-ltv_pct", "loan_id")


def check_data(row: CollateralCheck) -> dict[str, Any]:
    """A collateral check as the API shows it."""
    return {
        "loan_id": row.loan_id,
        "application_id": row.application_id,
        "vehicle_id": row.vehicle_id,
        "region": row.region,
        "branch": row.branch,
        "as_of": row.as_of.isoformat(),
        "outstanding": float(row.outstanding),
        "model_value": row.model_value,
        "value_low": row.value_low,
        "value_high": row.value_high,
        "value_at_funding": row.value_at_funding,
        "appraised_value": float(row.appraised_value) if row.appraised_value is not None else None,
        "appraisal_excess_pct": row.appraisal_excess_pct,
        "ltv_pct": row.ltv_pct,
        "over_limit": row.over_limit,
        "inflated": row.inflated,
        "max_ltv_pct": row.max_ltv_pct,
        "tolerance_pct": row.tolerance_pct,
        "model_version": row.model_version,
        "checked_at": row.checked_at.isoformat(),
    }


def collateral_totals(*, region: str = "", branch: str = "") -> list[dict[str, Any]]:
    """Per region and branch: loans checked, above the LTV limit, with inflated appraisals."""
    rows = CollateralCheck.objects.all()
    if region:
        rows = rows.filter(region=region)
    if branch:
        rows = rows.filter(branch=branch)
    return list(
        rows.values("region", "branch")
        .annotate(
            loans=Count("id"),
            over_limit=Count("id", filter=Q(over_limit=True)),
            inflated=Count("id", filter=Q(inflated=True)),
        )
        .order_by("region", "branch")
    )


def collateral_places() -> dict[str, list[str]]:
    """Regions and their branches that have collateral checks (for the page's filters)."""
    places: dict[str, list[str]] = {}
    for region, branch in (
        CollateralCheck.objects.values_list("region", "branch")
        .distinct()
        .order_by("region", "branch")
    ):
        places.setdefault(region, [])
        if branch:
            places[region].append(branch)
    return places


COLLATERAL_EXPORT_COLUMNS = (
    "loan_id",
    "application_id",
    "vehicle_id",
    "region",
    "branch",
    "as_of",
    "outstanding",
    "model_value",
    "value_low",
    "value_high",
    "value_at_funding",
    "appraised_value",
    "appraisal_excess_pct",
    "ltv_pct",
    "over_limit",
    "inflated",
    "max_ltv_pct",
    "tolerance_pct",
    "model_version",
    "checked_at",
)


def collateral_export_rows(
    *,
    over_limit: bool | None = None,
    inflated: bool | None = None,
    region: str = "",
    branch: str = "",
) -> Iterator[tuple[Any, ...]]:
    """The collateral checks `collateral_checks` gives (highest LTV first), every one, as rows
    of COLLATERAL_EXPORT_COLUMNS read in chunks."""
    from carloan.exports import EXPORT_CHUNK_ROWS

    rows = collateral_checks(over_limit=over_limit, inflated=inflated, region=region, branch=branch)
    yield from rows.values_list(*COLLATERAL_EXPORT_COLUMNS).iterator(chunk_size=EXPORT_CHUNK_ROWS)
