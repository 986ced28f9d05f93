"""The kanban's HTTP API (contract section 4): shapes, rights, 400/403/404/409, and a board
answer whose number of queries does not grow with its cards."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kanban.events import CardData
from kanban.models import Board, Card, CardLink, Comment
from tests.factories import make_user
from tests.test_kanban_support import column, lane, move, new_card, shared_board

pytestmark = pytest.mark.django_db


@pytest.fixture
def board() -> Board:
    return shared_board()


@pytest.fixture
def private_board() -> Board:
    """A risk-only board (say, for collections work)."""
    shared_board()
    board = Board.objects.create(
        name="Collections", slug="collections", visibility="departments", departments=["risk"]
    )
    risk = board.lanes.create(department="risk", position=0)
    board.columns.create(name="Backlog", position=0)
    assert risk.pk
    return board


def test_every_signed_in_user_sees_the_shared_board_with_lanes_and_columns(
    board: Board, viewer: User, client_for: Any
) -> None:
    answer = client_for(viewer).get("/api/kanban/boards/")
    assert answer.status_code == 200
    (shared,) = answer.json()
    assert [lane["department"] for lane in shared["lanes"]] == ["marketing", "risk", "tech"]
    assert [c["name"] for c in shared["columns"]] == [
        "Backlog",
        "In progress",
        "Waiting for another department",
        "Review",
        "Done",
    ]
    assert shared["columns"][-1]["is_done"] is True
    assert client_for(None).get("/api/kanban/boards/").status_code == 401


def test_a_private_board_is_seen_by_its_department_and_managers_only(
    private_board: Board, viewer: User, risk_head: User, manager: User, client_for: Any
) -> None:
    def slugs(user: User) -> set[str]:
        return {b["slug"] for b in client_for(user).get("/api/kanban/boards/").json()}

    assert slugs(viewer) == {"shared"}
    assert slugs(risk_head) == {"shared", "collections"}
    assert slugs(manager) == {"shared", "collections"}
    assert client_for(viewer).get(f"/api/kanban/boards/{private_board.pk}/").status_code == 404
    assert client_for(risk_head).get(f"/api/kanban/boards/{private_board.pk}/").status_code == 200
    member = make_user("outside_auditor", "viewer")
    private_board.members.add(member)
    assert slugs(member) == {"shared", "collections"}


def test_the_board_answer_holds_cards_with_positions_and_seq(
    board: Board, marketing_head: User, viewer: User, client_for: Any
) -> None:
    a = new_card(marketing_head, "A")
    new_card(marketing_head, "B")
    move(marketing_head, a["id"], "marketing", "Backlog", position=1)
    body = client_for(viewer).get(f"/api/kanban/boards/{board.pk}/").json()
    assert set(body) >= {"id", "name", "lanes", "columns", "cards", "seq"}
    assert body["seq"] == 3
    assert [(c["title"], c["position"]) for c in body["cards"]] == [("B", 0), ("A", 1)]
    card = body["cards"][1]
    for key in ("id", "board", "title", "lane", "column", "position", "version", "age_days"):
        assert key in card
    assert card["version"] == 2


def test_the_board_answer_takes_the_same_queries_for_3_or_60_cards(
    board: Board, marketing_head: User, risk_head: User, viewer: User, client_for: Any
) -> None:
    client = client_for(viewer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/api/kanban/boards/{board.pk}/").status_code == 200
        return len(captured)

    for i in range(3):
        new_card(marketing_head, f"card {i}", assignees=[risk_head.pk], labels=["x"])
    few = queries()
    for i in range(57):
        card = new_card(marketing_head, f"more {i}", "risk", assignees=[marketing_head.pk])
        if i % 5 == 0:
            move(risk_head, card["id"], "tech", "In progress")
    many = queries()
    assert few == many
    assert many <= 9  # token, board, lanes, columns, medians, cards, assignees, links…


def test_create_a_card(board: Board, marketing_head: User, client_for: Any) -> None:
    answer = client_for(marketing_head).post(
        "/api/kanban/cards/",
        {
            "board": board.pk,
            "title": "Dealer asks for faster appraisals",
            "lane": lane(board, "marketing").pk,
            "column": column(board, "Backlog").pk,
            "type": "request",
            "labels": ["dealers"],
            "checklist": [{"text": "collect examples"}],
            "due_date": "2026-12-15",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    card = answer.json()
    assert (card["type"], card["department"], card["version"], card["position"]) == (
        "request",
        "marketing",
        1,
        0,
    )
    assert card["checklist"] == [{"text": "collect examples", "done": False}]
    assert card["created_by"] == marketing_head.username


def test_bad_cards_are_refused_with_field_errors_and_nothing_stored(
    board: Board, private_board: Board, marketing_head: User, viewer: User, client_for: Any
) -> None:
    client = client_for(marketing_head)
    good = {
        "board": board.pk,
        "title": "x",
        "lane": lane(board, "marketing").pk,
        "column": column(board, "Backlog").pk,
    }
    other_lane = private_board.lanes.get().pk
    for bad, field in [
        ({"title": ""}, "title"),
        ({"lane": other_lane}, "lane"),
        ({"type": "epic"}, "type"),
        ({"board": 999999}, "board"),
        ({"board": private_board.pk}, "board"),  # marketing may not see it
        ({"assignees": [987654]}, "assignees"),
        ({"checklist": [{"done": True}]}, "checklist"),
        ({"due_date": "tomorrow"}, "due_date"),
    ]:
        answer = client.post("/api/kanban/cards/", {**good, **bad}, format="json")
        assert answer.status_code == 400, (bad, answer.json())
        assert field in answer.json(), (bad, answer.json())
    assert not Card.objects.exists()
    assert client_for(viewer).post("/api/kanban/cards/", good, format="json").status_code == 403
    assert client_for(None).post("/api/kanban/cards/", good, format="json").status_code == 401


def test_patch_merges_other_fields_and_answers_409_with_the_current_card(
    board: Board, marketing_head: User, risk_head: User, client_for: Any
) -> None:
    card = new_card(marketing_head, "Risk rules for used EVs")
    url = f"/api/kanban/cards/{card['id']}/"
    first = client_for(marketing_head).patch(
        url, {"version": 1, "title": "EV rules"}, format="json"
    )
    assert first.status_code == 200 and first.json()["version"] == 2
    merged = client_for(risk_head).patch(
        url, {"version": 1, "description": "battery health check"}, format="json"
    )
    assert merged.status_code == 200
    assert (merged.json()["title"], merged.json()["version"]) == ("EV rules", 3)
    stale = client_for(risk_head).patch(url, {"version": 1, "title": "Mine"}, format="json")
    assert stale.status_code == 409
    body = stale.json()
    assert body["fields"] == ["title"]
    assert body["card"]["title"] == "EV rules" and body["card"]["version"] == 3
    assert "changed since you loaded it" in body["detail"]
    missing = client_for(risk_head).patch(url, {"title": "no version"}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()


def test_move_answers_200_with_warnings_400_on_hard_limit_and_409_when_stale(
    board: Board, marketing_head: User, risk_head: User, client_for: Any
) -> None:
    review = column(board, "Review")
    review.wip_limit, review.wip_policy = 1, "hard"
    review.save()
    progress = column(board, "In progress")
    progress.wip_limit = 1
    progress.save()
    a, b = new_card(marketing_head, "A"), new_card(marketing_head, "B")
    client = client_for(marketing_head)

    def post(card: CardData, department: str, name: str, version: int) -> Any:
        return client.post(
            f"/api/kanban/cards/{card['id']}/move/",
            {
                "lane": lane(board, department).pk,
                "column": column(board, name).pk,
                "position": 0,
                "version": version,
            },
            format="json",
        )

    handoff = post(a, "risk", "In progress", 1)
    assert handoff.status_code == 200
    assert (handoff.json()["handoff"], handoff.json()["warnings"]) == (True, [])
    soft = post(b, "risk", "In progress", 1)
    assert soft.status_code == 200 and "WIP limit" in soft.json()["warnings"][0]
    assert post(a, "risk", "Review", 2).status_code == 200
    hard = post(b, "risk", "Review", 2)
    assert hard.status_code == 400 and "WIP limit" in hard.json()["column"][0]
    stale = post(a, "tech", "Backlog", 2)
    assert stale.status_code == 409 and stale.json()["card"]["version"] == 3
    assert client_for(None).post(f"/api/kanban/cards/{a['id']}/move/", {}).status_code == 401
    bad = client.post(f"/api/kanban/cards/{a['id']}/move/", {"lane": "x"}, format="json")
    assert bad.status_code == 400


def test_delete_comments_history_and_links(
    board: Board, marketing_head: User, risk_head: User, viewer: User, client_for: Any
) -> None:
    a = new_card(marketing_head, "Lead 42 needs appraisal")
    b = new_card(marketing_head, "Appraisal slot")
    client = client_for(risk_head)
    url = f"/api/kanban/cards/{a['id']}/"

    comment = client.post(url + "comments/", {"text": "on it"}, format="json")
    assert comment.status_code == 201 and comment.json()["author"] == risk_head.username
    assert client_for(viewer).post(url + "comments/", {"text": "me too"}).status_code == 403
    assert [c["text"] for c in client_for(viewer).get(url + "comments/").json()] == ["on it"]

    link = client.post(url + "links/", {"to": b["id"], "kind": "blocks"}, format="json")
    assert link.status_code == 201 and link.json()["to"] == b["id"]
    assert client.post(url + "links/", {"to": a["id"], "kind": "blocks"}).status_code == 400
    assert client.post(url + "links/", {"to": b["id"], "kind": "owns"}).status_code == 400
    assert client.get(url).json()["links"] == [link.json()]
    assert client.delete(url + f"links/{link.json()['id']}/").status_code == 204
    assert client.delete(url + f"links/{link.json()['id']}/").status_code == 404
    assert not CardLink.objects.exists()

    move(marketing_head, a["id"], "risk", "Waiting for another department")
    client.patch(url, {"version": 2, "labels": ["appraisal"]}, format="json")
    history = client_for(viewer).get(url + "history/").json()
    assert [item["kind"] for item in history["items"]] == ["created", "moved", "update"]
    assert history["items"][1]["is_handoff"] is True
    assert history["items"][2]["changes"] == {"labels": [[], ["appraisal"]]}
    assert history["handoff_count"] == 1
    assert {row["name"] for row in history["time_in_columns"]} == {
        "Backlog",
        "Waiting for another department",
    }

    assert client.delete(url + "?version=1").status_code == 409
    deleted = client.delete(url + "?version=3")
    assert deleted.status_code == 200 and deleted.json()["archived"] is True
    assert client.delete(url).status_code == 404
    body = client.get(f"/api/kanban/boards/{board.pk}/").json()
    assert [c["title"] for c in body["cards"]] == ["Appraisal slot"]
    assert Comment.objects.count() == 1


def test_cards_of_a_private_board_are_hidden_from_outsiders(
    private_board: Board, risk_head: User, viewer: User, marketing_head: User, client_for: Any
) -> None:
    card = new_card(
        risk_head,
        "Call the 90+ dpd list",
        "risk",
        board=private_board,
    )
    assert client_for(viewer).get(f"/api/kanban/cards/{card['id']}/").status_code == 404
    assert client_for(risk_head).get(f"/api/kanban/cards/{card['id']}/").status_code == 200
    patch = client_for(marketing_head).patch(
        f"/api/kanban/cards/{card['id']}/", {"version": 1, "title": "x"}, format="json"
    )
    assert patch.status_code == 404


def test_schema_documents_every_kanban_route(manager: User, client_for: Any) -> None:
    schema = client_for(manager).get("/api/schema/", {"format": "json"}).json()
    for route in [
        "/api/kanban/boards/",
        "/api/kanban/boards/{board_id}/",
        "/api/kanban/boards/{board_id}/flow/",
        "/api/kanban/cards/",
        "/api/kanban/cards/{card_id}/",
        "/api/kanban/cards/{card_id}/move/",
        "/api/kanban/cards/{card_id}/comments/",
        "/api/kanban/cards/{card_id}/history/",
        "/api/kanban/cards/{card_id}/links/",
    ]:
        assert route in schema["paths"], route
    move_op = schema["paths"]["/api/kanban/cards/{card_id}/move/"]["post"]
    assert {"200", "400", "409"} <= set(move_op["responses"])
