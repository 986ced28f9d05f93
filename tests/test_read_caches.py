"""The caches that every open browser's reads go through (issue 22: cheaper requests).

- A region's panels and the open alerts (metrics.selectors) are kept under the values' and the
  alerts' generations; a change is seen on the very next read, whoever made it: a refresh, an
  acknowledgement, a write outside the services, a threshold change.
- /parameters/ keeps its sections under the parameters' token; a change, a filed request and a
  decision are seen on the next load, and each role and language gets its own page.

Each test commits (a cache is only written outside transactions), so they use the real
database without the rolled-back test transaction.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from metrics import selectors
from metrics.models import Alert, MetricValue
from metrics.notify.services import alert_acknowledge
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)

Clients = Callable[[User | None], APIClient]
OVERDUE = "overdue_rate"


@pytest.fixture(autouse=True)
def read_cache_on(settings: Any) -> None:
    settings.METRICS_READ_CACHE_SECONDS = 60


def _value(
    day: Any, value: float, region: str = "all", metric: str = OVERDUE, denominator: float = 100
) -> MetricValue:
    return MetricValue.objects.create(
        metric=metric,
        region=region,
        day=day,
        value=value,
        baseline=4.0,
        delta_pct=100 * (value - 4.0) / 4.0,
        status="ok",
        numerator=value * denominator / 100,
        denominator=denominator,
        computed_at=timezone.now(),
    )


def _panel(client: APIClient, day: Any, region: str = "all") -> dict[str, Any]:
    answer = client.get(f"/api/metrics/panels/?date={day.isoformat()}&region={region}")
    assert answer.status_code == 200, answer.content
    return next(p for p in answer.json()["panels"] if p["key"] == OVERDUE)


def _alert(day: Any, region: str = "EAST-01", level: str = "critical") -> Alert:
    return Alert.objects.create(
        metric=OVERDUE,
        region=region,
        day=day,
        level=level,
        value=6.0,
        baseline=4.0,
        delta_pct=50.0,
        raised_at=timezone.now(),
    )


@contextmanager
def _uncommitted(write: Callable[[], Any]) -> Iterator[None]:
    """`write` in a transaction of another connection, left open (written, not committed) while
    the with-block runs, then committed."""
    written, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with transaction.atomic():
                write()
                written.set()
                if not go.wait(20):
                    raise TimeoutError("the test never let the writer commit")
        except BaseException as exc:
            errors.append(exc)
            written.set()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert written.wait(20)
        assert not errors, errors
        yield
    finally:
        go.set()
        thread.join(20)
    assert not thread.is_alive()
    assert not errors, errors


def _values_queries(run: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as seen:
        run()
    return sum("metrics_metricvalue" in q["sql"] for q in seen.captured_queries)


def _alert_queries(run: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as seen:
        run()
    return sum('FROM "metrics_alert"' in q["sql"] for q in seen.captured_queries)


# --- panels ---------------------------------------------------------------------------------------


def test_panels_are_read_once_then_served_until_a_value_changes(client_for: Clients) -> None:
    viewer = make_user("vera", "viewer")
    client = client_for(viewer)
    day = timezone.localdate()
    row = _value(day, 5.0)

    assert _values_queries(lambda: _panel(client, day)) == 1
    assert _values_queries(lambda: _panel(client, day)) == 0  # the second read: the cache
    assert _panel(client, day)["value"] == 5.0

    # A write outside the services (the statement's trigger moves the generation on).
    MetricValue.objects.filter(pk=row.pk).update(value=6.5, delta_pct=62.5)
    panel = _panel(client, day)
    assert (panel["value"], panel["delta_pct"]) == (6.5, 62.5)
    # Another region and another day are other entries.
    _value(day, 9.0, region="EAST-01")
    assert _panel(client, day, "EAST-01")["value"] == 9.0
    assert _panel(client, day - timedelta(days=1))["value"] is None


def test_a_threshold_change_shows_in_the_next_panel_read(client_for: Clients) -> None:
    manager = make_user("mona", "manager")
    client = client_for(manager)
    day = timezone.localdate()
    _value(day, 5.0)
    before = _panel(client, day)
    key = "alert.overdue_rate.warn_pct"
    current = client.get(f"/api/parameters/{key}/").json()
    new = before["warn_pct"] + 1
    answer = client.patch(
        f"/api/parameters/{key}/",
        {"value": new, "version": current["version"], "reason": "looser"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert _panel(client, day)["warn_pct"] == new


def test_a_status_refresh_committing_during_reads_is_seen_at_once(client_for: Clients) -> None:
    """The re-evaluation a threshold change queues (metrics_statuses_refresh): what the
    dashboard read and cached while it was uncommitted is retired by its after-commit step."""
    from metrics.services import metrics_statuses_refresh

    client = client_for(make_user("vera", "viewer"))
    today = timezone.localdate()
    _value(today.replace(day=1) - timedelta(days=1), 4.0)  # last month: the baseline 4.0
    _value(today, 6.0, denominator=100_000)  # 50 % above it, stored as ok: critical once judged
    assert _panel(client, today)["status"] == "ok"
    assert client.get("/api/alerts/?status=open").json() == []

    with _uncommitted(lambda: metrics_statuses_refresh(metrics=[OVERDUE], start=today, end=today)):
        assert _panel(client, today)["status"] == "ok"  # cached under the moved-on number
        assert client.get("/api/alerts/?status=open").json() == []
    assert _panel(client, today)["status"] == "critical"
    raised = client.get("/api/alerts/?status=open").json()
    assert [(a["metric"], a["region"], a["level"]) for a in raised] == [
        (OVERDUE, "all", "critical")
    ]


def test_values_written_during_a_read_are_seen_once_committed(client_for: Clients) -> None:
    """The same for any writer that steps the generation after commit, as a refresh does."""
    client = client_for(make_user("vera", "viewer"))
    day = timezone.localdate()
    row = _value(day, 5.0)

    def write() -> None:
        MetricValue.objects.filter(pk=row.pk).update(value=7.0)
        transaction.on_commit(selectors.advance_read_generations)

    with _uncommitted(write):
        assert _panel(client, day)["value"] == 5.0
        assert _values_queries(lambda: _panel(client, day)) == 0  # it was cached
    assert _panel(client, day)["value"] == 7.0


# --- open alerts ----------------------------------------------------------------------------------


def test_open_alerts_are_cached_until_one_is_acknowledged(client_for: Clients) -> None:
    head = make_user("rita", "department_head", "risk")
    client = client_for(head)
    day = timezone.localdate()
    alert = _alert(day)

    first = client.get("/api/alerts/?status=open")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/json"
    assert [a["id"] for a in first.json()] == [alert.pk]
    assert _alert_queries(lambda: client.get("/api/alerts/?status=open")) == 0

    answer = client.post(f"/api/alerts/{alert.pk}/acknowledge/", {}, format="json")
    assert answer.status_code == 200, answer.content
    listed = client.get("/api/alerts/?status=open").json()
    assert listed[0]["acknowledged_by"] == "rita"
    assert listed[0]["acknowledged_at"] is not None


def test_raised_and_resolved_alerts_show_at_once(client_for: Clients) -> None:
    client = client_for(make_user("vera", "viewer"))
    day = timezone.localdate()
    assert client.get("/api/alerts/?status=open").json() == []
    alert = _alert(day)
    assert [a["id"] for a in client.get("/api/alerts/?status=open").json()] == [alert.pk]
    Alert.objects.filter(pk=alert.pk).update(status="resolved", resolved_at=timezone.now())
    assert client.get("/api/alerts/?status=open").json() == []
    assert [a["id"] for a in client.get("/api/alerts/?status=resolved").json()] == [alert.pk]


def test_filtered_alert_lists_are_read_from_the_database(client_for: Clients) -> None:
    client = client_for(make_user("vera", "viewer"))
    day = timezone.localdate()
    _alert(day, region="EAST-01")
    west = _alert(day, region="WEST-01")
    for _ in range(2):
        assert _alert_queries(lambda: client.get("/api/alerts/?region=WEST-01")) == 1
    assert [a["id"] for a in client.get("/api/alerts/?region=WEST-01").json()] == [west.pk]


def test_an_acknowledgement_committing_during_a_read_is_not_lost(client_for: Clients) -> None:
    """The list read (and cached) while an acknowledgement is uncommitted is retired by the
    acknowledgement's after-commit step."""
    head = make_user("rita", "department_head", "risk")
    client = client_for(head)
    alert = _alert(timezone.localdate())
    with _uncommitted(lambda: alert_acknowledge(alert_id=alert.pk, user=head)):
        assert client.get("/api/alerts/?status=open").json()[0]["acknowledged_by"] is None
    assert client.get("/api/alerts/?status=open").json()[0]["acknowledged_by"] == "rita"


