"""End to end on `/parameters/` (issue 3, "Done when"): two people with the page open in real
browsers against the real ASGI server; one changes a value, the other sees it without reloading,
with the highlight and who changed it. Also the conflict prompt of two managers editing the same
field, and four-eyes: one manager proposes a risk threshold, another approves it in their own
browser, and the proposer's page shows the new value live."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.e2e.conftest import RESULTS, chromium
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WARN = "alert.overdue_rate.warn_pct"
LTV = "risk.max_ltv_pct"
LIVE_TIMEOUT = 10_000


def shoot(page: Any, name: str, *, full: bool = False) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=full)


@contextmanager
def person(browser: Any, base: str, username: str, *, lang: str = "en") -> Iterator[Any]:
    """A signed-in browser context on /parameters/ with its socket live; page errors fail."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    if lang != "en":
        context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/parameters/")
    assert "/login/" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/parameters/")
    page.wait_for_selector("#live-status[data-state=live]", timeout=15_000)
    # Anything that reloads the page loses this marker.
    page.evaluate("window.__notReloaded = true")
    try:
        yield page
    finally:
        assert errors == [], errors
        context.close()


def value_of(page: Any, key: str) -> str:
    return page.inner_text(f'[data-param="{key}"][data-role=value]').strip()


def meta_of(page: Any, key: str) -> str:
    return page.inner_text(f'[data-param="{key}"][data-role=meta]').strip()


def wait_value(page: Any, key: str, text: str) -> None:
    page.wait_for_function(
        '([key, text]) => document.querySelector(`[data-param="${key}"][data-role=value]`)'
        ".textContent.trim() === text",
        arg=[key, text],
        timeout=LIVE_TIMEOUT,
    )


def editor(key: str) -> str:
    return f'form[data-editor="{key}"]'


def test_a_viewer_sees_a_managers_change_without_reloading(live_url: str) -> None:
    make_user("maria_manager", "manager")
    make_user("vic_viewer", "viewer")
    with (
        chromium() as browser,
        person(browser, live_url, "maria_manager") as maria,
        person(browser, live_url, "vic_viewer") as vic,
    ):
        assert value_of(vic, WARN) == "5 %"
        assert "Default, never changed" in meta_of(vic, WARN)
        # The viewer has no edit controls and is told who may change the values.
        assert vic.locator("button[data-action=edit]").count() == 0
        assert vic.is_visible("#params-readonly")
        shoot(vic, "parameters-viewer-en", full=True)

        maria.click(f'button[data-action=edit][data-key="{WARN}"]')
        form = editor(WARN)
        assert "Between 0 and 1,000 %" in maria.inner_text(form)
        # Client-side hint first: warn must stay below critical (12 %).
        maria.fill(f"{form} input[name=value]", "15")
        maria.click(f"{form} [data-action=save]")
        error = maria.inner_text(f"{form} .param-editor__error")
        assert "below the critical threshold" in error
        maria.fill(f"{form} input[name=value]", "7")
        maria.fill(f"{form} input[name=reason]", "Watch overdue loans closer")
        vic.locator('tr[data-metric="overdue_rate"]').scroll_into_view_if_needed()
        maria.click(f"{form} [data-action=save]")

        # The viewer's page updates in place, highlighted, saying who changed it.
        wait_value(vic, WARN, "7 %")
        cell = vic.locator(f'[data-param-cell="{WARN}"]')
        assert "is-flash" in (cell.get_attribute("class") or "")
        assert "changed by maria_manager just now" in meta_of(vic, WARN)
        assert "v2" in meta_of(vic, WARN)
        shoot(vic, "parameters-viewer-live-change")
        assert vic.evaluate("window.__notReloaded") is True
        # The manager's own page shows it too, and the editor is closed.
        wait_value(maria, WARN, "7 %")
        maria.wait_for_selector(form, state="detached", timeout=LIVE_TIMEOUT)

        # History lists the change with its reason; the viewer sees no revert buttons.
        vic.click(f'button[data-action=history][data-key="{WARN}"]')
        vic.wait_for_selector("#history-body .history-table")
        history = vic.inner_text("#history-body")
        assert "Watch overdue loans closer" in history and "maria_manager" in history
        assert vic.locator("#history-body [data-action=revert]").count() == 0
        vic.click("#history-close")

        # The manager reverts to version 1 from the history; the viewer sees 5 % again.
        maria.click(f'button[data-action=history][data-key="{WARN}"]')
        maria.wait_for_selector('#history-body tr[data-version="1"] [data-action=revert]')
        maria.wait_for_timeout(250)  # the drawer slides in
        shoot(maria, "parameters-history-drawer")
        maria.click('#history-body tr[data-version="1"] [data-action=revert]')
        maria.click("#history-body [data-action=confirm-revert]")
        wait_value(vic, WARN, "5 %")
        assert "v3" in meta_of(vic, WARN)
        assert vic.evaluate("window.__notReloaded") is True


