"""End to end on `/compliance/` (contract section 9): marketing's head writes a script with a
violation and sees it highlighted in place, submits it; risk control's head, with the page open
in a second browser, sees it arrive without reloading and approves it with a note; a manager then
lowers `marketing.max_promo_discount_pct` through the API, and the approved script turns
`needs_review` on both open pages, live, with the new finding and the figure that counts it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.e2e.conftest import RESULTS, chromium
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DISCOUNT = "marketing.max_promo_discount_pct"
TEXT = "Spring offer: 4% off your rate. Guaranteed approval for everyone!"
LIVE_TIMEOUT = 10_000


def shoot(page: Any, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=True)


@contextmanager
def person(browser: Any, base: str, username: str) -> Iterator[Any]:
    """A signed-in browser context on /compliance/ with its socket live; page errors fail."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/compliance/")
    assert "/login/" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/compliance/")
    page.wait_for_selector("#live-status[data-state=live]", timeout=15_000)
    page.evaluate("window.__notReloaded = true")  # anything that reloads the page loses this
    try:
        yield page
    finally:
        assert errors == [], errors
        context.close()


def api(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 (our own server, http)
        f"{base}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            **({"Authorization": f"Token {token}"} if token else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def state_of(page: Any, script_id: int, state: str) -> None:
    """Wait until the page shows the script in `state`, in the list and in the open detail."""
    page.wait_for_selector(
        f'#script-list [data-script="{script_id}"][data-state="{state}"]', timeout=LIVE_TIMEOUT
    )


def test_a_script_goes_from_draft_to_approved_and_back_to_review_live(live_url: str) -> None:
    make_user("mia_marketing", "department_head", "marketing")
    make_user("rick_risk", "department_head", "risk")
    make_user("maria_manager", "manager")
    with (
        chromium() as browser,
        person(browser, live_url, "mia_marketing") as mia,
        person(browser, live_url, "rick_risk") as rick,
    ):
        # Risk control's head may not write scripts: no "New script" for him.
        assert rick.locator("#script-new").count() == 0

        # Marketing writes a script with a violation: it is checked at once and highlighted.
        mia.click("#script-new")
        mia.fill("#script-title", "Spring promotion")
        mia.fill("#script-channel", "phone")
        mia.fill("#script-text", TEXT)
        mia.click("[data-action=save-script]")
        mia.wait_for_selector("[data-script-detail] mark.cmp-mark--high")
        detail = "[data-script-detail]"
        script_id = int(mia.get_attribute(detail, "data-script-detail") or 0)
        assert "Guaranteed approv" in mia.inner_text(f"{detail} mark.cmp-mark--high")
        finding = mia.inner_text(f"{detail} .cmp-finding[data-category=guaranteed_approval]")
        assert "Promising approval" in finding and "High" in finding and "Say instead:" in finding
        assert mia.get_attribute(f"{detail} mark.cmp-mark--high", "data-n") == "1"
        # The discount is within today's limit (5 %): no finding for it yet.
        assert mia.locator(f"{detail} .cmp-finding[data-category=excess_discount]").count() == 0
        state_of(rick, script_id, "draft")  # risk's page learns of the draft live

        mia.click(f"{detail} [data-action=submit]")
        mia.click("[data-move=submit] [data-action=confirm-move]")
        state_of(mia, script_id, "in_review")
        shoot(mia, "compliance-script-highlighted")

        # Risk control sees it arrive without reloading, and approves it with a note.
        state_of(rick, script_id, "in_review")
        rick.click(f'#script-list [data-script="{script_id}"] a')
        rick.wait_for_selector(f'[data-script-detail="{script_id}"]')
        rick.click(f"{detail} [data-action=approve]")
        rick.click("[data-move=approve] [data-action=confirm-move]")
        assert "note" in rick.inner_text("[data-move=approve] .cmp-error")  # not compliant
        rick.fill("#move-note", "Pilot campaign: legal checked the wording")
        rick.click("[data-move=approve] [data-action=confirm-move]")
        rick.wait_for_selector(f"{detail} .cmp-state[data-state=approved]", timeout=LIVE_TIMEOUT)
        mia.wait_for_selector(f"{detail} .cmp-state[data-state=approved]", timeout=LIVE_TIMEOUT)
        assert "legal checked the wording" in mia.inner_text(f"{detail} [data-role=review-note]")
        discrepancy = (
            "(text) => document.querySelector('#fig-discrepancy').textContent.trim() === text"
        )
        mia.wait_for_function(discrepancy, arg="0 %", timeout=LIVE_TIMEOUT)

        # A manager lowers the promotion limit below the script's 4 %.
        token = api(
            live_url,
            "POST",
            "/api/auth/token/",
            {"username": "maria_manager", "password": PASSWORD},
        )["token"]
        version = next(
            p["version"]
            for p in api(live_url, "GET", "/api/parameters/", token=token)
            if p["key"] == DISCOUNT
        )
        api(
            live_url,
            "PATCH",
            f"/api/parameters/{DISCOUNT}/",
            {"value": 3, "version": version, "reason": "Tighter promotions"},
            token=token,
        )

        # Both open pages show it needs review again, with the finding and the live limit.
        for page in (mia, rick):
            state_of(page, script_id, "needs_review")
            page.wait_for_selector(
                f"{detail} .cmp-state[data-state=needs_review]", timeout=LIVE_TIMEOUT
            )
            param = page.inner_text(
                f"{detail} .cmp-finding[data-category=excess_discount] .cmp-finding__param"
            )
            assert "Largest promotional discount: 3 %" in param, param
            assert page.is_visible(f"{detail} [data-role=needs-review]")
            page.wait_for_function(discrepancy, arg="100 %", timeout=LIVE_TIMEOUT)
            assert page.evaluate("window.__notReloaded") is True
        shoot(rick, "compliance-needs-review-live")
