"""The `/compliance/` page as the server renders it (contract sections 4a and 9): figures, the
two Plotly figures, scripts, calls, library and evaluation, in English and Chinese; the controls
each role may use and no others; the state the script starts from."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from carloan.compliance import charts, services
from carloan.compliance.library import CATEGORIES
from carloan.compliance.views import JS_TEXT
from carloan.parameters.selectors import parameter_cache_invalidate
from tests.test_pages import parse, signed_in

JS_DIR = Path(__file__).resolve().parent.parent / "static" / "js" / "compliance"
DISCOUNT = "marketing.max_promo_discount_pct"


@pytest.fixture(autouse=True)
def fresh_parameter_cache() -> Iterator[None]:
    """Parameter values are cached in Redis per database: each test starts from its own."""
    parameter_cache_invalidate()
    yield
    parameter_cache_invalidate()


def data_blocks(html: bytes | str) -> dict[str, Any]:
    page = parse(html)
    return {
        attrs["id"]: json.loads(text)
        for attrs, text in page.scripts
        if attrs.get("type") == "application/json"
    }


def controls(html: str) -> dict[str, int]:
    page = parse(html)
    return {
        "new_script": len(page.find("button", id="script-new")),
        "edit_category": len(page.find("button", **{"data-action": "edit-category"})),
        "history": len(page.find("button", **{"data-action": "category-history"})),
        "verdict_help": len(page.find("p", id="verdict-help")),
        "read_only": len(page.find("p", id="cmp-readonly")),
    }


# --- who sees what -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_signed_out_visitor_goes_to_the_login_form() -> None:
    response = Client().get("/compliance/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/compliance/"


@pytest.mark.django_db
def test_viewer_reads_everything_without_edit_controls(viewer: User) -> None:
    response = signed_in(viewer).get("/compliance/")
    assert response.status_code == 200
    assert "compliance.html" in [t.name for t in response.templates]
    html = response.content.decode()
    page = parse(html)
    # In the navigation, marked as the current page, before Imports.
    nav = [a["href"] for a in page.find("a") if a.get("href", "").startswith("/")]
    assert nav.index("/compliance/") < nav.index("/imports/")
    assert page.find("a", href="/compliance/", **{"aria-current": "page"})
    assert "Compliant scripts and call checks" in html
    for panel in ("tab-check", "tab-scripts", "tab-calls", "tab-library", "tab-evaluation"):
        assert page.find("section", id=panel), panel
    for figure in ("fig-discrepancy", "fig-flagged", "chart-flagged", "chart-matrix"):
        assert re.search(rf'id="{figure}"', html), figure
    # Anyone may check a text; nothing else is offered to a viewer, and they are told who may.
    assert page.find("form", id="check-form") and page.find("textarea", id="check-text")
    assert page.find("textarea", id="check-text")[0]["maxlength"] == "20000"
    assert controls(html) == {
        "new_script": 0,
        "edit_category": 0,
        "history": len(CATEGORIES),
        "verdict_help": 0,
        "read_only": 1,
    }
    assert "Marketing's head and managers write scripts." in html
    assert "Risk control's head and managers edit the library." in html
    config = data_blocks(html)["compliance-config"]
    assert config["perms"] == {
        "writeScripts": False,
        "reviewScripts": False,
        "editLibrary": False,
        "giveVerdicts": False,
        "postCalls": False,
    }
    # Everything comes from this server: the page's module and the local plotly.js, after the
    # scripts of every page (base.html: the colour theme, shortcuts, saved views).
    sources = [attrs.get("src", "") for attrs, _ in page.scripts if attrs.get("src")]
    assert all(source.startswith("/static/") for source in sources), sources
    assert sources[-2:] == ["/static/plotly/plotly.min.js", "/static/js/compliance/main.js"]
    assert all(
        attrs.get("type") in ("application/json", "module") or attrs.get("src")
        for attrs, _ in page.scripts
    )
    assert "style=" not in html.split('<main id="main"')[1]


@pytest.mark.django_db
def test_risk_head_gets_the_review_library_and_verdict_controls(risk_head: User) -> None:
    html = signed_in(risk_head).get("/compliance/").content.decode()
    assert controls(html) == {
        "new_script": 0,
        "edit_category": len(CATEGORIES),
        "history": len(CATEGORIES),
        "verdict_help": 1,
        "read_only": 0,
    }
    page = parse(html)
    assert page.find("span", **{"data-perm": "reviewScripts"})
    assert page.find("span", **{"data-perm": "editLibrary"})
    assert not page.find("span", **{"data-perm": "writeScripts"})
    perms = data_blocks(html)["compliance-config"]["perms"]
    assert perms == {
        "writeScripts": False,
        "reviewScripts": True,
        "editLibrary": True,
        "giveVerdicts": True,
        "postCalls": True,
    }


@pytest.mark.django_db
def test_marketing_head_writes_scripts_but_does_not_edit_the_library(
    marketing_head: User,
) -> None:
    html = signed_in(marketing_head).get("/compliance/").content.decode()
    found = controls(html)
    assert found["new_script"] == 1
    assert found["edit_category"] == 0 and found["verdict_help"] == 0
    perms = data_blocks(html)["compliance-config"]["perms"]
    assert perms["writeScripts"] and not perms["reviewScripts"] and not perms["editLibrary"]


@pytest.mark.django_db
def test_a_manager_may_do_everything(manager: User) -> None:
    html = signed_in(manager).get("/compliance/").content.decode()
    found = controls(html)
    assert found["new_script"] == 1 and found["edit_category"] == len(CATEGORIES)
    assert all(data_blocks(html)["compliance-config"]["perms"].values())


# --- what it shows ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_script_starts_from_the_same_state_as_the_api(
    marketing_head: User, risk_head: User, client_for: Any
) -> None:
    draft = services.script_create(
        user=marketing_head, title="Spring offer", channel="phone", text="百分百包过，不查征信"
    )
    clean = services.script_create(
        user=marketing_head, title="Test drive", channel="wechat", text="欢迎到店试驾。"
    )
    services.script_update(
        user=marketing_head,
        script_id=clean["id"],
        version=clean["version"],
        changes={"state": "in_review"},
    )
    html = signed_in(risk_head).get("/compliance/").content.decode()
    blocks = data_blocks(html)
    api = client_for(risk_head)
    assert blocks["compliance-state"]["scripts"] == api.get("/api/compliance/scripts/").json()
    assert blocks["compliance-state"]["library"] == api.get("/api/compliance/library/").json()
    assert blocks["compliance-state"]["figures"] == api.get("/api/compliance/figures/").json()
    assert blocks["compliance-state"]["precision"] == api.get("/api/compliance/precision/").json()
    # The list is rendered before any script runs, with state badges.
    page = parse(html)
    items = {
        li["data-script"]: li["data-state"]
        for li in page.find("li", **{"data-script": str(draft["id"])})
    }
    assert items == {str(draft["id"]): "draft"}
    assert page.find("li", **{"data-script": str(clean["id"]), "data-state": "in_review"})
    assert "Spring offer" in html and "In review" in html
    # The parameters the library reads, with their live values, for "contradicts …".
    parameters = blocks["compliance-config"]["parameters"]
    assert parameters[DISCOUNT]["value"] == 5
    assert parameters[DISCOUNT]["label"] == "Largest promotional discount"
    assert parameters["risk.max_ltv_pct"]["suffix"] == " %"


@pytest.mark.django_db
def test_figures_and_flagged_calls_are_on_the_page(
    marketing_head: User, risk_head: User, manager: User, django_capture_on_commit_callbacks: Any
) -> None:
    script = services.script_create(
        user=marketing_head, title="Promo", channel="phone", text="Spring offer: 4% off your rate."
    )
    script = services.script_update(
        user=marketing_head,
        script_id=script["id"],
        version=script["version"],
        changes={"state": "in_review"},
    )
    services.script_update(
        user=risk_head,
        script_id=script["id"],
        version=script["version"],
        changes={"state": "approved"},
    )
    now = timezone.now()
    for n, text in enumerate(["百分百包过，不查征信", "欢迎到店试驾。"]):
        services.call_record(
            user=risk_head,
            data={
                "call_id": f"C-{n}",
                "started_at": now - dt.timedelta(hours=n + 1),
                "region": "EAST-01",
                "agent": "agent-7",
                "transcript": text,
                "lead_id": "",
                "script_id": str(script["id"]),
                "direction": "outbound",
            },
        )
    html = signed_in(manager).get("/compliance/").content.decode()
    page = parse(html)
    # One approved script, compliant with the parameters: 0 %; 1 of 2 calls flagged: 50.
    assert re.search(r'id="fig-discrepancy">0 %<', html)
    assert re.search(r'id="fig-flagged">50<', html)
    state = data_blocks(html)["compliance-state"]
    assert [c["call_id"] for c in state["calls"]] == ["C-0"]
    assert state["callsCount"] == 1
    assert page.find("span", **{"data-tab-count": "calls"})
    figures = data_blocks(html)["compliance-charts"]
    bars = figures["flagged"]["data"][0]
    assert bars["type"] == "bar" and 50.0 in bars["y"]
    heat = figures["matrix"]["data"][0]
    assert heat["type"] == "heatmap"
    columns = [label.replace("<br>", " ") for label in heat["x"]]
    assert "Promising approval" in columns and "Promising no credit-bureau check" in columns
    assert any("Promo" in label for label in heat["y"])
    assert any("agent-7" in label for label in heat["y"])

    # Lowering the discount limit turns the approved script needs_review: the rate moves.
    from carloan.parameters import services as parameter_services

    with django_capture_on_commit_callbacks(execute=True):
        parameter_services.parameters_change(
            changes={DISCOUNT: (3, 1)}, user=manager, reason="tighter"
        )
    html = signed_in(manager).get("/compliance/").content.decode()
    assert re.search(r'id="fig-discrepancy">100 %<', html)
    assert re.search(r'id="fig-needs-review">1<', html)
    assert data_blocks(html)["compliance-config"]["parameters"][DISCOUNT]["value"] == 3


@pytest.mark.django_db
def test_chinese_page(risk_head: User) -> None:
    client = signed_in(risk_head, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = client.get("/compliance/").content.decode()
    assert 'lang="zh-Hans"' in html
    for text in (
        "合规话术与通话质检",
        "话术与参数不一致率",
        "每百通电话被标记数",
        "敏感词库",
        "检查文本",
        "评估",
    ):
        assert text in html, text
    assert "承诺审批通过" in html  # category names in Chinese
    visible = html.split('<script id="compliance-state"')[0]
    assert "Compliant scripts and call checks" not in visible
    blocks = data_blocks(html)
    assert blocks["compliance-config"]["lang"] == "zh"
    assert blocks["compliance-i18n"]["state_needs_review"] == "待复审"
    assert blocks["compliance-i18n"]["act_approve"] == "批准"
    assert blocks["compliance-config"]["parameters"][DISCOUNT]["label"] == "最大促销折扣"
    # Every text the script shows is translated.
    untranslated = [
        key
        for key, text in blocks["compliance-i18n"].items()
        if text == str(JS_TEXT[key]) and re.search(r"[A-Za-z]{4}", re.sub(r"\{\w+\}", "", text))
    ]
    assert untranslated == []


def test_every_text_the_script_asks_for_is_defined() -> None:
    source = "\n".join(path.read_text() for path in JS_DIR.glob("*.js"))
    direct = set(re.findall(r'\bt\(\s*"(\w+)"', source))
    chosen = set(re.findall(r'\bt\(\s*\w+\s*\?\s*"(\w+)"\s*:\s*"(\w+)"', source))
    keys = direct | {key for pair in chosen for key in pair}
    # Keys built at run time: states, severities, actions, verdicts, waiting notes.
    keys |= {f"state_{s}" for s in ("draft", "in_review", "approved", "needs_review", "retired")}
    keys |= {f"sev_{s}" for s in ("high", "medium", "low")}
    actions = ("submit", "approve", "request_changes", "send_to_review", "retire")
    keys |= {f"act_{a}" for a in (*actions, "edit")}
    keys |= {f"{p}_{a}" for p in ("confirm", "done") for a in actions}
    keys |= {f"action_{a}" for a in (*actions, "create", "edit", "recheck")}
    keys |= {f"verdict_{v}" for v in ("right", "wrong", "missed")}
    keys |= {f"judged_{v}" for v in ("right", "wrong")}
    keys |= {"retiredNote", "waitingMarketing", "waitingRisk", "readOnlyScripts"}
    keys |= {"run_rules", "run_rulesModel", "direction_inbound", "direction_outbound"}
    keys |= {"title", "channel", "scriptText"}
    missing = sorted(keys - set(JS_TEXT))
    assert missing == []


# --- the figures, as plain data -----------------------------------------------------------------


def test_flagged_calls_figure() -> None:
    empty = charts.flagged_calls_figure([], labels={"noCalls": "No calls"})
    assert empty["data"] == [] and empty["layout"]["annotations"][0]["text"] == "No calls"
    series = [
        {"day": "2026-05-01", "calls": 4, "flagged": 1, "per_100": 25.0},
        {"day": "2026-05-02", "calls": 0, "flagged": 0, "per_100": None},
        {"day": "2026-05-03", "calls": 4, "flagged": 3, "per_100": 75.0},
    ]
    figure = charts.flagged_calls_figure(series, labels={"per100": "per 100"})
    (bars,) = figure["data"]
    assert bars["y"] == [25.0, None, 75.0]
    assert bars["customdata"] == [[1, 4], [0, 0], [3, 4]]
    assert figure["layout"]["shapes"][0]["y0"] == pytest.approx(50.0)
    json.dumps(figure)


def test_risk_matrix_figure() -> None:
    matrix = {
        "categories": [c.key for c in CATEGORIES],
        "scripts": [
            {
                "key": "3",
                "label": "Spring",
                "calls": 5,
                "flagged": 2,
                "categories": {"guaranteed_approval": 2, "excess_discount": 1},
                "complaints": 4,
            },
            {
                "key": "",
                "label": "(no script)",
                "calls": 0,
                "flagged": 0,
                "categories": {},
                "complaints": 0,
            },
        ],
        "agents": [
            {
                "key": "a1",
                "label": "a1",
                "calls": 5,
                "flagged": 2,
                "categories": {"guaranteed_approval": 1},
                "complaints": 4,
            },
            {
                "key": "Spring",
                "label": "Spring",
                "calls": 1,
                "flagged": 0,
                "categories": {},
                "complaints": 0,
            },
        ],
    }
    figure = charts.risk_matrix_figure(
        matrix,
        category_names={"guaranteed_approval": "Approval", "excess_discount": "Discount"},
        labels={"script": "Script", "agent": "Agent"},
    )
    heat, bars = figure["data"]
    assert heat["x"] == ["Approval", "Discount"]  # only what was found, the most first
    assert heat["y"] == ["Script · Spring", "Agent · a1", "Agent · Spring"]
    assert heat["z"] == [[2, 1], [1, None], [None, None]]
    assert bars["orientation"] == "h" and bars["x"] == [4, 4, 0] and bars["xaxis"] == "x2"
    assert figure["layout"]["yaxis"]["autorange"] == "reversed"
    nothing = charts.risk_matrix_figure({"scripts": [], "agents": []}, labels={"noCalls": "none"})
    assert nothing["data"] == []
    json.dumps(figure)
