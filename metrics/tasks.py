"""Celery tasks of the metrics app: thin, by value, safe to run twice."""

from __future__ import annotations

from datetime import date

from carloan.celery import service_task
from metrics import services


@service_task("metrics.metrics_refresh_range", max_retries=5)
def metrics_refresh_range(start: str, end: str, families: list[str] | None = None) -> dict:
    """Recompute the metric values of [start, end] (ISO dates), statuses and alerts
    (see services.metrics_refresh). `families` limits it to some formula families."""
    result = services.metrics_refresh(
        start=date.fromisoformat(start),
        end=date.fromisoformat(end),
        families=families,  # type: ignore[arg-type]
    )
    return result.as_dict()


@service_task("metrics.metrics_refresh_pending", max_retries=5)
def metrics_refresh_pending(family: str) -> dict | None:
    """Recompute the days of `family` that changes have left pending (samples, imports): one
    refresh for all that came in since the last (see services.metrics_refresh_pending)."""
    result = services.metrics_refresh_pending(family)
    return result.as_dict() if result is not None else None


@service_task("metrics.metrics_periods_warm", max_retries=1)
def metrics_periods_warm() -> int:
    """Compute the common periods of the Period picker into the cache after the loan book
    changed (see metrics.periods.warm_periods)."""
    from metrics.periods import warm_periods
    from metrics.selectors import business_today

    return warm_periods(business_today())


@service_task("metrics.metrics_statuses_refresh", max_retries=5)
def metrics_statuses_refresh(metrics: list[str]) -> dict:
    """Re-evaluate the statuses and alerts of `metrics` against the thresholds now in force (after
    a threshold change; no value is recomputed)."""
    return services.metrics_statuses_refresh(metrics=metrics).as_dict()


@service_task("metrics.metrics_refresh_recent")
def metrics_refresh_recent(days: int = 2) -> dict:
    """Recompute the last `days` business days up to today (beat, hourly): a new day gets its
    values (stock carried forward, windows moved on) even when nothing was imported. Also
    queues again any pending refresh whose task was lost, and retries the days of every family
    whose refresh failed."""
    from datetime import timedelta

    from metrics.selectors import business_today

    today = business_today()
    result = services.metrics_refresh(start=today - timedelta(days=max(days, 1) - 1), end=today)
    retried = {
        family: retry.as_dict() for family, retry in services.metrics_refresh_failed_retry().items()
    }
    return {
        **result.as_dict(),
        "pending_requeued": services.metrics_refresh_pending_requeue(),
        "failed_retried": retried,
    }


@service_task("metrics.kpi_review_pdf_render", minutes=5, max_retries=2)
def kpi_review_pdf_render(export_id: str) -> str | None:
    from metrics.kpi.services import review_export_render

    export = review_export_render(export_id=export_id)
    return export.status if export is not None else None


@service_task("metrics.notify_deliver", minutes=2)
def notify_deliver(delivery_id: int) -> float | None:
    """One attempt of a notification delivery (metrics.notify.services.deliver); the next one
    is queued with its backoff when this one failed and retries are left."""
    from metrics.notify import services as notify

    retry = notify.deliver(delivery_id)
    if retry is not None:
        notify_deliver.apply_async((delivery_id,), countdown=retry)
    return retry


@service_task("metrics.notify_flush", minutes=2)
def notify_flush(channel_id: int) -> list[int]:
    """Send the alerts held for a channel whose minute is over (one digest)."""
    from metrics.notify import services as notify

    return notify.flush_held(channel_id)


@service_task("metrics.notify_escalate", minutes=2)
def notify_escalate() -> list[int]:
    """Escalate the critical alerts left unacknowledged too long, and send any held alerts whose
    flush was lost (beat, every minute)."""
    from metrics.notify import services as notify

    notify.flush_held()
    return notify.escalate_due()
