from __future__ import annotations

import logging
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from redis.backoff import NoBackoff
from redis.retry import Retry

from carloan.loanbook.kinds import KINDS
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
