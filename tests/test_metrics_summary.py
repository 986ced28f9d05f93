"""GET /api/metrics/summary/ (contract section 3, "Any period, and a comparison"): the fourteen
metrics over any period, computed from the loan book, against the previous period or the same
dates a year earlier; figures worked out by hand on small books."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics.periods import Period, compare_period, delta_pct, preset_period
from tests.test_metrics_support import application, lead, loan, sample, snapshot

pytestmark = pytest.mark.django_db

URL = "/api/metrics/summary/"
P = {"start": "2026-03-01", "end": "2026-03-10"}  # previous period: 02-19 .. 02-28


def panels(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["key"]: p for p in answer["panels"]}


def small_book() -> None:
    """EAST in March 2026 (the period), in late February (the previous period) and in March
    2025 (a year earlier)."""
    # Leads: four in the period (its first and last moments included), two just before it.
    lead("EAST", "2026-03-01T00:00")
    lead("EAST", "2026-03-05T12:00")
    lead("EAST", "2026-03-10T23:59:59")
    lead("EAST", "2026-03-07T09:00")
    lead("EAST", "2026-03-11T00:00")  # after the period
    lead("EAST", "2026-02-28T23:59:59")  # previous period
    lead("EAST", "2026-02-19T00:00")  # previous period, first moment
    # Loans: one funded in the period (X), one in the previous period (Y).
    loan("EAST", "2026-03-03T10:00", loan_id="X", principal="100000")
    loan("EAST", "2026-02-20T10:00", loan_id="Y", principal="60000")
    # Applications decided in the period: 2 approved, 1 rejected, 1 pending (not counted).
    application("EAST", "approved", "2026-03-02T10:00")
    application("EAST", "approved", "2026-03-09T10:00")
    application("EAST", "rejected", "2026-03-04T10:00")
    application("EAST", "pending", None, applied="2026-03-04T10:00")
    # Stock: Y carried forward from 02-15; X active from 03-03, 5 days late on 03-08.
    snapshot("Y", "2026-02-15", "60000", 0, "active")
    snapshot("X", "2026-03-03", "100000", 0, "active")
    snapshot("X", "2026-03-08", "90000", 5, "active")
    # API response times: five in the period (one without a region), one a year earlier.
    for ms, when in ((100, "03-01"), (200, "03-02"), (300, "03-05"), (400, "03-10")):
        sample("api_response_time", f"2026-{when}T08:00", ms, region="EAST")
    sample("api_response_time", "2026-03-06T08:00", 500)  # no region: `all` only
    sample("api_response_time", "2025-03-05T08:00", 1000, region="EAST")
    # Availability: 3 up, 1 down in the period.
    for up, hour in ((1, 1), (1, 2), (1, 3), (0, 4)):
        sample("availability", f"2026-03-04T0{hour}:00", up, region="EAST")


def test_summary_against_the_previous_period(client_for: Any, viewer: Any) -> None:
    small_book()
    answer = client_for(viewer).get(URL, {**P, "region": "EAST"}).json()

    assert (answer["start"], answer["end"], answer["region"]) == (
        "2026-03-01",
        "2026-03-10",
        "EAST",
    )
    assert (answer["compare_start"], answer["compare_end"]) == ("2026-02-19", "2026-02-28")
    assert answer["compare"] == "previous_period"
    got = panels(answer)
    assert len(got) == 14
    # Flow: 1 loan / 4 leads in the period; 1 / 2 before it: −50 %.
    conversion = got["lead_conversion_rate"]
    assert conversion["value"] == pytest.approx(25.0)
    assert (conversion["numerator"], conversion["denominator"]) == (1, 4)
    assert conversion["compare_value"] == pytest.approx(50.0)
    assert conversion["delta_pct"] == pytest.approx(-50.0)
    # Decided applications: 2 / 3; none before: no comparison.
    approval = got["approval_rate"]
    assert approval["value"] == pytest.approx(200 / 3)
    assert approval["compare_value"] is None and approval["delta_pct"] is None
    # Stock on the period's end (03-10): X 90,000 overdue of 150,000 active → 60 %; on 02-28
    # only Y, not overdue: 0 %, so no relative change.
    overdue = got["overdue_rate"]
    assert overdue["value"] == pytest.approx(60.0)
    assert (overdue["numerator"], overdue["denominator"]) == (90000, 150000)
    assert overdue["compare_value"] == pytest.approx(0.0)
    assert overdue["delta_pct"] is None
    assert got["npl_ratio"]["value"] == pytest.approx(0.0)
    # Technical: the p95 of EAST's 100, 200, 300, 400 (interpolated): 400 − 0.15 × 100 = 385.
    assert got["api_response_time_p95"]["value"] == pytest.approx(385.0)
    assert got["api_response_time_p95"]["compare_value"] is None
    assert got["availability"]["value"] == pytest.approx(75.0)
    # Nothing valued: null, never 0.
    assert got["valuation_cycle_time"]["value"] is None


def test_summary_against_the_same_dates_a_year_earlier(client_for: Any, viewer: Any) -> None:
    small_book()
    answer = client_for(viewer).get(URL, {**P, "compare": "previous_year"}).json()

    assert (answer["compare_start"], answer["compare_end"]) == ("2025-03-01", "2025-03-10")
    assert answer["region"] == "all"
    p95 = panels(answer)["api_response_time_p95"]
    # `all` counts the sample without a region: p95 of 100..500 = 400 + 0.8 × 100 = 480;
    # a year earlier 1000: −52 %.
    assert p95["value"] == pytest.approx(480.0)
    assert p95["compare_value"] == pytest.approx(1000.0)
    assert p95["delta_pct"] == pytest.approx(-52.0)
    # No lead a year earlier: no comparison.
    assert panels(answer)["lead_conversion_rate"]["compare_value"] is None


def test_an_empty_period_has_null_values_not_zeros(client_for: Any, viewer: Any) -> None:
    small_book()
    answer = client_for(viewer).get(URL, {"start": "2020-01-01", "end": "2020-01-31"}).json()

    assert answer["compare_start"] == "2019-12-01" and answer["compare_end"] == "2019-12-31"
    for panel in answer["panels"]:
        assert panel["value"] is None, panel["key"]
        assert panel["delta_pct"] is None, panel["key"]


def test_every_region_at_once(client_for: Any, viewer: Any) -> None:
    small_book()
    lead("WEST", "2026-03-02T10:00")
    answer = client_for(viewer).get(URL, {**P, "breakdown": "region"}).json()

    regions = [r["region"] for r in answer["by_region"]]
    assert regions == ["all", "EAST", "WEST"]
    west = {p["key"]: p for p in answer["by_region"][2]["panels"]}
    assert west["lead_conversion_rate"]["value"] == pytest.approx(0.0)  # 0 loans / 1 lead
    everyone = {p["key"]: p for p in answer["by_region"][0]["panels"]}
    assert everyone["lead_conversion_rate"]["value"] == pytest.approx(20.0)  # 1 / 5
    assert answer["panels"] == answer["by_region"][0]["panels"]


@pytest.fixture
def period_cache(settings: Any) -> Any:
    """The cache on, without what an earlier test (rolled back since) left for these periods."""
    from django.core.cache import cache

    from metrics.periods import cache_keys

    settings.METRICS_SUMMARY_CACHE_SECONDS = 600
    period = Period(date(2026, 3, 1), date(2026, 3, 10))
    for compare in ("previous_period", "previous_year"):
        for each in (period, compare_period(period, compare)):
            cache.delete_many(list(cache_keys(each).values()))
    return settings


def test_a_cached_period_is_recomputed_once_the_book_changes(
    client_for: Any, viewer: Any, period_cache: Any
) -> None:
    small_book()
    api = client_for(viewer)
    first = panels(api.get(URL, {**P, "region": "EAST"}).json())
    with CaptureQueriesContext(connection) as again:
        second = panels(api.get(URL, {**P, "region": "EAST"}).json())
    assert second == first
    # No formula ran again (the funnel's and the technical family's statements).
    assert not any("GROUPING SETS" in q["sql"] for q in again.captured_queries)

    lead("EAST", "2026-03-09T09:00")  # five leads now: 1 / 5
    third = panels(api.get(URL, {**P, "region": "EAST"}).json())
    assert third["lead_conversion_rate"]["value"] == pytest.approx(20.0)


@pytest.mark.parametrize("grace", [0, 600])
def test_new_samples_reach_a_cached_period_after_the_grace(
    client_for: Any, viewer: Any, period_cache: Any, grace: int
) -> None:
    period_cache.METRICS_SUMMARY_SAMPLES_GRACE_SECONDS = grace
    small_book()
    api = client_for(viewer)
    assert panels(api.get(URL, {**P, "region": "EAST"}).json())["availability"]["value"] == 75

    sample("availability", "2026-03-04T05:00", 1, region="EAST")  # 4 up of 5
    lead("EAST", "2026-03-09T09:00")  # and a lead: the business families follow at once
    got = panels(api.get(URL, {**P, "region": "EAST"}).json())

    assert got["availability"]["value"] == pytest.approx(80.0 if grace == 0 else 75.0)
    assert got["lead_conversion_rate"]["value"] == pytest.approx(20.0)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end"),
        ({"start": "2026-03-32"}, "start"),
        ({"compare": "last_week"}, "compare"),
        ({"preset": "fortnight"}, "preset"),
        ({"preset": "7d", "start": "2026-03-01"}, "preset"),
        ({"region": "NOWHERE"}, "region"),
        ({"start": "2000-01-01", "end": "2026-03-01"}, "start"),
        ({"breakdown": "channel"}, "breakdown"),
    ],
)
def test_bad_queries_are_400_with_the_field(
    client_for: Any, viewer: Any, query: dict[str, str], field: str
) -> None:
    response = client_for(viewer).get(URL, query)
    assert response.status_code == 400
    assert field in response.json()


def test_signed_out_is_401(client_for: Any) -> None:
    assert client_for(None).get(URL).status_code == 401


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("today", "2026-05-15", "2026-05-15"),
        ("7d", "2026-05-09", "2026-05-15"),
        ("30d", "2026-04-16", "2026-05-15"),
        ("this_month", "2026-05-01", "2026-05-15"),
        ("last_month", "2026-04-01", "2026-04-30"),
        ("this_quarter", "2026-04-01", "2026-05-15"),
    ],
)
def test_presets_end_today(preset: str, start: str, end: str) -> None:
    period = preset_period(preset, date(2026, 5, 15))
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


def test_comparisons() -> None:
    march = Period(date(2026, 3, 1), date(2026, 3, 31))
    before = compare_period(march, "previous_period")
    assert (before.start, before.end) == (date(2026, 1, 29), date(2026, 2, 28))  # 31 days
    leap = Period(date(2024, 2, 29), date(2024, 3, 1))
    year = compare_period(leap, "previous_year")
    assert (year.start, year.end) == (date(2023, 2, 28), date(2023, 3, 1))
    assert delta_pct(110, 100) == pytest.approx(10.0)
    assert delta_pct(-5, -10) == pytest.approx(50.0)
    assert delta_pct(1, 0) is None and delta_pct(None, 1) is None


# --- the pages ---------------------------------------------------------------------------------


def _cells(html: str, key: str, attribute: str = "data-key") -> dict[str, str]:
    """The period table's cells of one row, by role, whitespace collapsed."""
    import re

    row = re.search(rf'<tr {attribute}="{key}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, f"no period row {key}"
    cells = re.findall(r'data-role="(\w+)">(.*?)</td>', row.group(1), re.S)
    return {role: " ".join(text.split()) for role, text in cells}


def test_the_dashboard_shows_a_custom_period_against_the_previous_one(viewer: Any) -> None:
    from tests.test_dashboard_pages import page_data, signed_in

    small_book()
    html = (
        signed_in(viewer)
        .get("/", {"period": "custom", "start": "2026-03-01", "end": "2026-03-10"})
        .content.decode()
    )

    assert "2026-03-01 – 2026-03-10" in html and "(2026-02-19 – 2026-02-28)" in html
    conversion = _cells(html, "lead_conversion_rate")
    assert conversion == {"value": "25.00 %", "compare": "50.00 %", "delta": "▼ −50.0 %"}
    assert 'class="num delta delta--bad" data-role="delta">▼ −50.0 %' in html  # lower is bad
    assert _cells(html, "overdue_rate")["value"] == "60.00 %"
    # Links to a metric keep the period; the script gets it to fetch the summary again.
    assert "/metrics/lead_conversion_rate/?period=custom&amp;start=2026-03-01" in html
    assert page_data(html, "dashboard-data")["period"] == {
        "period": "custom",
        "start": "2026-03-01",
        "end": "2026-03-10",
    }


def test_the_dashboard_without_a_period_has_no_period_table(viewer: Any) -> None:
    from tests.test_dashboard_pages import signed_in

    html = signed_in(viewer).get("/").content.decode()
    assert 'id="period-summary"' not in html
    assert '<option value="" selected>One day, live</option>' in html


def test_a_bad_custom_period_says_so(viewer: Any) -> None:
    from tests.test_dashboard_pages import signed_in

    html = (
        signed_in(viewer)
        .get("/", {"period": "custom", "start": "2026-03-10", "end": "2026-03-01"})
        .content.decode()
    )
    assert 'id="period-summary"' not in html
    assert "the period was not applied" in html


def test_the_metric_page_shows_the_period_in_every_region(viewer: Any) -> None:
    from tests.test_dashboard_pages import page_data, signed_in

    small_book()
    lead("WEST", "2026-03-02T10:00")
    html = (
        signed_in(viewer)
        .get(
            "/metrics/lead_conversion_rate/",
            {
                "period": "custom",
                "start": "2026-03-01",
                "end": "2026-03-10",
                "compare": "previous_year",
            },
        )
        .content.decode()
    )

    assert _cells(html, "all", "data-region")["value"] == "20.00 %"  # 1 loan / 5 leads
    assert _cells(html, "EAST", "data-region") == {"value": "25.00 %", "compare": "–", "delta": "–"}
    assert _cells(html, "WEST", "data-region")["value"] == "0.00 %"
    # The history covers the period; the region links keep it.
    history = page_data(html, "metric-data")["figures"]["history"]
    value = next(t for t in history["data"] if t["name"] == "Daily value")
    assert value["x"][0] == "2026-03-01" and value["x"][-1] == "2026-03-10"
    assert (
        "?region=WEST&amp;period=custom&amp;start=2026-03-01&amp;end=2026-03-10&amp;compare=previous_year"
        in html
    )


def test_the_metric_page_still_reads_an_old_range(viewer: Any) -> None:
    from tests.test_dashboard_pages import page_data, signed_in

    html = (
        signed_in(viewer)
        .get("/metrics/overdue_rate/", {"date": "2026-03-10", "range": "30"})
        .content.decode()
    )
    assert '<option value="30d" selected>' in html
    history = page_data(html, "metric-data")["figures"]["history"]
    value = next(t for t in history["data"] if t["name"] == "Daily value")
    assert value["x"][0] == "2026-02-09" and value["x"][-1] == "2026-03-10"


def test_the_common_periods_are_computed_ahead(
    client_for: Any, viewer: Any, period_cache: Any
) -> None:
    from django.core.cache import cache

    from metrics.periods import cache_keys, warm_periods

    small_book()
    today = date(2026, 3, 10)
    week = preset_period("7d", today)
    for each in (week, *(compare_period(week, c) for c in ("previous_period", "previous_year"))):
        cache.delete_many(list(cache_keys(each).values()))  # no answer of an earlier run

    assert warm_periods(today) > 6
    with CaptureQueriesContext(connection) as asked:
        got = client_for(viewer).get(
            URL, {"start": week.start.isoformat(), "end": week.end.isoformat(), "region": "EAST"}
        )
    assert panels(got.json())["lead_conversion_rate"]["denominator"] == 3  # 03-04 .. 03-10
    sql = " ".join(q["sql"] for q in asked.captured_queries)
    assert "'lead_conversion_rate'" not in sql and "'overdue_rate'" not in sql
    assert "'availability'" in sql  # samples arrive all the time: not computed ahead


def test_a_refresh_that_changes_the_book_queues_the_warm_up(
    period_cache: Any, eager_celery: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.cache import cache

    from metrics.periods import cache_keys
    from metrics.selectors import business_today
    from metrics.services import metrics_refresh

    month = preset_period("30d", business_today())
    cache.delete_many(list(cache_keys(month).values()))
    lead("EAST", f"{business_today().isoformat()}T00:00")
    with django_capture_on_commit_callbacks(execute=True):
        metrics_refresh(start=business_today(), end=business_today(), families=["funnel"])

    assert cache.get(cache_keys(month)["funnel"]) is not None
    assert cache.get(cache_keys(month)["technical"]) is None
