"""Celery tasks of the valuation app: thin, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    name="valuation.valuation_fit",
    acks_late=True,
    soft_time_limit=14 * 60,
    time_limit=15 * 60,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=10,
    max_retries=3,
)
def valuation_fit() -> dict[str, Any]:
    """The weekly refit: a new version, activated only when not worse (services.valuation_fit).
    Running it twice stores two equal fits; the second is activated only if not worse."""
    from valuation.services import NotEnoughSales
    from valuation.services import valuation_fit as fit

    try:
        row = fit()
    except NotEnoughSales as exc:
        return {"skipped": str(exc)}
    return {"version": row.version, "active": row.active, "note": row.decision_note}


@shared_task(
    name="valuation.collateral_revalue",
    acks_late=True,
    soft_time_limit=14 * 60,
    time_limit=15 * 60,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=10,
    max_retries=3,
)
def collateral_revalue() -> dict[str, Any]:
    """The nightly revaluation of every active loan's collateral (an upsert per loan)."""
    from valuation.services import collateral_revalue as revalue

    return revalue()
