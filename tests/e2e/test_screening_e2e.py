"""End to end on `/risk/` (contract sections 4a and 10): risk control's head opens the page on a
small imported book, finds a flagged application at the top of the queue with its failed checks
explained, opens it and sees the network of its ring drawn, then follows a link of the ring to
another application. Identifiers stay masked throughout."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import RESULTS, chromium
from tests.factories import PASSWORD, make_user
from tests.test_screening_page import PHONE, VIN, import_ring_book

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TIMEOUT = 10_000


def test_risk_head_opens_a_flagged_application_and_its_ring(live_url: str) -> None:
    started = time.monotonic()
    make_user("rick_risk", "department_head", "risk")
    import_ring_book(refresh="now")  # as a lender's files arrive: the checks follow the import
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page: Any = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_url}/risk/")
        page.fill("input[name=username]", "rick_risk")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.form button[type=submit]")
        page.wait_for_url(f"{live_url}/risk/")

        # The most failed application first, its failed checks explained in words.
        first = page.locator("#queue-list [data-application]").first
        first.wait_for(timeout=TIMEOUT)
        assert first.get_attribute("data-application") == "R-1"
        assert first.get_attribute("data-failed") == "4"
        text = first.inner_text()
        assert "Phone ****8000 shared by 3 applicants within 90 days" in text
        assert "Phone ****8000 is on the blacklist (fraud ring)" in text

        # Its detail: the checks and the ring, drawn by plotly.js from the server's figure.
        first.locator("a").click()
        page.wait_for_selector('[data-application-detail="R-1"]', timeout=TIMEOUT)
        page.wait_for_selector('#ring-chart[data-drawn="1"]', timeout=TIMEOUT)
        assert page.url.endswith("#application-R-1")
        assert page.get_attribute(".scr-ring-summary", "data-ring-size") == "5"
        drawn = page.evaluate(
            """() => document.getElementById("ring-chart").data
                 .filter((t) => t.meta && t.meta.role === "nodes")
                 .flatMap((t) => t.customdata)"""
        )
        assert sorted(drawn) == ["R-1", "R-2", "R-3", "R-4", "R-5"]
        assert page.locator("#ring-chart .scatterlayer .point").count() >= 5
        why = page.inner_text('[data-check-row="vin_reuse"]')
        assert "VIN ****3294 also on an application of another applicant" in why
        page.screenshot(path=str(RESULTS / "risk-ring.png"), full_page=False)

        # A link of the ring opens the application one step further.
        page.click('.scr-groups a[href="#application-R-4"]')
        page.wait_for_selector('[data-application-detail="R-4"]', timeout=TIMEOUT)
        page.wait_for_selector('#ring-chart[data-drawn="1"]', timeout=TIMEOUT)

        content = page.content()
        for raw in (PHONE, VIN, "dev-bravo-0002"):
            assert raw not in content
        context.close()
    assert errors == [], errors
    assert time.monotonic() - started < 20


def _sign_in(browser: Any, live_url: str, username: str, errors: list[str]) -> Any:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page: Any = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_url}/risk/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{live_url}/risk/")
    page.click("#tablink-blacklist")
    page.wait_for_selector("#tab-blacklist:not([hidden])")
    return page


def test_marketing_proposes_a_phone_and_risk_control_confirms_it(live_url: str) -> None:
    """The four-eyes in two browsers: marketing's head proposes listing a phone (typed whole,
    shown masked), risk control's head sees it waiting, confirms it, and the entry is listed
    and the application holding that phone flagged; the proposer could only withdraw."""
    from carloan.loanbook.services import loanbook_import
    from tests.factories import csv_file

    make_user("mia_marketing", "department_head", "marketing")
    make_user("rick_risk", "department_head", "risk")
    loanbook_import(
        kind="applications",
        source=csv_file(
            "application_id,region,applied_at,decision,applicant_key,phone\n"
            "HOLD-1,EAST-01,2026-11-20T10:00:00+08:00,pending,K-HOLD,13912340077\n"
        ),
        refresh="now",
    )
    errors: list[str] = []
    with chromium() as browser:
        marketing = _sign_in(browser, live_url, "mia_marketing", errors)
        marketing.click("#propose-box summary")
        marketing.select_option("#pr-action", "add")
        marketing.select_option("#pr-type", "phone")
        marketing.fill("#pr-value", "139 1234 0077")
        marketing.fill("#pr-reason", "fraud ring seen in call recordings")
        marketing.fill("#pr-note", "three calls this week")
        marketing.click("#propose-submit")
        marketing.wait_for_selector("#pending-list [data-status=pending]", timeout=TIMEOUT)
        item = marketing.locator("#pending-list [data-status=pending]").first
        assert "****0077" in item.inner_text()
        # The proposer may withdraw, not confirm
        assert item.locator("[data-decide]").evaluate_all(
            "(nodes) => nodes.map((n) => n.dataset.decide)"
        ) == ["withdraw"]
        assert "13912340077" not in marketing.content()

        risk = _sign_in(browser, live_url, "rick_risk", errors)
        waiting = risk.locator("#pending-list [data-status=pending]").first
        waiting.wait_for(timeout=TIMEOUT)
        assert "three calls this week" in waiting.inner_text()
        risk.once("dialog", lambda dialog: dialog.accept("checked the recordings"))
        waiting.locator("[data-decide=confirm]").click()
        risk.wait_for_selector("#pending-list .scr-empty", timeout=TIMEOUT)
        listed = risk.locator("#blacklist-body tr[data-entry]").first
        listed.wait_for(timeout=TIMEOUT)
        assert "****0077" in listed.inner_text()
        risk.wait_for_selector("#bl-history-list [data-status=confirmed]", timeout=TIMEOUT)
        assert "checked the recordings" in risk.inner_text("#bl-history-list")
        risk.screenshot(path=str(RESULTS / "risk-blacklist-four-eyes.png"), full_page=False)

        # Marketing's pre-screen now declines a lead with that phone, in words, with the live
        # thresholds it used.
        marketing.click("#tablink-prescreen")
        marketing.fill("#ps-region", "EAST-01")
        marketing.fill("#ps-channel", "wechat")
        marketing.fill("#ps-phone", "+86 139-1234-0077")
        marketing.fill("#ps-lead", "90")
        marketing.click("#prescreen-submit")
        marketing.wait_for_selector('[data-decision="decline"]', timeout=TIMEOUT)
        reason = marketing.locator('.scr-reasons [data-code="blacklist"]')
        assert reason.inner_text() == "On the blacklist: Phone"
        used = marketing.inner_text("#prescreen-result .scr-used")
        assert "600" in used and "50" in used

        # The holder is flagged on the queue
        risk.click("#tablink-queue")
        risk.click("#queue-refresh")
        risk.wait_for_selector('#queue-list [data-application="HOLD-1"]', timeout=TIMEOUT)
        assert "13912340077" not in risk.content()
    assert errors == [], errors
