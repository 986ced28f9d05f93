"""End to end on `/kanban/` (issue 5, "Done when"): people with the board open in real browsers
against the real ASGI server and channel layer. One drags a card with the mouse into another
department's lane and column; the others see it move without reloading. A keyboard move (Space,
arrows, Space). A drop into a column at its hard WIP limit is refused with the server's reason
and the card goes back. Screenshots of the board with the demo cards and of the flow view, in
English and Chinese, go to test-results/."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management import call_command

from kanban.models import Card, Column, Lane, Transition
from tests.e2e.conftest import RESULTS, chromium
from tests.factories import PASSWORD, make_user
from tests.test_kanban_support import column, lane, new_card, shared_board

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIVE_TIMEOUT = 10_000


def shoot(page: Any, name: str, *, full: bool = True) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=full)


@contextmanager
def person(
    browser: Any,
    base: str,
    username: str,
    *,
    password: str = PASSWORD,
    path: str = "/kanban/",
    lang: str = "en",
    width: int = 1600,
) -> Iterator[Any]:
    """A signed-in browser context on `path`; for the board, live and built. Page errors fail."""
    context = browser.new_context(viewport={"width": width, "height": 1000})
    if lang != "en":
        context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}{path}")
    assert "/login/" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}{path}")
    if path.startswith("/kanban/") and "flow" not in path:
        page.wait_for_selector("#live-status[data-state=live]", timeout=15_000)
        page.wait_for_selector("#kb-board[aria-busy=false]", timeout=15_000)
    page.evaluate("window.__notReloaded = true")  # anything that reloads loses this marker
    try:
        yield page
    finally:
        assert errors == [], errors
        context.close()


def announced(page: Any, words: str) -> None:
    """Wait until the live region for screen readers says `words`."""
    page.wait_for_selector(
        f"#kb-announce:has-text('{words}')", state="attached", timeout=LIVE_TIMEOUT
    )


def cell(lane_id: int, column_id: int) -> str:
    return f'.kb-cell[data-cell="{lane_id}:{column_id}"]'


def card_in(lane_id: int, column_id: int, card_id: int) -> str:
    return f'{cell(lane_id, column_id)} .kb-card[data-id="{card_id}"]'


@pytest.fixture
def board_people(live_url: str) -> dict[str, Any]:
    """Two department heads and a viewer; cards in marketing's Backlog; Review of the risk lane
    at a hard limit of one card."""
    mia = make_user("mia_head", "department_head", "marketing")
    rick = make_user("rick_head", "department_head", "risk")
    make_user("val_viewer", "viewer")
    board = shared_board()
    Column.objects.filter(board=board, name="Review").update(
        wip_limit=1, wip_scope="per_lane", wip_policy="hard"
    )
    leads = new_card(mia, "420 Autohome leads to pre-screen", "marketing", labels=["leads"])
    keys = new_card(mia, "Landing page copy", "marketing")
    audit = new_card(mia, "Dealer audit follow-up", "marketing")
    full = new_card(rick, "Recalibrate the LTV limit", "risk", "Review")
    return {
        "board": board,
        "mia": mia,
        "rick": rick,
        "leads": leads["id"],
        "keys": keys["id"],
        "audit": audit["id"],
        "full": full["id"],
        "marketing": lane(board, "marketing").pk,
        "risk": lane(board, "risk").pk,
        "backlog": column(board, "Backlog").pk,
        "doing": column(board, "In progress").pk,
        "review": column(board, "Review").pk,
    }


def test_a_mouse_drag_is_seen_live_by_the_others(live_url: str, board_people: Any) -> None:
    b = board_people
    with (
        chromium() as browser,
        person(browser, live_url, "mia_head") as mia,
        person(browser, live_url, "rick_head") as rick,
        person(browser, live_url, "val_viewer") as viewer,
    ):
        source = card_in(b["marketing"], b["backlog"], b["leads"])
        assert rick.locator(source).count() == 1
        # The viewer reads only: no card can be dragged, no new-card button.
        assert viewer.locator(".kb-card[draggable=true]").count() == 0
        assert viewer.locator("#kb-new-open").count() == 0
        assert mia.locator(f'.kb-card[data-id="{b["leads"]}"][draggable=true]').count() == 1

        mia.drag_and_drop(source, f"{cell(b['risk'], b['doing'])} .kb-cell__cards")
        target = card_in(b["risk"], b["doing"], b["leads"])
        mia.wait_for_selector(target, timeout=LIVE_TIMEOUT)
        rick.wait_for_selector(target, timeout=LIVE_TIMEOUT)
        viewer.wait_for_selector(target, timeout=LIVE_TIMEOUT)
        assert rick.locator(source).count() == 0
        # Told who did it, a hand-off; counts follow; nobody reloaded.
        rick.wait_for_selector(".kb-toast--live:has-text('mia_head handed')", timeout=LIVE_TIMEOUT)
        assert rick.inner_text(f"{cell(b['risk'], b['doing'])} .kb-cell__count") == "1 of 5"
        for page in (mia, rick, viewer):
            assert page.evaluate("window.__notReloaded") is True
        mia.wait_for_selector(".kb-toast--ok:has-text('handed off')", timeout=LIVE_TIMEOUT)
        shoot(rick, "kanban-e2e-live-move", full=False)

    card = Card.objects.get(pk=b["leads"])
    assert (card.lane_id, card.column_id) == (b["risk"], b["doing"])
    assert Transition.objects.filter(card=card, is_handoff=True).count() == 1


def test_a_keyboard_move_and_a_hard_wip_refusal(live_url: str, board_people: Any) -> None:
    b = board_people
    with (
        chromium() as browser,
        person(browser, live_url, "mia_head") as mia,
        person(browser, live_url, "rick_head") as rick,
    ):
        # Keyboard: focus the card, Space picks it up, → moves it to In progress, Space drops it;
        # the live region says what happened at each step.
        mia.focus(f'.kb-card[data-id="{b["keys"]}"]')
        mia.keyboard.press("Space")
        announced(mia, "Picked up")
        mia.keyboard.press("ArrowRight")
        mia.wait_for_selector(f"{cell(b['marketing'], b['doing'])}.is-over")
        mia.keyboard.press("Space")
        target = card_in(b["marketing"], b["doing"], b["keys"])
        mia.wait_for_selector(target, timeout=LIVE_TIMEOUT)
        rick.wait_for_selector(target, timeout=LIVE_TIMEOUT)
        announced(mia, "Dropped")
        # Focus stays on the card it moved.
        assert mia.evaluate("document.activeElement.dataset.id") == str(b["keys"])

        # Escape cancels a pick-up: nothing moves.
        mia.keyboard.press("Space")
        mia.keyboard.press("ArrowRight")
        mia.keyboard.press("Escape")
        announced(mia, "cancelled")
        assert mia.locator(target).count() == 1

        # Hard WIP limit: risk's Review holds one card already; the drop is refused with the
        # server's reason and the card goes back to marketing's Backlog.
        full = cell(b["risk"], b["review"])
        assert mia.get_attribute(full, "data-wip") == "full"
        source = card_in(b["marketing"], b["backlog"], b["audit"])
        mia.drag_and_drop(source, f"{full} .kb-cell__cards")
        toast = mia.wait_for_selector(".kb-toast--error", timeout=LIVE_TIMEOUT)
        message = toast.inner_text()
        assert "Move refused" in message and "WIP limit" in message and "Review" in message
        mia.wait_for_selector(source, timeout=LIVE_TIMEOUT)
        assert mia.locator(f'{full} .kb-card[data-id="{b["audit"]}"]').count() == 0
        shoot(mia, "kanban-e2e-wip-refused", full=False)
        assert rick.locator(f'{full} .kb-card[data-id="{b["audit"]}"]').count() == 0
        for page in (mia, rick):
            assert page.evaluate("window.__notReloaded") is True

    keys = Card.objects.get(pk=b["keys"])
    assert (keys.lane_id, keys.column_id) == (b["marketing"], b["doing"])
    audit = Card.objects.get(pk=b["audit"])
    assert (audit.lane_id, audit.column_id) == (b["marketing"], b["backlog"])


def test_an_open_card_keeps_what_is_being_typed(live_url: str, board_people: Any) -> None:
    """Rick edits the title of a card Mia is editing: Mia's input stays, she is told; saving
    her description (a field nobody else changed) merges."""
    b = board_people
    with (
        chromium() as browser,
        person(browser, live_url, "mia_head") as mia,
        person(browser, live_url, "rick_head") as rick,
    ):
        mia.click(f'.kb-card[data-id="{b["leads"]}"]')
        mia.wait_for_selector("#kb-drawer:not([hidden]) #kb-edit")
        mia.fill("#d-title", "Mia's title in progress")
        mia.fill("#d-description", "Pre-screen on score and LTV band.")
        rick.click(f'.kb-card[data-id="{b["leads"]}"]')
        rick.wait_for_selector("#kb-drawer:not([hidden]) #kb-edit")
        rick.fill("#d-title", "Rick's title")
        rick.click("#kb-save")
        rick.wait_for_selector(".kb-toast--ok:has-text('Saved')", timeout=LIVE_TIMEOUT)
        # Mia: her typing is untouched, a notice says who changed what.
        mia.wait_for_selector("#kb-drawer-notice:has-text('rick_head changed title')")
        assert mia.input_value("#d-title") == "Mia's title in progress"
        mia.wait_for_selector(f'.kb-card[data-id="{b["leads"]}"]:has-text("Rick\'s title")')
        # Keep theirs for the title, save the description: merged.
        mia.click("#kb-save")
        mia.wait_for_selector(".kb-conflict", timeout=LIVE_TIMEOUT)
        assert "rick_head" in mia.inner_text(".kb-conflict")
        mia.click(".kb-conflict button:has-text('Keep theirs')")
        mia.wait_for_selector(".kb-toast--ok:has-text('Saved')", timeout=LIVE_TIMEOUT)
        assert mia.input_value("#d-title") == "Rick's title"

    card = Card.objects.get(pk=b["leads"])
    assert card.title == "Rick's title"
    assert card.description == "Pre-screen on score and LTV band."


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_screenshots_of_the_demo_board_and_flow(live_url: str, lang: str) -> None:
    shared_board()
    call_command("kanban_seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    users = {lane.department for lane in Lane.objects.all()}
    assert users == {"marketing", "risk", "tech"}
    suffix = "" if lang == "en" else "-zh"
    with chromium() as browser:
        with person(browser, live_url, "risk", password="carloan-demo", lang=lang) as page:
            page.wait_for_selector(".kb-card--incident")
            page.wait_for_selector(".kb-cell[data-wip=full]")
            page.wait_for_selector(".kb-cell[data-wip=over]")
            shoot(page, f"kanban-board{suffix}")
            page.click(".kb-card:has-text('Lead-score cutoff')")
            page.wait_for_selector("#kb-history li.is-handoff")
            shoot(page, f"kanban-card{suffix}", full=False)
            page.locator("#kb-history").scroll_into_view_if_needed()
            shoot(page, f"kanban-card-history{suffix}", full=False)
        with person(browser, live_url, "manager", password="carloan-demo", lang=lang,
                    path="/kanban/flow/") as flow:  # fmt: skip
            flow.wait_for_selector("#chart-cfd[data-drawn='1']")
            flow.wait_for_selector("#chart-handoffs[data-drawn='1']")
            shoot(flow, f"kanban-flow{suffix}")
