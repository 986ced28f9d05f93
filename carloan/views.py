from __future__ import annotations

import logging
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from redis.backoff import NoBackoff
from redis.retry import Retry

from carloan.events import import_run_data
from carloan.health import current_problems
from carloan.loanbook.kinds import KINDS, Column
from carloan.models import ImportRun
from carloan.roles import can_edit

logger = logging.getLogger(__name__)


HEALTH_TIMEOUT_SECONDS = 1.0
_REDIS_CLIENTS: dict[str, redis.Redis] = {}


def _redis_client(url: str) -> redis.Redis:
    """One client per URL, with short timeouts and no retries: a health check must answer fast."""
    client = _REDIS_CLIENTS.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=HEALTH_TIMEOUT_SECONDS,
            socket_timeout=HEALTH_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        _REDIS_CLIENTS[url] = client
    return client


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and Redis reachability; 503 when either is down. Never needs a signed-in user."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure to reach the database means "down"
        logger.warning("healthz: database down: %s", exc)
        checks["database"] = "down"
    try:
        # REDIS_URL feeds the cache, Celery and the channel layer alike.
        _redis_client(settings.REDIS_URL).ping()
        checks["redis"] = "ok"
    except Exception as exc:  # any failure to reach Redis means "down"
        logger.warning("healthz: redis down: %s", exc)
        checks["redis"] = "down"
    healthy = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "down", **checks}
    if checks["database"] == "ok":
        # What the apps report (a metric family the worker could not recompute) is added only
        # while it is failing (the answer is otherwise exactly the contract's), and is no reason
        # to take this web process out of a load balancer.
        for name, problems in current_problems().items():
            if problems:
                body[name] = "failing"
                body[f"{name}_problems"] = problems
    return JsonResponse(body, status=200 if healthy else 503)


# Kind names and descriptions as people read them (kinds.py keeps the English originals).
KIND_LABELS: dict[str, Any] = {
    "leads": _("Leads"),
    "applications": _("Applications"),
    "loans": _("Loans"),
    "loan_snapshots": _("Loan snapshots"),
    "marketing_spend": _("Marketing spend"),
    "valuations": _("Valuations"),
    "complaints": _("Complaints"),
    "samples": _("Technical samples"),
    "vehicle_sales": _("Vehicle sales"),
}
KIND_DESCRIPTIONS: dict[str, Any] = {
    "leads": _("Prospective borrowers from marketing channels"),
    "applications": _("Credit applications and their decisions"),
    "loans": _("Funded loans"),
    "loan_snapshots": _("A loan's outstanding principal, days past due and status as of a day"),
    "marketing_spend": _("Marketing spend per day, region and channel"),
    "valuations": _("Collateral valuations: model value against reference value"),
    "complaints": _("Compliance complaints"),
    "samples": _("Technical measurements (latency, availability, sync lag, ...)"),
    "vehicle_sales": _("Used-vehicle sales the valuation model learns from"),
}
COLUMN_TYPES: dict[str, Any] = {
    "text": _("text"),
    "timestamp": _("timestamp (ISO 8601)"),
    "date": _("date (YYYY-MM-DD)"),
    "decimal": _("decimal"),
    "integer": _("integer"),
    "float": _("number"),
    "choice": _("one of"),
}

