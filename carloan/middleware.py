"""Pages answer 503 with a clear message when the database or Redis is down, never a trace."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# Errors that mean "a server we depend on is unreachable", not "our code is wrong": the database,
# Redis (cache, channel layer) and the Celery broker (which is Redis too).
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    BrokerUnavailable,
)
UNAVAILABLE_MESSAGE = "A server the product depends on is unavailable; try again in a moment."


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` means a dependency is down (answer 503), not a bug (answer 500)."""
    return isinstance(exc, UNAVAILABLE_ERRORS)


class ServiceUnavailableMiddleware:
    """Turns a dependency outage raised by any view into a 503 (JSON under /api/)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_unavailable(exception):
            return None
        logger.warning("dependency unavailable on %s: %s", request.path, exception)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": UNAVAILABLE_MESSAGE}, status=503)
        return HttpResponse(
            UNAVAILABLE_MESSAGE, status=503, content_type="text/plain; charset=utf-8"
        )


def content_security_policy(request: HttpRequest) -> str:
    """The Content Security Policy of every answer.

    Scripts come only from this server, never inline and never eval'd. Styles may be inline:
    plotly.js adds <style> elements at run time (the contract allows this for styles only).
    Sockets go to this host only (ws:// or wss://, named explicitly for older browsers, where
    'self' does not cover ws:).
    """
    host = request.get_host()
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src 'self' ws://{host} wss://{host}",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
)


class SecurityHeadersMiddleware:
    """Adds the Content Security Policy, Permissions-Policy and cross-origin isolation headers
    that Django's SecurityMiddleware does not (it sets HSTS, nosniff, Referrer-Policy, COOP)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            try:
                response["Content-Security-Policy"] = content_security_policy(request)
            except Exception:  # DisallowedHost: Django already answers 400 for it
                response["Content-Security-Policy"] = "default-src 'self'"
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        # Swagger UI's view sets COOP unsafe-none for its OAuth pop-up, which we do not use.
        response["Cross-Origin-Opener-Policy"] = "same-origin"
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.setdefault("X-Permitted-Cross-Domain-Policies", "none")
        return response


IMPORT_PATHS = ("/api/imports/",)
# Multipart framing around an imported file (as carloan.loanbook.api allows).
IMPORT_SLACK_BYTES = 64 * 1024


def body_limit(path: str) -> int:
    """Largest request body accepted on `path`: an import file, or REQUEST_MAX_BYTES."""
    from django.conf import settings

    if path.startswith(IMPORT_PATHS):
        return int(settings.IMPORT_MAX_BYTES) + IMPORT_SLACK_BYTES
    return int(settings.REQUEST_MAX_BYTES)


class BodySizeLimit:
    """ASGI wrapper: a request whose Content-Length exceeds the limit of its path is answered
    413 before its body is read (Django's ASGI handler would first spool the whole body to disk).

    A body sent without a length (chunked) is bounded by the reverse proxy (`client_max_body_size`
    in deploy/nginx.conf) and by Django's own DATA_UPLOAD_MAX_MEMORY_SIZE for form data."""

    def __init__(self, app: Callable[..., object]) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            length = _content_length(scope)
            limit = body_limit(scope.get("path", ""))
            if length is not None and length > limit:
                await _too_large(send, length, limit, scope.get("path", ""))
                return
        await self.app(scope, receive, send)  # type: ignore[misc]


def _content_length(scope: dict) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Callable, length: int, limit: int, path: str) -> None:
    import json

    hint = (
        " Split the file into several files, or import it with `manage.py import_loanbook`."
        if path.startswith(IMPORT_PATHS)
        else ""
    )
    body = json.dumps(
        {
            "detail": f"The request is too large: {length:,} bytes; at most {limit:,} bytes "
            f"({limit / 1024 / 1024:.1f} MB) are accepted here.{hint}"
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
