"""Problems the rest of the product reports to the core's health check and imports page.

The core must not import the apps (ARCHITECTURE.md), yet /healthz and the imports page show what
the apps know is wrong (a metric family that could not be recomputed). Apps register a source
at start-up; the core asks each one when it answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

ProblemSource = Callable[[], list[str]]
_sources: dict[str, ProblemSource] = {}


def problem_source_register(name: str, source: ProblemSource) -> None:
    """`source()` answers the current problems of `name`, each a sentence; [] when all is well."""
    _sources[name] = source


def current_problems() -> dict[str, list[str]]:
    """Every registered source's problems (a source that fails to answer says so)."""
    found: dict[str, list[str]] = {}
    for name, source in _sources.items():
        try:
            found[name] = source()
        except Exception as exc:  # a health check must answer whatever happens
            logger.warning("health: %s could not be checked: %s", name, exc)
            found[name] = [f"could not be checked ({type(exc).__name__})"]
    return found
