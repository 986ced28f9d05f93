"""The metrics HTTP API (contract section 4): definitions, panels, values (JSON and CSV), series,
region comparison, samples (limits, bad items, 201), alerts; and the application's own API
latency recorded as samples."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from carloan.models import Sample
from metrics import latency
from metrics.models import Alert, MetricValue
from metrics.registry import METRIC_KEYS
from metrics.samples import MAX_SAMPLES
from metrics.selectors import business_today, panels_for_day
from metrics.services import metrics_refresh
from tests.test_metrics_support import day, lead, loan, sample

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relative_modes")]

Clients = Callable[[User | None], APIClient]
D = "2026-03-31"


@pytest.fixture
def as_viewer(viewer: User, client_for: Clients) -> APIClient:
    return client_for(viewer)


@pytest.fixture
def as_tech(tech_head: User, client_for: Clients) -> APIClient:
    return client_for(tech_head)


@pytest.fixture
def book() -> None:
    """Two regions with a little of everything over March, computed."""
    lead("EAST", "2026-03-10T10:00")
    lead("WEST", "2026-03-11T10:00")
    loan("EAST", "2026-03-12T10:00")
    sample("api_response_time", "2026-02-10T10:00", 100, region="EAST")
    sample("api_response_time", f"{D}T10:00", 150, region="EAST")
    metrics_refresh(start=day("2026-02-01"), end=day(D))


# --- definitions, regions ------------------------------------------------------------------------


def test_the_fourteen_definitions(as_viewer: APIClient) -> None:
    answer = as_viewer.get("/api/metrics/")

    assert answer.status_code == 200
    body = answer.json()
    assert [m["key"] for m in body] == list(METRIC_KEYS)
    overdue = next(m for m in body if m["key"] == "overdue_rate")
    assert {k: overdue[k] for k in ("name", "category", "unit", "direction", "department")} == {
        "name": "Overdue rate",
        "category": "business",
        "unit": "%",
        "direction": "lower_is_better",
        "department": "risk",
    }
    assert "dpd >= 1" in overdue["description"] or "dpd ≥ 1" in overdue["description"]
    assert (overdue["warn_pct"], overdue["critical_pct"]) == (5.0, 12.0)
    assert sum(m["category"] == "technical" for m in body) == 6


def test_metrics_need_a_signed_in_user(client_for: Clients) -> None:
    anonymous = client_for(None)
    for url in ("/api/metrics/", "/api/metrics/panels/", "/api/alerts/"):
        assert anonymous.get(url).status_code == 401


def test_regions(as_viewer: APIClient, book: None) -> None:
    assert as_viewer.get("/api/metrics/regions/").json() == ["all", "EAST", "WEST"]


# --- panels --------------------------------------------------------------------------------------


def test_panels_of_a_region_and_day(as_viewer: APIClient, book: None) -> None:
    answer = as_viewer.get(f"/api/metrics/panels/?date={D}&region=EAST")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["date"], body["region"]) == (D, "EAST")
    assert [p["key"] for p in body["panels"]] == list(METRIC_KEYS)
    p95 = next(p for p in body["panels"] if p["key"] == "api_response_time_p95")
    assert p95["value"] == 150.0
    assert p95["baseline"] == 100.0
    assert p95["delta_pct"] == 50.0
    assert p95["status"] == "critical"
    assert (p95["unit"], p95["direction"], p95["warn_pct"], p95["critical_pct"]) == (
        "ms",
        "lower_is_better",
        5.0,
        12.0,
    )
    assert len(p95["series"]) == 30
    assert p95["series"][0] == {"date": "2026-03-02", "value": None}
    assert p95["series"][-1] == {"date": D, "value": 150.0}
    conversion = next(p for p in body["panels"] if p["key"] == "lead_conversion_rate")
    assert conversion["value"] == 100.0 and conversion["computed_at"]


def test_panels_default_to_today_and_all(as_viewer: APIClient) -> None:
    body = as_viewer.get("/api/metrics/panels/").json()

    assert (body["date"], body["region"]) == (business_today().isoformat(), "all")
    assert {p["status"] for p in body["panels"]} == {"no_data"}  # nothing computed yet


@pytest.mark.parametrize(
    "query", ["date=2026-13-01", "date=yesterday", "region=NOWHERE", "region=" + "x" * 40]
)
def test_panels_refuse_a_bad_date_or_an_unknown_region(
    as_viewer: APIClient, book: None, query: str
) -> None:
    answer = as_viewer.get(f"/api/metrics/panels/?{query}")

    assert answer.status_code == 400
    assert set(answer.json()) <= {"date", "region"}


def test_panels_take_one_query_whatever_the_book(book: None) -> None:
    panels_for_day(day(D), "EAST")  # warm the parameter cache
    with CaptureQueriesContext(connection) as small:
        panels_for_day(day(D), "EAST")
    for n in range(40):
        lead("EAST", f"2026-03-{1 + n % 28:02d}T10:00")
        sample("api_response_time", f"2026-03-{1 + n % 28:02d}T10:00", n, region=f"R{n}")
    metrics_refresh(start=day("2026-01-01"), end=day(D))
    with CaptureQueriesContext(connection) as large:
        panels = panels_for_day(day(D), "EAST")

    assert len(panels) == 14
    assert len(large.captured_queries) == len(small.captured_queries) <= 2
    panel_queries = [q for q in large.captured_queries if "metrics_metricvalue" in q["sql"]]
    assert len(panel_queries) == 1


# --- values, series, comparison ------------------------------------------------------------------


def test_values_are_date_and_value_for_every_day(as_viewer: APIClient, book: None) -> None:
    answer = as_viewer.get(
        "/api/metrics/values/?metric=api_response_time_p95&region=EAST"
        "&start=2026-03-30&end=2026-04-01"
    )

    assert answer.status_code == 200
    assert answer.json() == [
        {"date": "2026-03-30", "value": None},
        {"date": "2026-03-31", "value": 150.0},
        {"date": "2026-04-01", "value": None},  # never computed
    ]


def test_values_download_as_csv(as_viewer: APIClient, book: None) -> None:
    answer = as_viewer.get(
        "/api/metrics/values/?metric=api_response_time_p95&region=EAST"
        "&start=2026-03-30&end=2026-03-31&format=csv"
    )

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert "attachment" in answer["Content-Disposition"]
    assert answer.content.decode() == "date,value\n2026-03-30,\n2026-03-31,150.0\n"


@pytest.mark.parametrize(
    "query",
    [
        "metric=nope",
        "region=EAST",  # no metric
        "metric=overdue_rate&start=2026-03-31&end=2026-03-01",
        "metric=overdue_rate&start=2000-01-01&end=2026-03-01",  # over 3660 days
        "metric=overdue_rate&start=31/03/2026",
        "metric=overdue_rate&region=NOWHERE",
    ],
)
def test_values_refuse_bad_input(as_viewer: APIClient, book: None, query: str) -> None:
    assert as_viewer.get(f"/api/metrics/values/?{query}").status_code == 400


def test_series_carry_baseline_and_status(as_viewer: APIClient, book: None) -> None:
    rows = as_viewer.get(
        f"/api/metrics/series/?metric=api_response_time_p95&region=EAST&start={D}&end={D}"
    ).json()

    assert rows == [
        {
            "date": D,
            "value": 150.0,
            "baseline": 100.0,
            "delta_pct": 50.0,
            "status": "critical",
            "numerator": None,
            "denominator": 1.0,
        }
    ]


def test_regions_compared_on_a_day(as_viewer: APIClient, book: None) -> None:
    rows = as_viewer.get(f"/api/metrics/compare/?metric=lead_conversion_rate&date={D}").json()

    assert [(r["region"], r["value"]) for r in rows] == [
        ("all", 50.0),
        ("EAST", 100.0),
        ("WEST", 0.0),
    ]


# --- alerts --------------------------------------------------------------------------------------


def test_alerts_list_and_filter(as_viewer: APIClient, book: None) -> None:
    body = as_viewer.get("/api/alerts/?status=open&region=EAST").json()

    assert [(a["metric"], a["region"], a["day"], a["level"]) for a in body] == [
        ("api_response_time_p95", "EAST", D, "critical")
    ]
    assert set(body[0]) >= {
        "metric",
        "region",
        "day",
        "status",
        "level",
        "value",
        "baseline",
        "delta_pct",
        "raised_at",
        "resolved_at",
        "card",
    }
    assert body[0]["card"] is None
    assert as_viewer.get("/api/alerts/?status=resolved").json() == []
    assert as_viewer.get("/api/alerts/?status=whatever").status_code == 400


# --- samples -------------------------------------------------------------------------------------


def post_samples(client: APIClient, items: Any) -> Any:
    return client.post(
        "/api/metrics/samples/", data=json.dumps(items), content_type="application/json"
    )


def test_samples_are_accepted_and_recomputed(
    as_tech: APIClient, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    items = [
        {"metric": "availability", "ts": f"{D}T10:00:00Z", "value": 1, "region": "EAST"},
        {"metric": "availability", "ts": f"{D}T11:00:00+08:00", "value": "0", "region": "EAST"},
        {"metric": "api_response_time", "ts": f"{D}T12:00:00", "value": 12.5},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_samples(as_tech, items)

    assert answer.status_code == 201
    assert answer.json() == {
        "accepted": 3,
        "created": 3,
        "updated": 0,
        "first_day": D,
        "last_day": D,
    }
    assert Sample.objects.count() == 3
    assert MetricValue.objects.get(metric="availability", region="EAST", day=day(D)).value == 50
    assert MetricValue.objects.get(
        metric="api_response_time_p95", region="all", day=day(D)
    ).value == pytest.approx(12.5)
    # Only the technical family was recomputed, and only that day.
    assert set(MetricValue.objects.values_list("day", flat=True)) == {day(D)}
    assert not MetricValue.objects.filter(metric="overdue_rate").exists()

    again = post_samples(as_tech, items)
    assert again.json()["created"] == 0 and again.json()["updated"] == 0


def test_bad_samples_are_listed_and_nothing_is_stored(as_tech: APIClient) -> None:
    answer = post_samples(
        as_tech,
        [
            {"metric": "availability", "ts": f"{D}T10:00:00Z", "value": 1},
            {"metric": "uptime", "ts": f"{D}T10:00:00Z", "value": 1},
            {"metric": "availability", "ts": "31/03/2026", "value": "fast"},
            {"metric": "availability", "ts": f"{D}T10:00:00Z", "value": 1, "region": "R" * 40},
            {"metric": "availability", "ts": f"{D}T10:00:00Z", "value": 1, "region": "all"},
            "not an object",
            {"metric": "availability", "ts": f"{D}T10:00:00Z", "value": True},
        ],
    )

    assert answer.status_code == 400
    body = answer.json()
    found = {(e["index"], e["field"]) for e in body["errors"]}
    assert found == {
        (1, "metric"),
        (2, "ts"),
        (2, "value"),
        (3, "region"),
        (4, "region"),
        (5, ""),
        (6, "value"),
    }
    assert body["total_errors"] == 7
    assert Sample.objects.count() == 0


def test_at_most_10000_samples_per_request(as_tech: APIClient) -> None:
    item = {"metric": "availability", "ts": f"{D}T10:00:00Z", "value": 1}
    answer = post_samples(as_tech, [item] * (MAX_SAMPLES + 1))

    assert answer.status_code == 400
    assert "at most 10,000" in answer.json()["errors"][0]["reason"]
    assert post_samples(as_tech, {"metric": "availability"}).status_code == 400


def test_samples_need_a_department_head_or_manager(
    as_viewer: APIClient, client_for: Clients
) -> None:
    item = [{"metric": "availability", "ts": f"{D}T10:00:00Z", "value": 1}]
    assert post_samples(as_viewer, item).status_code == 403
    assert post_samples(client_for(None), item).status_code == 401


# --- the application's own latency ---------------------------------------------------------------


@pytest.fixture
def latency_on(settings: Any) -> Iterator[None]:
    settings.METRICS_API_LATENCY = True
    settings.METRICS_LATENCY_FLUSH_SIZE = 3
    latency.BUFFER.take()
    yield
    latency.BUFFER.take()


def test_api_latency_is_recorded_as_samples(as_viewer: APIClient, latency_on: None) -> None:
    as_viewer.get("/api/metrics/")
    as_viewer.get("/api/metrics/regions/")
    assert Sample.objects.count() == 0  # buffered, not written per request
    as_viewer.get("/healthz")  # not an API call: not timed
    assert Sample.objects.count() == 0

    as_viewer.get("/api/alerts/")  # the third: the batch is written after this response

    recorded = list(Sample.objects.values_list("metric", "region", "source", "value"))
    assert len(recorded) == 3
    assert {r[:3] for r in recorded} == {("api_response_time", "", "self")}
    assert all(0 < r[3] < 10_000 for r in recorded)


def test_api_latency_is_flushed_after_the_interval(
    as_viewer: APIClient, latency_on: None, settings: Any
) -> None:
    settings.METRICS_LATENCY_FLUSH_SIZE = 1000
    settings.METRICS_LATENCY_FLUSH_SECONDS = 0
    as_viewer.get("/api/metrics/")

    assert Sample.objects.filter(source="self").count() == 1


def test_a_failing_flush_never_fails_a_request(
    as_viewer: APIClient, latency_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr("metrics.services.samples_record", broken)
    for _ in range(4):
        assert as_viewer.get("/api/metrics/").status_code == 200
    assert Sample.objects.count() == 0


def test_the_latency_buffer_is_bounded() -> None:
    buffer = latency.LatencyBuffer(maxlen=3)
    now = business_today()
    for n in range(5):
        buffer.add(now + timedelta(seconds=n), float(n))  # type: ignore[arg-type]

    assert len(buffer.items) == 3 and buffer.dropped == 2
    assert [ms for _, ms in buffer.take()] == [2.0, 3.0, 4.0]


def test_alerts_are_not_raised_for_days_without_data(book: None) -> None:
    assert not Alert.objects.filter(day=day("2026-03-30")).exists()
