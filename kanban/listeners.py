"""Receivers of the metrics' domain signals (connected in KanbanConfig.ready).

- `script_review_opened` / `script_review_closed` (the core's compliance): a sales script's
  review is a hand-off card from marketing to risk control, closed by risk's decision.
- `alerts_raised`: each critical alert about a recent day opens one card in the owning
  department's lane (`kanban.services.card_open_for_alert` decides and opens it once).
"""

from __future__ import annotations

import logging
from typing import Any

from kanban.services import (
    card_close_for_script_review,
    card_open_for_alert,
    card_open_for_application,
    card_open_for_script_review,
)

logger = logging.getLogger(__name__)


def on_alerts_raised(sender: Any, *, alerts: list[dict[str, Any]], **kwargs: Any) -> None:
    for alert in alerts:
        try:
            card_id = card_open_for_alert(alert)
        except Exception:  # one bad alert must not keep the others from their cards
            logger.exception("could not open the card of alert %s", alert.get("id"))
            continue
        if card_id is not None:
            logger.info("alert %s opened card #%s", alert.get("id"), card_id)


def on_script_review_opened(
    sender: Any, *, script: dict[str, Any], reason: str, **kwargs: Any
) -> None:
    try:
        card_id = card_open_for_script_review(script, reason)
    except Exception:  # the script's state is committed; a card problem must not undo it
        logger.exception("could not open the review card of script %s", script.get("id"))
        return
    logger.info("script %s review is card #%s", script.get("id"), card_id)


def on_script_review_closed(
    sender: Any, *, script: dict[str, Any], outcome: str, user: Any = None, **kwargs: Any
) -> None:
    try:
        card_close_for_script_review(script, outcome, user)
    except Exception:
        logger.exception("could not close the review card of script %s", script.get("id"))


def on_applications_flagged(
    sender: Any, *, applications: list[dict[str, Any]], **kwargs: Any
) -> None:
    for application in applications:
        try:
            card_open_for_application(application)
        except Exception:  # one application's card must not keep the others from theirs
            logger.exception("could not open the card of %s", application.get("application_id"))


def on_review_action_decided(sender: Any, *, action: dict[str, Any], **kwargs: Any) -> int | None:
    """Open the card of a review's action; its id is the answer the review keeps."""
    from kanban.services import card_open_for_review_action

    return card_open_for_review_action(action)
