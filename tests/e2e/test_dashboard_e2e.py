"""End to end, in a real browser against the real ASGI server and a real Celery worker: sign in,
open the dashboard, see its fourteen panels; samples posted to the API by a department head (with
a token) are recomputed by the worker and the panel changes without a reload (`panel.updated`);
the region picker keeps the URL; the metric page draws its charts; both pages in Chinese. Waits
go through locators: the page's Content-Security-Policy forbids evaluating strings."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from carloan.models import Sample
from metrics.services import metrics_refresh
from tests.e2e.conftest import RESULTS, chromium
from tests.factories import PASSWORD, make_user, token_for

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

P95 = "api_response_time_p95"
PANEL = f"#panel-{P95}"


def shoot(page: Any, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=True)


def post_samples(base: str, token: str, items: list[dict[str, Any]]) -> int:
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        f"{base}/api/metrics/samples/",
        data=json.dumps(items).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return int(response.status)


@pytest.fixture
def today_book() -> dict[str, Any]:
    """API latency of EAST: 100 ms every day of last month (the baseline), 100 ms today."""
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    first = last_month_end.replace(day=1)
    rows = []
    day = first
    while day <= today:
        moment = timezone.make_aware(datetime(day.year, day.month, day.day, 9))
        rows.append(Sample(metric="api_response_time", ts=moment, value=100, region="EAST"))
        day += timedelta(days=1)
    Sample.objects.bulk_create(rows)
    metrics_refresh(start=first, end=today)
    head = make_user("tara_tech", "department_head", "tech")
    make_user("vera_viewer", "viewer")
    return {"today": today.isoformat(), "token": token_for(head)}


def open_alert_id(base: str, token: str, region: str) -> int:
    """The open critical alert of the API's p95 in `region`, read through the API (the ORM may
    not be used under Playwright's event loop)."""
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        f"{base}/api/alerts/?status=open&metric={P95}&region={region}&level=critical",
        headers={"Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return int(json.loads(response.read())[0]["id"])


def acknowledge(base: str, token: str, alert_id: int) -> int:
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        f"{base}/api/alerts/{alert_id}/acknowledge/",
        data=b"{}",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return int(response.status)


def sign_in(page: Any, base: str, username: str, path: str) -> None:
    page.goto(f"{base}{path}")
    assert "/login/" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(re.escape(base) + r"/(\?.*)?$"))


