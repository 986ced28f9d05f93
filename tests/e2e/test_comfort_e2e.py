"""Everyday comfort in a real Chromium (issue 23, item 4): dark mode that follows the system and
can be chosen in the header (kept across reloads, set before the first paint, charts included);
keyboard shortcuts (? opens the help, g k goes to the board, / focuses the board's search, and
nothing fires while typing); and a card dragged by touch in Chromium's touch emulation, moved on
the page and on the server, while a tap still opens the card."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kanban.models import Card, Transition
from tests.e2e.conftest import RESULTS, chromium
from tests.factories import PASSWORD, make_user
from tests.test_kanban_support import column, lane, new_card, shared_board

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TIMEOUT = 10_000

# Runs before any page script: the mode <html> has when <body> is first inserted, that is
# before anything can be painted (a flash of the wrong colours would show up here).
WATCH_FIRST_PAINT = """
window.__modeAtBody = null;
new MutationObserver((records, observer) => {
  if (!document.body) return;
  window.__modeAtBody = document.documentElement.getAttribute("data-mode") || "unset";
  observer.disconnect();
}).observe(document, { childList: true, subtree: true });
"""

RECORD_POINTERS_AND_SCROLLS = """
window.__pointers = [];
document.addEventListener("pointerdown", (e) => window.__pointers.push(e.pointerType), true);
window.__scrolls = 0;
window.addEventListener("scroll", () => { window.__scrolls += 1; });
"""


def luminance(colour: str) -> float:
    """Relative luminance (0 black … 1 white) of "#rrggbb" or "rgb(r, g, b)"/"rgba(…)"."""
    if colour.startswith("#"):
        channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    else:
        channels = [int(float(v)) for v in re.findall(r"[\d.]+", colour)[:3]]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        for c in (v / 255 for v in channels)
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def sign_in(context: Any, base: str, username: str, path: str) -> Any:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(f"{base}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}{path}")
    return page


def body_background(page: Any) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def chart_colours(page: Any, element_id: str) -> dict[str, str]:
    return page.evaluate(
        """(id) => {
          const layout = document.getElementById(id)._fullLayout;
          return { paper: layout.paper_bgcolor, font: layout.font.color,
                   grid: layout.yaxis.gridcolor };
        }""",
        element_id,
    )


def test_dark_mode_follows_the_system_and_the_choice_is_kept(live_url: str) -> None:
    make_user("dora_head", "department_head", "marketing")
    shared_board()
    with chromium() as browser:
        context = browser.new_context(color_scheme="dark", viewport={"width": 1400, "height": 900})
        context.add_init_script(WATCH_FIRST_PAINT)
        page = sign_in(context, live_url, "dora_head", "/kanban/flow/")

        # The system is dark: so is the page, from before its first paint, and so are its charts.
        assert page.evaluate("document.documentElement.dataset.mode") == "dark"
        assert page.evaluate("window.__modeAtBody") == "dark"
        assert page.get_attribute("[data-theme-choice=system]", "aria-pressed") == "true"
        assert luminance(body_background(page)) < 0.05
        page.wait_for_selector("#chart-cfd[data-drawn='1'] .main-svg", timeout=TIMEOUT)
        dark = chart_colours(page, "chart-cfd")
        assert luminance(dark["paper"]) < 0.05, dark
        assert luminance(dark["font"]) > 0.6, dark
        assert luminance(dark["grid"]) < 0.1, dark
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / "comfort-dark-flow.png"), full_page=True)

        # Light, chosen in the header: the page and the charts already drawn turn light.
        page.click("[data-theme-choice=light]")
        assert page.evaluate("document.documentElement.dataset.mode") == "light"
        assert page.get_attribute("[data-theme-choice=light]", "aria-pressed") == "true"
        assert luminance(body_background(page)) > 0.8
        page.wait_for_function(
            "document.getElementById('chart-cfd')._fullLayout.font.color === '#15202b'",
            timeout=TIMEOUT,
        )
        light = chart_colours(page, "chart-cfd")
        assert light["paper"] in ("rgba(0, 0, 0, 0)", "rgba(0,0,0,0)", "transparent"), light

        # Kept across a reload although the system is still dark, again before the first paint.
        page.reload()
        page.wait_for_selector("#chart-cfd[data-drawn='1'] .main-svg", timeout=TIMEOUT)
        assert page.evaluate("window.__modeAtBody") == "light"
        assert page.evaluate("localStorage.getItem('carloan.theme')") == "light"
        assert luminance(body_background(page)) > 0.8
        assert chart_colours(page, "chart-cfd")["font"] == "#15202b"

        # And back to the system's: dark again, charts included.
        page.click("[data-theme-choice=system]")
        assert page.evaluate("document.documentElement.dataset.mode") == "dark"
        page.wait_for_function(
            "document.getElementById('chart-cfd')._fullLayout.font.color !== '#15202b'",
            timeout=TIMEOUT,
        )
        assert luminance(chart_colours(page, "chart-cfd")["paper"]) < 0.05
        assert page.errors == []
        context.close()

        # Another person with a light system and no choice: light.
        context = browser.new_context(color_scheme="light")
        page = sign_in(context, live_url, "dora_head", "/")
        assert page.evaluate("document.documentElement.dataset.mode") == "light"
        assert luminance(body_background(page)) > 0.8
        context.close()


def test_the_help_opens_with_question_mark_and_g_k_goes_to_the_board(live_url: str) -> None:
    make_user("sam_viewer", "viewer")
    shared_board()
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = sign_in(context, live_url, "sam_viewer", "/")
        help_dialog = page.locator("#shortcuts-help")
        assert not help_dialog.is_visible()

        # "?" opens the help: a modal dialog named by its title, focus inside, kept there by Tab.
        page.keyboard.press("?")
        help_dialog.wait_for(state="visible", timeout=TIMEOUT)
        assert page.evaluate("document.getElementById('shortcuts-help').open") is True
        assert page.get_by_role("dialog", name="Keyboard shortcuts").is_visible()
        inside = "document.getElementById('shortcuts-help').contains(document.activeElement)"
        assert page.evaluate(inside)
        for key in ("Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"):
            page.keyboard.press(key)
            assert page.evaluate(inside), key
        go_board = help_dialog.locator("[data-go-url='/kanban/']")
        assert go_board.is_visible() and "g k" in go_board.inner_text()
        assert "Kanban" in go_board.inner_text()
        go_home = help_dialog.locator("#shortcuts-go > div").first
        assert go_home.is_visible() and "g d" in go_home.inner_text()
        # People and Audit trail are for managers: not listed for a viewer.
        assert help_dialog.locator("[data-go-url='/people/']").count() == 0
        page.keyboard.press("Escape")
        help_dialog.wait_for(state="hidden", timeout=TIMEOUT)

        # The footer's link opens the same help.
        page.click("footer [data-shortcuts-open]")
        help_dialog.wait_for(state="visible", timeout=TIMEOUT)
        page.click("#shortcuts-help [data-shortcuts-close]")
        help_dialog.wait_for(state="hidden", timeout=TIMEOUT)

        # g then k: the board.
        page.keyboard.press("g")
        page.keyboard.press("k")
        page.wait_for_url(f"{live_url}/kanban/", timeout=TIMEOUT)
        page.wait_for_selector("#kb-board[aria-busy=false]", timeout=15_000)

        # "/" focuses the board's search; there, keys are typed, not shortcuts.
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.id") == "f-q"
        page.keyboard.type("g?d")
        assert page.input_value("#f-q") == "g?d"
        assert not help_dialog.is_visible()
        assert page.url.startswith(f"{live_url}/kanban/")

        # With a modifier held nothing fires either.
        page.click("h1")
        page.keyboard.press("Control+/")
        page.keyboard.press("Alt+g")
        page.keyboard.press("d")
        assert page.url.startswith(f"{live_url}/kanban/")
        assert page.errors == []
        context.close()


def test_a_card_dragged_by_touch_moves_on_the_page_and_the_server(live_url: str) -> None:
    mia = make_user("tia_head", "department_head", "marketing")
    board = shared_board()
    moved = new_card(mia, "Touch-dragged leads", "marketing")["id"]
    tapped = new_card(mia, "Opened by a tap", "marketing")["id"]
    marketing, risk = lane(board, "marketing").pk, lane(board, "risk").pk
    backlog, doing = column(board, "Backlog").pk, column(board, "In progress").pk

    def card_in(lane_id: int, column_id: int, card_id: int) -> str:
        return f'.kb-cell[data-cell="{lane_id}:{column_id}"] .kb-card[data-id="{card_id}"]'

    with chromium() as browser:
        # A tablet: touch events, and the page's own viewport (so a tap is not held back for a
        # possible double-tap zoom).
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, has_touch=True, is_mobile=True
        )
        page = sign_in(context, live_url, "tia_head", "/kanban/")
        page.wait_for_selector("#live-status[data-state=live]", timeout=15_000)
        page.wait_for_selector("#kb-board[aria-busy=false]", timeout=15_000)
        cdp = context.new_cdp_session(page)

        def touch(kind: str, x: float = 0, y: float = 0) -> None:
            points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        # A tap (no movement) opens a card, as a click does.
        box = page.locator(card_in(marketing, backlog, tapped)).bounding_box()
        assert box
        touch("touchStart", box["x"] + 20, box["y"] + box["height"] / 2)
        touch("touchEnd")
        page.wait_for_selector("#kb-drawer:not([hidden])", timeout=TIMEOUT)
        assert "Opened by a tap" in page.inner_text("#kb-drawer")
        page.click("#kb-drawer-close")
        page.wait_for_selector("#kb-drawer", state="hidden", timeout=TIMEOUT)
        assert page.locator(card_in(marketing, backlog, tapped)).count() == 1

        source = page.locator(card_in(marketing, backlog, moved))
        assert source.evaluate("(node) => getComputedStyle(node).touchAction") == "none"
        target = page.locator(f'.kb-cell[data-cell="{risk}:{doing}"] .kb-cell__cards')
        target.scroll_into_view_if_needed()
        page.evaluate(RECORD_POINTERS_AND_SCROLLS)
        start = source.bounding_box()
        end = target.bounding_box()
        assert start and end
        x0, y0 = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
        x1, y1 = end["x"] + end["width"] / 2, end["y"] + min(end["height"] / 2, 40)

        # A finger puts the card on risk's In progress: a hand-off.
        touch("touchStart", x0, y0)
        steps = 12
        for i in range(1, steps + 1):
            touch("touchMove", x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps)
            if i == steps // 2:
                # Mid-drag: a copy follows the finger, the card waits faded, the page stays put.
                assert page.locator(".kb-ghost").count() == 1
                assert page.locator(f'.kb-card.is-dragging[data-id="{moved}"]').count() == 1
        touch("touchEnd")

        page.wait_for_selector(card_in(risk, doing, moved), timeout=TIMEOUT)
        page.wait_for_selector(".kb-toast--ok:has-text('handed off')", timeout=TIMEOUT)
        page.wait_for_selector(f'.kb-card[data-id="{moved}"]:not(.is-saving)', timeout=TIMEOUT)
        assert page.locator(card_in(marketing, backlog, moved)).count() == 0
        assert page.locator(".kb-ghost").count() == 0
        assert page.evaluate("window.__pointers") == ["touch"]
        assert page.evaluate("window.__scrolls") == 0
        # The drag opened nothing.
        assert page.locator("#kb-drawer").is_hidden()
        # The server has it: asked again, the card is there.
        answer = page.request.get(f"{live_url}/api/kanban/cards/{moved}/").json()
        assert (answer["lane"], answer["column"]) == (risk, doing)

        page.screenshot(path=str(RESULTS / "comfort-touch-drag.png"))
        assert page.errors == []
        context.close()

    card = Card.objects.get(pk=moved)
    assert (card.lane_id, card.column_id) == (risk, doing)
    assert Transition.objects.filter(card=card, is_handoff=True).count() == 1
    assert Card.objects.get(pk=tapped).column_id == backlog
