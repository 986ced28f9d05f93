"""Samples are measurements from a real monitoring feed: two gateways may report one series at
the same instant, rows arrive late, clocks drift, new regions appear. Every row is kept and
counts; a file or batch sent again stores nothing twice."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from carloan.loanbook.services import loanbook_import
from carloan.models import Sample
from metrics.models import MetricValue
from metrics.services import metrics_refresh
from tests.factories import csv_file
from tests.test_metrics_support import day

pytestmark = pytest.mark.django_db

D = "2026-03-31"

# Two gateways report the API latency of EAST-01 for the same second (120 and 480 ms), and the
# availability probe reports "up" twice for the same second, plus one "down".
COINCIDENT = f"""
metric,ts,value,region,source
api_response_time,{D}T10:00:00Z,120,EAST-01,gateway
api_response_time,{D}T10:00:00Z,480,EAST-01,gateway
availability,{D}T10:00:00Z,1,EAST-01,probe
availability,{D}T10:00:00Z,1,EAST-01,probe
availability,{D}T10:05:00Z,0,EAST-01,probe
"""


def import_samples(text: str) -> Any:
    return loanbook_import(kind="samples", source=csv_file(text), refresh="none")


def value(metric: str, region: str, on: str = D) -> float | None:
    return MetricValue.objects.get(metric=metric, region=region, day=day(on)).value


def test_coincident_samples_are_all_kept_and_all_count() -> None:
    first = import_samples(COINCIDENT)

    assert (first.rows, first.created, first.updated) == (5, 5, 0)
    assert Sample.objects.count() == 5
    metrics_refresh(start=day(D), end=day(D))
    # p95 of {120, 480}: 120 + 0.95 × 360; availability: 2 up of 3.
    assert value("api_response_time_p95", "EAST-01") == pytest.approx(462.0)
    assert value("availability", "EAST-01") == pytest.approx(200 / 3)


def test_the_same_file_imported_twice_stores_each_row_once() -> None:
    import_samples(COINCIDENT)
    again = import_samples(COINCIDENT)

    assert (again.rows, again.created, again.updated) == (5, 0, 0)
    assert Sample.objects.count() == 5
    # The same instant written with another offset, in the same file, is the same row again.
    shifted = COINCIDENT.replace(f"{D}T10:05:00Z", f"{D}T18:05:00+08:00")
    assert import_samples(shifted).created == 0
    assert Sample.objects.count() == 5


def test_a_late_row_for_an_instant_already_reported_is_one_more_measurement() -> None:
    import_samples(COINCIDENT)
    late = import_samples(
        f"metric,ts,value,region,source\napi_response_time,{D}T10:00:00Z,200,EAST-01,gateway"
    )

    assert late.created == 1 and (late.first_day, late.last_day) == (day(D), day(D))
    metrics_refresh(start=day(D), end=day(D))
    # p95 of {120, 200, 480}: 200 + 0.9 × 280.
    assert value("api_response_time_p95", "EAST-01") == pytest.approx(452.0)
    assert Sample.objects.filter(metric="api_response_time").count() == 3


def test_clock_skew_and_a_region_the_book_has_never_seen_are_taken() -> None:
    ahead = (timezone.now() + timedelta(minutes=3)).isoformat()  # a gateway's clock runs fast
    result = import_samples(
        f"metric,ts,value,region,source\navailability,{ahead},1,NEW-REGION-09,probe"
    )

    assert result.created == 1
    today = result.last_day
    metrics_refresh(start=today, end=today)
    assert MetricValue.objects.get(
        metric="availability", region="NEW-REGION-09", day=today
    ).value == pytest.approx(100.0)


def test_a_json_batch_keeps_coincident_items_and_is_idempotent(
    tech_head: User,
    client_for: Callable[[User | None], APIClient],
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(tech_head)
    items = [
        {"metric": "api_response_time", "ts": f"{D}T10:00:00Z", "value": 120, "region": "E"},
        {"metric": "api_response_time", "ts": f"{D}T10:00:00Z", "value": 480, "region": "E"},
        {"metric": "availability", "ts": f"{D}T10:00:00Z", "value": 1, "region": "E"},
        {"metric": "availability", "ts": f"{D}T10:00:00Z", "value": 1, "region": "E"},
        {"metric": "availability", "ts": f"{D}T10:00:00Z", "value": 0, "region": "E"},
    ]

    def post() -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/api/metrics/samples/", data=json.dumps(items), content_type="application/json"
            )

    answer = post()
    assert answer.status_code == 201, answer.json()
    assert (answer.json()["accepted"], answer.json()["created"]) == (5, 5)
    assert value("availability", "E") == pytest.approx(200 / 3)
    assert value("api_response_time_p95", "E") == pytest.approx(462.0)

    again = post()
    assert again.status_code == 201
    assert (again.json()["accepted"], again.json()["created"]) == (5, 0)
    assert Sample.objects.count() == 5


@pytest.mark.parametrize(
    ("metric", "value", "said"),
    [
        ("availability", "99.0", "from 0 (down) to 1 (up)"),
        ("data_consistency", "-0.5", "from 0 (inconsistent) to 1"),
        ("api_response_time", "1e308", "to a day"),
        ("credit_query_latency", "90000", "to a day"),
        ("data_sync_lag", "-1", "to a day"),
        ("incident_response_time", "1e9", "to a year"),
    ],
)
def test_a_sample_out_of_its_series_range_is_refused_at_the_door(
    metric: str, value: str, said: str
) -> None:
    """Contract section 3: a share is from 0 to 1, the rest from 0 up, no latency over a day: a
    value like 1e308 would otherwise stop every later refresh of the technical metrics."""
    from carloan.loanbook.parsing import ImportRejected

    with pytest.raises(ImportRejected) as caught:
        import_samples(f"metric,ts,value,region\n{metric},{D}T10:00:00Z,{value},EAST-01")

    (error,) = caught.value.errors
    assert (error["line"], error["column"]) == (2, "value")
    assert said in error["reason"]
    assert not Sample.objects.exists()


@pytest.mark.parametrize("region", ["all", "ALL", "EAST\x0701", "EAST\x00"])
def test_all_and_control_characters_are_refused_as_regions(region: str) -> None:
    from carloan.loanbook.parsing import ImportRejected

    text = f'metric,ts,value,region\navailability,{D}T10:00:00Z,1,"{region}"'
    with pytest.raises(ImportRejected) as caught:
        import_samples(text)
    (error,) = caught.value.errors
    if "\x00" in region:  # a NUL is refused for its whole line, before any cell is read
        assert "NUL" in error["reason"]
    else:
        assert error["column"] == "region"


def test_a_json_sample_out_of_range_is_a_bad_item(
    tech_head: User, client_for: Callable[[User | None], APIClient]
) -> None:
    answer = client_for(tech_head).post(
        "/api/metrics/samples/",
        data=json.dumps([{"metric": "availability", "ts": f"{D}T10:00:00Z", "value": 99.0}]),
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "value"
    assert not Sample.objects.exists()