def test_a_panel_changes_live_when_samples_arrive(
    live_url: str,
    today_book: dict[str, Any],
    celery_worker_process: str,
) -> None:
    today = today_book["today"]
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        outside: list[str] = []
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if not r.url.startswith((live_url, live_url.replace("http", "ws"), "data:"))
                else None
            ),
        )
        sign_in(page, live_url, "vera_viewer", "/")
        assert page.inner_text("h1") == "Live dashboard"
        assert page.locator("a.kpi").count() == 14
        assert page.locator("[data-group=business] a.kpi").count() == 8
        assert page.locator("[data-group=technical] a.kpi").count() == 6
        page.wait_for_selector("#live-status[data-state=live]", timeout=15_000)
        # The sparklines are drawn by the local plotly.js.
        page.wait_for_selector(f"{PANEL} .kpi__spark svg", timeout=15_000)

        # Region picker: the view changes without a reload, and the URL keeps it.
        page.evaluate("window.__same_page = true")
        page.select_option("#pick-region", "EAST")
        page.wait_for_url(re.compile(r"\?region=EAST$"))
        expect(page.locator("#dash-panels")).not_to_have_class(re.compile("is-loading"))
        assert page.inner_text(f"{PANEL} [data-role=value]") == "100"
        assert page.inner_text(f"{PANEL} [data-role=status]") == "ON TRACK"
        assert page.evaluate("window.__same_page") is True
        shoot(page, "e2e-dashboard-east-before")

        # A department head's monitoring agent posts a slow request for today.
        status = post_samples(
            live_url,
            today_book["token"],
            [
                {
                    "metric": "api_response_time",
                    "ts": f"{today}T10:00:00",
                    "value": 900,
                    "region": "EAST",
                }
            ],
        )
        assert status == 201

        # p95 of 100 and 900 (linear interpolation) = 860 ms: over the 800 ms service level,
        # critical (+760 % on the baseline).
        expect(page.locator(f"{PANEL} [data-role=value]")).to_have_text("860", timeout=30_000)
        assert page.evaluate("window.__same_page") is True, "the page was not reloaded"
        assert page.get_attribute(PANEL, "data-status") == "critical"
        assert "+760.0 %" in page.inner_text(f"{PANEL} [data-role=delta]")
        assert "delta--bad" in (page.get_attribute(f"{PANEL} [data-role=delta]", "class") or "")
        # The alert reaches the alert panel too, grouped by metric and region.
        group = page.locator(f"#alert-list [data-group='{P95}|EAST']")
        group.wait_for(timeout=15_000)
        assert "Not acknowledged" in group.inner_text()  # a viewer sees, does not take it
        # The head takes it (the API, as from the dashboard or a message's link): the viewer's
        # list shows who, live.
        alert_id = open_alert_id(live_url, today_book["token"], "EAST")
        assert acknowledge(live_url, today_book["token"], alert_id) == 200
        expect(group).to_contain_text("Taken by tara_tech", timeout=15_000)
        shoot(page, "e2e-dashboard-east-after")

        # The metric page: charts drawn, in English and Chinese.
        page.click(PANEL)
        page.wait_for_selector("#chart-history .main-svg", timeout=15_000)
        page.wait_for_selector("#chart-comparison .main-svg", timeout=15_000)
        assert page.inner_text("h1").startswith("API response time p95")
        shoot(page, "e2e-metric-en")
        page.click(".lang-switch button[value=zh-hans]")
        page.wait_for_selector("html[lang=zh-Hans]")
        page.wait_for_selector("#chart-history .main-svg", timeout=15_000)
        assert "历史走势" in page.inner_text("main")
        shoot(page, "e2e-metric-zh")
        page.goto(f"{live_url}/")
        assert page.inner_text("h1") == "实时仪表盘"
        shoot(page, "e2e-dashboard-zh")

        assert errors == []
        assert outside == []
        context.close()


def test_a_period_and_its_comparison_are_chosen_and_kept_in_the_url(
    live_url: str, today_book: dict[str, Any]
) -> None:
    """The period picker: a preset shows the period's figures against the previous period, the
    comparison and custom days follow, the URL keeps each, a metric's link carries it on."""
    today = date.fromisoformat(today_book["today"])
    row = f"#period-summary tr[data-key={P95}]"
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, live_url, "vera_viewer", "/?region=EAST")
        assert page.locator("#period-summary").count() == 0

        page.select_option("#pick-period", "7d")
        page.wait_for_url(re.compile(r"period=7d"))
        assert "region=EAST" in page.url
        expect(page.locator(row + " [data-role=value]")).to_have_text("100 ms")
        expect(page.locator(row + " [data-role=delta]")).to_have_text("▶ 0.0 %")
        start = (today - timedelta(days=6)).isoformat()
        expect(page.locator("#period-title")).to_contain_text(f"{start} – {today.isoformat()}")

        page.select_option("#pick-compare", "previous_year")
        page.wait_for_url(re.compile(r"compare=previous_year"))
        expect(page.locator(row + " [data-role=compare]")).to_have_text("–")  # no samples then

        page.select_option("#pick-period", "custom")
        page.fill("#pick-start", (today - timedelta(days=2)).isoformat())
        page.fill("#pick-end", today.isoformat())
        page.locator("#pick-end").dispatch_event("change")
        page.wait_for_url(re.compile(r"period=custom&start=.*&end="))
        expect(page.locator("#period-title")).to_contain_text(
            f"{(today - timedelta(days=2)).isoformat()} – {today.isoformat()}"
        )

        page.click(f"{row} a")
        page.wait_for_url(re.compile(rf"/metrics/{P95}/\?.*period=custom"))
        expect(page.locator("#period-summary tr[data-region=EAST] [data-role=value]")).to_have_text(
            "100 ms"
        )
        assert page.input_value("#pick-period") == "custom"
        shoot(page, "e2e-metric-period")
        assert errors == []
