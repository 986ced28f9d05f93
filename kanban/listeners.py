"""Receivers of the metrics' domain signals (connected in KanbanConfig.ready).

- `alerts_raised`: each critical alert about a recent day opens one card in the owning
  department's lane (`kanban.services.card_open_for_alert` decides and opens it once).
"""

from __future__ import annotations

import logging
from typing import Any

from kanban.services import card_open_for_alert

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
