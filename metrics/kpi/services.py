"""The writers of KPI scoring: replace a department's KPI set, close a quarter, reopen it.

Each runs in one transaction, checks the caller is a manager (PermissionDenied) and raises
ValidationError for input that breaks a rule (nothing stored) or `Conflict` for a stale version
or a quarter already in the state asked for.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from carloan.roles import is_manager
from metrics.kpi import selectors
from metrics.kpi.models import KPIDefinition, KPISetChange, QuarterClosing
from metrics.kpi.quarters import Quarter
from metrics.kpi.scoring import COLLABORATION_METRICS, DEPARTMENTS, KPI, check_kpi_set


class Conflict(Exception):
    """The change was made against a state that has moved on (answered 409)."""


def _require_manager(user: Any, what: str) -> None:
    if user is None or not is_manager(user):
        raise PermissionDenied(f"Only managers may {what}.")


def _lock(name: str) -> None:
    """Serialise writers of one thing for the rest of the transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode()) & 0x7FFFFFFF])


def kpis_parse(items: Sequence[Mapping[str, Any]]) -> list[KPI]:
    """KPIs from checked input; `collaboration` defaults to true for the two collaboration
    metrics and false for the others."""
    return [
        KPI(
            metric=str(item["metric"]),
            target=float(item["target"]),
            threshold=float(item["threshold"]),
            weight=float(item["weight"]),
            collaboration=bool(
                item["collaboration"]
                if item.get("collaboration") is not None
                else item["metric"] in COLLABORATION_METRICS
            ),
        )
        for item in items
    ]


def kpi_set_replace(
    *,
    department: str,
    kpis: Sequence[KPI],
    user: Any,
    reason: str = "",
    version: int | None = None,
) -> dict[str, Any]:
    """Replace `department`'s KPI set whole and log the change; returns the new state.

    1. Only managers; the department must be one of the three.
    2. The set must obey the rules of contract section 7, with the live minimum collaboration
       weight (ValidationError listing every broken rule; nothing stored).
    3. With `version`, the set must still be at that version (Conflict otherwise).
    """
    _require_manager(user, "change KPI definitions")
    if department not in DEPARTMENTS:
        raise ValidationError({"department": [f"Unknown department {department!r}."]})
    errors = check_kpi_set(
        kpis,
        known_metrics=selectors.known_metrics(),
        min_collaboration_weight=selectors.min_collaboration_weight(),
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _lock(f"kpi-set:{department}")
        last = KPISetChange.objects.filter(department=department).order_by("-version").first()
        current = last.version if last else 0
        if version is not None and version != current:
            raise Conflict(
                f"The {department} KPI set is at version {current}, not {version}: someone "
                "changed it meanwhile. Reload it and try again."
            )
        old_set = [k.as_dict() for k in selectors.kpi_set(department)]
        KPIDefinition.objects.filter(department=department).delete()
        KPIDefinition.objects.bulk_create(
            KPIDefinition(
                department=department,
                position=position,
                metric=kpi.metric,
                target=kpi.target,
                threshold=kpi.threshold,
                weight=kpi.weight,
                collaboration=kpi.collaboration,
            )
            for position, kpi in enumerate(kpis)
        )
        KPISetChange.objects.create(
            department=department,
            version=current + 1,
            changed_by=user,
            changed_at=timezone.now(),
            old_set=old_set,
            new_set=[k.as_dict() for k in kpis],
            reason=reason.strip(),
        )
        return selectors.kpi_set_state(department)


def quarter_close(*, quarter: Quarter, user: Any, reason: str = "") -> QuarterClosing:
    """Freeze the quarter's scorecards as computed now, with their inputs (actuals, KPI sets,
    parameter values in force). Conflict when the quarter is already closed."""
    _require_manager(user, "close a quarter")
    if quarter.start > timezone.localdate():
        raise ValidationError({"quarter": [f"{quarter} has not started yet."]})
    with transaction.atomic():
        _lock(f"kpi-quarter:{quarter.label}")
        if selectors.open_closing(quarter) is not None:
            raise Conflict(f"{quarter} is already closed; reopen it first.")
        review = selectors.live_review(quarter)
        try:
            with transaction.atomic():
                return QuarterClosing.objects.create(
                    quarter=quarter.label,
                    closed_by=user,
                    closed_at=timezone.now(),
                    reason=reason.strip(),
                    scorecards=review["scorecards"],
                    inputs={**review["inputs"], "computed_at": review["computed_at"]},
                )
        except IntegrityError as exc:
            raise Conflict(f"{quarter} is already closed; reopen it first.") from exc


def quarter_reopen(*, quarter: Quarter, user: Any, reason: str) -> QuarterClosing:
    """Reopen a closed quarter: its scorecards are computed live again. The reason is required
    and kept with who and when. Conflict when the quarter is not closed."""
    _require_manager(user, "reopen a quarter")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the quarter is reopened."]})
    with transaction.atomic():
        _lock(f"kpi-quarter:{quarter.label}")
        closing = (
            QuarterClosing.objects.select_for_update()
            .filter(quarter=quarter.label, reopened_at__isnull=True)
            .first()
        )
        if closing is None:
            raise Conflict(f"{quarter} is not closed.")
        closing.reopened_by = user
        closing.reopened_at = timezone.now()
        closing.reopen_reason = reason.strip()
        closing.save(update_fields=["reopened_by", "reopened_at", "reopen_reason"])
        return closing
