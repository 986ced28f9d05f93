"""Every table a page shows downloads as CSV and XLSX (issue 23, item 3): the cards with their
hand-offs, the alerts, the collateral checks, the flagged applications, the flagged calls and the
audit trail.

For each: the rows and the header are those of the page under its filters; text a spreadsheet
would run as a formula comes out with a leading `'` in both formats while numbers stay numbers;
the page's permissions hold; a bad `format` is a 400 that says why; the download is in the audit
trail; and the page links it with its current filters. The XLSX is read back with openpyxl from
the response's bytes; the CSV with the csv module.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from carloan.people.models import AuditEvent
from tests.factories import csv_file, make_user

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- reading a download back ----------------------------------------------------------------------


def body_of(response: Any) -> bytes:
    """The whole body of a (streamed) download. Reading it to its end closes the response (and
    its temporary file), as a WSGI server does."""
    assert response.streaming, "an export is streamed"
    return b"".join(response.streaming_content)


def sheets_of(response: Any) -> dict[str, list[list[Any]]]:
    """{sheet title: rows (header first)} of an XLSX download."""
    assert response.status_code == 200, response.content if not response.streaming else ""
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith('attachment; filename="')
    assert response["Content-Disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(body_of(response)))
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in book.worksheets
    }


def csv_rows(response: Any) -> list[list[str]]:
    """The rows (header first) of a CSV download: UTF-8 with a BOM."""
    assert response.status_code == 200, response.content if not response.streaming else ""
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    body = body_of(response)
    assert body.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def table(response: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    """(header, rows as {column: cell}) of a CSV or XLSX download (its first sheet)."""
    if response["Content-Type"] == XLSX:
        rows = next(iter(sheets_of(response).values()))
    else:
        rows = csv_rows(response)
    header = rows[0]
    return header, [dict(zip(header, row, strict=True)) for row in rows[1:]]


def both(
    client: Any, url: str, params: dict[str, str] | None = None
) -> dict[str, tuple[list[Any], list[dict[str, Any]]]]:
    """The CSV and the XLSX of `url` under `params`: {format: (header, rows)}."""
    return {
        fmt: table(client.get(url, {**(params or {}), "format": fmt})) for fmt in ("csv", "xlsx")
    }


def local_iso(moment: dt.datetime) -> str:
    """A time as the CSV writes it: ISO in the business time zone, to the second."""
    return timezone.localtime(moment).isoformat(timespec="seconds")


def local_naive(moment: dt.datetime) -> dt.datetime:
    """A time as the XLSX holds it: the business time zone's wall clock (whole seconds)."""
    return timezone.localtime(moment).replace(tzinfo=None, microsecond=0)


def assert_bad_format(client: Any, url: str, *, json_body: bool = True) -> None:
    answer = client.get(url, {"format": "pdf"})
    assert answer.status_code == 400
    message = " ".join(answer.json()["format"]) if json_body else answer.content.decode()
    assert "pdf" in message and "csv" in message and "xlsx" in message


def exports_recorded(user: User) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(action="export", actor=user)
        .order_by("id")
        .values_list("target", "detail")
    )


