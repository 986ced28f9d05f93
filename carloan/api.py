"""API plumbing shared by every app: the error format."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from carloan.errors import Conflict
from carloan.middleware import UNAVAILABLE_MESSAGE, is_unavailable

logger = logging.getLogger(__name__)

# The scheme clients use (`Authorization: Token <key>`), sent back with every 401.
AUTH_SCHEME = "Token"


def _audit_refusal(exc: Exception, context: dict[str, Any]) -> None:
    """Permission refusals go into the audit trail (who, what, and why)."""
    from carloan.people.audit import record
    from carloan.security import client_ip

    request = context.get("request")
    if request is None:
        return
    record(
        "permission_refused",
        actor=getattr(request, "user", None),
        target=f"{request.method} {request.path}",
        detail=str(getattr(exc, "detail", "")),
        ip=client_ip(request),
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus:

    1. Django's ValidationError → 400 with field errors; Http404 → 404; PermissionDenied → 403.
    2. Not signed in → 401 with `WWW-Authenticate: Token` (DRF would say 403 when the first
       authentication class is the session's, which sends no challenge).
    3. A service's `Conflict` (`carloan.errors`, the one way to say it) → 409 with its body:
       `detail`, `current` (how the thing stands now) and what else the endpoint documents.
    4. Database, Redis or broker unreachable → 503 with a message (never a 500 trace).
    """
    if isinstance(exc, ValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        # Services raise PermissionDenied("Only managers may ...") : keep their message.
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, exceptions.PermissionDenied):
        _audit_refusal(exc, context)
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        exc.status_code = status.HTTP_401_UNAUTHORIZED
        exc.auth_header = getattr(exc, "auth_header", None) or AUTH_SCHEME
    elif isinstance(exc, Conflict):
        return Response(exc.body(), status=status.HTTP_409_CONFLICT)
    elif is_unavailable(exc):
        logger.warning("dependency unavailable: %s", exc)
        return Response({"detail": UNAVAILABLE_MESSAGE}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    elif isinstance(exc, DatabaseError):
        logger.exception("database error")
        return None
    return drf_exception_handler(exc, context)
