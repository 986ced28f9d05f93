"""Errors the services raise that the API answers in one way (`carloan.api.exception_handler`)."""

from __future__ import annotations

from typing import Any


class Conflict(Exception):
    """The thing changed (or was decided) since the client looked: answered 409 once, by the
    API's exception handler, with `detail` (the message), `current` (how the thing stands now,
    when given) and any other fields the endpoint's 409 documents (a card's `card` and stale
    `fields`, a change request's `request`), so the client can show it without reading again."""

    def __init__(self, message: str, current: Any = None, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.current = current
        self.extra = fields

    def body(self) -> dict[str, Any]:
        """The 409 answer."""
        body: dict[str, Any] = {"detail": self.message}
        if self.current is not None:
            body["current"] = self.current
        body.update(self.extra)
        return body
