"""Refreshes gathered while the worker is busy (metrics.services.metrics_refresh_later and
metrics_refresh_pending): a burst of changes is one pending refresh and one queued task; a change
that comes in during the refresh is refreshed next, not lost; a lost task is queued again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from metrics import services
from metrics.models import MetricValue, PendingRefresh
from metrics.services import metrics_refresh_later, metrics_refresh_pending
from tests.test_metrics_support import day, sample, value

pytestmark = pytest.mark.django_db

UP = "availability"


def samples_arrive(on: str, *values: float) -> None:
    """Samples of EAST's availability on day `on`, recorded as the samples API does."""
    for n, v in enumerate(values):
        sample(UP, f"{on}T10:{n:02d}", v, region="EAST")
    metrics_refresh_later(start=day(on), end=day(on), families=["technical"])


def test_a_burst_of_changes_is_one_pending_refresh_and_one_task(
    django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    with django_capture_on_commit_callbacks() as first:
        samples_arrive("2026-03-10", 1, 1)
    with django_capture_on_commit_callbacks() as second:
        samples_arrive("2026-03-08", 0)
    with django_capture_on_commit_callbacks() as third:
        samples_arrive("2026-03-12", 1, 0)

    assert (len(first), len(second), len(third)) == (1, 0, 0)  # one task for all three
    pending = PendingRefresh.objects.get()
    assert (pending.family, pending.first_day, pending.last_day) == (
        "technical",
        day("2026-03-08"),
        day("2026-03-12"),
    )
    assert not MetricValue.objects.exists()  # nothing before the worker runs

    first[0]()  # the worker runs the one task

    assert value(UP, "EAST", "2026-03-10") == 100.0
    assert value(UP, "EAST", "2026-03-08") == 0.0
    assert value(UP, "EAST", "2026-03-12") == 50.0
    assert not PendingRefresh.objects.exists()
    # Only the technical family was computed.
    assert not MetricValue.objects.filter(metric="overdue_rate").exists()


def test_a_change_during_the_refresh_is_refreshed_next(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    samples_arrive("2026-03-10", 1)
    real_refresh = services.metrics_refresh

    def refresh_while_samples_arrive(**kwargs: Any) -> Any:
        result = real_refresh(**kwargs)
        if not MetricValue.objects.filter(day=day("2026-03-11")).exists():
            samples_arrive("2026-03-11", 0)  # came in while the worker was computing
        return result

    monkeypatch.setattr(services, "metrics_refresh", refresh_while_samples_arrive)

    with django_capture_on_commit_callbacks() as after_commit:
        metrics_refresh_pending("technical")

    assert value(UP, "EAST", "2026-03-10") == 100.0
    assert not MetricValue.objects.filter(day=day("2026-03-11")).exists()
    pending = PendingRefresh.objects.get()  # kept, widened: the new day is still to do
    assert (pending.first_day, pending.last_day) == (day("2026-03-10"), day("2026-03-11"))

    for callback in after_commit:  # the panel events, and the task queued again
        callback()

    assert value(UP, "EAST", "2026-03-11") == 0.0
    assert not PendingRefresh.objects.exists()


def test_nothing_pending_is_a_no_op() -> None:
    assert metrics_refresh_pending("technical") is None


def test_a_lost_task_is_queued_again(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as queued:
        samples_arrive("2026-03-10", 1)
    assert len(queued) == 1
    # Its task never ran (its broker message was lost): after a minute the next change queues
    # another, and so does the hourly sweep.
    PendingRefresh.objects.update(queued_at=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks() as queued:
        samples_arrive("2026-03-10", 0)
    assert len(queued) == 1

    PendingRefresh.objects.update(queued_at=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks() as queued:
        assert services.metrics_refresh_pending_requeue() == ["technical"]
    assert len(queued) == 1
    with django_capture_on_commit_callbacks() as queued:
        assert services.metrics_refresh_pending_requeue() == []  # just queued: not lost
    assert queued == []
