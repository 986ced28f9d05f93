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
