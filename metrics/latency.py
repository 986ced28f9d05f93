"""The application's own API latency, recorded as `api_response_time` samples (contract section 3:
source `self`, no region, so they count for `all` only) without slowing any request.

1. `ApiLatencyMiddleware` times every request under /api/ and appends (start time, milliseconds)
   to an in-process buffer: a deque append, nothing else, on the request's path.
2. The buffer is bounded (MAX_BUFFER samples): when the database cannot keep up, the oldest
   samples are dropped and counted, never the requests slowed.
3. It is flushed once FLUSH_SIZE samples wait or FLUSH_SECONDS have passed, by the first request
   that *finishes* after that (Django's `request_finished`, sent once the response has been
   handed to the client): one INSERT for the whole batch, then the technical metrics of those
   days are recomputed in the worker. Any error is logged, never raised into a request.

Settings: METRICS_API_LATENCY (on by default; the tests turn it off but where they are about it),
METRICS_LATENCY_FLUSH_SECONDS (10), METRICS_LATENCY_FLUSH_SIZE (500).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

logger = logging.getLogger(__name__)

SERIES = "api_response_time"
SOURCE = "self"
PREFIX = "/api/"
MAX_BUFFER = 20_000


def _enabled() -> bool:
    return bool(getattr(settings, "METRICS_API_LATENCY", True))


class LatencyBuffer:
    """Samples waiting to be written: (start of the request, duration in ms)."""

    def __init__(self, maxlen: int = MAX_BUFFER) -> None:
        self.items: deque[tuple[datetime, float]] = deque(maxlen=maxlen)
        self.lock = threading.Lock()
        self.last_flush = time.monotonic()
        self.dropped = 0
        self.flushing = False

    def add(self, started: datetime, ms: float) -> None:
        if len(self.items) == self.items.maxlen:
            self.dropped += 1
        self.items.append((started, ms))

    def due(self) -> bool:
        if not self.items or self.flushing:
            return False
        seconds = float(getattr(settings, "METRICS_LATENCY_FLUSH_SECONDS", 10))
        size = int(getattr(settings, "METRICS_LATENCY_FLUSH_SIZE", 500))
        return len(self.items) >= size or time.monotonic() - self.last_flush >= seconds

    def take(self) -> list[tuple[datetime, float]]:
        with self.lock:
            batch = list(self.items)
            self.items.clear()
            self.last_flush = time.monotonic()
            return batch


BUFFER = LatencyBuffer()


def latency_flush() -> int:
    """Write the buffered latency samples in one statement and schedule the recompute of their
    days. Returns how many were written; errors are logged and the batch dropped."""
    from metrics.services import samples_record

    with BUFFER.lock:
        if BUFFER.flushing:
            return 0
        BUFFER.flushing = True
    try:
        batch = BUFFER.take()
        if not batch:
            return 0
        # Every request is a measurement, those that started at the same instant included.
        rows = [(SERIES, started, ms, "", SOURCE) for started, ms in batch]
        samples_record(rows=rows, refresh="background")
        if BUFFER.dropped:
            logger.warning("API latency buffer was full: %d samples dropped", BUFFER.dropped)
            BUFFER.dropped = 0
        return len(rows)
    except Exception:
        logger.warning("could not record the API latency samples", exc_info=True)
        return 0
    finally:
        BUFFER.flushing = False
        if not connection.in_atomic_block:
            # This runs after the request's own connection handling: leave nothing open.
            connection.close_if_unusable_or_obsolete()


def flush_if_due(sender: Any = None, **kwargs: Any) -> None:
    """`request_finished` receiver: flush when the buffer is due (after the response is sent)."""
    if BUFFER.due():
        latency_flush()


class ApiLatencyMiddleware:
    """Times /api/ requests into the latency buffer (sync and async)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        if not (_enabled() and request.path.startswith(PREFIX)):
            return self.get_response(request)
        started, began = timezone.now(), time.perf_counter()
        response = self.get_response(request)
        if not _is_download(response):
            BUFFER.add(started, (time.perf_counter() - began) * 1000)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if not (_enabled() and request.path.startswith(PREFIX)):
            return await self.get_response(request)
        started, began = timezone.now(), time.perf_counter()
        response = await self.get_response(request)
        if not _is_download(response):
            BUFFER.add(started, (time.perf_counter() - began) * 1000)
        return response


def _is_download(response: Any) -> bool:
    """An export (a streamed or file answer, built for seconds on large tables) is not the API's
    response time a person waits for: it would move the p95 the KPI scores."""
    return bool(getattr(response, "streaming", False))
