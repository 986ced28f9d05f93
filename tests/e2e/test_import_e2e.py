"""End to end, in a real browser against the real ASGI server: sign in through the form, open the
imports page, upload CSV files and read what the page shows (contract sections 2, 4, 4a, 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import RESULTS, chromium
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GOOD_LEADS = """lead_id,created_at,region,branch,channel
E2E-L1,2026-05-01T09:00:00,EAST-01,Pudong,search
E2E-L2,2026-05-01T10:30:00,EAST-01,,social
E2E-L3,2026-05-02T11:15:00,WEST-02,Chengdu,dealer
"""
BAD_LEADS = """lead_id,created_at,region,branch,channel
E2E-B1,2026-05-03T09:00:00,EAST-01,Pudong,search
E2E-B2,not-a-timestamp,EAST-01,,social
E2E-B3,2026-05-03T11:15:00,WEST-02,Chengdu,dealer
"""
BAD_LINE = "3"  # the header is line 1


def sign_in(page: Any, base: str, username: str, path: str = "/imports/") -> None:
    page.goto(f"{base}{path}")
    assert "/login/" in page.url, "a signed-out visitor is sent to the login form"
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}{path}")


def shoot(page: Any, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=True)


def test_sign_in_and_live_imports_page(live_url: str) -> None:
    make_user("hana_head", "department_head", "marketing")
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_url}/imports/")
        shoot(page, "login-en")
        sign_in(page, live_url, "hana_head")
        assert page.inner_text("h1") == "Imports"
        assert "hana_head" in page.inner_text(".user-box")
        # The page's socket connects through the real server and the header says so.
        page.wait_for_selector("#live-status[data-state=live]", timeout=15_000)
        assert page.is_enabled("#id_file")
        page.select_option("#id_kind", "loans")
        assert page.is_visible(".kind-columns[data-kind=loans]")
        assert not page.is_visible(".kind-columns[data-kind=leads]")
        shoot(page, "imports-en")
        # Switch to Chinese with the header's language buttons.
        page.click(".lang-switch button[value=zh-hans]")
        page.wait_for_selector("html[lang=zh-Hans]")
        assert page.inner_text("h1") == "导入"
        page.wait_for_selector("#live-status[data-state=live]", timeout=15_000)
        assert page.inner_text("#live-status").strip() == "实时"
        shoot(page, "imports-zh-hans")
        page.click(".user-box button[type=submit]")
        page.wait_for_url(f"{live_url}/login/")
        assert errors == []
        context.close()


def test_upload_shows_counts_then_bad_rows(live_url: str, tmp_path: Path) -> None:
    make_user("hana_head", "department_head", "marketing")
    good = tmp_path / "leads.csv"
    good.write_text(GOOD_LEADS, encoding="utf-8")
    bad = tmp_path / "leads_bad.csv"
    bad.write_text(BAD_LEADS, encoding="utf-8")
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, live_url, "hana_head")
        page.wait_for_selector("#live-status[data-state=live]", timeout=15_000)

        page.select_option("#id_kind", "leads")
        page.set_input_files("#id_file", str(good))
        page.click("#import-submit")
        page.wait_for_selector("#import-result.result--ok, #import-result.result--error")
        shoot(page, "import-result-ok")
        assert page.is_visible("#result-rows"), page.inner_text("#import-result")
        assert page.inner_text("#result-rows") == "3"
        assert page.inner_text("#result-created") == "3"
        assert page.inner_text("#result-updated") == "0"
        # The socket adds the run to "Recent imports" without a reload.
        row = page.wait_for_selector("#recent-imports tr:has-text('leads.csv')", timeout=15_000)
        assert "hana_head" in row.inner_text()

        page.set_input_files("#id_file", str(bad))
        page.click("#import-submit")
        page.wait_for_selector("#import-result.result--error")
        lines = page.locator("#result-errors tbody tr td:first-child").all_inner_texts()
        assert lines == [BAD_LINE]
        assert "created_at" in page.inner_text("#result-errors")
        assert page.inner_text("#result-bad-total").endswith("1")
        shoot(page, "import-result-bad-rows")
        page.wait_for_selector("#recent-imports tr:has-text('leads_bad.csv')", timeout=15_000)
        assert errors == []
        context.close()


def test_viewer_sees_the_form_disabled(live_url: str) -> None:
    make_user("vic_viewer", "viewer")
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, live_url, "vic_viewer")
        assert page.is_disabled("#id_file")
        assert page.is_disabled("#import-submit")
        assert page.is_visible("#may-not-import")
        page.close()
