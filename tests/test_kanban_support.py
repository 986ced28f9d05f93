"""Builders for the kanban tests: the shared board (recreated after tests that flush the
database), cards made and moved through the real services, and moments set by hand so flow
statistics can be checked against hand-computed medians. (No tests here.)"""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from typing import Any

from django.apps import apps

from kanban import services
from kanban.events import CardData
from kanban.models import Board, Card, Column, Lane, Transition

UTC = dt.UTC


def shared_board() -> Board:
    """The default board of the data migration (flushing tests remove it: make it again)."""
    board = Board.objects.filter(slug="shared").first()
    if board is None:
        import_module("kanban.migrations.0002_default_board").create(apps, None)
        board = Board.objects.get(slug="shared")
    return board


def lane(board: Board, department: str) -> Lane:
    return Lane.objects.get(board=board, department=department)


def column(board: Board, name: str) -> Column:
    return Column.objects.get(board=board, name=name)


def new_card(
    user: Any,
    title: str = "Card",
    department: str = "marketing",
    column_name: str = "Backlog",
    *,
    board: Board | None = None,
    position: int | None = None,
    **fields: Any,
) -> CardData:
    board = board or shared_board()
    return services.card_create(
        user=user,
        board_id=board.pk,
        title=title,
        lane_id=lane(board, department).pk,
        column_id=column(board, column_name).pk,
        position=position,
        **fields,
    )


def version_of(card_id: int) -> int:
    return Card.objects.values_list("version", flat=True).get(pk=card_id)


def move(
    user: Any,
    card_id: int,
    department: str,
    column_name: str,
    position: int = 0,
    *,
    version: int | None = None,
) -> services.MoveResult:
    """Move a card through the real service (at the version it has now, unless told)."""
    board = Card.objects.get(pk=card_id).board
    return services.card_move(
        user=user,
        card_id=card_id,
        lane_id=lane(board, department).pk,
        column_id=column(board, column_name).pk,
        position=position,
        version=version if version is not None else version_of(card_id),
    )


def cell_titles(board: Board, department: str, column_name: str) -> list[str]:
    """The titles of a cell's live cards, in board order."""
    return list(
        Card.objects.filter(
            lane=lane(board, department), column=column(board, column_name), archived=False
        )
        .order_by("rank", "id")
        .values_list("title", flat=True)
    )


def at(text: str) -> dt.datetime:
    """An aware moment (UTC unless an offset is written)."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def set_times(card_id: int, moments: list[str]) -> None:
    """Put a card's log on the clock: the first moment is its creation, then one per move (in
    the order they were made); `done_at` and the cell entry follow."""
    card = Card.objects.get(pk=card_id)
    transitions = list(Transition.objects.filter(card=card).order_by("id"))
    assert len(transitions) == len(moments), (len(transitions), moments)
    for transition, moment in zip(transitions, moments, strict=True):
        transition.at = at(moment)
        transition.save(update_fields=["at"])
    card.created_at = at(moments[0])
    card.column_entered_at = at(moments[-1])
    if card.done_at is not None:
        card.done_at = at(moments[-1])
    card.save(update_fields=["created_at", "column_entered_at", "done_at"])