# What imports.js shows, in the reader's language ({placeholders} are filled in by the script).
IMPORTS_JS_TEXT: dict[str, Any] = {
    "succeeded": _("Succeeded"),
    "rejected": _("Rejected"),
    "refreshed": _("Refreshed"),
    "partlyRefreshed": _("Partly refreshed"),
    "recomputing": _("Recomputing…"),
    "noImports": _("No imports yet."),
    "badRowsOne": _("1 bad row"),
    "badRowsMany": _("{n} bad rows"),
    "uploading": _("Uploading and checking {file}…"),
    "successTitle": _("Imported {file}"),
    "successNote": _(
        "The metric values of the days this file touches are being recomputed in the "
        "background; the table below shows when they are."
    ),
    "rows": _("Rows"),
    "created": _("Created"),
    "updated": _("Updated"),
    "warnings": _("Warnings"),
    "rejectedTitle": _("The file was rejected: nothing was stored."),
    "badRowsTotal": _("Bad rows: {n}"),
    "firstShown": _("The first {shown} are listed below. Fix them and import the file again."),
    "allShown": _("Fix them and import the file again."),
    "line": _("Line"),
    "column": _("Column"),
    "reason": _("Reason"),
    "invalidTitle": _("The upload was refused."),
    "tooLarge": _("The file is larger than the limit of {mb} MB. Split it into smaller files."),
    "forbidden": _("You may not import files: only department heads and managers may."),
    "signedOut": _("Your session has ended. Sign in again to import."),
    "notReady": _("The import service is not available on this server yet. Nothing was stored."),
    "unexpected": _(
        "Unexpected answer from the server (HTTP {status}). Check the recent imports below to "
        "see whether the file was stored."
    ),
    "network": _("The server could not be reached. Check your connection and try again."),
    "chooseFile": _("Choose a CSV file first."),
    "failedTitle": _("The import did not go through."),
}


def _column_info(column: Column) -> dict[str, Any]:
    bounds = ""
    if column.min_value is not None and column.max_value is not None:
        bounds = f"{column.min_value}–{column.max_value}"
    elif column.min_value is not None:
        bounds = f"≥ {column.min_value}"
    elif column.max_value is not None:
        bounds = f"≤ {column.max_value}"
    return {
        "name": column.name,
        "required": column.required,
        "type": COLUMN_TYPES.get(column.type, column.type),
        "choices": list(column.choices),
        "bounds": bounds,
    }


def kinds_for_page() -> list[dict[str, Any]]:
    """The import kinds with translated names, descriptions and their expected columns."""
    return [
        {
            "name": name,
            "label": KIND_LABELS.get(name, name),
            "description": KIND_DESCRIPTIONS.get(name, kind.description),
            "columns": [_column_info(c) for c in kind.columns],
        }
        for name, kind in KINDS.items()
    ]


def _recent_rows(limit: int = 20) -> list[dict[str, Any]]:
    """The latest import runs as the socket sends them, plus what the template formats itself."""
    rows: list[dict[str, Any]] = []
    for run in ImportRun.objects.select_related("imported_by")[:limit]:
        row: dict[str, Any] = dict(import_run_data(run))
        row["kind_label"] = KIND_LABELS.get(run.kind, run.kind)
        row["started"] = run.started_at
        row["refreshed"] = run.refreshed_at
        row["error_count"] = len(run.errors)
        rows.append(row)
    return rows


@login_required
def imports_page(request: HttpRequest) -> HttpResponse:
    """Upload a loan book file, and watch recent imports (and their metric refresh) live."""
    return render(
        request,
        "imports.html",
        {
            "active": "imports",
            "kinds": kinds_for_page(),
            "kind_labels": {name: str(label) for name, label in KIND_LABELS.items()},
            "js_text": {key: str(text) for key, text in IMPORTS_JS_TEXT.items()},
            "recent": _recent_rows(),
            "problems": [p for found in current_problems().values() for p in found],
            "may_import": can_edit(request.user),
            "max_bytes": settings.IMPORT_MAX_BYTES,
            "max_mb": settings.IMPORT_MAX_BYTES // (1024 * 1024),
            "time_zone": timezone.get_current_timezone_name(),
        },
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A page refused (403): said in words, and kept in the audit trail."""
    from django.views.defaults import permission_denied as django_permission_denied

    from carloan.people.audit import record
    from carloan.security import client_ip

    record(
        "permission_refused",
        actor=getattr(request, "user", None),
        target=f"{request.method} {request.path}",
        detail=str(exception or ""),
        ip=client_ip(request),
    )
    return django_permission_denied(request, exception or Exception())
