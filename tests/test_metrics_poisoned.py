"""One poisoned row (one the door would refuse today, stored before it did, or by hand) stops
the refresh of its own formula family only: the other families and every region go on, the
failure is shown on /healthz, on the import's run and on the imports page, and the next refresh
recovers once the row is repaired."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from carloan.loanbook.services import loanbook_import
from carloan.models import ImportRun, Sample
from metrics.models import MetricValue, RefreshFailure
from metrics.services import metrics_refresh, metrics_refresh_failed_retry
from tests.factories import PASSWORD, csv_file
from tests.test_metrics_support import at, day, lead, sample

pytestmark = pytest.mark.django_db

D = "2026-03-31"


def value(metric: str, region: str) -> float | None:
    row = MetricValue.objects.filter(metric=metric, region=region, day=day(D)).first()
    return row.value if row is not None else None


@pytest.fixture
def poisoned() -> Sample:
    lead("EAST", f"{D}T09:00")
    sample("availability", f"{D}T10:00", 1, region="WEST")
    # Finite, but 100 × the mean overflows: what a share of 1e308 did before the door refused it.
    return Sample.objects.create(
        metric="data_consistency", ts=at(f"{D}T10:00"), value=1e308, region="EAST", source="x"
    )


def test_a_poisoned_row_stops_only_its_own_family(poisoned: Sample) -> None:
    result = metrics_refresh(start=day(D), end=day(D))

    assert set(result.failed) == {"technical"}
    # The funnel family went on, for every region.
    assert MetricValue.objects.filter(metric="lead_conversion_rate", day=day(D)).exists()
    failure = RefreshFailure.objects.get()
    assert (failure.family, failure.first_day, failure.last_day) == ("technical", day(D), day(D))
    assert failure.error

    # Repaired: the next run (the hourly retry) recovers and forgets the failure.
    poisoned.value = 1
    poisoned.save()
    retried = metrics_refresh_failed_retry()
    assert retried["technical"].failed == {}
    assert not RefreshFailure.objects.exists()
    assert value("data_consistency_rate", "EAST") == pytest.approx(100.0)
    assert value("availability", "WEST") == pytest.approx(100.0)


def test_the_failure_is_shown_on_healthz_the_run_and_the_imports_page(
    poisoned: Sample, risk_head: User, settings: Any
) -> None:
    run = loanbook_import(
        kind="samples",
        source=csv_file(f"metric,ts,value,region\napi_response_time,{D}T11:00:00Z,120,EAST"),
        refresh="now",
    )

    stored = ImportRun.objects.get(pk=run.run_id)
    assert stored.refreshed_at is not None
    assert stored.refresh_error.startswith("technical: ")

    health = Client().get("/healthz")
    assert health.status_code == 200  # the web process itself is fine
    body = health.json()
    assert body["status"] == "ok" and body["metrics_refresh"] == "failing"
    assert "technical metrics of" in body["metrics_refresh_problems"][0]

    client = Client()
    assert client.login(username=risk_head.username, password=PASSWORD)
    page = client.get("/imports/").content.decode()
    assert 'id="refresh-problems"' in page
    assert "Partly refreshed" in page
    listed = client.get("/api/imports/").json()
    assert listed[0]["refresh_error"].startswith("technical: ")


def test_healthz_is_the_contracts_answer_when_every_family_refreshes() -> None:
    sample("availability", f"{D}T10:00", 1, region="WEST")
    metrics_refresh(start=day(D), end=day(D))
    assert Client().get("/healthz").json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_goes_on_past_a_poisoned_row_and_reports_it(
    celery_worker_process: str,
    risk_head: User,
    client_for: Any,
) -> None:
    """As in production: the import answers at once, the worker recomputes; the family with the
    poisoned row fails, the others (and every region) are recomputed, and the run says so."""
    Sample.objects.create(
        metric="data_consistency", ts=at(f"{D}T10:00"), value=1e308, region="EAST", source="x"
    )
    text = (
        f"lead_id,created_at,region,channel\nL1,{D}T09:00:00Z,EAST,web\nL2,{D}T09:00:00Z,WEST,web"
    )
    answer = client_for(risk_head).post(
        "/api/imports/", {"kind": "leads", "file": csv_file(text)}, format="multipart"
    )
    assert answer.status_code == 201, answer.content
    samples = client_for(risk_head).post(
        "/api/metrics/samples/",
        [{"metric": "availability", "ts": f"{D}T11:00:00Z", "value": 1, "region": "WEST"}],
        format="json",
    )
    assert samples.status_code == 201

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        RefreshFailure.objects.filter(family="technical").exists()
        and MetricValue.objects.filter(metric="lead_conversion_rate", region="WEST").exists()
    ):
        time.sleep(0.3)
    assert RefreshFailure.objects.filter(family="technical").exists()
    assert MetricValue.objects.filter(metric="lead_conversion_rate", region="WEST").exists()
    assert MetricValue.objects.filter(metric="lead_conversion_rate", region="EAST").exists()
    assert Client().get("/healthz").json()["metrics_refresh"] == "failing"
