"""The writers of the valuation app: fit a model, record a valuation, revalue the collateral.

- `valuation_fit`: fit on the sales outside the held-out fifth, evaluate on the held-out fifth,
  store the fit, and make it the active model only if it is not worse than the active one on
  the same held-out sales.
- `valuation_record`: a quote made for a loan application, kept as a `valuations` row (and the
  application's vehicle as collateral), so the valuation metrics count it.
- `collateral_revalue`: the model value, LTV and appraisal flags of every active loan's vehicle.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from carloan.models import Lead, Loan, LoanApplication, LoanStatus, Valuation
from carloan.roles import can_edit
from carloan.signals import loanbook_changed
from valuation import engine
from valuation.model import (
    FUEL_TYPES,
    GRADES,
    HOLDOUT_BUCKETS,
    FitOptions,
    Prediction,
    ValuationMaths,
    Vehicles,
    accuracy,
    fit,
    is_held_out,
)
from valuation.models import CollateralCheck, CollateralVehicle, ValuationModel

logger = logging.getLogger(__name__)

MIN_SALES = 20
HOLDOUT_POINTS = 1000
FIT_LOCK = 72_310_601  # pg_advisory_xact_lock key: one fit stores its version at a time


class NotEnoughSales(ValueError):
    """Too few vehicle sales to fit a model."""


# --- sales ------------------------------------------------------------------------------------


@dataclass
class Sales:
    """Vehicle sales as columns, with their ids and prices."""

    ids: list[str]
    vehicles: Vehicles
    price: np.ndarray

    def take(self, mask: np.ndarray) -> Sales:
        idx = np.flatnonzero(mask)
        return Sales([self.ids[i] for i in idx], self.vehicles.take(idx), self.price[idx])


def load_sales() -> Sales:
    """Every usable sale (positive prices, known grade and fuel), its day in the business zone."""
    sql = """
        SELECT sale_id, (sold_at AT TIME ZONE %s)::date, region, make, model, year,
               new_price::float8, mileage_km, condition_grade, accidents, repairs, violations,
               owners, fuel_type, price::float8
        FROM loanbook_vehicle_sale
        WHERE new_price > 0 AND price > 0
          AND condition_grade = ANY(%s) AND fuel_type = ANY(%s)
        ORDER BY sale_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [settings.TIME_ZONE, list(GRADES), list(FUEL_TYPES)])
        rows = cursor.fetchall()
    grade_index = {g: i for i, g in enumerate(GRADES)}
    fuel_index = {f: i for i, f in enumerate(FUEL_TYPES)}
    cols = list(zip(*rows, strict=True)) if rows else [()] * 15
    vehicles = Vehicles(
        make=np.array(cols[3], dtype=object),
        model=np.array(cols[4], dtype=object),
        year=np.array(cols[5], dtype=np.int64),
        new_price=np.array(cols[6], dtype=np.float64),
        mileage_km=np.array(cols[7], dtype=np.float64),
        region=np.array(cols[2], dtype=object),
        grade=np.array([grade_index[g] for g in cols[8]], dtype=np.int64),
        accidents=np.array(cols[9], dtype=np.float64),
        repairs=np.array(cols[10], dtype=np.float64),
        violations=np.array(cols[11], dtype=np.float64),
        owners=np.array(cols[12], dtype=np.float64),
        fuel=np.array([fuel_index[f] for f in cols[13]], dtype=np.int64),
        day=np.array([d.toordinal() for d in cols[1]], dtype=np.int64),
    )
    return Sales(list(cols[0]), vehicles, np.array(cols[14], dtype=np.float64))


def _evaluate(maths: ValuationMaths, sales: Sales) -> tuple[dict[str, Any], Any]:
    if not sales.ids:
        return accuracy(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)), None
    pred = maths.predict(sales.vehicles)
    return accuracy(pred.value, sales.price, pred.low, pred.high), pred


