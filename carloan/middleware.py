"""Pages answer 503 with a clear message when the database or Redis is down, never a trace."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from redis.exceptions import ConnectionError as RedisConnectionError

logger = logging.getLogger(__name__)


class ServiceUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError | RedisConnectionError):
            logger.warning("dependency unavailable on %s: %s", request.path, exception)
            message = "A server the product depends on is unavailable; try again in a moment."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=503)
            return HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        return None
