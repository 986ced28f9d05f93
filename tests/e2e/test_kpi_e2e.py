"""End to end in a real browser: the /kpi/ page draws its scorecards and charts, and the review
mode is walked with the arrow keys from the overview through each department to the hand-offs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import RESULTS, chromium
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
QUARTER = "2026Q3"


def sign_in(page: Any, base: str, username: str, path: str) -> None:
    page.goto(f"{base}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}{path}")


def shoot(page: Any, name: str, full_page: bool = True) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=full_page)


def test_kpi_page_and_review_mode_with_arrow_keys(live_url: str) -> None:
    # Earlier transactional tests flush the tables: put back the KPI sets the migration installs.
    from importlib import import_module

    from django.apps import apps

    import_module("metrics.migrations.0003_kpi_defaults").install(apps, None)
    import_module("metrics.migrations.0010_kpi_targets_from_the_case").forwards(apps, None)
    from tests.test_kanban_support import shared_board

    shared_board()  # the board the review's decisions open their cards on
    make_user("mona_manager", "manager")
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1600, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, live_url, "mona_manager", f"/kpi/?quarter={QUARTER}")
        assert page.inner_text("h1") == "KPI scorecards and quarterly review"
        for department in ("marketing", "risk", "tech"):
            assert page.is_visible(f"#card-{department} .kpi-score__value")
        page.wait_for_selector("#chart-comparison .main-svg", timeout=15_000)
        # The editor sums the weights live.
        page.wait_for_selector("#weight-sum[data-ok=true]")
        page.fill("#kpi-rows tr:first-child input[name=weight]", "10")
        page.wait_for_selector("#weight-sum[data-ok=false]")
        shoot(page, "kpi-page-e2e")

        page.click("#open-review")
        page.wait_for_url(f"{live_url}/kpi/review/?quarter={QUARTER}*")
        page.wait_for_selector(".slide.is-current[data-slide=overview] .main-svg", timeout=15_000)
        shoot(page, "kpi-review-overview", full_page=False)
        seen = ["overview"]
        for _ in range(8):
            page.keyboard.press("ArrowRight")
            seen.append(page.get_attribute("body", "data-slide") or "")
        assert seen == [
            "overview",
            "marketing",
            "risk",
            "tech",
            "alerts",
            "parameters",
            "strategy",
            "handoffs",
            "actions",
        ]
        assert page.inner_text("#review-position").strip() == "9 / 9"
        assert page.is_disabled("#review-next")
        page.wait_for_selector("#handoff-stats[data-state]", state="attached", timeout=15_000)
        # The review records a decision: typing moves no screen, the card opens on the kanban.
        page.fill("#ac-title", "Halve the hand-off wait")
        page.select_option("#ac-department", "risk")
        page.fill("#ac-due", "2026-12-31")
        page.click("#action-submit")
        page.wait_for_selector("#review-actions [data-action]", timeout=15_000)
        assert page.get_attribute("body", "data-slide") == "actions"  # the screen kept
        assert "Halve the hand-off wait" in page.inner_text("#review-actions")
        assert page.locator("#review-actions a[href^='/kanban/#card-']").count() == 1
        shoot(page, "kpi-review-handoffs-e2e", full_page=False)
        page.keyboard.press("Home")
        page.keyboard.press("ArrowRight")
        assert page.get_attribute("body", "data-slide") == "marketing"
        page.wait_for_selector(".slide.is-current .main-svg", timeout=15_000)
        assert page.is_visible(".slide.is-current .big-score")
        shoot(page, "kpi-review-department", full_page=False)
        page.click("#review-next")
        assert page.get_attribute("body", "data-slide") == "risk"
        page.keyboard.press("ArrowLeft")
        assert page.get_attribute("body", "data-slide") == "marketing"
        assert errors == []
        context.close()


def test_the_pdf_button_downloads_the_review_the_worker_printed(
    live_url: str,
    celery_worker_process: str,
) -> None:
    make_user("vera_viewer", "viewer")
    with chromium() as browser:
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, live_url, "vera_viewer", f"/kpi/?quarter={QUARTER}")
        with page.expect_download(timeout=120_000) as download:
            page.click("#export-pdf")
            page.wait_for_selector("#pdf-status:not([hidden])")
        path = download.value.path()
        assert download.value.suggested_filename == f"kpi-review-{QUARTER}.pdf"
        with open(path, "rb") as document:
            assert document.read(5) == b"%PDF-"
        assert "ready" in page.inner_text("#pdf-status")
        assert errors == []
        context.close()
