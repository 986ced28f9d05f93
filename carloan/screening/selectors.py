"""Reads of screening: an application's six checks, the flagged applications, the blacklist's
changes (proposals and history)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from carloan.screening.identifiers import masked
from carloan.screening.models import CHECK_KEYS, ApplicationCheck, BlacklistChange


def checks_data(row: ApplicationCheck) -> dict[str, Any]:
    return {
        "application_id": row.application_id,
        "flagged": row.flagged,
        "checks": {key: getattr(row, key) for key in CHECK_KEYS},
    }


def application_checks(application_id: str) -> dict[str, Any] | None:
    row = ApplicationCheck.objects.filter(application_id=application_id).first()
    return checks_data(row) if row else None


def flags(
    *, status: str | None = "open", limit: int = 200, offset: int = 0, only: str | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """(count, page) of flagged applications, most failed checks first, with what failed and
    the application's masked identifiers."""
    from carloan.models import LoanApplication

    rows = ApplicationCheck.objects.filter(flagged=True)
    if only is not None:
        rows = rows.filter(application_id=only)
    if status:
        rows = rows.filter(status=status)
    count = rows.count()
    page = list(rows.order_by("-failed", "-checked_at", "application_id")[offset : offset + limit])
    apps = {
        a.application_id: a
        for a in LoanApplication.objects.filter(application_id__in=[r.application_id for r in page])
    }
    out = []
    for row in page:
        app = apps.get(row.application_id)
        out.append(
            {
                **checks_data(row),
                "failed_checks": [key for key in CHECK_KEYS if getattr(row, key) == "fail"],
                "status": row.status,
                "checked_at": row.checked_at.isoformat(),
                "region": app.region if app else None,
                "applied_at": app.applied_at.isoformat() if app else None,
                "identifiers": {
                    "applicant_key": masked(app.applicant_key) if app else None,
                    "phone": masked(app.phone) if app else None,
                    "vin": masked(app.vin) if app else None,
                    "device_id": masked(app.device_id) if app else None,
                    "dealer_id": masked(app.dealer_id) if app else None,
                },
            }
        )
    return count, out


# --- the false-invitation rate ------------------------------------------------------------------

FOLLOW_DAYS = 30  # an application within this many days of its invitation answers it

_FALSE_INVITATIONS = """
WITH invited AS (
    SELECT p.id, p.region, p.channel, p.at, p.applicant_key FROM screening_prescreen p
    WHERE p.decision = 'invite' AND p.applicant_key <> '' AND p.at >= %(start)s AND p.at < %(end)s
{region}),
answered AS (
    SELECT i.region, i.channel, i.id,
           bool_or(a.decision = 'rejected') AS declined
    FROM invited i JOIN loanbook_application a
      ON a.applicant_key = i.applicant_key
     AND a.applied_at >= i.at AND a.applied_at < i.at + make_interval(days => %(follow)s)
     AND a.decision IN ('approved', 'rejected')
    GROUP BY i.region, i.channel, i.id
)
SELECT region, channel, count(*) AS decided, count(*) FILTER (WHERE declined) AS declined
FROM answered GROUP BY region, channel ORDER BY region, channel
"""


def false_invitations(
    start: dt.date, end: dt.date, region: str | None = None
) -> list[dict[str, Any]]:
    """Per region and channel: invited leads whose application (by the same applicant, within
    FOLLOW_DAYS of the invitation) was decided, how many of them were declined, and the rate
    (the seed's "false invitations": marketing invited, risk declined)."""
    from django.db import connection
    from django.utils import timezone

    bind: dict[str, Any] = {
        "start": timezone.make_aware(dt.datetime.combine(start, dt.time())),
        "end": timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time())),
        "follow": FOLLOW_DAYS,
        "region": region,
    }
    sql = _FALSE_INVITATIONS.format(region="AND p.region = %(region)s" if region else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, bind)
        rows = cursor.fetchall()
    return [
        {
            "region": r,
            "channel": c,
            "decided": decided,
            "declined": declined,
            "rate": round(100 * declined / decided, 2) if decided else None,
        }
        for r, c, decided, declined in rows
    ]


def false_invitation_rate(start: dt.date, end: dt.date) -> float | None:
    """% of invited leads whose decided application was declined, all regions and channels."""
    rows = false_invitations(start, end)
    decided = sum(r["decided"] for r in rows)
    return round(100 * sum(r["declined"] for r in rows) / decided, 2) if decided else None


def prescreen_counts(start: dt.date, end: dt.date) -> dict[str, int]:
    """How many leads the pre-screen invited, sent to review and declined on [start, end]."""
    from django.db.models import Count
    from django.utils import timezone

    from carloan.screening.models import PrescreenDecision

    rows = (
        PrescreenDecision.objects.filter(
            at__gte=timezone.make_aware(dt.datetime.combine(start, dt.time())),
            at__lt=timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time())),
        )
        .values("decision")
        .annotate(n=Count("id"))
    )
    counts = {"invite": 0, "review": 0, "decline": 0}
    counts.update({row["decision"]: row["n"] for row in rows})
    return counts


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


def _masked_state(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """An entry's recorded state with its value masked (a change's `before`)."""
    if not state:
        return None
    return {
        "type": state.get("type"),
        "masked_value": masked(state.get("value")),
        "reason": state.get("reason") or "",
        "added_at": _iso(state.get("added_at")),
        "expires_at": _iso(state.get("expires_at")),
        "department": state.get("department") or None,
    }


def blacklist_change_data(change: BlacklistChange) -> dict[str, Any]:
    """A proposal or a recorded change, values masked."""
    return {
        "id": change.pk,
        "action": change.action,
        "source": change.source,
        "entry_id": change.entry_id,
        "type": change.type,
        "masked_value": masked(change.value),
        "reason": change.reason,
        "expires_at": _iso(change.expires_at),
        "department": change.department or None,
        "before": _masked_state(change.before),
        "note": change.note,
        "status": change.status,
        "proposed_by": change.proposed_by.get_username() if change.proposed_by else "",
        "proposed_at": _iso(change.proposed_at),
        "decided_by": change.decided_by.get_username() if change.decided_by else "",
        "decided_at": _iso(change.decided_at),
        "decision_note": change.decision_note,
    }


def blacklist_changes(
    *, status: str | None = None, entry_id: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """(count, page) of the blacklist's changes, newest first: `status` pending for the
    proposals waiting for risk control, `entry_id` for one entry's history."""
    rows = BlacklistChange.objects.select_related("proposed_by", "decided_by")
    if status:
        rows = rows.filter(status=status)
    if entry_id:
        rows = rows.filter(entry_id=entry_id)
    count = rows.count()
    page = rows.order_by("-proposed_at", "-id")[offset : offset + limit]
    return count, [blacklist_change_data(change) for change in page]
