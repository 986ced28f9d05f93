"""Builders for the metrics tests: loan book rows written straight to the tables, so each test
states its data in a few readable lines, and readers of the computed values. (No tests here.)"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from carloan.models import (
    Complaint,
    Lead,
    Loan,
    LoanApplication,
    LoanSnapshot,
    MarketingSpend,
    Sample,
    Valuation,
)
from metrics.models import MetricValue

_ids = itertools.count(1)


def at(text: str) -> datetime:
    """An aware moment: ISO 8601 with an offset, or UTC when none is written."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = datetime.fromisoformat(text + "+00:00")
    return moment


def day(text: str) -> date:
    return date.fromisoformat(text)


def lead(region: str, created: str) -> Lead:
    return Lead.objects.create(
        lead_id=f"L{next(_ids)}", created_at=at(created), region=region, channel="online_ads"
    )


def application(region: str, decision: str, decided: str | None, applied: str = "") -> Any:
    return LoanApplication.objects.create(
        application_id=f"A{next(_ids)}",
        region=region,
        applied_at=at(applied or decided or "2026-01-01T00:00"),
        decision=decision,
        decided_at=at(decided) if decided else None,
    )


def loan(region: str, funded: str, loan_id: str = "", principal: str = "100000") -> Loan:
    return Loan.objects.create(
        loan_id=loan_id or f"N{next(_ids)}",
        region=region,
        funded_at=at(funded),
        principal=Decimal(principal),
        term_months=36,
    )


def snapshot(loan_id: str, as_of: str, outstanding: str, dpd: int, status: str) -> LoanSnapshot:
    return LoanSnapshot.objects.create(
        loan_id=loan_id,
        as_of=day(as_of),
        outstanding_principal=Decimal(outstanding),
        dpd=dpd,
        status=status,
    )


def spend(region: str, on: str, amount: str, channel: str = "online_ads") -> MarketingSpend:
    return MarketingSpend.objects.create(
        date=day(on), region=region, channel=channel, amount=Decimal(amount)
    )


def valuation(
    region: str,
    requested: str,
    completed: str | None,
    model: str | None = None,
    reference: str | None = None,
) -> Valuation:
    return Valuation.objects.create(
        valuation_id=f"V{next(_ids)}",
        region=region,
        requested_at=at(requested),
        completed_at=at(completed) if completed else None,
        model_value=Decimal(model) if model is not None else None,
        reference_value=Decimal(reference) if reference is not None else None,
    )


def complaint(region: str, received: str) -> Complaint:
    return Complaint.objects.create(
        complaint_id=f"C{next(_ids)}", received_at=at(received), region=region
    )


def sample(metric: str, ts: str, value: float, region: str = "", source: str = "") -> Sample:
    return Sample.objects.create(
        metric=metric, ts=at(ts), value=value, region=region, source=source or f"s{next(_ids)}"
    )


def row(metric: str, region: str, on: str) -> MetricValue:
    return MetricValue.objects.get(metric=metric, region=region, day=day(on))


def value(metric: str, region: str, on: str) -> float | None:
    return row(metric, region, on).value
