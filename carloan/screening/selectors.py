"""Reads of screening: an application's six checks, and the flagged applications."""

from __future__ import annotations

from typing import Any

from carloan.screening.identifiers import masked
from carloan.screening.models import CHECK_KEYS, ApplicationCheck


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
    *, status: str | None = "open", limit: int = 200, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """(count, page) of flagged applications, most failed checks first, with what failed and
    the application's masked identifiers."""
    from carloan.models import LoanApplication

    rows = ApplicationCheck.objects.filter(flagged=True)
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
