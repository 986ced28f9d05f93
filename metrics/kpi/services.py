"""The writers of KPI scoring: replace a department's KPI set, close a quarter, reopen it.

Each runs in one transaction, checks the caller is a manager (PermissionDenied) and raises
ValidationError for input that breaks a rule (nothing stored) or `Conflict` for a stale version
or a quarter already in the state asked for.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from carloan.errors import Conflict
from carloan.roles import is_manager
from metrics.kpi import selectors
from metrics.kpi.models import KPIDefinition, KPISetChange, QuarterClosing, ReviewExport
from metrics.kpi.quarters import Quarter
from metrics.kpi.scoring import COLLABORATION_METRICS, DEPARTMENTS, KPI, check_kpi_set


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


# --- the review as a PDF, printed by the worker ---------------------------------------------------

# Chromium takes seconds and a few hundred MB: bounded per person and in all. A request past a
# bound is answered 429 with Retry-After; one that repeats a person's unfinished request (a
# double click) gets that request back instead of a second one.
EXPORTS_PER_PERSON = 2
EXPORTS_IN_ALL = 6
EXPORT_RETRY_AFTER_SECONDS = 15
EXPORT_KEPT_HOURS = 24
# A render that has not finished after this long is taken for lost (its worker died), so the
# redelivered task may take it again.
EXPORT_STALE_SECONDS = 5 * 60
_UNFINISHED = (ReviewExport.Status.QUEUED, ReviewExport.Status.RENDERING)


class ExportsBusy(Exception):
    """Too many PDFs are being printed (answered 429 with Retry-After)."""

    def __init__(self, message: str, retry_after: int = EXPORT_RETRY_AFTER_SECONDS) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def review_export_request(*, quarter: Quarter, user: Any, language: str) -> ReviewExport:
    """Ask the worker for the review of `quarter` as a PDF in `language`; answer the request
    (queued), or the person's unfinished one for the same quarter and language."""
    now = timezone.now()
    with transaction.atomic():
        _lock("kpi-review-export")  # the bounds are counted and kept under one lock
        ReviewExport.objects.filter(
            requested_at__lt=now - timedelta(hours=EXPORT_KEPT_HOURS)
        ).delete()
        unfinished = ReviewExport.objects.filter(status__in=_UNFINISHED)
        mine = unfinished.filter(requested_by=user)
        same = mine.filter(quarter=quarter.label, language=language).first()
        if same is not None:
            return same
        if mine.count() >= EXPORTS_PER_PERSON:
            raise ExportsBusy(
                f"You already have {EXPORTS_PER_PERSON} PDFs being printed: wait for them."
            )
        if unfinished.count() >= EXPORTS_IN_ALL:
            raise ExportsBusy("The printer is busy with other people's PDFs: try again shortly.")
        export = ReviewExport.objects.create(
            id=uuid.uuid4(),
            quarter=quarter.label,
            language=language,
            requested_by=user,
            requested_at=now,
        )
        from metrics.tasks import kpi_review_pdf_render

        export_id = str(export.id)
        transaction.on_commit(lambda: kpi_review_pdf_render.delay(export_id), robust=True)
    return export


def review_export_render(*, export_id: str) -> ReviewExport | None:
    """Print one requested review (in the worker). Returns None when the request is gone or
    already taken by a live render; safe to run twice.

    1. Claim the request atomically (queued, or a render lost with its worker).
    2. Build the HTML from the database, then give the connection back: Chromium runs for
       seconds and holds no connection meanwhile.
    3. Print it and store the document, or the reason it failed.
    """
    from django.template.loader import render_to_string

    from metrics.kpi import exports
    from metrics.kpi.views import print_context

    now = timezone.now()
    claimed = (
        ReviewExport.objects.filter(id=export_id)
        .filter(
            models.Q(status=ReviewExport.Status.QUEUED)
            | models.Q(
                status=ReviewExport.Status.RENDERING,
                started_at__lt=now - timedelta(seconds=EXPORT_STALE_SECONDS),
            )
        )
        .update(status=ReviewExport.Status.RENDERING, started_at=now)
    )
    if not claimed:
        return None
    export = ReviewExport.objects.select_related("requested_by").get(id=export_id)
    context = print_context(
        Quarter.parse(export.quarter), user=export.requested_by, language=export.language
    )
    html = render_to_string("kpi_review_print.html", context)
    if not connection.in_atomic_block:  # (a caller's transaction keeps its connection)
        connection.close()  # back to the pool while Chromium prints
    try:
        document = exports.html_to_pdf(html)
    except exports.PDFUnavailable as exc:
        ReviewExport.objects.filter(id=export_id).update(
            status=ReviewExport.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
    else:
        ReviewExport.objects.filter(id=export_id).update(
            status=ReviewExport.Status.DONE,
            finished_at=timezone.now(),
            document=document,
            pages=exports.pdf_page_count(document),
        )
    return ReviewExport.objects.get(id=export_id)
