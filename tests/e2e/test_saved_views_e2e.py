"""Saved views in a real Chromium (issue 23, item 2): a person opens the board filtered through
its URL, saves that view from the header's Views menu, then opens it from the menu in a new page
and finds the same filter applied."""

from __future__ import annotations

from typing import Any

import pytest

from carloan.people.models import SavedView
from tests.e2e.conftest import RESULTS, chromium
from tests.factories import PASSWORD, make_user
from tests.test_kanban_support import new_card, shared_board

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

READY = 15_000


def board_ready(page: Any) -> None:
    page.wait_for_selector("#kb-board[aria-busy=false]", timeout=READY)


def test_a_view_saved_from_the_menu_reopens_the_filtered_board(live_url: str) -> None:
    head = make_user("sue_saver", "department_head", "marketing")
    shared_board()
    landing = new_card(head, "Landing page copy", "marketing")["id"]
    dealer = new_card(head, "Dealer audit follow-up", "marketing")["id"]

    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 950})
        errors: list[str] = []
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_url}/kanban/?q=Landing")
        page.fill("input[name=username]", "sue_saver")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.form button[type=submit]")
        page.wait_for_url(f"{live_url}/kanban/?q=Landing")
        board_ready(page)
        assert page.locator(f'.kb-card[data-id="{landing}"]').count() == 1
        assert page.locator(f'.kb-card[data-id="{dealer}"]').count() == 0

        page.click("#views-menu summary")
        page.click("#views-menu [data-action=save]")
        dialog = page.locator("#views-save")
        dialog.wait_for(state="visible")
        page.fill("#views-name", "Landing copy only")
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / "saved-views-dialog.png"))
        dialog.locator("button[type=submit]").click()
        dialog.wait_for(state="hidden")
        saved = page.locator("#views-menu .views-menu__link", has_text="Landing copy only")
        saved.wait_for(timeout=READY)
        assert "Landing copy only" in page.locator("#views-menu [data-role=status]").inner_text()

        # A new page on the unfiltered board: every card; then the saved view from the menu.
        other = context.new_page()
        other.on("pageerror", lambda exc: errors.append(str(exc)))
        other.goto(f"{live_url}/kanban/")
        board_ready(other)
        assert other.locator(f'.kb-card[data-id="{dealer}"]').count() == 1
        other.click("#views-menu summary")
        other.locator("#views-menu .views-menu__link", has_text="Landing copy only").click()
        other.wait_for_url(f"{live_url}/kanban/?q=Landing")
        board_ready(other)
        assert other.input_value("#f-q") == "Landing"
        assert other.locator(f'.kb-card[data-id="{landing}"]').count() == 1
        assert other.locator(f'.kb-card[data-id="{dealer}"]').count() == 0
        other.click("#views-menu summary")
        other.locator("#views-menu .views-menu__link").first.wait_for(timeout=READY)
        other.screenshot(path=str(RESULTS / "saved-views-menu.png"))
        context.close()

    assert errors == [], errors
    view = SavedView.objects.get(owner=head)
    assert (view.name, view.path, view.query, view.shared) == (
        "Landing copy only",
        "/kanban/",
        "q=Landing",
        False,
    )
