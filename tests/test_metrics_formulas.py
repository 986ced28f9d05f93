"""Each of the fourteen formulas (contract section 3) on small hand-built books, with the
expected figures worked out by hand, and the edge cases the contract names: timestamps in other
zones, a business time zone other than UTC, snapshot carry-forward, closed and charged-off loans,
pending applications, zero denominators, regions with no activity, percentile interpolation."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from metrics.formulas import Frame, compute, loanbook_regions, metric_values_for_period
from metrics.models import MetricValue
from metrics.registry import DEFINITIONS, PERIOD_METRICS, register_period_metric
from metrics.services import metrics_refresh
from tests.test_metrics_support import (
    application,
    complaint,
    day,
    lead,
    loan,
    row,
    sample,
    snapshot,
    spend,
    valuation,
    value,
)

pytestmark = pytest.mark.django_db

D = "2026-03-31"  # W(D) = 2026-03-02 .. 2026-03-31


def refresh(start: str, end: str = D) -> None:
    metrics_refresh(start=day(start), end=day(end))


# --- funnel ----------------------------------------------------------------------------------


def test_lead_conversion_rate_counts_loans_and_leads_of_the_30_day_window() -> None:
    lead("EAST", "2026-03-02T00:00")  # first day of W(D)
    lead("EAST", "2026-03-15T10:00")
    lead("EAST", "2026-03-31T23:59:59")  # last moment of D
    lead("EAST", "2026-03-01T23:30:00-01:00")  # 03-02 00:30 UTC: inside W
    lead("EAST", "2026-03-01T23:59:59")  # the day before W: out
    loan("EAST", "2026-03-20T09:00")
    loan("EAST", "2026-03-01T12:00")  # out
    loan("WEST", "2026-03-10T09:00")  # WEST funds a loan but has no lead

    refresh(D)

    assert value("lead_conversion_rate", "EAST", D) == pytest.approx(25.0)  # 1 / 4
    west = row("lead_conversion_rate", "WEST", D)
    assert west.value is None and west.status == "no_data"  # zero leads: null
    assert (west.numerator, west.denominator) == (1, 0)
    assert value("lead_conversion_rate", "all", D) == pytest.approx(50.0)  # 2 / 4


def test_approval_rate_leaves_pending_applications_out() -> None:
    for _ in range(3):
        application("EAST", "approved", "2026-03-10T10:00")
    application("EAST", "rejected", "2026-03-31T08:00")
    application("EAST", "pending", None, applied="2026-03-20T10:00")
    application("EAST", "pending", "2026-03-21T10:00")  # a pending one with a date: still out
    application("EAST", "approved", "2026-02-28T10:00")  # decided before W
    application("WEST", "pending", None, applied="2026-03-20T10:00")

    refresh(D)

    east = row("approval_rate", "EAST", D)
    assert east.value == pytest.approx(75.0)
    assert (east.numerator, east.denominator) == (3, 4)
    assert value("approval_rate", "WEST", D) is None  # only pending: nothing decided
    assert value("approval_rate", "all", D) == pytest.approx(75.0)


def test_customer_acquisition_cost_is_spend_per_funded_loan() -> None:
    spend("EAST", "2026-03-05", "1000.00")
    spend("EAST", "2026-03-31", "500.00", channel="referral")
    spend("EAST", "2026-03-01", "9999.00")  # before W
    loan("EAST", "2026-03-20T09:00")
    loan("WEST", "2026-03-20T09:00")  # no spend: cost 0
    spend("NORTH", "2026-03-20", "300.00")  # spend, no loan: null

    refresh(D)

    assert value("customer_acquisition_cost", "EAST", D) == pytest.approx(1500.0)
    assert value("customer_acquisition_cost", "WEST", D) == pytest.approx(0.0)
    assert value("customer_acquisition_cost", "NORTH", D) is None
    assert value("customer_acquisition_cost", "all", D) == pytest.approx(1800.0 / 2)


def test_the_window_slides_day_by_day() -> None:
    lead("EAST", "2026-03-01T10:00")
    lead("EAST", "2026-03-02T10:00")
    loan("EAST", "2026-03-01T12:00")

    refresh("2026-03-01", "2026-03-31")

    assert value("lead_conversion_rate", "EAST", "2026-03-01") == pytest.approx(100.0)  # 1/1
    assert value("lead_conversion_rate", "EAST", "2026-03-30") == pytest.approx(50.0)  # 1/2
    assert value("lead_conversion_rate", "EAST", "2026-03-31") == pytest.approx(0.0)  # 0/1


# --- portfolio -------------------------------------------------------------------------------


@pytest.fixture
def portfolio() -> None:
    """Five EAST loans whose snapshots carry forward, close and charge off."""
    for loan_id in ("L1", "L2", "L3", "L4", "L5"):
        loan("EAST", "2026-02-01T10:00", loan_id=loan_id)
    snapshot("L1", "2026-03-01", "1000", 0, "active")
    snapshot("L1", "2026-03-20", "900", 5, "active")
    snapshot("L2", "2026-03-10", "2000", 95, "active")
    snapshot("L2", "2026-03-25", "0", 0, "closed")
    snapshot("L3", "2026-03-15", "500", 120, "active")
    snapshot("L3", "2026-03-28", "400", 150, "charged_off")
    snapshot("L4", "2026-04-02", "700", 10, "active")  # after D: not yet
    snapshot("L5", "2026-03-05", "3000", 0, "active")  # carried forward to D
    snapshot("GHOST", "2026-03-05", "99999", 99, "active")  # no such loan: no region, left out
    complaint("EAST", "2026-03-03T10:00")
    complaint("EAST", "2026-03-18T10:00")
    complaint("EAST", "2026-03-30T10:00")
    complaint("SOUTH", "2026-03-30T10:00")  # SOUTH has no loan


def test_overdue_and_npl_from_each_loans_latest_snapshot(portfolio: None) -> None:
    refresh("2026-02-28")

    # 03-12: L1 1000 (dpd 0), L2 2000 (95), L5 3000 (0)
    assert value("overdue_rate", "EAST", "2026-03-12") == pytest.approx(100 * 2000 / 6000)
    assert value("npl_ratio", "EAST", "2026-03-12") == pytest.approx(100 * 2000 / 6000)
    # 03-20: L1 900 (5), L2 2000 (95), L3 500 (120), L5 3000 (0)
    assert value("overdue_rate", "EAST", "2026-03-20") == pytest.approx(100 * 3400 / 6400)
    assert value("npl_ratio", "EAST", "2026-03-20") == pytest.approx(100 * 2500 / 6400)
    # D: L2 closed, L3 charged off, L4 not yet: L1 900 (5) and L5 3000 (0)
    overdue = row("overdue_rate", "EAST", D)
    assert overdue.value == pytest.approx(100 * 900 / 3900)
    assert (overdue.numerator, overdue.denominator) == (900, 3900)
    assert value("npl_ratio", "EAST", D) == pytest.approx(0.0)
    # Before any snapshot: nothing outstanding, null and no_data.
    before = row("overdue_rate", "EAST", "2026-02-28")
    assert before.value is None and before.status == "no_data"
    assert value("overdue_rate", "all", D) == pytest.approx(100 * 900 / 3900)


def test_a_range_starting_late_carries_earlier_snapshots_forward(portfolio: None) -> None:
    refresh(D, D)  # only D: every snapshot is before the range

    assert value("overdue_rate", "EAST", D) == pytest.approx(100 * 900 / 3900)
    assert MetricValue.objects.filter(day__lt=day(D)).count() == 0


def test_compliance_complaint_rate_per_10k_active_loans(portfolio: None) -> None:
    refresh("2026-03-20")

    assert value("compliance_complaint_rate", "EAST", D) == pytest.approx(10_000 * 3 / 2)
    assert value("compliance_complaint_rate", "EAST", "2026-03-20") == pytest.approx(10_000 * 2 / 4)
    south = row("compliance_complaint_rate", "SOUTH", D)
    assert south.value is None and (south.numerator, south.denominator) == (1, 0)
    assert value("compliance_complaint_rate", "all", D) == pytest.approx(10_000 * 4 / 2)


# --- valuation --------------------------------------------------------------------------------


def test_valuation_accuracy_and_cycle_time() -> None:
    valuation("EAST", "2026-03-10T00:00", "2026-03-11T12:00", "105", "100")  # 1.5 d, within 10 %
    valuation("EAST", "2026-03-01T00:00", "2026-03-03T00:00", "111", "100")  # 2 d, 11 % off
    valuation("EAST", "2026-03-20T00:00", "2026-03-20T06:00", None, "100")  # 0.25 d, not judged
    valuation("EAST", "2026-03-26T00:00", "2026-03-30T00:00", "110", "100")  # 4 d, exactly 10 %
    valuation("EAST", "2026-03-26T00:00", None, "100", "100")  # not completed
    valuation("EAST", "2026-02-10T00:00", "2026-02-20T00:00", "100", "100")  # before W

    refresh(D)

    accuracy = row("valuation_accuracy", "EAST", D)
    assert accuracy.value == pytest.approx(100 * 2 / 3)
    assert (accuracy.numerator, accuracy.denominator) == (2, 3)
    cycle = row("valuation_cycle_time", "EAST", D)
    assert cycle.value == pytest.approx(1.75)  # median of 0.25, 1.5, 2, 4
    assert cycle.denominator == 4
    assert value("valuation_accuracy", "all", D) == pytest.approx(100 * 2 / 3)


def test_a_region_with_no_activity_gets_null_rows() -> None:
    valuation("EAST", "2026-03-10T00:00", "2026-03-11T00:00", "100", "100")
    lead("QUIET", "2025-01-01T10:00")  # seen in the book, nothing recent

    refresh(D)

    for definition in DEFINITIONS:
        quiet = row(definition.key, "QUIET", D)
        assert quiet.value is None, definition.key
        assert quiet.status == "no_data"
    assert loanbook_regions() == ["EAST", "QUIET"]


# --- technical -----------------------------------------------------------------------------------


def test_the_six_technical_metrics_of_a_day() -> None:
    for v in range(1, 21):
        sample("api_response_time", f"{D}T10:00", v, region="EAST")
    sample("api_response_time", "2026-03-30T23:59:59", 1000, region="EAST")  # the day before
    sample("api_response_time", f"{D}T11:00", 100)  # no region: counts for `all` only
    for v in (1, 1, 1, 0):
        sample("availability", f"{D}T10:00", v, region="EAST")
    sample("credit_query_latency", f"{D}T10:00", 0.5, region="EAST")
    sample("credit_query_latency", f"{D}T10:00", 1.5, region="EAST")
    sample("data_sync_lag", f"{D}T10:00", 10, region="EAST")
    sample("data_consistency", f"{D}T10:00", 1, region="EAST")
    sample("data_consistency", f"{D}T10:00", 0, region="EAST")
    for v in (1, 2, 3, 10):
        sample("incident_response_time", f"{D}T10:00", v, region="EAST")

    refresh(D)

    assert value("api_response_time_p95", "EAST", D) == pytest.approx(19.05)  # p95 of 1..20
    assert value("api_response_time_p95", "all", D) == pytest.approx(20.0)  # 1..20 and 100
    assert value("availability", "EAST", D) == pytest.approx(75.0)
    assert value("credit_query_latency_p95", "EAST", D) == pytest.approx(1.45)
    assert value("data_sync_lag_p95", "EAST", D) == pytest.approx(10.0)
    assert value("data_consistency_rate", "EAST", D) == pytest.approx(50.0)
    assert value("incident_response_time", "EAST", D) == pytest.approx(2.5)
    availability = row("availability", "EAST", D)
    assert (availability.numerator, availability.denominator) == (3, 4)


def test_a_sample_with_an_offset_counts_on_its_utc_business_day() -> None:
    sample("availability", "2026-03-31T23:30:00-02:00", 0, region="EAST")  # 04-01 01:30 UTC
    sample("availability", "2026-04-01T01:00:00+08:00", 1, region="EAST")  # 03-31 17:00 UTC

    refresh(D, "2026-04-01")

    assert value("availability", "EAST", D) == pytest.approx(100.0)
    assert value("availability", "EAST", "2026-04-01") == pytest.approx(0.0)


def test_a_business_time_zone_other_than_utc(settings: Any) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    sample("availability", "2026-03-30T17:00:00+00:00", 1, region="EAST")  # 03-31 01:00 CST
    sample("availability", "2026-03-31T16:30:00+00:00", 0, region="EAST")  # 04-01 00:30 CST
    lead("EAST", "2026-03-01T16:30:00+00:00")  # 03-02 00:30 CST: inside W(D)
    lead("EAST", "2026-03-01T15:30:00+00:00")  # 03-01 23:30 CST: before W(D)
    loan("EAST", "2026-03-31T15:59:00+00:00")  # 03-31 23:59 CST

    refresh(D)

    assert value("availability", "EAST", D) == pytest.approx(100.0)
    assert value("lead_conversion_rate", "EAST", D) == pytest.approx(100.0)  # 1 / 1


# --- periods (KPI scoring) ---------------------------------------------------------------------


def test_metrics_over_a_period(portfolio: None) -> None:
    lead("EAST", "2026-01-05T10:00")
    lead("EAST", "2026-02-05T10:00")
    loan("EAST", "2026-03-30T10:00")
    previous = PERIOD_METRICS.get("handoff_wait_time")  # the kanban's own, when installed
    register_period_metric("handoff_wait_time", lambda start, end: 4.5)
    try:
        values = metric_values_for_period(day("2026-01-01"), day(D))
    finally:
        if previous is None:
            PERIOD_METRICS.pop("handoff_wait_time")
        else:
            PERIOD_METRICS["handoff_wait_time"] = previous

    # Flow over the whole quarter: 6 EAST loans funded (five on 02-01, one on 03-30), 2 leads.
    assert values["lead_conversion_rate"]["EAST"] == pytest.approx(100 * 6 / 2)
    # Stock on the quarter's last day.
    assert values["overdue_rate"]["EAST"] == pytest.approx(100 * 900 / 3900)
    assert values["compliance_complaint_rate"]["EAST"] == pytest.approx(10_000 * 3 / 2)
    assert values["handoff_wait_time"] == {"all": 4.5}


def test_compute_keys_rows_by_the_period_end() -> None:
    lead("EAST", "2026-01-05T10:00")
    rows = compute(["funnel"], Frame.for_period(date(2026, 1, 1), date(2026, 3, 31)), ["EAST"])

    assert {r[2] for r in rows} == {date(2026, 3, 31)}
    keys = {(r[0], r[1]) for r in rows}
    assert keys >= {("lead_conversion_rate", "EAST"), ("approval_rate", "all")}


def test_cycle_time_median_of_every_window_is_postgresqls_percentile_cont_to_the_bit() -> None:
    """The window medians come from day-sorted values in Python (no valuation joined to 30
    days); on random data they equal PostgreSQL's percentile_cont(0.5) over each window exactly,
    odd and even counts, every region and `all`, daily and over a period."""
    import random
    from datetime import datetime, timedelta

    from django.db import connection

    rng = random.Random(7)
    start = datetime(2026, 2, 1, 0, 0)
    for _ in range(400):
        requested = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 58))
        completed = requested + timedelta(minutes=rng.randrange(1, 60 * 24 * 9))
        valuation(
            rng.choice(["EAST", "WEST", "NORTH"]), requested.isoformat(), completed.isoformat()
        )
    frame = Frame.daily(day("2026-03-01"), day(D))
    got = {
        (r[1], r[2]): (r[3], r[5])
        for r in compute(["valuation"], frame)
        if r[0] == "valuation_cycle_time"
    }
    sql = """
        WITH v AS (
            SELECT region, (completed_at AT TIME ZONE %(tz)s)::date AS x,
                   (extract(epoch FROM completed_at - requested_at) / 86400)::float8 AS c
            FROM loanbook_valuation WHERE completed_at IS NOT NULL
        ), d AS (SELECT generate_series(%(s)s::date, %(e)s::date, '1 day')::date AS day)
        SELECT coalesce(v.region, 'all'), d.day,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY v.c), count(*)
        FROM d JOIN v ON v.x BETWEEN d.day - 29 AND d.day
        GROUP BY GROUPING SETS ((v.region, d.day), (d.day))
    """
    from django.conf import settings

    with connection.cursor() as cursor:
        cursor.execute(sql, {"tz": settings.TIME_ZONE, "s": day("2026-03-01"), "e": day(D)})
        expected = {(r[0], r[1]): (r[2], float(r[3])) for r in cursor.fetchall()}
    assert len(expected) == 4 * 31
    for key, (median, n) in expected.items():
        assert got[key] == (median, n), key  # equal floats, not approximately
    assert any(n % 2 == 0 for _, n in expected.values()) and any(
        n % 2 for _, n in expected.values()
    )
    # over a period: one median of every value of the period
    period = {
        r[1]: r[3]
        for r in compute(["valuation"], Frame.for_period(day("2026-02-01"), day(D)))
        if r[0] == "valuation_cycle_time"
    }
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY
                   (extract(epoch FROM completed_at - requested_at) / 86400)::float8)
               FROM loanbook_valuation
               WHERE (completed_at AT TIME ZONE %s)::date BETWEEN %s AND %s""",
            [settings.TIME_ZONE, day("2026-02-01"), day(D)],
        )
        assert period["all"] == cursor.fetchone()[0]
