"""The valuation API and services against the real database: fits kept only when not worse,
quotes and their validation, flags that follow the live parameters, recorded valuations,
the collateral revaluation, and the page."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from carloan.models import Lead, Loan, LoanApplication, LoanSnapshot, Valuation, VehicleSale
from carloan.parameters.services import change_request_approve, parameters_change
from carloan.signals import loanbook_changed
from tests.factories import make_user
from valuation import engine
from valuation.model import FUEL_TYPES, GRADES, FitOptions
from valuation.models import CollateralCheck, CollateralVehicle, ValuationModel
from valuation.services import collateral_revalue, valuation_fit
from valuation.synthetic import synthetic_sales

QUOTE = "/api/valuations/quote/"
BATCH = "/api/valuations/quote/batch/"
COLLATERAL = "/api/valuations/collateral/"


@pytest.fixture(autouse=True)
def fresh_model_cache() -> Any:
    engine.forget_active_model()
    yield
    engine.forget_active_model()


def store_sales(n: int = 800, seed: int = 2) -> None:
    sales = synthetic_sales(n, seed=seed, end=timezone.localdate() - timedelta(days=1))
    v = sales.vehicles
    VehicleSale.objects.bulk_create(
        VehicleSale(
            sale_id=sales.ids[i],
            sold_at=datetime.combine(date.fromordinal(int(v.day[i])), time(12), tzinfo=UTC),
            region=v.region[i],
            make=v.make[i],
            model=v.model[i],
            year=int(v.year[i]),
            new_price=Decimal(f"{v.new_price[i]:.2f}"),
            mileage_km=int(v.mileage_km[i]),
            condition_grade=GRADES[int(v.grade[i])],
            accidents=int(v.accidents[i]),
            repairs=int(v.repairs[i]),
            violations=int(v.violations[i]),
            owners=int(v.owners[i]),
            fuel_type=FUEL_TYPES[int(v.fuel[i])],
            price=Decimal(f"{sales.price[i]:.2f}"),
        )
        for i in range(n)
    )


@pytest.fixture
def fitted(db: Any) -> ValuationModel:
    store_sales()
    return valuation_fit()


def vehicle(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "make": "Toyota",
        "model": "Toyota M0",
        "year": timezone.localdate().year - 3,
        "new_price": 200_000,
        "mileage_km": 55_000,
        "region": "EAST-01",
        "condition_grade": "B",
        "accidents": 0,
        "repairs": 1,
        "violations": 2,
        "owners": 1,
        "fuel_type": "petrol",
    }
    body.update(changes)
    return body


# --- fitting ----------------------------------------------------------------------------------


def test_no_model_yet_answers_503_saying_what_to_run(client_for, viewer) -> None:
    response = client_for(viewer).post(QUOTE, vehicle(), format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "no_model"
    assert "fit_valuation" in response.json()["detail"]


def test_fit_command_stores_an_active_model_with_held_out_figures(db: Any, capsys) -> None:
    store_sales()
    call_command("fit_valuation")
    out = capsys.readouterr().out
    row = ValuationModel.objects.get()
    assert row.active and row.version == 1 and row.decision == "activated"
    assert "PPE10" in out and "v1" in out
    assert row.sales_count + row.holdout_count == 800
    assert 100 < row.holdout_count < 220
    assert row.ppe10 > 70 and row.mape < 8 and abs(row.median_error_pct) < 3
    assert 70 <= row.coverage <= 90
    assert len(row.holdout_points) == row.holdout_count
    # 18 months of sales: the season falls back, and the command says so
    assert "Market timing (partly pooled): " in out and "the season needs 24 months" in out


def test_fit_with_too_few_sales_is_refused(db: Any) -> None:
    from django.core.management.base import CommandError

    store_sales(15)
    with pytest.raises(CommandError, match="at least"):
        call_command("fit_valuation")


def test_a_new_fit_is_used_only_if_not_worse(fitted: ValuationModel) -> None:
    worse = valuation_fit(options=FitOptions(ridge_scale=1e5))
    assert worse.version == 2 and not worse.active
    assert worse.decision == "kept_previous" and worse.compared_with == 1
    assert worse.mape > worse.previous_mape
    assert "Kept v1" in worse.decision_note
    assert ValuationModel.objects.get(active=True).version == 1
    assert engine.active_model().version == 1
    same = valuation_fit()  # equal on the same held-out sales: not worse, so it takes over
    assert same.active and same.compared_with == 1
    assert ValuationModel.objects.get(active=True).version == 3
    assert engine.active_model().version == 3


def test_fit_task_runs_the_service(fitted: ValuationModel) -> None:
    from valuation.tasks import valuation_fit as task

    result = task.apply().get()
    assert result["version"] == 2 and result["active"] is True


def test_beat_schedule_has_the_weekly_fit_and_nightly_revaluation(settings) -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"valuation.valuation_fit", "valuation.collateral_revalue"} <= tasks


# --- quotes -----------------------------------------------------------------------------------


def test_quote_lists_twelve_factors_that_add_up(client_for, viewer, fitted) -> None:
    response = client_for(viewer).post(QUOTE, vehicle(), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model_version"] == fitted.version
    assert body["low"] < body["value"] < body["high"]
    assert body["baseline"] == 200_000
    factors = body["factors"]
    assert [f["factor"] for f in factors] == [
        "age", "mileage", "new_price", "make", "condition_grade", "accidents", "repairs",
        "violations", "owners", "fuel_type", "region", "market_timing",
    ]  # fmt: skip
    total = sum(f["effect_cny"] for f in factors)
    assert total == pytest.approx(body["value"] - body["baseline"], abs=1e-6)
    assert all(f["label"] for f in factors)
    age = next(f for f in factors if f["factor"] == "age")
    assert age["effect_cny"] < 0 and age["effect_pct"] < 0
    assert "ltv_pct" not in body and "flags" not in body


def test_quote_with_chart_returns_a_waterfall(client_for, viewer, fitted) -> None:
    body = client_for(viewer).post(f"{QUOTE}?chart=1", vehicle(), format="json").json()
    trace = body["chart"]["data"][0]
    assert trace["type"] == "waterfall" and len(trace["x"]) == 14
    assert trace["measure"][0] == "absolute" and trace["measure"][-1] == "total"


def test_older_or_more_km_never_quotes_higher(client_for, viewer, fitted) -> None:
    client = client_for(viewer)
    base = client.post(QUOTE, vehicle(), format="json").json()["value"]
    older = client.post(QUOTE, vehicle(year=vehicle()["year"] - 2), format="json").json()["value"]
    more = client.post(QUOTE, vehicle(mileage_km=150_000), format="json").json()["value"]
    assert older <= base and more <= base


def test_unknown_make_gets_the_pooled_effect(client_for, viewer, fitted) -> None:
    body = client_for(viewer).post(QUOTE, vehicle(make="Zzyzx Motors"), format="json").json()
    make = next(f for f in body["factors"] if f["factor"] == "make")
    assert make["effect_cny"] == 0.0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"year": 1975}, "year"),
        ({"year": 2999}, "year"),
        ({"year": "old"}, "year"),
        ({"mileage_km": -1}, "mileage_km"),
        ({"mileage_km": 1.5}, "mileage_km"),
        ({"condition_grade": "F"}, "condition_grade"),
        ({"fuel_type": "coal"}, "fuel_type"),
        ({"new_price": 0}, "new_price"),
        ({"new_price": "abc"}, "new_price"),
        ({"make": ""}, "make"),
        ({"owners": -2}, "owners"),
        ({"accidents": True}, "accidents"),
        ({"valuation_date": "2026-13-01"}, "valuation_date"),
        ({"loan_amount": -5}, "loan_amount"),
        ({"region": "all"}, "region"),  # every region together, never one's name
        ({"region": "EAST\n01"}, "region"),
        ({"model": "Qin\x07"}, "model"),
    ],
)
def test_bad_input_gets_a_400_naming_the_field(client_for, viewer, changes, field) -> None:
    response = client_for(viewer).post(QUOTE, vehicle(**changes), format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_missing_fields_and_non_objects_are_400(client_for, viewer) -> None:
    client = client_for(viewer)
    body = client.post(QUOTE, {"make": "BYD"}, format="json").json()
    assert {"model", "year", "new_price", "mileage_km", "fuel_type"} <= set(body)
    assert client.post(QUOTE, [1, 2], format="json").status_code == 400


def test_signed_out_quote_is_401(client_for, db) -> None:
    assert client_for(None).post(QUOTE, vehicle(), format="json").status_code == 401


def _set_risk(key: str, value: float, requester, approver) -> None:
    from carloan.parameters.selectors import parameter_state

    version = parameter_state(key)["version"]
    outcome = parameters_change(changes={key: (value, version)}, user=requester, reason="test")
    if outcome.pending:
        change_request_approve(request_id=outcome.request.pk, user=approver)


def test_flags_follow_the_live_parameters(client_for, viewer, manager, fitted) -> None:
    client = client_for(viewer)
    value = client.post(QUOTE, vehicle(), format="json").json()["value"]
    body = client.post(
        QUOTE, vehicle(loan_amount=0.75 * value, appraised_value=1.08 * value), format="json"
    ).json()
    assert body["ltv_pct"] == pytest.approx(75.0)
    assert body["appraisal_excess_pct"] == pytest.approx(8.0)
    assert body["flags"] == {"ltv_above_limit": False, "inflated_appraisal": False}
    assert body["limits"] == {"max_ltv_pct": 80.0, "appraisal_tolerance_pct": 10.0}
    second = make_user("max_manager", "manager")
    _set_risk("risk.max_ltv_pct", 70, manager, second)
    _set_risk("risk.appraisal_tolerance_pct", 5, manager, second)
    body = client.post(
        QUOTE, vehicle(loan_amount=0.75 * value, appraised_value=1.08 * value), format="json"
    ).json()
    assert body["flags"] == {"ltv_above_limit": True, "inflated_appraisal": True}
    assert body["limits"] == {"max_ltv_pct": 70.0, "appraisal_tolerance_pct": 5.0}


def test_batch_quotes_in_order(client_for, viewer, fitted) -> None:
    vehicles = [vehicle(mileage_km=km) for km in (10_000, 80_000, 160_000)]
    response = client_for(viewer).post(BATCH, {"vehicles": vehicles}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and body["model_version"] == fitted.version
    values = [r["value"] for r in body["results"]]
    assert values == sorted(values, reverse=True)
    single = client_for(viewer).post(QUOTE, vehicles[1], format="json").json()
    assert body["results"][1]["value"] == pytest.approx(single["value"])


def test_batch_bad_vehicles_are_listed_by_index(client_for, viewer, fitted) -> None:
    client = client_for(viewer)
    vehicles = [vehicle(), vehicle(condition_grade="Z"), vehicle(application_id="AP1")]
    body = client.post(BATCH, {"vehicles": vehicles}, format="json").json()
    assert set(body["vehicles"]) == {"1", "2"}
    assert "condition_grade" in body["vehicles"]["1"]
    assert client.post(BATCH, {"vehicles": []}, format="json").status_code == 400
    too_many = {"vehicles": [vehicle()] * 5001}
    assert client.post(BATCH, too_many, format="json").status_code == 400


# --- recorded valuations ----------------------------------------------------------------------


def test_quote_for_an_application_is_recorded(
    client_for, risk_head, fitted, django_capture_on_commit_callbacks
) -> None:
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    loanbook_changed.connect(receiver, dispatch_uid="test-valuation-recorded")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(risk_head).post(
                QUOTE,
                vehicle(application_id="AP-77", vehicle_id="LVIN77", appraised_value=150_000),
                format="json",
            )
    finally:
        loanbook_changed.disconnect(dispatch_uid="test-valuation-recorded")
    assert response.status_code == 201, response.content
    body = response.json()
    record = Valuation.objects.get(valuation_id=body["valuation_id"])
    assert record.region == "EAST-01" and record.vehicle_id == "LVIN77"
    assert float(record.model_value) == pytest.approx(body["value"], abs=0.01)
    assert record.reference_value == Decimal("150000.00")
    assert record.requested_at <= record.completed_at
    vehicle_row = CollateralVehicle.objects.get(vehicle_id="LVIN77")
    assert vehicle_row.application_id == "AP-77" and vehicle_row.source == "quote"
    today = timezone.localdate()
    kinds = [(s["kind"], s["first_day"], s["last_day"]) for s in seen]
    assert ("valuations", today, today) in kinds


def test_a_viewer_may_quote_but_not_record(client_for, viewer, fitted) -> None:
    response = client_for(viewer).post(QUOTE, vehicle(application_id="AP-1"), format="json")
    assert response.status_code == 403
    assert not Valuation.objects.exists()


# --- collateral -------------------------------------------------------------------------------


def _loan(
    loan_id: str,
    *,
    region: str,
    branch: str,
    principal: float,
    outstanding: float,
    appraised: float | None,
    status: str = "active",
    with_vehicle: bool = True,
) -> None:
    funded = timezone.now() - timedelta(days=60)
    Lead.objects.create(
        lead_id=f"L-{loan_id}", created_at=funded, region=region, branch=branch, channel="web"
    )
    LoanApplication.objects.create(
        application_id=f"A-{loan_id}",
        lead_id=f"L-{loan_id}",
        region=region,
        applied_at=funded,
        decision="approved",
        decided_at=funded,
    )
    Loan.objects.create(
        loan_id=loan_id,
        application_id=f"A-{loan_id}",
        region=region,
        funded_at=funded,
        principal=principal,
        term_months=36,
        vehicle_id=f"V-{loan_id}",
        appraised_value=Decimal(str(appraised)) if appraised else None,
    )
    LoanSnapshot.objects.create(
        loan_id=loan_id,
        as_of=timezone.localdate(funded),
        outstanding_principal=principal,
        dpd=0,
        status="active",
    )
    LoanSnapshot.objects.create(
        loan_id=loan_id,
        as_of=timezone.localdate() - timedelta(days=1),
        outstanding_principal=outstanding,
        dpd=0,
        status=status,
    )
    if with_vehicle:
        CollateralVehicle.objects.create(
            vehicle_id=f"V-{loan_id}", application_id=f"A-{loan_id}", region=region,
            make="Toyota", model="Toyota M0", year=timezone.localdate().year - 3,
            new_price=200_000, mileage_km=50_000, recorded_on=timezone.localdate(funded),
            condition_grade="B", accidents=0, repairs=0, violations=0, owners=1,
            fuel_type="petrol", source="import",
        )  # fmt: skip


def test_nightly_revaluation_flags_loans_by_region_and_branch(
    client_for, viewer, manager, fitted
) -> None:
    value = client_for(viewer).post(QUOTE, vehicle(mileage_km=50_000, repairs=0, violations=0),
                                    format="json").json()["value"]  # fmt: skip
    _loan("LN1", region="EAST-01", branch="Pudong", principal=0.9 * value,
          outstanding=0.95 * value, appraised=1.4 * value)  # fmt: skip
    _loan("LN2", region="EAST-01", branch="Minhang", principal=0.5 * value,
          outstanding=0.4 * value, appraised=1.0 * value)  # fmt: skip
    _loan("LN3", region="WEST-01", branch="Chengdu", principal=0.9 * value,
          outstanding=0.9 * value, appraised=None)  # fmt: skip
    _loan("LN4", region="WEST-01", branch="Chengdu", principal=0.9 * value,
          outstanding=0.0, appraised=None, status="closed")  # fmt: skip
    _loan("LN5", region="WEST-01", branch="Chengdu", principal=0.9 * value,
          outstanding=0.9 * value, appraised=None, with_vehicle=False)  # fmt: skip
    from valuation.tasks import collateral_revalue as task

    result = task.apply().get()
    assert result["checked"] == 3 and result["missing_vehicle"] == 1
    checks = {c.loan_id: c for c in CollateralCheck.objects.all()}
    assert set(checks) == {"LN1", "LN2", "LN3"}
    assert checks["LN1"].over_limit and checks["LN1"].inflated
    assert checks["LN1"].branch == "Pudong" and checks["LN1"].model_version == fitted.version
    assert not checks["LN2"].over_limit and not checks["LN2"].inflated
    assert checks["LN3"].over_limit and not checks["LN3"].inflated
    assert checks["LN1"].ltv_pct == pytest.approx(
        100 * float(checks["LN1"].outstanding) / checks["LN1"].model_value
    )
    client = client_for(viewer)
    body = client.get(COLLATERAL, {"over_limit": 1}).json()
    assert [r["loan_id"] for r in body["results"]] == ["LN1", "LN3"] or {
        r["loan_id"] for r in body["results"]
    } == {"LN1", "LN3"}
    body = client.get(COLLATERAL, {"over_limit": 1, "region": "EAST-01"}).json()
    assert [r["loan_id"] for r in body["results"]] == ["LN1"]
    body = client.get(COLLATERAL, {"inflated": 1, "branch": "Pudong"}).json()
    assert [r["loan_id"] for r in body["results"]] == ["LN1"]
    both = client.get(COLLATERAL, {"over_limit": 1, "inflated": 1}).json()
    assert both["count"] == 2
    totals = {(t["region"], t["branch"]): t for t in both["totals"]}
    assert totals[("WEST-01", "Chengdu")]["over_limit"] == 1
    # the limit moves: the next revaluation follows it; a loan that closed drops out
    second = make_user("max_manager", "manager")
    _set_risk("risk.max_ltv_pct", 100, manager, second)
    LoanSnapshot.objects.create(loan_id="LN3", as_of=timezone.localdate(),
                                outstanding_principal=0, dpd=0, status="closed")  # fmt: skip
    result = collateral_revalue()
    assert result["checked"] == 2
    assert set(CollateralCheck.objects.values_list("loan_id", flat=True)) == {"LN1", "LN2"}
    assert CollateralCheck.objects.get(loan_id="LN1").max_ltv_pct == 100.0
    assert not CollateralCheck.objects.get(loan_id="LN1").over_limit


def test_revaluation_without_a_model_does_nothing(db: Any) -> None:
    assert collateral_revalue() == {"checked": 0, "skipped": "no model"}


def test_demo_collateral_seeding_describes_every_loan_vehicle(fitted) -> None:
    _loan("LD1", region="EAST-01", branch="B1", principal=100_000, outstanding=90_000,
          appraised=150_000, with_vehicle=False)  # fmt: skip
    call_command("valuation_seed_collateral")
    row = CollateralVehicle.objects.get(vehicle_id="V-LD1")
    assert row.source == "demo" and row.condition_grade in GRADES
    assert CollateralCheck.objects.filter(loan_id="LD1").exists()
    call_command("valuation_seed_collateral", "--no-revalue")  # twice: nothing new
    assert CollateralVehicle.objects.count() == 1


def test_models_endpoint(client_for, viewer, fitted) -> None:
    body = client_for(viewer).get("/api/valuations/models/").json()
    assert body["active"]["version"] == fitted.version
    assert body["active"]["ppe10"] == pytest.approx(fitted.ppe10)
    assert len(body["history"]) == 1


def test_quote_says_which_factors_fell_back(client_for, viewer, fitted) -> None:
    client = client_for(viewer)
    usual = client.post(QUOTE, vehicle(), format="json").json()
    assert usual["fallbacks"] == []
    unseen = client.post(QUOTE, vehicle(model="Toyota Prototype"), format="json").json()
    [item] = unseen["fallbacks"]
    assert item["factor"] == "model_curves" and item["reason"] == "unseen"
    assert item["sales"] == 0 and item["needed"] == 10
    assert "Toyota Toyota Prototype has no sales yet" in item["note"]
    assert "its make's depreciation" in item["note"]
    stranger = client.post(QUOTE, vehicle(make="Zzyzx Motors"), format="json").json()
    assert [f["factor"] for f in stranger["fallbacks"]] == ["make_curves"]
    assert "the market's depreciation" in stranger["fallbacks"][0]["note"]


def test_models_endpoint_reports_what_the_sales_carry(client_for, viewer, fitted) -> None:
    active = client_for(viewer).get("/api/valuations/models/").json()["active"]
    support = {row["factor"]: row for row in active["support"]}
    assert set(support) >= {"age", "mileage", "accidents", "make_curves", "model_curves"}
    assert support["age"]["status"] == "estimated" and support["age"]["label"] == "Vehicle age"
    # 800 sales over 540 days: the monthly index, not yet the season (24 months)
    assert support["market_timing"]["status"] == "simplified"
    assert "the season needs 24 months" in support["market_timing"]["note"]
    assert isinstance(active["downweighted_sales"], int)
