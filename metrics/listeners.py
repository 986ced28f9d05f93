"""Receivers of the core's domain signals (connected in MetricsConfig.ready).

- `loanbook_changed` (an import committed): recompute the days and families its rows touch, at
  once when the sender says `synchronous` (the import command and the import's refresh task,
  which already run in the worker), else in the worker after commit.
- a person saved or deleted (not a sign-in's `last_login`): the cached alert lists name who
  acknowledged each alert, so they are retired once the change commits.
- `parameters_changed` (live parameters committed): have the worker re-evaluate the statuses and
  alerts of the metrics whose `alert.<metric>.warn_pct` / `critical_pct` changed (no value is
  recomputed), and the alerts of every business metric when `alert.min_denominator` changed.
  Not in the manager's request: the re-evaluation waits for any running refresh (one at a time),
  and a web process must never wait on that.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from metrics import services
from metrics.registry import BUSINESS_KEYS, metric_of_alert_parameter
from metrics.selectors import MIN_DENOMINATOR_KEY

logger = logging.getLogger(__name__)


def on_loanbook_imported(sender: Any, *, kinds: list[str], **kwargs: Any) -> None:
    """An import committed: periods cached from the book before it are dropped now, not at its
    refresh (an import's writes advance the generations before they commit, so a period
    computed meanwhile may have been cached under them)."""
    from metrics.periods import advance_generations

    advance_generations(technical="samples" in kinds, business=kinds != ["samples"])


def on_loanbook_changed(
    sender: Any,
    *,
    kind: str,
    first_day: date | None,
    last_day: date | None,
    synchronous: bool = False,
    **kwargs: Any,
) -> dict[str, str]:
    """Recompute what the import touched; answer the families that failed (family → why), which
    the import's run keeps and shows."""
    if first_day is None or last_day is None:
        return {}
    span = services.refresh_range_for(kind, first_day, last_day)
    if span is None:
        return {}
    start, end = span
    families = list(services.families_for_kind(kind))
    if synchronous:
        result = services.metrics_refresh(start=start, end=end, families=families)  # type: ignore[arg-type]
        return dict(result.failed)
    services.metrics_refresh_later(start=start, end=end, families=families)
    return {}


def on_parameters_changed(sender: Any, *, keys: list[str], **kwargs: Any) -> None:
    metrics = {m for m in (metric_of_alert_parameter(k) for k in keys) if m}
    if MIN_DENOMINATOR_KEY in keys:
        metrics |= set(BUSINESS_KEYS)
    if not metrics:
        return
    from metrics.tasks import metrics_statuses_refresh

    try:
        metrics_statuses_refresh.delay(sorted(metrics))
    except Exception:  # broker down: the change stands; each day's next refresh re-evaluates it
        logger.exception("thresholds changed (%s): re-evaluation not queued", ", ".join(keys))
        return
    logger.info("thresholds changed (%s): re-evaluating %d metrics", ", ".join(keys), len(metrics))


def on_person_changed(sender: Any, *, update_fields: Any = None, **kwargs: Any) -> None:
    """A person renamed or removed: the cached alert lists may name them (`acknowledged_by`)."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in
    from django.db import transaction

    from metrics.selectors import advance_read_generations

    transaction.on_commit(lambda: advance_read_generations(values=False), robust=True)