def _not_worse(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """A new fit replaces the active one unless its held-out MAPE is higher (PPE10 breaks ties
    within 0.01 pp of MAPE)."""
    if new["mape"] is None or old["mape"] is None:
        return True
    if new["mape"] < old["mape"] - 0.01:
        return True
    if new["mape"] > old["mape"] + 0.01:
        return False
    return bool(new["ppe10"] >= old["ppe10"] - 1e-9)


def valuation_fit(
    *, options: FitOptions | None = None, sales: Sales | None = None
) -> ValuationModel:
    """Fit the valuation model from `vehicle_sales` and store it (see the module docstring).

    1. load the sales; hold out the fifth chosen by a hash of the sale id;
    2. fit on the rest (with its cross-conformal range calibration), time it;
    3. evaluate on the held-out sales: PPE10, MAPE, median signed error, range coverage;
    4. evaluate the active model on the same held-out sales;
    5. store the fit as the next version; activate it when it is not worse (or none is active).
    Raises NotEnoughSales with fewer than MIN_SALES training sales.
    """
    sales = sales if sales is not None else load_sales()
    held = np.array([is_held_out(s) for s in sales.ids], dtype=bool)
    train, holdout = sales.take(~held), sales.take(held)
    if len(train.ids) < MIN_SALES:
        raise NotEnoughSales(
            f"Only {len(train.ids)} sales to fit on (of {len(sales.ids)}): import at least "
            f"{math.ceil(MIN_SALES * HOLDOUT_BUCKETS / (HOLDOUT_BUCKETS - 1))} vehicle sales."
        )
    started = time.perf_counter()
    params = fit(train.vehicles, train.price, options=options)
    seconds = time.perf_counter() - started
    maths = ValuationMaths(params)
    scores, pred = _evaluate(maths, holdout)
    points: list[list[float]] = []
    if pred is not None:
        for i in range(min(len(holdout.ids), HOLDOUT_POINTS)):
            points.append(
                [
                    round(float(holdout.price[i]), 2),
                    round(float(pred.value[i]), 2),
                    round(float(pred.low[i]), 2),
                    round(float(pred.high[i]), 2),
                ]
            )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FIT_LOCK])
        current = ValuationModel.objects.select_for_update().filter(active=True).first()
        previous: dict[str, Any] | None = None
        if current is not None:
            previous, _ = _evaluate(ValuationMaths(current.parameters), holdout)
        activate = previous is None or _not_worse(scores, previous)
        if current is None:
            note = "First model: activated."
        elif activate:
            note = (
                f"Activated: held-out MAPE {_fmt(scores['mape'])} % against "
                f"{_fmt(previous['mape'] if previous else None)} % for v{current.version}."
            )
        else:
            note = (
                f"Kept v{current.version}: held-out MAPE {_fmt(scores['mape'])} % is worse than "
                f"its {_fmt(previous['mape'] if previous else None)} %."
            )
        version = (ValuationModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        if activate and current is not None:
            ValuationModel.objects.filter(pk=current.pk).update(active=False)
        row = ValuationModel.objects.create(
            version=version,
            fitted_at=timezone.now(),
            sales_count=len(train.ids),
            holdout_count=len(holdout.ids),
            first_sale_day=date.fromordinal(int(params["first_day"])),
            last_sale_day=date.fromordinal(int(params["last_day"])),
            parameters=params,
            ppe10=scores["ppe10"],
            mape=scores["mape"],
            median_error_pct=scores["median_error_pct"],
            coverage=scores["coverage"],
            fit_seconds=seconds,
            active=activate,
            decision=(
                ValuationModel.Decision.ACTIVATED
                if activate
                else ValuationModel.Decision.KEPT_PREVIOUS
            ),
            decision_note=note,
            compared_with=current.version if current else None,
            previous_mape=previous["mape"] if previous else None,
            previous_ppe10=previous["ppe10"] if previous else None,
            holdout_points=points,
        )
        if activate:
            engine.announce_activation()
    logger.info("valuation model v%s fitted in %.2f s: %s", row.version, seconds, note)
    return row


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


# --- recorded valuations ----------------------------------------------------------------------


def _vehicle_id_for(fields: dict[str, Any]) -> str:
    if fields.get("vehicle_id"):
        return str(fields["vehicle_id"])
    if fields.get("application_id"):
        found = (
            Loan.objects.filter(application_id=fields["application_id"])
            .exclude(vehicle_id="")
            .values_list("vehicle_id", flat=True)
            .first()
        )
        return found or ""
    return ""


def collateral_vehicle_save(
    *, fields: dict[str, Any], vehicle_id: str, source: str
) -> CollateralVehicle:
    """Store (or update) the description of a loan's vehicle, keyed by vehicle id, else by
    application id."""
    values = {
        "application_id": fields.get("application_id") or "",
        "region": fields["region"],
        "make": fields["make"],
        "model": fields["model"],
        "year": fields["year"],
        "new_price": Decimal(str(round(fields["new_price"], 2))),
        "mileage_km": fields["mileage_km"],
        "recorded_on": fields["valuation_date"],
        "condition_grade": fields["condition_grade"],
        "accidents": fields["accidents"],
        "repairs": fields["repairs"],
        "violations": fields["violations"],
        "owners": fields["owners"],
        "fuel_type": fields["fuel_type"],
        "source": source,
    }
    if vehicle_id:
        vehicle, _ = CollateralVehicle.objects.update_or_create(
            vehicle_id=vehicle_id, defaults=values
        )
    else:
        vehicle, _ = CollateralVehicle.objects.update_or_create(
            vehicle_id="", application_id=values["application_id"], defaults=values
        )
    return vehicle


def valuation_record(*, user: Any, fields: dict[str, Any]) -> tuple[dict[str, Any], Valuation]:
    """Quote a vehicle for a loan application and keep it as a `valuations` row.

    1. only department heads and managers record (PermissionDenied otherwise);
    2. quote with the active model (NoModel when there is none);
    3. in one transaction: the Valuation (requested and completed now, model value, the
       appraised value as reference value, the vehicle id) and the collateral vehicle;
    4. after commit, `loanbook_changed(kind="valuations")` so the valuation metrics of today
       are recomputed (in the worker).
    """
    if not can_edit(user):
        raise PermissionDenied(
            "Only department heads and managers may record a valuation for an application; "
            "leave application_id out to get a quote."
        )
    model = engine.active_model()
    quote = engine.quotes([fields], model=model)[0]
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        vehicle_id = _vehicle_id_for(fields)
        region = fields["region"]
        reference = fields.get("appraised_value")
        record = Valuation.objects.create(
            valuation_id=f"VQ-{now:%Y%m%d}-{uuid.uuid4().hex[:12].upper()}",
            region=region,
            requested_at=now,
            completed_at=now,
            model_value=Decimal(str(round(quote["value"], 2))),
            reference_value=Decimal(str(round(reference, 2))) if reference else None,
            vehicle_id=vehicle_id,
        )
        collateral_vehicle_save(fields=fields, vehicle_id=vehicle_id, source="quote")

        def changed() -> None:
            loanbook_changed.send(
                sender=Valuation,
                kind="valuations",
                first_day=today,
                last_day=today,
                synchronous=False,
            )

        transaction.on_commit(changed, robust=True)
    quote["valuation_id"] = record.valuation_id
    quote["application_id"] = fields.get("application_id") or ""
    quote["vehicle_id"] = vehicle_id
    return quote, record


# --- collateral -------------------------------------------------------------------------------


def _active_snapshots(today: date) -> dict[str, tuple[date, Decimal]]:
    """loan_id → (as_of, outstanding) of the loans whose latest snapshot on `today` is active."""
    sql = """
        SELECT loan_id, as_of, outstanding_principal, status FROM (
            SELECT DISTINCT ON (loan_id) loan_id, as_of, outstanding_principal, status
            FROM loanbook_snapshot WHERE as_of <= %s
            ORDER BY loan_id, as_of DESC
        ) latest WHERE status = %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [today, LoanStatus.ACTIVE])
        return {loan_id: (as_of, amount) for loan_id, as_of, amount, _ in cursor.fetchall()}


def _vehicle_record(vehicle: CollateralVehicle, day: date, mileage: float) -> dict[str, Any]:
    return {
        "make": vehicle.make,
        "model": vehicle.model,
        "year": vehicle.year,
        "new_price": float(vehicle.new_price),
        "mileage_km": mileage,
        "region": vehicle.region,
        "condition_grade": vehicle.condition_grade,
        "accidents": vehicle.accidents,
        "repairs": vehicle.repairs,
        "violations": vehicle.violations,
        "owners": vehicle.owners,
        "fuel_type": vehicle.fuel_type,
        "day": day.toordinal(),
    }


def _loan_vehicles(
    loans: list[dict[str, Any]],
) -> tuple[dict[str, CollateralVehicle], dict[str, CollateralVehicle], dict[str, str]]:
    """Step 2: the described vehicles by vehicle id and by application id (for vehicles known
    only by their application), and each application's branch (application → lead → branch)."""
    application_ids = [loan["application_id"] for loan in loans if loan["application_id"]]
    by_vehicle = {
        v.vehicle_id: v
        for v in CollateralVehicle.objects.filter(
            vehicle_id__in=[loan["vehicle_id"] for loan in loans if loan["vehicle_id"]]
        )
    }
    by_application = {
        v.application_id: v
        for v in CollateralVehicle.objects.filter(vehicle_id="", application_id__in=application_ids)
    }
    lead_of = dict(
        LoanApplication.objects.filter(application_id__in=application_ids).values_list(
            "application_id", "lead_id"
        )
    )
    branch_of_lead = dict(
        Lead.objects.filter(lead_id__in=[x for x in lead_of.values() if x]).values_list(
            "lead_id", "branch"
        )
    )
    branch = {app: branch_of_lead.get(lead, "") or "" for app, lead in lead_of.items()}
    return by_vehicle, by_application, branch


def _values_now_and_at_funding(
    model: engine.LoadedModel,
    matched: list[tuple[dict[str, Any], CollateralVehicle]],
    today: date,
) -> tuple[Prediction, Prediction]:
    """Step 3: each vehicle valued today (its mileage carried forward from when it was read at
    the market's typical km per year) and on its funding day (the mileage as read)."""
    km_per_year = float(model.maths.params.get("km_per_year", 15_000.0))
    rows_now, rows_funded = [], []
    for loan, vehicle in matched:
        since = max(0, (today - vehicle.recorded_on).days)
        carried = vehicle.mileage_km + km_per_year * since / 365.25
        rows_now.append(_vehicle_record(vehicle, today, carried))
        funded = timezone.localdate(loan["funded_at"])
        rows_funded.append(_vehicle_record(vehicle, funded, float(vehicle.mileage_km)))
    return (
        model.maths.predict(Vehicles.from_records(rows_now)),
        model.maths.predict(Vehicles.from_records(rows_funded)),
    )


def _collateral_check(
    loan: dict[str, Any],
    vehicle: CollateralVehicle,
    snapshot: tuple[date, Decimal],
    now_value: tuple[float, float, float],
    at_funding: float,
    *,
    branch: str,
    limits: tuple[float, float],
    model_version: int,
    checked_at: datetime,
) -> CollateralCheck:
    """Step 4: one loan's check: LTV against the limit, the appraisal against the value at
    funding."""
    as_of, outstanding = snapshot
    value, low, high = now_value
    max_ltv, tolerance = limits
    appraised = loan["appraised_value"]
    checked = engine.loan_checks(value, float(outstanding), None, max_ltv, tolerance)
    excess = 100.0 * (float(appraised) - at_funding) / at_funding if appraised else None
    return CollateralCheck(
        loan_id=loan["loan_id"],
        application_id=loan["application_id"],
        vehicle_id=loan["vehicle_id"] or vehicle.vehicle_id,
        region=loan["region"],
        branch=branch,
        as_of=as_of,
        outstanding=outstanding,
        model_value=value,
        value_low=low,
        value_high=high,
        value_at_funding=at_funding,
        appraised_value=appraised,
        appraisal_excess_pct=excess,
        ltv_pct=checked["ltv_pct"],
        over_limit=bool(checked["flags"]["ltv_above_limit"]),
        inflated=excess is not None and excess > tolerance,
        max_ltv_pct=max_ltv,
        tolerance_pct=tolerance,
        model_version=model_version,
        checked_at=checked_at,
    )


def _store_checks(checks: list[CollateralCheck]) -> None:
    """Step 5, in one transaction: upsert a check per loan, drop those of loans no longer
    active."""
    fields = [f.name for f in CollateralCheck._meta.fields if f.name not in ("id", "loan_id")]
    with transaction.atomic():
        CollateralCheck.objects.exclude(loan_id__in=[c.loan_id for c in checks]).delete()
        CollateralCheck.objects.bulk_create(
            checks,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["loan_id"],
            update_fields=fields,
        )


def collateral_revalue(*, today: date | None = None) -> dict[str, Any]:
    """Revalue the vehicle of every active loan and store its latest collateral check.

    1. the loans active on `today` (latest snapshot active) and their outstanding principal;
    2. each loan's vehicle: by vehicle id, else by application id (loans without one are
       counted as `missing_vehicle`);
    3. the model value today (mileage carried forward from when it was read at the market's
       typical km per year) and at funding (the mileage as read);
    4. LTV = 100 × outstanding / value today, above `risk.max_ltv_pct`; an appraisal above
       the value at funding by more than `risk.appraisal_tolerance_pct` is inflated;
    5. in one transaction: upsert a check per loan, delete the checks of loans no longer active.
    """
    today = today or timezone.localdate()
    try:
        model = engine.active_model()
    except engine.NoModel:
        return {"checked": 0, "skipped": "no model"}
    snapshots = _active_snapshots(today)
    loans = list(
        Loan.objects.filter(loan_id__in=list(snapshots)).values(
            "loan_id", "application_id", "region", "funded_at", "vehicle_id", "appraised_value"
        )
    )
    by_vehicle, by_application, branch = _loan_vehicles(loans)
    found = ((loan, by_vehicle.get(loan["vehicle_id"])) for loan in loans)
    matched = [
        (loan, vehicle)
        for loan, by_id in found
        if (vehicle := by_id or by_application.get(loan["application_id"])) is not None
    ]
    checks: list[CollateralCheck] = []
    if matched:
        now, funded = _values_now_and_at_funding(model, matched, today)
        limits, checked_at = engine.limits(), timezone.now()
        checks = [
            _collateral_check(
                loan,
                vehicle,
                snapshots[loan["loan_id"]],
                (float(now.value[i]), float(now.low[i]), float(now.high[i])),
                float(funded.value[i]),
                branch=branch.get(loan["application_id"], ""),
                limits=limits,
                model_version=model.version,
                checked_at=checked_at,
            )
            for i, (loan, vehicle) in enumerate(matched)
        ]
    _store_checks(checks)
    return {
        "checked": len(checks),
        "active_loans": len(loans),
        "missing_vehicle": len(loans) - len(checks),
        "over_limit": sum(c.over_limit for c in checks),
        "inflated": sum(c.inflated for c in checks),
        "model_version": model.version,
        "day": today.isoformat(),
    }
