"""Receivers of the core's signals (connected in CarloanConfig.ready).

- `parameters_changed`: a parameter a category reads changed: every script is re-checked at
  once, and an approved one that no longer complies goes to `needs_review`.
- `loanbook_changed` for kind `calls`: the imported calls are checked (in the import's refresh,
  which runs in the worker, or at once for the import command).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from carloan.compliance import services


def on_parameters_changed(sender: Any, *, keys: Sequence[str], **kwargs: Any) -> None:
    services.on_parameters_changed(sender, keys=keys)


def on_loanbook_changed(sender: Any, *, kind: str, **kwargs: Any) -> dict[str, str]:
    if kind == "calls":
        services.calls_check_pending()
    return {}