def test_a_card_link_outside_a_transaction_is_seen_at_once(client_for: Clients) -> None:
    """The kanban links an alert to its episode's card after the alert's own commit."""
    from kanban.models import Board, Card
    from metrics.services import alert_card_attach

    client = client_for(make_user("vera", "viewer"))
    alert = _alert(timezone.localdate())
    assert client.get("/api/alerts/?status=open").json()[0]["card"] is None
    board = Board.objects.create(name="Risk", slug="risk-test")
    card = Card.objects.create(
        board=board,
        lane=board.lanes.create(department="risk"),
        column=board.columns.create(name="Backlog"),
        rank="a",
        title="Overdue rate, EAST-01",
        department="risk",
        created_at=timezone.now(),
        updated_at=timezone.now(),
        column_entered_at=timezone.now(),
    )
    assert alert_card_attach(alert_id=alert.pk, card_id=card.pk)
    assert client.get("/api/alerts/?status=open").json()[0]["card"] == card.pk


def test_dashboard_embeds_the_open_alerts_as_the_api_lists_them(client_for: Clients) -> None:
    viewer = make_user("vera", "viewer")
    _alert(timezone.localdate(), region="EAST-01")
    _alert(timezone.localdate(), region="WEST-01", level="warn")
    page = Client()
    assert page.login(username="vera", password=PASSWORD)
    for _ in range(2):  # built, then from the cache
        html = page.get("/?region=all").content.decode()
        start = html.index('<script id="dashboard-data" type="application/json">')
        text = html[start:].split(">", 1)[1].split("</script>", 1)[0]
        data = json.loads(text)
        assert data["alerts"] == client_for(viewer).get("/api/alerts/?status=open").json()
        assert data["region"] == "all"
        assert {p["key"] for p in data["panels"]} >= {OVERDUE}