@pytest.fixture
def browser() -> Callable[[User], Client]:
    """A signed-in browser (session), as the pages' links are followed."""

    def build(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return build


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    @contextmanager
    def run() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return run


# --- 1. the cards, with their hand-offs -----------------------------------------------------------

CARD_COLUMNS = [
    "id",
    "title",
    "type",
    "pillar",
    "department",
    "lane",
    "column",
    "assignees",
    "labels",
    "due_date",
    "overdue",
    "checklist_done",
    "checklist_items",
    "created_by",
    "created_at",
    "in_column_since",
    "done_at",
    "comments",
    "handoffs",
    "last_handoff_from",
    "last_handoff_to",
    "last_handoff_at",
    "metric",
    "region",
    "alert",
    "description",
]
HANDOFF_COLUMNS = [
    "card",
    "title",
    "at",
    "from_department",
    "to_department",
    "from_column",
    "to_column",
    "by",
]


@pytest.fixture
def cards(manager: User, risk_head: User) -> dict[str, Any]:
    """Three cards of the shared board: one handed off twice (risk → tech → marketing), overdue,
    with formula-like title and label; one plain; one of tech's, assigned."""
    from kanban import services
    from kanban.models import Transition
    from tests.test_kanban_support import move, new_card, shared_board

    board = shared_board()
    wired = new_card(
        manager,
        '=HYPERLINK("http://evil")',
        "risk",
        labels=["@ops", "urgent"],
        due_date=(timezone.localdate() - dt.timedelta(days=2)).isoformat(),
        checklist=[{"text": "-call the dealer", "done": True}, {"text": "file", "done": False}],
        description="+1 pending",
    )
    move(manager, wired["id"], "tech", "In progress")
    move(risk_head, wired["id"], "marketing", "Review")
    services.comment_add(user=manager, card_id=wired["id"], text="looked at it")
    plain = new_card(risk_head, "Plain paperwork", "marketing")
    assigned = new_card(
        manager, "Server upgrade", "tech", assignees=[risk_head.pk], type="incident"
    )
    handoffs = list(
        Transition.objects.filter(card_id=wired["id"], is_handoff=True).order_by("at", "id")
    )
    assert len(handoffs) == 2
    return {
        "board": board,
        "wired": wired["id"],
        "plain": plain["id"],
        "assigned": assigned["id"],
        "handoffs": handoffs,
        "url": f"/api/kanban/boards/{board.pk}/export/",
    }


def test_cards_download_one_row_per_card_with_its_hand_offs_in_both_formats(
    cards: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    client = browser(viewer)
    first, last = cards["handoffs"]
    for fmt, (header, rows) in both(client, cards["url"]).items():
        assert header == CARD_COLUMNS, fmt
        # the board's order: lanes marketing, risk, tech; Review after Backlog
        assert [row["id"] for row in rows] == (
            [str(cards["plain"]), str(cards["wired"]), str(cards["assigned"])]
            if fmt == "csv"
            else [cards["plain"], cards["wired"], cards["assigned"]]
        ), fmt
        wired = rows[1]
        assert wired["title"] == '\'=HYPERLINK("http://evil")', fmt  # escaped, both formats
        assert wired["labels"] == "'@ops, urgent", fmt
        assert wired["description"] == "'+1 pending", fmt
        assert (wired["department"], wired["lane"], wired["column"]) == (
            "risk",
            "marketing",
            "Review",
        ), fmt
        assert (wired["last_handoff_from"], wired["last_handoff_to"]) == ("tech", "marketing")
        assigned = rows[2]
        assert assigned["assignees"] == "rick_risk" and assigned["type"] == "incident", fmt
        if fmt == "csv":
            assert (wired["handoffs"], wired["comments"], wired["overdue"]) == ("2", "1", "true")
            assert (wired["checklist_done"], wired["checklist_items"]) == ("1", "2")
            assert wired["last_handoff_at"] == local_iso(last.at)
            assert wired["due_date"] == (timezone.localdate() - dt.timedelta(days=2)).isoformat()
            assert rows[0]["handoffs"] == "0" and rows[0]["last_handoff_from"] == ""
        else:
            # numbers stay numbers, booleans booleans, times are date cells
            assert (wired["handoffs"], wired["comments"], wired["overdue"]) == (2, 1, True)
            assert (wired["checklist_done"], wired["checklist_items"]) == (1, 2)
            assert wired["last_handoff_at"] == local_naive(last.at)
            assert wired["due_date"] == dt.datetime.combine(
                timezone.localdate() - dt.timedelta(days=2), dt.time()
            )
            assert rows[0]["handoffs"] == 0 and rows[0]["last_handoff_from"] is None
    assert first.from_department == "risk"


def test_the_cards_xlsx_has_a_hand_offs_sheet_with_one_row_per_hand_off(
    cards: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    sheets = sheets_of(browser(viewer).get(cards["url"], {"format": "xlsx"}))
    assert list(sheets) == ["Cards", "Hand-offs"]
    header, *rows = sheets["Hand-offs"]
    assert header == HANDOFF_COLUMNS
    first, last = cards["handoffs"]
    title = '\'=HYPERLINK("http://evil")'
    assert rows == [
        [cards["wired"], title, local_naive(first.at), "risk", "tech", "Backlog", "In progress",
         "maria_manager"],
        [cards["wired"], title, local_naive(last.at), "tech", "marketing", "In progress", "Review",
         "rick_risk"],
    ]  # fmt: skip
    # the CSV holds the one table (the summary columns carry the hand-offs)
    assert csv_rows(browser(viewer).get(cards["url"], {"format": "csv"}))[0] == CARD_COLUMNS


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"q": "paperwork"}, ["plain"]),
        ({"q": "PLAIN"}, ["plain"]),  # as the board: any case
        ({"overdue": "1"}, ["wired"]),
        ({"department": "tech"}, ["assigned"]),  # the owning department, not the lane
        ({"department": "risk"}, ["wired"]),
        ({"type": "incident"}, ["assigned"]),
        ({"label": "@ops"}, ["wired"]),
        ({"assignee": "rick_risk"}, ["assigned"]),
        ({"assignee": "-"}, ["plain", "wired"]),
        ({"label": "urgent", "assignee": "-"}, ["wired"]),
        ({"label": "nothing-has-it"}, []),
    ],
)
def test_the_cards_download_keeps_the_boards_filters(
    cards: dict[str, Any],
    viewer: User,
    browser: Callable[[User], Client],
    filters: dict[str, str],
    expected: list[str],
) -> None:
    client = browser(viewer)
    ids = {str(cards[name]) for name in expected}
    _header, rows = table(client.get(cards["url"], {**filters, "format": "csv"}))
    assert {row["id"] for row in rows} == ids
    sheets = sheets_of(client.get(cards["url"], {**filters, "format": "xlsx"}))
    assert {str(row[0]) for row in sheets["Cards"][1:]} == ids
    # the hand-offs sheet follows the same cards
    assert {str(row[0]) for row in sheets["Hand-offs"][1:]} == {str(cards["wired"])} & ids


