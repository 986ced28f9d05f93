"""Errors the services raise that the API answers in one way (`carloan.api.exception_handler`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Conflict(Exception):
    """The thing changed (or was decided) since the client looked: answered 409 with `detail`
    and `current`, how the thing stands now, so the client can show it without reading again."""

    def __init__(self, message: str, current: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.current = dict(current or {})