# --- the parameters page --------------------------------------------------------------------------


def _page(client: Client) -> str:
    answer = client.get("/parameters/")
    assert answer.status_code == 200
    return answer.content.decode()


def _value_cell(html: str, key: str) -> str:
    marker = f'data-param="{key}" data-role="value">'
    return html.split(marker, 1)[1].split("<", 1)[0]


def test_parameters_page_follows_changes_requests_and_roles(client_for: Clients) -> None:
    make_user("mona", "manager")
    make_user("vera", "viewer")
    manager, viewer = Client(), Client()
    assert manager.login(username="mona", password=PASSWORD)
    assert viewer.login(username="vera", password=PASSWORD)
    key = "marketing.lead_score_cutoff"

    first = _page(manager)
    with CaptureQueriesContext(connection) as seen:
        again = _page(manager)
    assert _without_csrf(again) == _without_csrf(first)  # built once, then kept
    assert not any("parameters_" in q["sql"] for q in seen.captured_queries)
    assert 'data-action="edit"' in first
    assert 'data-action="edit"' not in _page(viewer)  # the viewer's own page, not the manager's
    assert '"username": "mona"' in first.split('id="parameters-config"', 1)[1][:4000]
    assert '"username": "vera"' in _page(viewer).split('id="parameters-config"', 1)[1][:4000]

    api = client_for(User.objects.get(username="mona"))
    current = api.get(f"/api/parameters/{key}/").json()
    answer = api.patch(
        f"/api/parameters/{key}/",
        {"value": current["value"] + 1, "version": current["version"], "reason": "more leads"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert _value_cell(_page(viewer), key).startswith(str(current["value"] + 1))
    assert f"v{current['version'] + 1}<" in _page(manager)

    # A four-eyes change is filed as a request: the pending count shows it.
    ltv = api.get("/api/parameters/risk.max_ltv_pct/").json()
    filed = api.patch(
        "/api/parameters/risk.max_ltv_pct/",
        {"value": ltv["value"] - 5, "version": ltv["version"], "reason": "tighten"},
        format="json",
    )
    assert filed.status_code in (200, 202), filed.content
    assert 'id="pending-count">1<' in _page(viewer)
    request_id = api.get("/api/parameters/requests/").json()[0]["id"]
    other = make_user("otto", "manager")
    decided = client_for(other).post(
        f"/api/parameters/requests/{request_id}/reject/", {"note": "no"}, format="json"
    )
    assert decided.status_code == 200, decided.content
    assert 'id="pending-count">0<' in _page(viewer)


def test_parameters_page_in_each_language(client_for: Clients) -> None:
    make_user("vera", "viewer")
    page = Client()
    assert page.login(username="vera", password=PASSWORD)
    english = _page(page)
    page.cookies["django_language"] = "zh-hans"
    chinese = _page(page)
    assert "Pending changes" in english
    assert "Pending changes" not in chinese
    page.cookies["django_language"] = "en"
    assert "Pending changes" in _page(page)


def _without_csrf(html: str) -> str:
    """The page without its CSRF token (masked anew for each answer)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_parameter_list_is_kept_until_a_change_or_a_request(client_for: Clients) -> None:
    api = client_for(make_user("mona", "manager"))

    def listed(key: str) -> dict[str, Any]:
        answer = api.get("/api/parameters/")
        assert answer.status_code == 200
        assert answer["Content-Type"] == "application/json"
        return next(p for p in answer.json() if p["key"] == key)

    key = "marketing.lead_score_cutoff"
    before = listed(key)
    with CaptureQueriesContext(connection) as seen:
        assert listed(key) == before
    assert not any("parameters_parameter" in q["sql"] for q in seen.captured_queries)
    answer = api.patch(
        f"/api/parameters/{key}/",
        {"value": before["value"] + 1, "version": before["version"], "reason": "more leads"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    after = listed(key)
    assert (after["value"], after["version"], after["updated_by"]) == (
        before["value"] + 1,
        before["version"] + 1,
        "mona",
    )
    ltv = listed("risk.max_ltv_pct")
    filed = api.patch(
        "/api/parameters/risk.max_ltv_pct/",
        {"value": ltv["value"] - 5, "version": ltv["version"], "reason": "tighten"},
        format="json",
    )
    assert filed.status_code in (200, 202), filed.content
    assert len(listed("risk.max_ltv_pct")["pending_requests"]) == 1
    # Chinese descriptions travel as UTF-8, as the API always sent them.
    assert "\\u" not in api.get("/api/parameters/").content.decode()


def test_a_refresh_that_changes_no_alert_keeps_the_alert_list(client_for: Clients) -> None:
    """Every refresh runs its alert statements; only rows written retire the cached list."""
    from metrics.services import metrics_refresh

    client = client_for(make_user("vera", "viewer"))
    today = timezone.localdate()
    alert = _alert(today)
    assert [a["id"] for a in client.get("/api/alerts/?status=open").json()] == [alert.pk]
    result = metrics_refresh(start=today - timedelta(days=1), end=today)
    assert (result.alerts_raised, result.alerts_resolved) == (0, 0)
    assert _alert_queries(lambda: client.get("/api/alerts/?status=open")) == 0
    with connection.cursor() as cursor:  # a statement that writes no row: still cached
        cursor.execute("UPDATE metrics_alert SET status = status WHERE false")
    assert _alert_queries(lambda: client.get("/api/alerts/?status=open")) == 0
    with connection.cursor() as cursor:  # one that writes a row: read again
        cursor.execute("UPDATE metrics_alert SET level = 'warn' WHERE id = %s", [alert.pk])
    assert client.get("/api/alerts/?status=open").json()[0]["level"] == "warn"


def test_read_cache_seconds_zero_reads_every_time(client_for: Clients, settings: Any) -> None:
    settings.METRICS_READ_CACHE_SECONDS = 0
    client = client_for(make_user("vera", "viewer"))
    day = timezone.localdate()
    _value(day, 5.0)
    _alert(day)
    for _ in range(2):
        assert _values_queries(lambda: _panel(client, day)) == 1
        assert _alert_queries(lambda: client.get("/api/alerts/?status=open")) == 1


def test_a_renamed_person_is_renamed_in_cached_lists(client_for: Clients) -> None:
    """Alert lists and the parameters' state name people: renaming one retires them; a
    sign-in (last_login) does not."""
    head = make_user("rita", "department_head", "risk")
    manager = make_user("mona", "manager")
    api = client_for(manager)
    alert = _alert(timezone.localdate())
    assert client_for(head).post(f"/api/alerts/{alert.pk}/acknowledge/", {}).status_code == 200
    key = "marketing.lead_score_cutoff"
    current = api.get(f"/api/parameters/{key}/").json()
    api.patch(
        f"/api/parameters/{key}/",
        {"value": current["value"] + 1, "version": current["version"]},
        format="json",
    )

    def names() -> tuple[str, str]:
        acknowledged = api.get("/api/alerts/?status=open").json()[0]["acknowledged_by"]
        changed = next(p for p in api.get("/api/parameters/").json() if p["key"] == key)
        return acknowledged, changed["updated_by"]

    assert names() == ("rita", "mona")
    assert Client().login(username="rita", password=PASSWORD)  # a sign-in: still cached
    assert _alert_queries(lambda: api.get("/api/alerts/?status=open")) == 0
    head.username, manager.username = "rita.chen", "mona.li"
    head.save()
    manager.save()
    assert names() == ("rita.chen", "mona.li")
