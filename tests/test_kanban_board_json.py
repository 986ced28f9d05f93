"""The board answer's cards are built by PostgreSQL as JSON (`board_cards_json`); they must be
the cards of `board_cards` (the Python rows the events use) to the letter, whatever a card holds:
assignees, links, labels, a checklist, a due date past, comments, hand-offs, a done card, empty
pillar and region, microseconds or none, and the ageing against the column medians."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from kanban import services
from kanban.models import Card
from kanban.selectors import board_cards, board_cards_json, board_snapshot_json
from tests.test_kanban_support import move, new_card, shared_board

pytestmark = pytest.mark.django_db


def _python(board: Any, medians: dict[int, float]) -> list[dict[str, Any]]:
    return json.loads(json.dumps(board_cards(board, medians=medians), cls=DjangoJSONEncoder))


def test_the_sql_cards_are_the_python_cards(manager: Any, marketing_head: Any) -> None:
    board = shared_board()
    plain = new_card(manager, "Plain")
    rich = new_card(
        manager,
        "Rich",
        department="risk",
        description="=cmd|' /C calc'!A0 and \"quotes\" and 中文",
        labels=["urgent", "q4"],
        checklist=[{"text": "call branch", "done": True}, {"text": "check LTV", "done": False}],
        due_date=date(2020, 1, 1),  # past: overdue
        assignees=[marketing_head.pk, manager.pk],
        region="EAST-01",
        metric="overdue_rate",
    )
    services.comment_add(user=manager, card_id=rich["id"], text="looked")
    services.link_add(user=manager, card_id=rich["id"], to_card_id=plain["id"], kind="blocks")
    move(manager, rich["id"], "tech", "In progress")  # a hand-off
    done = new_card(manager, "Done", column_name="Done")
    Card.objects.filter(pk=done["id"]).update(
        column_entered_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds
        created_at=datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
    )
    for n in range(3):
        new_card(manager, f"Backlog {n}", position=0)
    # The rich card has been in its column longer than the column's median stay.
    medians = {Card.objects.get(pk=rich["id"]).column_id: 0.0000001}

    python = _python(board, medians)
    sql = json.loads(board_cards_json(board, medians=medians))

    assert [c["id"] for c in sql] == [c["id"] for c in python]
    for ours, theirs in zip(sql, python, strict=True):
        age = ours.pop("age_days"), theirs.pop("age_days")
        assert age[0] == pytest.approx(age[1], abs=1e-3)
        assert ours == theirs
    by_title = {c["title"]: c for c in sql}
    assert by_title["Rich"]["overdue"] is True and by_title["Rich"]["ageing"] is True
    assert by_title["Rich"]["handoff_count"] == 1 and by_title["Rich"]["comment_count"] == 1
    assert [a["username"] for a in by_title["Rich"]["assignees"]] == sorted(
        [marketing_head.username, manager.username]
    )
    assert by_title["Done"]["column_entered_at"] == "2026-01-02T03:04:05+00:00"
    assert by_title["Done"]["created_at"] == "2026-01-02T03:04:05.120000+00:00"
    assert [by_title[f"Backlog {n}"]["position"] for n in range(3)] == [2, 1, 0]


def test_the_board_answer_is_the_snapshot_without_its_type(manager: Any, client_for: Any) -> None:
    board = shared_board()
    new_card(manager, "One")
    answer = client_for(manager).get(f"/api/kanban/boards/{board.pk}/")

    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    body = answer.json()
    snapshot = json.loads(board_snapshot_json(board))
    assert snapshot.pop("type") == "board.snapshot"
    for card in (*body["cards"], *snapshot["cards"]):
        card.pop("age_days")
    assert body == snapshot
    assert [c["title"] for c in body["cards"]] == ["One"]
    assert body["seq"] == board.seq and body["lanes"] and body["columns"]


def test_an_empty_board_has_no_cards(client_for: Any, manager: Any) -> None:
    board = shared_board()
    assert json.loads(board_cards_json(board)) == []


def test_the_cards_are_kept_until_the_board_changes(
    manager: Any, client_for: Any, settings: Any
) -> None:
    from django.core.cache import cache

    settings.KANBAN_BOARD_CACHE_SECONDS = 60
    board = shared_board()
    cache.delete_many([f"kanban:board-cards:{board.pk}:{n}" for n in range(100)])
    card = new_card(manager, "First")
    api = client_for(manager)
    url = f"/api/kanban/boards/{board.pk}/"
    assert [c["title"] for c in api.get(url).json()["cards"]] == ["First"]

    # Not through the board's services: no new event number, the kept cards are served.
    Card.objects.filter(pk=card["id"]).update(title="Behind the board's back")
    assert [c["title"] for c in api.get(url).json()["cards"]] == ["First"]

    # Any change through them moves the number on: read afresh.
    services.card_update(
        user=manager, card_id=card["id"], version=card["version"], changes={"title": "Renamed"}
    )
    assert [c["title"] for c in api.get(url).json()["cards"]] == ["Renamed"]
