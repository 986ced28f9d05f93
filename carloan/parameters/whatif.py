"""What-if before saving a risk threshold: a backtest over the last 90 days of the loan book.

The population is the applications approved in the 90 days ending on the book's latest
decision day (days in the business time zone). For `risk.min_credit_score` an application
passes a cutoff when its credit score is at least the cutoff; for `risk.max_ltv_pct` when its
loan's loan-to-value (principal / appraised value x 100; the highest, if it has several loans)
is at most the limit. Applications without a score (or without an appraised loan) cannot be
judged and are counted apart. For each value, current and proposed: how many applications
pass, and the overdue rate (contract section 3: 100 x outstanding of active loans with dpd >= 1
/ outstanding of active loans) of their loans on the latest snapshot day. One SQL statement.

Only approved applications have repayment history, so a lower cutoff cannot show the loans it
would add; `decided_eligible` (approved or rejected applications that pass) shows how many
applications the rule alone would let through.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from carloan.parameters.registry import REGISTRY, Value, coerce
from carloan.parameters.selectors import parameter_value

WHAT_IF_KEYS = ("risk.min_credit_score", "risk.max_ltv_pct")
WINDOW_DAYS = 90

_MEASURE = {
    "risk.min_credit_score": ("a.credit_score::numeric", ">="),
    "risk.max_ltv_pct": ("ltv.ltv", "<="),
}

_SQL = """
WITH last AS (
    SELECT max((decided_at AT TIME ZONE %(tz)s)::date) AS day
    FROM loanbook_application
    WHERE decision = 'approved' AND decided_at IS NOT NULL
),
ltv AS (
    SELECT application_id, max(principal / appraised_value * 100) AS ltv
    FROM loanbook_loan
    WHERE appraised_value > 0 AND application_id <> ''
    GROUP BY application_id
),
decided AS (
    SELECT a.application_id, a.decision, {measure} AS measure
    FROM loanbook_application a
    CROSS JOIN last
    LEFT JOIN ltv ON ltv.application_id = a.application_id
    WHERE a.decision IN ('approved', 'rejected')
      AND (a.decided_at AT TIME ZONE %(tz)s)::date BETWEEN last.day - {span} AND last.day
),
snapshot_day AS (SELECT max(as_of) AS day FROM loanbook_snapshot),
state AS (
    SELECT DISTINCT ON (s.loan_id) s.loan_id, s.outstanding_principal, s.dpd, s.status
    FROM loanbook_snapshot s
    JOIN loanbook_loan l ON l.loan_id = s.loan_id
    JOIN decided d ON d.application_id = l.application_id AND d.decision = 'approved'
    CROSS JOIN snapshot_day
    WHERE s.as_of <= snapshot_day.day
    ORDER BY s.loan_id, s.as_of DESC
),
loans AS (
    SELECT d.measure, st.outstanding_principal AS outstanding, st.dpd
    FROM state st
    JOIN loanbook_loan l ON l.loan_id = st.loan_id
    JOIN decided d ON d.application_id = l.application_id AND d.decision = 'approved'
    WHERE st.status = 'active'
)
SELECT
    (SELECT day FROM last),
    (SELECT day FROM snapshot_day),
    (SELECT count(*) FROM decided WHERE decision = 'approved'),
    (SELECT count(*) FROM decided WHERE decision = 'approved' AND measure IS NULL),
    (SELECT count(*) FROM decided WHERE decision = 'approved' AND measure {op} %(current)s),
    (SELECT count(*) FROM decided WHERE decision = 'approved' AND measure {op} %(proposed)s),
    (SELECT count(*) FROM decided WHERE measure {op} %(current)s),
    (SELECT count(*) FROM decided WHERE measure {op} %(proposed)s),
    (SELECT count(*) FROM loans WHERE measure {op} %(current)s),
    (SELECT sum(outstanding) FROM loans WHERE measure {op} %(current)s),
    (SELECT sum(outstanding) FROM loans WHERE measure {op} %(current)s AND dpd >= 1),
    (SELECT count(*) FROM loans WHERE measure {op} %(proposed)s),
    (SELECT sum(outstanding) FROM loans WHERE measure {op} %(proposed)s),
    (SELECT sum(outstanding) FROM loans WHERE measure {op} %(proposed)s AND dpd >= 1)
"""


def _rate(overdue: Any, total: Any) -> float | None:
    if not total:
        return None
    return float(100 * (overdue or 0) / total)


def _side(
    value: Value, approvals: int, eligible: int, loans: int, total: Any, overdue: Any
) -> dict[str, Any]:
    return {
        "value": value,
        "approvals": approvals,
        "decided_eligible": eligible,
        "active_loans": loans,
        "outstanding": float(total or 0),
        "overdue_rate": _rate(overdue, total),
    }


def parameter_what_if(*, key: str, proposed: Any) -> dict[str, Any]:
    """Backtest `proposed` for `key` beside the current value (see the module).

    Raises KeyError for a key without a what-if, InvalidValue for a proposed value out of type
    or bounds.
    """
    if key not in WHAT_IF_KEYS:
        raise KeyError(key)
    proposed_value = coerce(REGISTRY[key], proposed)
    current_value = parameter_value(key)
    measure, op = _MEASURE[key]
    sql = _SQL.format(measure=measure, op=op, span=WINDOW_DAYS - 1)
    with connection.cursor() as cursor:
        cursor.execute(
            sql, {"tz": settings.TIME_ZONE, "current": current_value, "proposed": proposed_value}
        )
        row = cursor.fetchone()
    (last_day, snapshot_day, population, unmeasured, *rest) = row
    approved_now, approved_then, eligible_now, eligible_then = rest[:4]
    loans_now, total_now, overdue_now, loans_then, total_then, overdue_then = rest[4:]
    current = _side(current_value, approved_now, eligible_now, loans_now, total_now, overdue_now)
    after = _side(
        proposed_value, approved_then, eligible_then, loans_then, total_then, overdue_then
    )
    window_start: date | None = last_day - timedelta(days=WINDOW_DAYS - 1) if last_day else None
    return {
        "key": key,
        "window": {
            "start": window_start.isoformat() if window_start else None,
            "end": last_day.isoformat() if last_day else None,
            "days": WINDOW_DAYS,
        },
        "snapshot_day": snapshot_day.isoformat() if snapshot_day else None,
        "population": population,
        "unmeasured": unmeasured,
        "current": current,
        "proposed": after,
        "difference": {
            "approvals": after["approvals"] - current["approvals"],
            "overdue_rate_pp": (
                after["overdue_rate"] - current["overdue_rate"]
                if after["overdue_rate"] is not None and current["overdue_rate"] is not None
                else None
            ),
        },
    }
