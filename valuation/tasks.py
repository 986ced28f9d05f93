"""Celery tasks of the valuation app: thin, safe to run twice."""

from __future__ import annotations

from typing import Any

from carloan.celery import service_task


@service_task("valuation.valuation_fit", backoff=10)
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


@service_task("valuation.collateral_revalue", backoff=10)
def collateral_revalue() -> dict[str, Any]:
    """The nightly revaluation of every active loan's collateral (an upsert per loan)."""
    from valuation.services import collateral_revalue as revalue

    return revalue()