def test_two_managers_editing_the_same_field_get_the_conflict_prompt(live_url: str) -> None:
    make_user("maria_manager", "manager")
    make_user("mona_manager", "manager")
    with (
        chromium() as browser,
        person(browser, live_url, "maria_manager") as maria,
        person(browser, live_url, "mona_manager") as mona,
    ):
        form = editor(WARN)
        for page in (maria, mona):
            page.click(f'button[data-action=edit][data-key="{WARN}"]')
        mona.fill(f"{form} input[name=value]", "6.5")
        maria.fill(f"{form} input[name=value]", "7")
        maria.click(f"{form} [data-action=save]")

        # Mona is editing that very field: her input stays, a notice says what happened.
        mona.wait_for_selector(f"{form} .params-notice-warn", timeout=LIVE_TIMEOUT)
        notice = mona.inner_text(f"{form} .params-notice-warn")
        assert "maria_manager changed this to 7 %" in notice
        assert mona.input_value(f"{form} input[name=value]") == "6.5"
        wait_value(mona, WARN, "7 %")

        # Saving with the version she started from: 409, the conflict prompt.
        mona.click(f"{form} [data-action=save]")
        mona.wait_for_selector(f"{form} .params-conflict", timeout=LIVE_TIMEOUT)
        prompt = mona.inner_text(f"{form} .params-conflict")
        assert "maria_manager set it to 7 % (version 2)" in prompt
        assert "Your value was 6.5 %" in prompt
        mona.locator(form).scroll_into_view_if_needed()
        shoot(mona, "parameters-conflict-prompt")

        # "Apply mine on top": re-sent with the new version; Maria sees it live.
        mona.click(f"{form} [data-action=apply-mine]")
        wait_value(maria, WARN, "6.5 %")
        assert "changed by mona_manager just now" in meta_of(maria, WARN)
        assert "v3" in meta_of(maria, WARN)
        mona.wait_for_selector(form, state="detached", timeout=LIVE_TIMEOUT)

        # Next round, "keep theirs" closes the editor on the other person's value.
        for page in (maria, mona):
            page.click(f'button[data-action=edit][data-key="{WARN}"]')
        maria.fill(f"{form} input[name=value]", "8")
        mona.fill(f"{form} input[name=value]", "9")
        maria.click(f"{form} [data-action=save]")
        wait_value(mona, WARN, "8 %")
        mona.click(f"{form} [data-action=save]")
        mona.wait_for_selector(f"{form} .params-conflict", timeout=LIVE_TIMEOUT)
        mona.click(f"{form} [data-action=keep-theirs]")
        assert mona.locator(form).count() == 0
        assert value_of(mona, WARN) == "8 %"
        maria.wait_for_timeout(300)
        assert value_of(maria, WARN) == "8 %"
        for page in (maria, mona):
            assert page.evaluate("window.__notReloaded") is True


