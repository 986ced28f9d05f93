"""The review's decisions as actions (contract section 7a).

`action_record` keeps an action and sends `review_action_decided`; the kanban listens and opens
the action's card in the department's lane, answering the card's id (metrics never imports the
kanban). An action's status is read from its card through the reader the kanban registers
(`register_card_reader`): `done` when the card is finished, else `overdue` after its due date,
else `open`. A review shows the actions of the quarter before, what became of them, and the
metric each aimed at, in the quarter it was decided and in the quarter reviewed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from carloan.roles import can_edit
from metrics.kpi.models import ReviewAction
from metrics.kpi.quarters import Quarter
from metrics.kpi.scoring import DEPARTMENTS
from metrics.signals import review_action_decided

# card ids → {id: {"done": bool}} of the cards that exist
CardReader = Callable[[list[int]], Mapping[int, Mapping[str, Any]]]
_card_readers: list[CardReader] = []


def register_card_reader(reader: CardReader) -> None:
    if reader not in _card_readers:
        _card_readers.append(reader)


def cards_of(ids: Iterable[int]) -> dict[int, Mapping[str, Any]]:
    wanted = [i for i in ids if i is not None]
    found: dict[int, Mapping[str, Any]] = {}
    for reader in _card_readers:
        found.update(reader(wanted))
    return found


def action_record(
    *,
    user: Any,
    quarter: Quarter,
    title: str,
    department: str,
    due_date: dt.date,
    owner: str = "",
    metric: str = "",
) -> ReviewAction:
    """Record a decision of `quarter`'s review (department heads and managers) and open its
    card. ValidationError (400) names each bad field."""
    from metrics.kpi.selectors import known_metrics

    if user is None or not can_edit(user):
        raise PermissionDenied("Only department heads and managers record review actions.")
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title or len(title) > 200:
        errors["title"] = ["A title of 1 to 200 characters."]
    if department not in DEPARTMENTS:
        errors["department"] = [f"One of {', '.join(DEPARTMENTS)}."]
    if metric and metric not in known_metrics():
        errors["metric"] = ["One of the KPI metrics (GET /api/kpi/departments/ lists them)."]
    person = None
    if owner:
        person = get_user_model().objects.filter(username=owner, is_active=True).first()
        if person is None:
            errors["owner"] = [f"There is no active person {owner}."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        action = ReviewAction.objects.create(
            quarter=quarter.label,
            title=title,
            department=department,
            due_date=due_date,
            owner=person,
            metric=metric,
            created_by=user,
            created_at=timezone.now(),
        )
        answers = review_action_decided.send(sender=ReviewAction, action=action_data(action, {}))
        card = next((card for _receiver, card in answers if card is not None), None)
        if card is not None:
            action.card_id = card
            action.save(update_fields=["card_id"])
    return action


def _status(action: ReviewAction, card: Mapping[str, Any] | None, today: dt.date) -> str:
    if card is not None and card.get("done"):
        return "done"
    return "overdue" if action.due_date < today else "open"


def action_data(action: ReviewAction, cards: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    card = cards.get(action.card_id) if action.card_id is not None else None
    return {
        "id": action.pk,
        "quarter": action.quarter,
        "title": action.title,
        "department": action.department,
        "due_date": action.due_date.isoformat(),
        "owner": action.owner.get_username() if action.owner else None,
        "metric": action.metric or None,
        "card": action.card_id,
        "status": _status(action, card, timezone.localdate()),
        "done_at": card.get("done_at") if card else None,
        "created_by": action.created_by.get_username() if action.created_by else None,
        "created_at": action.created_at.isoformat(),
    }


def actions_of(quarter: Quarter) -> list[dict[str, Any]]:
    rows = list(
        ReviewAction.objects.filter(quarter=quarter.label).select_related("owner", "created_by")
    )
    cards = cards_of(a.card_id for a in rows if a.card_id is not None)
    return [action_data(a, cards) for a in rows]


def carried_over(quarter: Quarter) -> list[dict[str, Any]]:
    """The actions the review before `quarter` decided, what became of them, and the metric each
    aimed at: its actual in the quarter it was decided and in `quarter`."""
    from metrics.kpi.selectors import quarter_actuals

    before = quarter.previous()
    rows = actions_of(before)
    metrics = [r["metric"] for r in rows if r["metric"]]
    then = quarter_actuals(before, metrics) if metrics else {}
    now = quarter_actuals(quarter, metrics) if metrics else {}
    return [
        {
            **row,
            "metric_before": then.get(row["metric"]) if row["metric"] else None,
            "metric_after": now.get(row["metric"]) if row["metric"] else None,
        }
        for row in rows
    ]
