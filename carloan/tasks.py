"""Celery tasks of the core: thin, by id, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from carloan.loanbook import services


@shared_task(
    name="carloan.loanbook_refresh",
    acks_late=True,
    soft_time_limit=14 * 60,
    time_limit=15 * 60,
    # Only a lost database connection is worth another try; anything else is a bug to see.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    max_retries=5,
)
def loanbook_refresh(run_id: int) -> None:
    """Recompute the metric days an import touched (see services.loanbook_refresh)."""
    services.loanbook_refresh(run_id=run_id)


@shared_task(
    name="carloan.parameters_calibrate",
    acks_late=True,
    soft_time_limit=4 * 60,
    time_limit=5 * 60,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    max_retries=3,
)
def parameters_calibrate() -> str:
    """The daily auto-calibration of the credit-score cutoff: files a change request at most
    (see carloan.parameters.calibration). Safe to repeat: a pending proposal blocks another."""
    from carloan.parameters.calibration import credit_score_calibrate

    return credit_score_calibrate(scheduled=True).reason