def test_four_eyes_one_manager_proposes_another_approves(live_url: str) -> None:
    make_user("maria_manager", "manager")
    make_user("mona_manager", "manager")
    with (
        chromium() as browser,
        person(browser, live_url, "maria_manager") as maria,
        person(browser, live_url, "mona_manager", lang="zh-hans") as mona,
    ):
        assert mona.inner_text("h1") == "实时参数"
        form = editor(LTV)
        maria.click(f'button[data-action=edit][data-key="{LTV}"]')
        assert "second manager" in maria.inner_text(f"{form} .param-editor__foureyes")
        maria.fill(f"{form} input[name=value]", "75")
        maria.fill(f"{form} input[name=reason]", "Used-car prices are falling")
        assert maria.inner_text(f"{form} [data-action=save]") == "Send for approval"
        maria.click(f"{form} [data-action=save]")

        # Filed, not applied: both pages show the pending request; the value is unchanged.
        maria.wait_for_selector("#pending-list article.request", timeout=LIVE_TIMEOUT)
        mona.wait_for_selector("#pending-list article.request", timeout=LIVE_TIMEOUT)
        assert value_of(maria, LTV) == "80 %"
        assert value_of(mona, LTV) == "80%"
        assert "75 %" in maria.inner_text(f'[data-param="{LTV}"][data-role=pending]')
        # The requester may withdraw but not approve; the other manager may approve.
        assert maria.locator("#pending-list [data-action=approve]").count() == 0
        assert maria.locator("#pending-list [data-action=withdraw]").count() == 1
        assert mona.locator("#pending-list [data-action=approve]").count() == 1
        request = mona.inner_text("#pending-list article.request")
        assert "maria_manager" in request and "80% → 75%" in request
        assert "Used-car prices are falling" in request
        shoot(mona, "parameters-pending-zh-hans")
        shoot(maria, "parameters-pending-requester-en")

        mona.click("#pending-list [data-action=approve]")
        # Maria's page shows the new value live, and the request is gone from both pages.
        wait_value(maria, LTV, "75 %")
        assert "changed by mona_manager just now" in meta_of(maria, LTV)
        maria.wait_for_selector("#pending-empty", timeout=LIVE_TIMEOUT)
        mona.wait_for_selector("#pending-empty", timeout=LIVE_TIMEOUT)
        wait_value(mona, LTV, "75%")
        assert "mona_manager" in maria.inner_text("#params-toasts")
        shoot(maria, "parameters-approved-live")
        mona.evaluate("window.scrollTo(0, 0)")
        shoot(mona, "parameters-manager-zh-hans", full=True)
        for page in (maria, mona):
            assert page.evaluate("window.__notReloaded") is True


def test_budget_split_and_presets(live_url: str) -> None:
    make_user("maria_manager", "manager")
    make_user("vic_viewer", "viewer")
    with (
        chromium() as browser,
        person(browser, live_url, "maria_manager") as maria,
        person(browser, live_url, "vic_viewer") as vic,
    ):
        maria.click("#budget-edit")
        maria.fill("#budget-0", "50")
        assert "110" in maria.inner_text("#budget-sum")
        assert maria.is_disabled("#budget-save")
        maria.fill("#budget-1", "20")
        assert "100" in maria.inner_text("#budget-sum") and maria.is_enabled("#budget-save")
        maria.locator("#budget").scroll_into_view_if_needed()
        shoot(maria, "parameters-budget-editor")
        maria.click("#budget-save")
        wait_value(vic, "strategy.budget.data_platform_pct", "50 %")
        wait_value(vic, "strategy.budget.risk_collaboration_pct", "20 %")
        assert vic.inner_text("#budget-total") == "100 %"

        maria.click('[data-preset="tech_transformation"] [data-action=apply-preset]')
        assert "Tech transformation" in maria.inner_text('[data-preset="tech_transformation"]')
        maria.click('[data-preset="tech_transformation"] [data-action=confirm-preset]')
        wait_value(vic, "strategy.budget.agile_platform_pct", "70 %")
        vic.wait_for_selector('[data-preset="tech_transformation"].is-current')
        assert vic.locator(".preset.is-current").count() == 1
        vic.locator("#budget").scroll_into_view_if_needed()
        shoot(vic, "parameters-preset-applied")
