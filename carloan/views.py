from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from carloan.loanbook.kinds import KINDS
from carloan.models import ImportRun
from carloan.roles import can_edit

logger = logging.getLogger(__name__)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and Redis reachability; 503 when either is down."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure to reach the database means "down"
        logger.warning("healthz: database down: %s", exc)
        checks["database"] = "down"
    try:
        cache.get("healthz")
        client = cache._cache.get_client()  # type: ignore[attr-defined]
        client.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        logger.warning("healthz: redis down: %s", exc)
        checks["redis"] = "down"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503
    )


@login_required
def not_built(request: HttpRequest, page: str, **kwargs: Any) -> HttpResponse:
    return render(request, "not_built.html", {"active": page})


@login_required
def imports_page(request: HttpRequest) -> HttpResponse:
    recent = ImportRun.objects.select_related("imported_by")[:20]
    return render(
        request,
        "imports.html",
        {
            "active": "imports",
            "kinds": KINDS,
            "recent": recent,
            "may_import": can_edit(request.user),
        },
    )
