"""Celery tasks of the metrics app: thin, by value, safe to run twice."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError

from metrics import services


@shared_task(
    name="metrics.metrics_refresh_range",
    acks_late=True,
    soft_time_limit=14 * 60,
    time_limit=15 * 60,
    # Only a lost database connection is worth another try; anything else is a bug to see.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    max_retries=5,
)
def metrics_refresh_range(start: str, end: str, families: list[str] | None = None) -> dict:
    """Recompute the metric values of [start, end] (ISO dates), statuses and alerts
    (see services.metrics_refresh). `families` limits it to some formula families."""
    result = services.metrics_refresh(
        start=date.fromisoformat(start),
        end=date.fromisoformat(end),
        families=families,  # type: ignore[arg-type]
    )
    return result.as_dict()


@shared_task(
    name="metrics.metrics_refresh_recent",
    acks_late=True,
    soft_time_limit=14 * 60,
    time_limit=15 * 60,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    max_retries=3,
)
def metrics_refresh_recent(days: int = 2) -> dict:
    """Recompute the last `days` business days up to today (beat, hourly): a new day gets its
    values (stock carried forward, windows moved on) even when nothing was imported."""
    from datetime import timedelta

    from metrics.selectors import business_today

    today = business_today()
    result = services.metrics_refresh(start=today - timedelta(days=max(days, 1) - 1), end=today)
    return result.as_dict()
