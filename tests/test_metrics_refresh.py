"""The import → refresh path: an import recomputes exactly the days and metrics its rows touch
(flow rows: their day and the 29 after; snapshots: to the end; samples: their day), the
`refresh_metrics` command, and repeat refreshes that change nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from carloan.loanbook.services import loanbook_import
from carloan.signals import loanbook_changed
from metrics.models import MetricValue, PendingRefresh
from metrics.registry import keys_of_families
from metrics.selectors import business_today
from metrics.services import metrics_refresh, refresh_range_for
from tests.factories import csv_file
from tests.test_metrics_support import day, lead, sample

pytestmark = pytest.mark.django_db

LEADS = """
lead_id,created_at,region,channel
L1,2026-03-01T09:00:00Z,EAST-01,web
L2,2026-03-04T09:00:00Z,EAST-02,partner
"""

SNAPSHOTS = """
loan_id,as_of,outstanding_principal,dpd,status
N1,2026-09-01,1000,3,active
"""

LOANS = """
loan_id,region,funded_at,principal,term_months
N1,EAST-01,2026-08-20T10:00:00Z,1000,12
"""

SAMPLES = """
metric,ts,value,region
availability,2026-03-05T10:00:00Z,1,EAST-01
availability,2026-03-06T10:00:00Z,0,EAST-01
"""


def computed() -> tuple[set[str], date, date]:
    rows = MetricValue.objects.all()
    days = sorted(set(rows.values_list("day", flat=True)))
    return set(rows.values_list("metric", flat=True)), days[0], days[-1]


def days_between(first: date, last: date) -> set[date]:
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def test_an_import_of_leads_recomputes_its_days_and_the_29_after() -> None:
    loanbook_import(kind="leads", source=csv_file(LEADS), refresh="now")

    metrics, first, last = computed()
    assert metrics == set(keys_of_families(["funnel"]))
    assert (first, last) == (day("2026-03-01"), day("2026-04-02"))  # 03-04 + 29
    assert set(MetricValue.objects.values_list("day", flat=True)) == days_between(first, last)
    assert MetricValue.objects.get(
        metric="lead_conversion_rate", region="EAST-01", day=day("2026-03-01")
    ).value == pytest.approx(0.0)


def test_an_import_of_snapshots_recomputes_to_today() -> None:
    loanbook_import(kind="loans", source=csv_file(LOANS), refresh="none")
    MetricValue.objects.all().delete()

    loanbook_import(kind="loan_snapshots", source=csv_file(SNAPSHOTS), refresh="now")

    metrics, first, last = computed()
    assert metrics == set(keys_of_families(["portfolio"]))
    assert (first, last) == (day("2026-09-01"), max(business_today(), day("2026-09-01")))
    assert MetricValue.objects.get(
        metric="overdue_rate", region="EAST-01", day=day("2026-09-15")
    ).value == pytest.approx(100.0)


def test_an_import_of_samples_recomputes_only_their_days() -> None:
    loanbook_import(kind="samples", source=csv_file(SAMPLES), refresh="now")

    metrics, first, last = computed()
    assert metrics == set(keys_of_families(["technical"]))
    assert (first, last) == (day("2026-03-05"), day("2026-03-06"))
    assert MetricValue.objects.get(
        metric="availability", region="EAST-01", day=day("2026-03-06")
    ).value == pytest.approx(0.0)


def test_a_background_refresh_is_pending_until_commit_then_done_by_the_worker(
    django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    sample("availability", "2026-03-01T10:00", 1, region="EAST")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        loanbook_changed.send(
            sender=None,
            kind="samples",
            first_day=day("2026-03-01"),
            last_day=day("2026-03-01"),
            synchronous=False,
        )
    pending = PendingRefresh.objects.get()
    assert (pending.family, pending.first_day, pending.last_day) == (
        "technical",
        day("2026-03-01"),
        day("2026-03-01"),
    )
    assert not MetricValue.objects.exists()  # nothing before commit
    for callback in callbacks:
        callback()
    assert MetricValue.objects.get(metric="availability", region="EAST").value == 100.0
    assert not PendingRefresh.objects.exists()


def test_the_ranges_a_change_touches() -> None:
    today = business_today()
    assert refresh_range_for("leads", day("2026-03-01"), day("2026-03-02")) == (
        day("2026-03-01"),
        day("2026-03-31"),
    )
    assert refresh_range_for("samples", day("2026-03-01"), day("2026-03-02")) == (
        day("2026-03-01"),
        day("2026-03-02"),
    )
    assert refresh_range_for("loan_snapshots", day("2026-03-01"), day("2026-03-02")) == (
        day("2026-03-01"),
        max(today, day("2026-03-02")),
    )
    # A flow window never runs past today (or the last computed day).
    assert refresh_range_for("leads", today, today) == (today, today)
    assert refresh_range_for("vehicle_sales", day("2026-03-01"), day("2026-03-02")) is None


def test_a_repeat_refresh_rewrites_nothing() -> None:
    lead("EAST", "2026-03-01T10:00")
    sample("api_response_time", "2026-03-01T10:00", 3.5, region="EAST")
    first = metrics_refresh(start=day("2026-02-20"), end=day("2026-03-10"))
    stamps = dict(MetricValue.objects.values_list("id", "computed_at"))

    again = metrics_refresh(start=day("2026-02-20"), end=day("2026-03-10"))

    assert first.values_changed > 0
    assert (again.values_changed, again.statuses_changed, again.panel_events) == (0, 0, 0)
    assert dict(MetricValue.objects.values_list("id", "computed_at")) == stamps


def test_refresh_metrics_command(capsys: pytest.CaptureFixture[str]) -> None:
    lead("EAST", "2026-03-01T10:00")

    call_command("refresh_metrics", "--start", "2026-03-01", "--end", "2026-03-03")

    assert "Metrics of 2026-03-01 to 2026-03-03 computed" in capsys.readouterr().out
    _, first, last = computed()
    assert (first, last) == (day("2026-03-01"), day("2026-03-03"))


def test_refresh_metrics_defaults_to_the_first_loan_book_day_until_today() -> None:
    lead("EAST", f"{business_today() - timedelta(days=3)}T10:00")

    call_command("refresh_metrics", "--family", "funnel")

    metrics, first, last = computed()
    assert (first, last) == (business_today() - timedelta(days=3), business_today())
    assert metrics == set(keys_of_families(["funnel"]))


@pytest.mark.parametrize(
    "args", [["--start", "2026-3-1"], ["--start", "2026-03-05", "--end", "2026-03-01"]]
)
def test_refresh_metrics_refuses_bad_dates(args: list[str]) -> None:
    with pytest.raises(CommandError):
        call_command("refresh_metrics", *args)


def test_the_hourly_refresh_computes_today_without_any_import() -> None:
    from metrics.tasks import metrics_refresh_recent

    lead("EAST", f"{business_today() - timedelta(days=10)}T10:00")

    metrics_refresh_recent(2)

    assert set(MetricValue.objects.values_list("day", flat=True)) == {
        business_today() - timedelta(days=1),
        business_today(),
    }
    assert (
        MetricValue.objects.get(
            metric="lead_conversion_rate", region="EAST", day=business_today()
        ).denominator
        == 1
    )