def test_a_card_number_finds_its_card(
    cards: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    _header, rows = table(
        browser(viewer).get(cards["url"], {"q": f"#{cards['assigned']}", "format": "csv"})
    )
    assert [row["id"] for row in rows] == [str(cards["assigned"])]


def test_the_cards_download_is_for_those_who_see_the_board(
    cards: dict[str, Any],
    viewer: User,
    risk_head: User,
    manager: User,
    browser: Callable[[User], Client],
) -> None:
    from kanban.models import Board
    from tests.test_kanban_support import new_card

    private = Board.objects.create(
        name="Collections", slug="collections", visibility="departments", departments=["risk"]
    )
    private.lanes.create(department="risk", position=0)
    private.columns.create(name="Backlog", position=0)
    new_card(risk_head, "Collect arrears", "risk", board=private)
    url = f"/api/kanban/boards/{private.pk}/export/"
    assert browser(viewer).get(url, {"format": "csv"}).status_code == 404  # not revealed
    for user in (risk_head, manager):
        _header, rows = table(browser(user).get(url, {"format": "xlsx"}))
        assert [row["title"] for row in rows] == ["Collect arrears"]
    anonymous = APIClient().get(cards["url"], {"format": "csv"})
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"
    assert browser(viewer).get("/api/kanban/boards/999999/export/").status_code == 404


def test_the_cards_download_refuses_a_bad_format_and_is_audited(
    cards: dict[str, Any], viewer: User, browser: Callable[[User], Client], client_for: Any
) -> None:
    client = browser(viewer)
    assert_bad_format(client, cards["url"])
    assert exports_recorded(viewer) == []  # a refused download is none
    body_of(client.get(cards["url"], {"format": "xlsx", "q": "plain"}))
    body_of(client.get(cards["url"]))  # CSV by default
    day = timezone.localdate().isoformat()
    assert exports_recorded(viewer) == [
        (f"cards-shared-{day}.xlsx", "q=plain"),
        (f"cards-shared-{day}.csv", ""),
    ]
    # with a token too (a script pulling the board)
    assert table(client_for(viewer).get(cards["url"], {"format": "csv"}))[1]


def test_the_board_links_its_downloads_with_its_filters(
    cards: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    page = browser(viewer).get("/kanban/", {"q": "plain", "overdue": "1"}).content.decode()
    base = cards["url"]
    assert f'href="{base}?overdue=1&amp;q=plain&amp;format=csv"' in page
    assert f'href="{base}?overdue=1&amp;q=plain&amp;format=xlsx"' in page
    assert 'data-export-keep="department,assignee,label,type,overdue,q"' in page
    assert "js/export_links.js" in page


# --- 2. the alerts --------------------------------------------------------------------------------

ALERT_COLUMNS = [
    "id",
    "metric",
    "metric_name",
    "department",
    "region",
    "day",
    "level",
    "status",
    "value",
    "baseline",
    "delta_pct",
    "raised_at",
    "resolved_at",
    "acknowledged_at",
    "acknowledged_by",
    "escalated_at",
    "card",
]


@pytest.fixture
def alerts(manager: User) -> dict[str, Any]:
    from metrics.models import Alert

    now = timezone.now().replace(microsecond=0)
    today = timezone.localdate()
    common = {"day": today, "value": 12.5, "baseline": 10.0}
    worse = Alert.objects.create(
        metric="overdue_rate",
        region="EAST-01",
        level="critical",
        delta_pct=25.0,
        raised_at=now - dt.timedelta(hours=1),
        acknowledged_at=now,
        acknowledged_by=manager,
        **common,
    )
    odd = Alert.objects.create(
        metric="approval_rate",
        region="=1+2",  # a region text a spreadsheet would compute
        level="warn",
        delta_pct=-12.5,  # a negative number stays a number
        raised_at=now,
        card_id=42,
        **common,
    )
    gone = Alert.objects.create(
        metric="overdue_rate",
        region="EAST-01",
        level="warn",
        status="resolved",
        delta_pct=8.0,
        raised_at=now - dt.timedelta(days=3),
        resolved_at=now - dt.timedelta(days=2),
        day=today - dt.timedelta(days=3),
        value=11.0,
        baseline=10.0,
    )
    return {"worse": worse, "odd": odd, "gone": gone, "url": "/api/alerts/export/"}


def test_alerts_download_as_the_api_lists_them_in_both_formats(
    alerts: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    worse, odd = alerts["worse"], alerts["odd"]
    for fmt, (header, rows) in both(browser(viewer), alerts["url"], {"status": "open"}).items():
        assert header == ALERT_COLUMNS, fmt
        assert len(rows) == 2, fmt  # the resolved one is not open
        first, second = rows  # newest raised first
        assert first["region"] == "'=1+2", fmt
        assert (first["metric"], first["level"], second["metric"]) == (
            "approval_rate",
            "warn",
            "overdue_rate",
        )
        assert first["metric_name"] == "Approval rate" and first["department"] == "risk", fmt
        assert second["acknowledged_by"] == "maria_manager", fmt
        if fmt == "csv":
            assert (first["id"], first["delta_pct"], first["value"]) == (
                str(odd.pk),
                "-12.5",
                "12.5",
            )
            assert first["card"] == "42" and first["resolved_at"] == ""
            assert first["day"] == timezone.localdate().isoformat()
            assert first["raised_at"] == local_iso(odd.raised_at)
            assert second["acknowledged_at"] == local_iso(worse.acknowledged_at)
        else:
            assert (first["id"], first["delta_pct"], first["value"]) == (odd.pk, -12.5, 12.5)
            assert first["card"] == 42 and first["resolved_at"] is None
            assert first["raised_at"] == local_naive(odd.raised_at)
            assert first["day"] == dt.datetime.combine(timezone.localdate(), dt.time())


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["odd", "worse", "gone"]),
        ({"status": "resolved"}, ["gone"]),
        ({"status": "open", "region": "EAST-01"}, ["worse"]),
        ({"metric": "overdue_rate"}, ["worse", "gone"]),
        ({"level": "warn"}, ["odd", "gone"]),
        ({"region": "WEST-09"}, []),
    ],
)
def test_the_alerts_download_keeps_the_filters(
    alerts: dict[str, Any],
    viewer: User,
    browser: Callable[[User], Client],
    filters: dict[str, str],
    expected: list[str],
) -> None:
    for fmt, (_header, rows) in both(browser(viewer), alerts["url"], filters).items():
        assert [str(row["id"]) for row in rows] == [str(alerts[n].pk) for n in expected], fmt


