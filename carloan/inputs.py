"""The one input layer: what no request may carry, refused with a 400 and a message before any
view sees it, so a new endpoint is covered without thinking of it.

- JSON (`SafeJSONParser`, every DRF view, the anonymous token endpoint included): nested at most
  `MAX_DEPTH` deep, numbers a float can hold (no NaN, no Infinity, no 400-digit integers), no
  NUL character in any text or key (PostgreSQL text cannot hold one), and calendar dates (and
  timestamps) between the years `FIRST_YEAR` and `LAST_YEAR`.
- Query strings and paths (`QueryStringMiddleware`, every page and API call): no NUL character,
  and the same date rule for any value written as a date.
- WebSocket messages go through `check_value`, as JSON bodies do.

The year bounds are far outside any loan book (metric windows and quarters reach a few years
back), and keep date arithmetic (a 30-day window before 0001-01-01, the day after 9999-12-31)
from overflowing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
MAX_INTEGER_DIGITS = 300  # beyond, no float holds it
FIRST_YEAR = 1900
LAST_YEAR = 2999
_DATE = re.compile(r"^\s*([+-]?\d{4,})-\d{2}-\d{2}(?:[T ][0-9:.+\-Z ]*)?\s*$")


class BadInput(ValueError):
    """A value no request may carry (answered 400 with this message)."""


def date_problem(text: str) -> str | None:
    """Why `text`, written as a date or timestamp, is refused (its year); None otherwise."""
    match = _DATE.match(text)
    if match is None:
        return None
    year = int(match.group(1))
    if FIRST_YEAR <= year <= LAST_YEAR:
        return None
    return f"{text.strip()[:40]!r}: dates must be between the years {FIRST_YEAR} and {LAST_YEAR}"


def check_text(text: str, where: str = "") -> None:
    if "\x00" in text:
        raise BadInput(f"{where or 'a text'} contains a NUL character")
    problem = date_problem(text) if len(text) <= 64 else None
    if problem:
        raise BadInput(f"{where}: {problem}" if where else problem)


def check_value(value: Any, where: str = "", depth: int = 0) -> None:
    """Raise BadInput when a decoded JSON value holds what no request may carry."""
    if depth > MAX_DEPTH:
        raise BadInput(f"JSON nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        check_text(value, where)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadInput(f"{where or 'a number'} is not a finite number")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_text(str(key), "a key")
            check_value(item, str(key), depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_value(item, f"{where}[{index}]" if where else f"item {index}", depth + 1)


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise BadInput(f"a number of {len(text):,} digits is too large")
    return int(text)


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise BadInput(f"{text[:40]} is too large a number")
    return number


def _constant(text: str) -> float:
    raise BadInput(f"{text} is not a number JSON allows")


def loads(text: str | bytes) -> Any:
    """json.loads with the rules above; raises BadInput (or ValueError for bad JSON)."""
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise BadInput(f"JSON nested more than {MAX_DEPTH} levels deep") from None
    check_value(value)
    return value


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with the rules of this module: every failure is a 400 ParseError."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            raw = stream.read() if stream is not None else b""
            return loads(raw.decode(encoding))
        except BadInput as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class QueryStringMiddleware:
    """400 for a path or query string carrying a NUL character or an out-of-range date."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            check_text(request.path, "the path")
            for name, values in request.GET.lists():
                check_text(name, "a query parameter's name")
                for value in values:
                    check_text(value, name)
        except BadInput as exc:
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": str(exc)}, status=400)
            return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
