"""The review's decisions (contract section 7a): an action recorded opens its card in the
department's lane, its status follows the card, and the next quarter's review carries it over
with the metric it aimed at, before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from kanban.models import Card
from metrics.kpi.actions import carried_over
from metrics.kpi.quarters import Quarter
from tests.test_kanban_support import move, shared_board
from tests.test_metrics_support import sample

pytestmark = pytest.mark.django_db

ACTIONS = "/api/kpi/reviews/{}/actions/"


@pytest.fixture
def board() -> Any:
    return shared_board()


def record(client: Any, quarter: str = "2026Q3", **fields: Any) -> Any:
    body = {
        "title": "Cut API p95 under 300 ms",
        "department": "tech",
        "due_date": "2026-11-30",
        **fields,
    }
    return client.post(ACTIONS.format(quarter), body, format="json")


def test_an_action_opens_its_card_and_its_status_follows_the_card(
    board: Any, client_for: Any, risk_head: User, manager: User, viewer: User
) -> None:
    tina = User.objects.create_user("tina_tech", password="x-long-pass-2026")
    made = record(client_for(risk_head), owner="tina_tech", metric="api_response_time_p95")
    assert made.status_code == 201, made.content
    action = made.json()
    expected = "overdue" if dt.date.today() > dt.date(2026, 11, 30) else "open"
    assert action["status"] == expected
    card = Card.objects.get(pk=action["card"])
    assert card.lane.department == "tech" and card.labels == ["review-action"]
    assert card.title == "Review 2026Q3: Cut API p95 under 300 ms"
    assert card.due_date == dt.date(2026, 11, 30)
    assert list(card.assignees.values_list("username", flat=True)) == [tina.username]

    move(manager, card.pk, "tech", "Done")
    listed = client_for(viewer).get(ACTIONS.format("2026Q3")).json()
    assert [(a["id"], a["status"]) for a in listed] == [(action["id"], "done")]
    assert listed[0]["done_at"] is not None


def test_an_action_not_done_after_its_due_date_is_overdue(
    board: Any, client_for: Any, manager: User
) -> None:
    past = record(client_for(manager), due_date="2026-01-31").json()
    future = record(client_for(manager), due_date="2099-01-31", title="Later").json()
    statuses = {
        a["id"]: a["status"] for a in client_for(manager).get(ACTIONS.format("2026Q3")).json()
    }
    assert statuses == {past["id"]: "overdue", future["id"]: "open"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"department": "sales"}, "department"),
        ({"metric": "happiness"}, "metric"),
        ({"owner": "nobody"}, "owner"),
        ({"title": ""}, "title"),
        ({"due_date": "soon"}, "due_date"),
    ],
)
def test_bad_fields_are_named(
    board: Any, client_for: Any, manager: User, fields: dict, field: str
) -> None:
    answer = record(client_for(manager), **fields)
    assert answer.status_code == 400 and field in answer.json()
    assert not Card.objects.filter(labels__contains=["review-action"]).exists()


def test_viewers_read_but_do_not_record(board: Any, client_for: Any, viewer: User) -> None:
    assert record(client_for(viewer)).status_code == 403
    assert client_for(viewer).get(ACTIONS.format("2026Q3")).status_code == 200
    assert client_for(viewer).get(ACTIONS.format("2026Q9")).status_code == 400


def test_the_next_review_carries_the_actions_over_with_the_metric_before_and_after(
    board: Any, client_for: Any, manager: User
) -> None:
    sample("api_response_time", "2026-08-10T04:00", 420)  # Q3's only sample: p95 420
    sample("api_response_time", "2026-11-10T04:00", 280)  # Q4's: 280
    made = record(client_for(manager), metric="api_response_time_p95").json()
    record(client_for(manager), title="Without a metric", department="risk")
    rows = carried_over(Quarter.parse("2026Q4"))
    aimed = next(r for r in rows if r["id"] == made["id"])
    assert (aimed["metric_before"], aimed["metric_after"]) == (420, 280)
    other = next(r for r in rows if r["title"] == "Without a metric")
    assert other["metric_before"] is None and other["department"] == "risk"
    assert carried_over(Quarter.parse("2026Q3")) == []  # nothing was decided in Q2


def test_the_exports_carry_the_actions_and_the_split(
    board: Any, client_for: Any, manager: User
) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    client = client_for(manager)
    record(client, title="=cmd|' /C calc'!A0", department="risk")
    actions = client.get(ACTIONS.format("2026Q3"), {"format": "csv"})
    assert actions["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(actions.content.decode("utf-8-sig"))))
    assert rows[0]["title"].startswith("'=cmd")  # a formula is escaped
    assert rows[0]["department"] == "risk" and rows[0]["quarter"] == "2026Q3"

    split = client.get("/api/kpi/allocation/", {"quarter": "2026Q3", "format": "csv"})
    pillars = list(csv.DictReader(io.StringIO(split.content.decode("utf-8-sig"))))
    assert [p["pillar"] for p in pillars] == [
        "data_platform",
        "risk_collaboration",
        "agile_platform",
    ]
    assert pillars[0]["target_pct"] == "40.0"

    book = client.get("/api/kpi/scorecards/", {"quarter": "2026Q3", "format": "xlsx"})
    workbook = load_workbook(io.BytesIO(book.content))
    assert workbook.sheetnames == ["Scorecards", "Actions", "Strategy split"]
    assert workbook["Actions"]["B2"].value.startswith("'=cmd")
    assert workbook["Strategy split"]["A2"].value == "data_platform"


def test_the_kpi_page_lists_the_quarters_decisions_with_a_form_for_editors(
    board: Any, client_for: Any, manager: User, viewer: User
) -> None:
    from tests.test_pages import signed_in

    record(client_for(manager), title="Publish the dealer tiers")
    boss = signed_in(manager).get("/kpi/", {"quarter": "2026Q3"}).content.decode()
    assert "Publish the dealer tiers" in boss and 'id="action-form"' in boss
    reader = signed_in(viewer).get("/kpi/", {"quarter": "2026Q3"}).content.decode()
    assert "Publish the dealer tiers" in reader and 'id="action-form"' not in reader