def test_the_alerts_download_refuses_bad_input_and_strangers(
    alerts: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    client = browser(viewer)
    assert_bad_format(client, alerts["url"])
    bad = client.get(alerts["url"], {"metric": "nope", "format": "csv"})
    assert bad.status_code == 400 and "metric" in bad.json()
    assert APIClient().get(alerts["url"]).status_code == 401
    body_of(client.get(alerts["url"], {"status": "open", "format": "xlsx"}))
    day = timezone.localdate().isoformat()
    assert exports_recorded(viewer) == [(f"alerts-{day}.xlsx", "status=open")]


def test_the_dashboard_and_the_metric_page_link_their_open_alerts(
    alerts: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    from metrics.models import MetricValue

    MetricValue.objects.create(  # a region the dashboard knows
        metric="overdue_rate",
        region="EAST-01",
        day=timezone.localdate(),
        computed_at=timezone.now(),
    )
    client = browser(viewer)
    page = client.get("/", {"region": "EAST-01"}).content.decode()
    assert 'href="/api/alerts/export/?status=open&amp;region=EAST-01&amp;format=xlsx"' in page
    assert 'data-export-keep="region" data-export-any="all"' in page
    every = client.get("/", {"home": "1"}).content.decode()
    assert 'href="/api/alerts/export/?status=open&amp;format=csv"' in every
    metric = client.get("/metrics/overdue_rate/").content.decode()
    assert 'href="/api/alerts/export/?status=open&amp;metric=overdue_rate&amp;format=csv"' in metric


def test_an_export_is_streamed_asynchronously_under_asgi(
    alerts: dict[str, Any], cards: dict[str, Any], viewer: User
) -> None:
    """Under ASGI Django would read a synchronous stream whole into memory first: the export
    hands it an asynchronous one (read in the request's thread), for CSV and XLSX alike."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    client = AsyncClient()
    client.force_login(viewer)

    async def fetch(url: str, params: dict[str, str]) -> bytes:
        response = await client.get(url, params)
        assert response.status_code == 200 and response.is_async
        return b"".join([part async for part in response.streaming_content])

    body = async_to_sync(fetch)(alerts["url"], {"status": "open", "format": "csv"})
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ALERT_COLUMNS and len(rows) == 3
    body = async_to_sync(fetch)(cards["url"], {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Cards", "Hand-offs"]
    assert book["Cards"].max_row == 4


# --- 3. the collateral checks ---------------------------------------------------------------------

COLLATERAL_COLUMNS = [
    "loan_id",
    "application_id",
    "vehicle_id",
    "region",
    "branch",
    "as_of",
    "outstanding",
    "model_value",
    "value_low",
    "value_high",
    "value_at_funding",
    "appraised_value",
    "appraisal_excess_pct",
    "ltv_pct",
    "over_limit",
    "inflated",
    "max_ltv_pct",
    "tolerance_pct",
    "model_version",
    "checked_at",
]


@pytest.fixture
def collateral() -> dict[str, Any]:
    from valuation.models import CollateralCheck

    checked = timezone.now().replace(microsecond=0)

    def check(loan_id: str, region: str, ltv: float, **fields: Any) -> CollateralCheck:
        return CollateralCheck.objects.create(
            loan_id=loan_id,
            application_id=f"A-{loan_id}",
            region=region,
            as_of=timezone.localdate(),
            outstanding=Decimal("85000.50"),
            model_value=100000.0,
            value_low=90000.0,
            value_high=110000.0,
            ltv_pct=ltv,
            max_ltv_pct=80.0,
            tolerance_pct=15.0,
            model_version=3,
            checked_at=checked,
            **fields,
        )

    return {
        "high": check("-L1", "EAST-01", 95.5, branch="@HQ", over_limit=True),
        "inflated": check(
            "L2",
            "WEST-02",
            60.0,
            appraised_value=Decimal("150000.00"),
            value_at_funding=120000.0,
            appraisal_excess_pct=25.0,
            inflated=True,
        ),
        "fine": check("L3", "EAST-01", 40.0),
        "checked": checked,
        "url": "/api/valuations/collateral/export/",
    }


def test_collateral_checks_download_with_numbers_as_numbers(
    collateral: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    risky = {"over_limit": "1", "inflated": "1"}  # the page's two lists
    for fmt, (header, rows) in both(browser(viewer), collateral["url"], risky).items():
        assert header == COLLATERAL_COLUMNS, fmt
        assert [row["loan_id"] for row in rows] == ["'-L1", "L2"], fmt  # highest LTV first
        high, inflated = rows
        assert (high["loan_id"], high["branch"]) == ("'-L1", "'@HQ"), fmt
        if fmt == "csv":
            assert (high["outstanding"], high["ltv_pct"], high["over_limit"]) == (
                "85000.50",
                "95.5",
                "true",
            )
            assert inflated["appraisal_excess_pct"] == "25.0" and high["appraised_value"] == ""
            assert high["checked_at"] == local_iso(collateral["checked"])
            assert high["as_of"] == timezone.localdate().isoformat()
        else:
            assert high["outstanding"] == 85000.5 and high["ltv_pct"] == 95.5
            assert high["over_limit"] is True and high["inflated"] is False
            assert inflated["appraised_value"] == 150000 and high["appraised_value"] is None
            assert high["checked_at"] == local_naive(collateral["checked"])
            assert high["model_version"] == 3


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["'-L1", "L2", "L3"]),
        ({"over_limit": "1"}, ["'-L1"]),
        ({"inflated": "1"}, ["L2"]),
        ({"over_limit": "1", "inflated": "1", "region": "EAST-01"}, ["'-L1"]),
        ({"region": "EAST-01", "branch": "@HQ"}, ["'-L1"]),
        ({"over_limit": "0", "inflated": ""}, ["L2", "L3"]),
    ],
)
def test_the_collateral_download_keeps_the_filters(
    collateral: dict[str, Any],
    viewer: User,
    browser: Callable[[User], Client],
    filters: dict[str, str],
    expected: list[str],
) -> None:
    for fmt, (_header, rows) in both(browser(viewer), collateral["url"], filters).items():
        assert [row["loan_id"] for row in rows] == expected, fmt


def test_the_collateral_download_refuses_bad_formats_and_strangers_and_is_linked(
    collateral: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    client = browser(viewer)
    assert_bad_format(client, collateral["url"])
    assert APIClient().get(collateral["url"]).status_code == 401
    body_of(client.get(collateral["url"], {"format": "csv", "region": "EAST-01"}))
    day = timezone.localdate().isoformat()
    assert exports_recorded(viewer) == [(f"collateral-checks-{day}.csv", "region=EAST-01")]
    page = client.get("/valuation/", {"region": "EAST-01"}).content.decode()
    expected = f"{collateral['url']}?over_limit=1&amp;inflated=1&amp;region=EAST-01&amp;format="
    assert f'href="{expected}csv"' in page and f'href="{expected}xlsx"' in page


# --- 4. the flagged applications ------------------------------------------------------------------

FLAG_COLUMNS = [
    "application_id",
    "status",
    "failed",
    "failed_checks",
    "blacklist",
    "shared_phone",
    "vin_reuse",
    "ltv",
    "debt_to_income",
    "shared_device",
    "why",
    "region",
    "applied_at",
    "checked_at",
    "applicant",
    "phone",
    "vin",
    "device",
    "dealer",
]
APPLIED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def flagged(committed: Callable[[], Any], risk_head: User) -> dict[str, Any]:
    """Three applications through the real import and checks: two flagged (LTV above the limit;
    one with debt-to-income too), one fine; one flag cleared by risk control."""
    from carloan.loanbook.services import loanbook_import
    from carloan.screening.services import flag_clear

    columns = "application_id,region,applied_at,decision,applicant_key,phone,amount_requested,"
    columns += "vehicle_value,monthly_income"
    rows = [
        f"=APP-1,+EAST,{APPLIED.isoformat()},pending,K1,13800138001,90000,100000,1000",
        f"APP-2,EAST-01,{(APPLIED + dt.timedelta(days=1)).isoformat()},pending,K2,13800138002,"
        "90000,100000,",
        f"APP-3,EAST-01,{APPLIED.isoformat()},pending,K3,13800138003,50000,100000,",
    ]
    with committed():
        loanbook_import(
            kind="applications", source=csv_file("\n".join([columns, *rows])), refresh="now"
        )
    with committed():
        assert flag_clear(application_id="APP-2", user=risk_head)
    return {"url": "/api/risk/flags/export/"}


def test_flagged_applications_download_with_reasons_and_masked_identifiers(
    flagged: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    for fmt, (header, rows) in both(browser(viewer), flagged["url"]).items():
        assert header == FLAG_COLUMNS, fmt
        assert [row["application_id"] for row in rows] == ["'=APP-1"], fmt  # open flags only
        (row,) = rows
        assert (row["region"], row["status"]) == ("'+EAST", "open"), fmt
        assert row["failed_checks"] == "ltv, debt_to_income", fmt
        assert (row["ltv"], row["debt_to_income"], row["vin_reuse"]) == (
            "fail",
            "fail",
            "not_applicable",
        ), fmt
        assert "Loan-to-value 90 % is above the 80 % limit" in row["why"], fmt
        assert "Monthly repayment" in row["why"], fmt
        assert row["phone"] == "****8001" and row["applicant"].startswith("****"), fmt
        assert "13800138001" not in str(row), fmt  # never whole
        if fmt == "csv":
            assert row["failed"] == "2"
            assert row["applied_at"] == local_iso(APPLIED)
        else:
            assert row["failed"] == 2
            assert row["applied_at"] == local_naive(APPLIED)


@pytest.mark.parametrize(
    ("status", "expected"),
    [("open", ["'=APP-1"]), ("cleared", ["APP-2"]), ("all", ["'=APP-1", "APP-2"])],
)
def test_the_flags_download_keeps_the_status_shown(
    flagged: dict[str, Any],
    viewer: User,
    browser: Callable[[User], Client],
    status: str,
    expected: list[str],
) -> None:
    for fmt, (_header, rows) in both(browser(viewer), flagged["url"], {"status": status}).items():
        assert [row["application_id"] for row in rows] == expected, fmt  # most failed first


def test_the_flags_download_refuses_bad_input_and_strangers_and_is_linked(
    flagged: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    client = browser(viewer)
    assert_bad_format(client, flagged["url"])
    bad = client.get(flagged["url"], {"status": "maybe"})
    assert bad.status_code == 400 and "status" in bad.json()
    assert APIClient().get(flagged["url"]).status_code == 401
    body_of(client.get(flagged["url"], {"status": "all", "format": "xlsx"}))
    day = timezone.localdate().isoformat()
    assert exports_recorded(viewer) == [(f"flagged-applications-all-{day}.xlsx", "status=all")]
    page = client.get("/risk/").content.decode()
    assert 'id="flags-export-csv" href="/api/risk/flags/export/?status=open&amp;format=csv"' in page


# --- 5. the flagged calls -------------------------------------------------------------------------

CALL_COLUMNS = [
    "call_id",
    "started_at",
    "region",
    "agent",
    "lead_id",
    "script_id",
    "direction",
    "checked_at",
    "flagged",
    "findings",
    "high",
    "medium",
    "low",
    "categories",
    "excerpts",
    "judged_right",
    "judged_wrong",
    "missed",
]
CALLED = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def calls(risk_head: User) -> dict[str, Any]:
    from carloan.compliance.models import Call
    from carloan.compliance.services import calls_check_pending, verdict_record

    Call.objects.create(
        call_id="C-1",
        started_at=CALLED,
        region="EAST-01",
        agent="=agent_7",
        transcript="坐席：百分百包过，不看征信。",
    )
    Call.objects.create(
        call_id="C-2",
        started_at=CALLED + dt.timedelta(hours=1),
        region="WEST-02",
        agent="agent_8",
        transcript="坐席：百分百包过。",
    )
    Call.objects.create(
        call_id="C-3",
        started_at=CALLED + dt.timedelta(hours=2),
        region="EAST-01",
        agent="agent_9",
        transcript="坐席：您好，这里是车贷客服，请问有什么可以帮您？",
    )
    calls_check_pending()
    finding = Call.objects.get(call_id="C-1").findings[0]
    verdict_record(
        user=risk_head,
        call_id="C-1",
        category=finding["category"],
        start=finding["start"],
        end=finding["end"],
        verdict="right",
    )
    assert list(Call.objects.filter(flagged=True).order_by("call_id").values_list("call_id")) == [
        ("C-1",),
        ("C-2",),
    ]
    return {"url": "/api/compliance/calls/export/"}


def test_flagged_calls_download_with_their_findings(
    calls: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    from carloan.compliance.models import Call

    c1 = Call.objects.get(call_id="C-1")
    severities = [f["severity"] for f in c1.findings]
    for fmt, (header, rows) in both(browser(viewer), calls["url"], {"flagged": "1"}).items():
        assert header == CALL_COLUMNS, fmt
        assert [row["call_id"] for row in rows] == ["C-2", "C-1"], fmt  # newest first
        first = rows[1]
        assert first["agent"] == "'=agent_7", fmt
        assert "guaranteed_approval" in first["categories"], fmt
        assert "guaranteed_approval: 百分百包过" in first["excerpts"], fmt
        counts = (first["findings"], first["high"], first["judged_right"], first["judged_wrong"])
        expected = (len(c1.findings), severities.count("high"), 1, 0)
        if fmt == "csv":
            assert counts == tuple(str(n) for n in expected)
            assert first["flagged"] == "true" and first["direction"] == ""
            assert first["started_at"] == local_iso(CALLED)
        else:
            assert counts == expected
            assert first["flagged"] is True and first["direction"] is None
            assert first["started_at"] == local_naive(CALLED)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"flagged": "1"}, ["C-2", "C-1"]),
        ({"flagged": "0"}, ["C-3"]),
        ({}, ["C-3", "C-2", "C-1"]),
        ({"flagged": "1", "region": "EAST-01"}, ["C-1"]),
        ({"agent": "agent_8"}, ["C-2"]),
        ({"start": "2026-11-03"}, []),
        ({"end": "2026-11-01"}, []),
    ],
)
def test_the_calls_download_keeps_the_filters(
    calls: dict[str, Any],
    viewer: User,
    browser: Callable[[User], Client],
    filters: dict[str, str],
    expected: list[str],
) -> None:
    for fmt, (_header, rows) in both(browser(viewer), calls["url"], filters).items():
        assert [row["call_id"] for row in rows] == expected, fmt


def test_the_calls_download_refuses_bad_input_and_strangers_and_is_linked(
    calls: dict[str, Any], viewer: User, browser: Callable[[User], Client]
) -> None:
    client = browser(viewer)
    assert_bad_format(client, calls["url"])
    bad = client.get(calls["url"], {"start": "yesterday"})
    assert bad.status_code == 400 and "start" in bad.json()
    assert APIClient().get(calls["url"], {"flagged": "1"}).status_code == 401
    body_of(client.get(calls["url"], {"flagged": "1"}))
    day = timezone.localdate().isoformat()
    assert exports_recorded(viewer) == [(f"flagged-calls-{day}.csv", "flagged=1")]
    # an ordinary call id is still a call
    assert client.get("/api/compliance/calls/C-1/").json()["call_id"] == "C-1"
    page = client.get("/compliance/").content.decode()
    assert 'href="/api/compliance/calls/export/?flagged=1&amp;format=xlsx"' in page


# --- 6. the audit trail ---------------------------------------------------------------------------


@pytest.fixture
def trail(manager: User) -> dict[str, Any]:
    from carloan.parameters.services import parameters_change
    from carloan.people.audit import record

    record("token_created", actor=manager, target='=HYPERLINK("x")', ip="10.0.0.1")
    record("sign_in_failed", actor_name="@mallory", detail="-bad password", ip="10.0.0.2")
    parameters_change(changes={"marketing.lead_score_cutoff": (55, 1)}, user=manager, reason="+5")
    return {"url": "/audit/"}


def test_the_audit_trail_downloads_every_event_newest_first_in_both_formats(
    trail: dict[str, Any], manager: User, browser: Callable[[User], Client]
) -> None:
    client = browser(manager)
    day = timezone.localdate().isoformat()
    for fmt, (header, rows) in both(client, trail["url"]).items():
        assert header == ["at", "actor", "action", "target", "detail", "ip"], fmt
        # the download is recorded once written: not in its own file, in the trail after it
        assert not any(r["target"] == f"audit-trail-{day}.{fmt}" for r in rows), fmt
        assert AuditEvent.objects.filter(action="export", target=f"audit-trail-{day}.{fmt}")
        rows = [row for row in rows if row["action"] not in ("export", "sign_in")]
        actions = [row["action"] for row in rows]
        assert actions[:3] == ["parameter_changed", "sign_in_failed", "token_created"], fmt
        changed, failed, token = rows[:3]
        assert token["target"] == '\'=HYPERLINK("x")', fmt
        assert (failed["actor"], failed["detail"]) == ("'@mallory", "'-bad password"), fmt
        assert changed["target"] == "marketing.lead_score_cutoff", fmt
        assert changed["detail"].endswith("+5"), fmt
        moment = AuditEvent.objects.get(action="token_created").at
        if fmt == "csv":
            assert token["at"] == local_iso(moment)
        else:
            assert token["at"] == local_naive(moment)


def test_the_audit_download_keeps_the_filters(
    trail: dict[str, Any], manager: User, browser: Callable[[User], Client]
) -> None:
    client = browser(manager)
    for fmt, (_header, rows) in both(client, trail["url"], {"action": "token_created"}).items():
        assert [row["action"] for row in rows] == ["token_created"], fmt
    for fmt, (_header, rows) in both(client, trail["url"], {"actor": "@mallory"}).items():
        assert [row["action"] for row in rows] == ["sign_in_failed"], fmt
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    for fmt, (_header, rows) in both(client, trail["url"], {"start": tomorrow}).items():
        assert rows == [], fmt


def test_the_audit_download_is_for_managers_and_refuses_a_bad_format(
    trail: dict[str, Any],
    manager: User,
    viewer: User,
    risk_head: User,
    browser: Callable[[User], Client],
) -> None:
    for user in (viewer, risk_head):
        assert browser(user).get(trail["url"], {"format": "csv"}).status_code == 403
    anonymous = Client().get(trail["url"], {"format": "xlsx"})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    client = browser(manager)
    assert_bad_format(client, trail["url"], json_body=False)
    body_of(client.get(trail["url"], {"format": "xlsx", "action": "import"}))
    day = timezone.localdate().isoformat()
    assert (f"audit-trail-{day}.xlsx", "action=import") in exports_recorded(manager)
    page = client.get(trail["url"], {"action": "token_created"}).content.decode()
    assert 'id="audit-csv" href="/audit/?action=token_created&amp;format=csv"' in page
    assert 'id="audit-xlsx" href="/audit/?action=token_created&amp;format=xlsx"' in page


# --- the shared helper ---------------------------------------------------------------------------


def test_cells_are_typed_and_escaped_the_same_way_in_both_formats() -> None:
    from carloan.exports import csv_cell, xlsx_cell

    moment = dt.datetime(2026, 11, 2, 1, 2, 3, tzinfo=dt.UTC)
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(text) == "'" + text
        assert xlsx_cell(text) == "'" + text
    for number in (-3.5, -2, Decimal("-1.25"), 0):
        assert xlsx_cell(number) == number
        assert not csv_cell(number).startswith("'")
    assert csv_cell(-3.5) == "-3.5" and csv_cell(Decimal("-1.25")) == "-1.25"
    assert (csv_cell(True), csv_cell(None), csv_cell(float("nan"))) == ("true", "", "")
    assert xlsx_cell(float("inf")) is None
    assert csv_cell(["-a", "b"]) == "'-a, b" and xlsx_cell(["-a", "b"]) == "'-a, b"
    assert csv_cell(moment) == local_iso(moment)
    assert xlsx_cell(moment) == local_naive(moment)
    assert xlsx_cell("bell\x07 rings") == "bell rings"  # Excel refuses control characters
    assert len(xlsx_cell("x" * 40_000)) == 32_767


def test_an_xlsx_longer_than_excel_stops_at_its_limit_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from carloan import exports

    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 4)
    handle = exports.xlsx_file([exports.Sheet("Big", ["n"], ([n] for n in range(10)))])
    with handle:
        rows = list(openpyxl.load_workbook(handle).active.iter_rows(values_only=True))
    assert rows[:3] == [("n",), (0,), (1,)]
    assert len(rows) == 4 and "CSV" in str(rows[3][0])


def test_export_rows_are_read_in_chunks_in_a_constant_number_of_queries(
    cards: dict[str, Any], manager: User, django_assert_max_num_queries: Any
) -> None:
    from kanban.selectors import cards_export_rows, handoffs_export_rows
    from tests.test_kanban_support import new_card

    for i in range(30):
        new_card(manager, f"More {i}", "tech", labels=[f"l{i}"], assignees=[manager.pk])
    with django_assert_max_num_queries(2):
        assert len(list(cards_export_rows(cards["board"], {}))) == 33
        assert len(list(handoffs_export_rows(cards["board"], {}))) == 2


def test_the_audit_trail_names_who_downloaded(db: Any) -> None:
    """Each download is recorded under the person who asked for it."""
    first, second = make_user("exp_first", "viewer"), make_user("exp_second", "viewer")
    for user in (first, second):
        client = Client()
        client.force_login(user)
        body_of(client.get("/api/alerts/export/"))
    assert [t for t, _ in exports_recorded(first)] == [f"alerts-{timezone.localdate()}.csv"]
    assert len(exports_recorded(second)) == 1
