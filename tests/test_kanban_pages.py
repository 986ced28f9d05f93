"""The /kanban/ board page and its /kanban/flow/ view (issue 5, items 6 and 7), through the
Django client: who sees which controls, filters kept in the URL, Chinese, nothing loaded from
outside, no inline script code; the flow view's numbers and figures; the chart functions on
plain data; the demo seed."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from kanban import charts
from kanban.models import Board, Card, Transition
from tests.test_kanban_support import move, new_card, set_times, shared_board
from tests.test_pages import parse

pytestmark = pytest.mark.django_db


def signed_in(user: User, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def json_block(html: str, element_id: str) -> Any:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, element_id
    return json.loads(match.group(1))


# --- the board page ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/kanban/", "/kanban/flow/"])
def test_signed_out_goes_to_login(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_viewer_sees_the_board_read_only(viewer: User) -> None:
    board = shared_board()
    response = signed_in(viewer).get("/kanban/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "kanban.html" in [t.name for t in response.templates]
    assert f'data-board="{board.pk}"' in html and 'data-can-edit="0"' in html
    assert 'id="kb-readonly"' in html and "Read only" in html
    # No way to change anything: no new-card button or dialog, no drag hint.
    for control in ('id="kb-new-open"', 'id="kb-new"', "kb-new-form", "Space to pick it up"):
        assert control not in html
    config = json_block(html, "kanban-config")
    assert config["board"] == board.pk and config["canEdit"] is False
    assert config["username"] == viewer.username
    assert "js/kanban/main.js" in html and config["plotlyUrl"] == "/static/plotly/plotly.min.js"


def test_department_head_gets_the_editing_controls(risk_head: User) -> None:
    shared_board()
    html = signed_in(risk_head).get("/kanban/").content.decode()
    assert 'data-can-edit="1"' in html and 'id="kb-readonly"' not in html
    assert 'id="kb-new-open"' in html and 'id="kb-new-form"' in html
    assert "Space to pick it up" in html
    config = json_block(html, "kanban-config")
    assert config["canEdit"] is True and config["department"] == "risk"
    assert {u["username"] for u in config["users"]} >= {risk_head.username}
    # The lanes and columns of the board are offered in the new-card form.
    page = parse(html)
    assert len(page.find("option", **{"data-department": "risk"})) == 1
    text = json_block(html, "kanban-i18n")
    assert "{message}" in text["moveRefused"] and "{who}" in text["moveConflict"]


def test_filters_come_back_from_the_url(risk_head: User, viewer: User) -> None:
    new_card(risk_head, "Appraisal check", "risk", labels=["appraisal", "chengdu"])
    new_card(risk_head, "Leads", "marketing", labels=["leads"])
    query = "?department=risk&assignee=vic_viewer&label=appraisal&type=incident&overdue=1&q=%23123"
    html = signed_in(viewer).get(f"/kanban/{query}").content.decode()
    page = parse(html)

    def selected(select_id: str) -> list[str]:
        options = re.search(rf'<select id="{select_id}".*?</select>', html, re.S)
        assert options
        return re.findall(r'<option value="([^"]*)" selected>', options.group(0))

    assert selected("f-department") == ["risk"]
    assert selected("f-assignee") == ["vic_viewer"]
    assert selected("f-label") == ["appraisal"]
    assert selected("f-type") == ["incident"]
    assert page.find("input", id="f-overdue")[0].get("checked") is not None
    assert page.find("input", id="f-q")[0]["value"] == "#123"
    # The label choices are the board's labels; the clear link shows while filtering.
    labels = re.search(r'<select id="f-label".*?</select>', html, re.S)
    assert labels and all(f'value="{x}"' in labels.group(0) for x in ("chengdu", "leads"))
    assert 'id="kb-clear" href="?board=' in html and "Clear filters" in html
    plain = signed_in(viewer).get("/kanban/").content.decode()
    assert re.search(r'id="kb-clear" href="[^"]*" hidden', plain)


def test_a_board_the_user_may_not_see_is_not_shown(viewer: User, manager: User) -> None:
    shared = shared_board()
    secret = Board.objects.create(
        name="Risk only", slug="risk-only", visibility="departments", departments=["risk"]
    )
    html = signed_in(viewer).get(f"/kanban/?board={secret.pk}").content.decode()
    assert f'data-board="{shared.pk}"' in html and "Risk only" not in html
    html = signed_in(manager).get(f"/kanban/?board={secret.pk}").content.decode()
    assert f'data-board="{secret.pk}"' in html
    assert "Risk only" in html  # managers see every board, with a board picker


def test_board_page_in_chinese(viewer: User) -> None:
    shared_board()
    html = signed_in(viewer, "zh-hans").get("/kanban/").content.decode()
    assert '<html lang="zh-Hans">' in html
    for words in ("看板", "流动与交接", "仅看逾期", "清除筛选", "只读"):
        assert words in html, words
    config = json_block(html, "kanban-config")
    assert config["departments"]["risk"] == "风控部"
    assert config["columns"]["Waiting for another department"] == "等待其他部门"
    assert config["types"]["incident"] == "事件"
    assert config["metrics"]["overdue_rate"] != "Overdue rate"  # the Chinese name
    text = json_block(html, "kanban-i18n")
    assert text["moveRefused"] == "移动被拒绝：{message}"
    assert text["pickedUp"].startswith("已拿起卡片")


@pytest.mark.parametrize("path", ["/kanban/", "/kanban/flow/"])
def test_pages_load_nothing_from_outside_and_run_no_inline_code(risk_head: User, path: str) -> None:
    shared_board()
    html = signed_in(risk_head).get(path).content.decode()
    page = parse(html)
    sources = [
        attrs.get("src") or attrs.get("href", "")
        for tag, attrs in page.tags
        if tag in {"script", "link", "img", "iframe"}
    ]
    assert sources and all(s.startswith("/static/") for s in sources if s), sources
    # Content-Security-Policy ready: every script is a file or JSON data, no inline handlers.
    for attrs, body in page.scripts:
        assert attrs.get("src") or attrs.get("type") == "application/json", (attrs, body[:80])
    assert not re.search(r"\son[a-z]+=", html)
    assert "javascript:" not in html


# --- the flow view -----------------------------------------------------------------------------


def _flow_data(marketing: User, risk: User) -> int:
    """A card handed from marketing to risk (picked up after 6 h) and done: one hand-off,
    one cross-department card."""
    card = new_card(marketing, "Pre-screen leads", "marketing")
    move(marketing, card["id"], "risk", "Backlog")
    move(risk, card["id"], "risk", "In progress")
    move(risk, card["id"], "risk", "Done")
    today = timezone.localdate()
    day = (today - dt.timedelta(days=3)).isoformat()
    set_times(
        card["id"], [f"{day}T01:00:00", f"{day}T02:00:00", f"{day}T08:00:00", f"{day}T12:00:00"]
    )
    return card["id"]


def test_flow_view_shows_the_period_metrics_and_figures(
    marketing_head: User, risk_head: User, viewer: User
) -> None:
    _flow_data(marketing_head, risk_head)
    response = signed_in(viewer).get("/kanban/flow/?days=7")
    assert response.status_code == 200
    html = response.content.decode()
    today = timezone.localdate()
    assert f'value="{(today - dt.timedelta(days=6)).isoformat()}"' in html
    assert f'value="{today.isoformat()}"' in html
    assert 'class="kb-chip is-current" href="?board=' in html  # "Last 7 days" marked
    # hand-off wait 6 h; the cross-department card took 11 h (0.5 days when rounded to 0.46)
    wait = re.search(r'id="m-handoff-wait">([^<]*)<', html)
    assert wait and wait.group(1).strip() == "6.0"
    cross = re.search(r'id="m-cross-cycle">([^<]*)<', html)
    assert cross and cross.group(1).strip() == "0.5"
    table = re.search(r'<table[^>]*id="handoff-table".*?</table>', html, re.S)
    assert table and "Marketing" in table.group(0) and "Risk control" in table.group(0)
    figures = json_block(html, "kanban-flow-figures")
    assert set(figures) == {"cfd", "cycle", "handoffs"}
    assert [t["name"] for t in figures["cfd"]["data"]][-1] == "Backlog"  # Done at the bottom
    assert figures["cycle"]["data"][0]["name"] == "Marketing"
    assert figures["handoffs"]["data"][0]["z"][0][1] == 1  # marketing → risk
    assert "js/kanban_flow.js" in html


def test_flow_view_period_from_the_url_and_bad_dates(viewer: User) -> None:
    shared_board()
    html = signed_in(viewer).get("/kanban/flow/?start=2026-01-01&end=2026-01-31").content.decode()
    assert 'value="2026-01-01"' in html and 'value="2026-01-31"' in html
    html = signed_in(viewer).get("/kanban/flow/?start=nope&end=2026-02-10").content.decode()
    assert "notice--error" in html and 'value="2026-02-10"' in html
    html = signed_in(viewer).get("/kanban/flow/?start=2026-03-10&end=2026-03-01").content.decode()
    assert 'value="2026-03-01"' in html and 'value="2026-03-10"' in html  # swapped
    assert "No hand-off in this period." in html


def test_flow_view_in_chinese(viewer: User) -> None:
    shared_board()
    html = signed_in(viewer, "zh-hans").get("/kanban/flow/").content.decode()
    for words in ("流动与交接", "交接等待时间", "跨部门周期时间", "累积流图", "谁在等待谁"):
        assert words in html, words
    figures = json_block(html, "kanban-flow-figures")
    assert figures["cfd"]["layout"]["yaxis"]["title"]["text"] == "卡片数"
    assert figures["handoffs"]["data"][0]["x"] == ["市场部", "风控部", "技术部"]


# --- charts: pure functions on plain data ------------------------------------------------------

CFD = {
    "days": ["2026-11-01", "2026-11-02"],
    "columns": [
        {"id": 1, "name": "Backlog", "counts": [3, 2]},
        {"id": 2, "name": "In progress", "counts": [1, 2]},
        {"id": 5, "name": "Done", "counts": [0, 1]},
    ],
}


def test_cumulative_flow_figure_stacks_done_at_the_bottom() -> None:
    figure = charts.cumulative_flow_figure(
        CFD, column_names={"Backlog": "待办"}, done_columns=[5], labels={"cards": "Cards"}
    )
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["Done", "In progress", "待办"]
    assert all(trace["stackgroup"] == "flow" for trace in figure["data"])
    assert figure["data"][0]["fillcolor"] == charts.DONE_COLOUR
    assert figure["data"][2]["y"] == [3, 2] and figure["data"][2]["x"] == CFD["days"]
    assert figure["layout"]["yaxis"]["title"]["text"] == "Cards"
    json.dumps(figure)  # JSON-ready


def test_cycle_time_figure_has_percentile_lines_and_hollow_single_lane_cards() -> None:
    cycle = {
        "cards": [
            {"card": 1, "title": "A", "department": "risk", "type": "task",
             "created_at": "2026-11-01T00:00:00+00:00", "done_at": "2026-11-03T00:00:00+00:00",
             "days": 2.0, "lanes": 1},
            {"card": 2, "title": "B", "department": "risk", "type": "request",
             "created_at": "2026-11-01T00:00:00+00:00", "done_at": "2026-11-06T00:00:00+00:00",
             "days": 5.0, "lanes": 2},
            {"card": 3, "title": "C", "department": "tech", "type": "task",
             "created_at": "2026-11-02T00:00:00+00:00", "done_at": "2026-11-03T00:00:00+00:00",
             "days": 1.0, "lanes": 1},
        ],
        "p50": 2.0,
        "p85": 4.1,
    }  # fmt: skip
    figure = charts.cycle_time_figure(
        cycle, department_names={"risk": "Risk control"}, labels={"p50": "50th", "p85": "85th"}
    )
    risk, tech = figure["data"]
    assert risk["name"] == "Risk control" and tech["name"] == "tech"
    assert risk["y"] == [5.0, 2.0]  # the cross-department card first (it sets the legend)
    assert risk["marker"]["color"] == [charts.DEPARTMENT_COLOURS["risk"], "#ffffff"]
    lines = figure["layout"]["shapes"]
    assert [(s["y0"], s["line"]["color"]) for s in lines] == [
        (2.0, charts.P50_COLOUR),
        (4.1, charts.P85_COLOUR),
    ]
    assert [a["text"] for a in figure["layout"]["annotations"]] == [
        "50th: 2.0 days",
        "85th: 4.1 days",
    ]
    empty = charts.cycle_time_figure({"cards": [], "p50": None, "p85": None})
    assert empty["data"] == [] and empty["layout"]["shapes"] == []


def test_handoff_figure_is_a_who_waits_for_whom_matrix() -> None:
    handoffs = [
        {"from_department": "marketing", "to_department": "risk", "count": 10,
         "median_wait_hours": 29.0, "p85_wait_hours": 88.2, "picked_up": 7, "waiting_now": 3},
        {"from_department": "risk", "to_department": "tech", "count": 2,
         "median_wait_hours": 60.0, "p85_wait_hours": None, "picked_up": 2, "waiting_now": 0},
    ]  # fmt: skip
    figure = charts.handoff_figure(
        handoffs,
        department_names={"marketing": "M", "risk": "R", "tech": "T"},
        labels={"median": "median", "waitingNow": "waiting", "hourUnit": "h", "dayUnit": "d"},
    )
    heat = figure["data"][0]
    assert heat["type"] == "heatmap" and heat["x"] == ["M", "R", "T"] == heat["y"]
    assert heat["z"] == [[None, 10, 0], [0, None, 2], [0, 0, None]]
    assert heat["text"][0][1] == "<b>10</b><br>median 29.0 h<br>waiting 3"
    assert heat["text"][1][2] == "<b>2</b><br>median 2.5 d"  # 60 h read as days
    assert heat["text"][0][2] == ""  # no hand-off, nothing written
    assert "M → R" in heat["hovertext"][0][1] and "p85: 3.7 d" in heat["hovertext"][0][1]
    json.dumps(figure)


# --- the demo seed -----------------------------------------------------------------------------


def test_kanban_seed_demo_builds_a_board_with_handoffs_once() -> None:
    board = shared_board()
    call_command("kanban_seed_demo")
    cards = Card.objects.filter(board=board, archived=False)
    assert cards.count() >= 50
    assert cards.filter(done_at__isnull=False).count() >= 30
    assert Transition.objects.filter(board=board, is_handoff=True).count() >= 20
    assert cards.filter(type="incident", column__name="Backlog", lane__department="tech").exists()
    review = board.columns.get(name="Review")
    assert (review.wip_limit, review.wip_policy) == (3, "hard")
    assert cards.filter(column=review, lane__department="risk").count() == 3
    # Times are in the past, in order, for the flow view.
    assert Transition.objects.filter(board=board, at__lt=timezone.now() - dt.timedelta(days=7))
    count = cards.count()
    call_command("kanban_seed_demo")  # once only
    assert Card.objects.filter(board=board, archived=False).count() == count
    call_command("kanban_seed_demo", "--bulk", "30")
    assert Card.objects.filter(board=board, archived=False).count() == count + 30
    ranks = list(
        Card.objects.filter(board=board, archived=False).values_list("lane", "column", "rank")
    )
    assert len(set(ranks)) == len(ranks)  # no two cards share a place
