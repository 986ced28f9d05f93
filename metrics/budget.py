"""The availability error budget of the month (site reliability practice: service level
objectives and burn-rate alerts), for the metric page.

The objective is availability's warn level (`alert.availability.warn_at`, 99.9 % by default): the
month may lose 100 − 99.9 = 0.1 % of its checks. From the availability samples (1 up, 0 down) of
the month so far, in the business time zone:

- **consumed**: the share of the budget the failed checks have used (failed share ÷ budget);
- **left**: 100 % − consumed (negative once overspent);
- **burn rate** over the last hour and six hours: the failed share in that window ÷ the budget.
  A burn rate of 1 spends the budget exactly by the month's end; 14.4 over an hour spends 2 % of
  a 30-day budget in that hour (the usual page-now threshold), 6 over six hours 5 % (a ticket).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.utils import timezone

from carloan.parameters.selectors import parameter_values

PAGE_BURN_1H = 14.4
TICKET_BURN_6H = 6.0


def _failed_share(region: str, start: dt.datetime, end: dt.datetime) -> tuple[float | None, int]:
    """(share of failed availability checks, number of checks) in [start, end)."""
    where = "" if region == "all" else "AND region = %(region)s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT 1 - avg(value::numeric)::float8, count(*)
            FROM loanbook_sample
            WHERE metric = 'availability' AND ts >= %(start)s AND ts < %(end)s {where}
            """,
            {"start": start, "end": end, "region": region},
        )
        share, count = cursor.fetchone()
    return (float(share) if share is not None else None), int(count)


def error_budget(region: str = "all", now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    local = timezone.localtime(now)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    objective = float(parameter_values()["alert.availability.warn_at"])
    budget = max(0.0, 1 - objective / 100)
    failed, checks = _failed_share(region, month_start, now)
    hour, _ = _failed_share(region, now - dt.timedelta(hours=1), now)
    six, _ = _failed_share(region, now - dt.timedelta(hours=6), now)

    def ratio(share: float | None) -> float | None:
        if share is None or budget <= 0:
            return None
        return round(share / budget, 2)

    consumed = ratio(failed)
    burn_1h, burn_6h = ratio(hour), ratio(six)
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    minutes = (next_month - month_start).total_seconds() / 60
    return {
        "region": region,
        "objective_pct": objective,
        "budget_minutes": round(minutes * budget, 1),
        "checks": checks,
        "consumed_pct": round(100 * consumed, 1) if consumed is not None else None,
        "left_pct": round(100 * (1 - consumed), 1) if consumed is not None else None,
        "burn_1h": burn_1h,
        "burn_6h": burn_6h,
        "page": burn_1h is not None and burn_1h >= PAGE_BURN_1H,
        "ticket": burn_6h is not None and burn_6h >= TICKET_BURN_6H,
        "month": f"{month_start:%Y-%m}",
    }
