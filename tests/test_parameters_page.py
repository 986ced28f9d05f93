"""The `/parameters/` page as the server renders it (issue 3, item 9; contract section 4a):
every parameter by category in the reader's language, edit controls for managers only, the
state the script starts from, and nothing loaded from outside."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from carloan.parameters import services
from carloan.parameters.registry import BUDGET_KEYS, REGISTRY
from tests.factories import make_user
from tests.test_pages import parse, signed_in

pytestmark = pytest.mark.django_db

EDITABLE = [key for key in REGISTRY if key not in BUDGET_KEYS]  # the split is edited as a group


def data_blocks(html: bytes | str) -> dict[str, Any]:
    page = parse(html)
    return {
        attrs["id"]: json.loads(text)
        for attrs, text in page.scripts
        if attrs.get("type") == "application/json"
    }


def test_signed_out_visitor_goes_to_the_login_form() -> None:
    response = Client().get("/parameters/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/parameters/"


def test_viewer_sees_every_parameter_read_only(viewer: User) -> None:
    response = signed_in(viewer).get("/parameters/")
    assert response.status_code == 200
    assert "parameters.html" in [t.name for t in response.templates]
    html = response.content.decode()
    page = parse(html)
    assert page.find("h1")
    assert "Live parameters" in html
    for key in REGISTRY:
        assert f'data-param="{key}"' in html, key
    # Grouped by category, alerts as a metric x warn/critical table.
    for section in ("cat-strategy", "cat-risk", "cat-alert", "cat-kpi", "pending-panel"):
        assert page.find("section", id=section), section
    assert len(page.find("tr", **{"data-metric": "overdue_rate"})) == 1
    # Read-only: no edit controls, a note saying who may change them; history for everyone.
    assert not page.find("button", **{"data-action": "edit"})
    assert not page.find("button", id="budget-edit")
    assert not page.find("button", id="run-calibration")
    assert page.find("p", id="params-readonly")
    assert "Only managers may change them" in html
    assert len(page.find("button", **{"data-action": "history"})) == len(REGISTRY)
    # Descriptions, names, units and bounds in English.
    assert REGISTRY["risk.max_ltv_pct"].description_en in html
    assert "Maximum loan-to-value" in html
    assert "600 points" in html
    assert "10 – 150 %" in html
    assert "Default, never changed" in html


def test_department_head_is_read_only_too(risk_head: User) -> None:
    page = parse(signed_in(risk_head).get("/parameters/").content)
    assert not page.find("button", **{"data-action": "edit"})
    assert page.find("p", id="params-readonly")


def test_manager_gets_edit_controls_for_every_parameter(manager: User) -> None:
    html = signed_in(manager).get("/parameters/").content.decode()
    page = parse(html)
    edits = [b["data-key"] for b in page.find("button", **{"data-action": "edit"})]
    assert sorted(edits) == sorted(EDITABLE)
    assert page.find("button", id="budget-edit")
    assert page.find("button", id="run-calibration")
    assert not page.find("p", id="params-readonly")
    assert "You may edit" in html
    config = data_blocks(html)["parameters-config"]
    assert config["isManager"] is True
    assert config["username"] == "maria_manager"


def test_superuser_counts_as_a_manager() -> None:
    boss = make_user("sam_super", "", superuser=True)
    page = parse(signed_in(boss).get("/parameters/").content)
    assert page.find("button", **{"data-action": "edit"})


def test_chinese_page(viewer: User) -> None:
    client = signed_in(viewer, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = client.get("/parameters/").content.decode()
    assert 'lang="zh-Hans"' in html
    for text in ("实时参数", "待审批变更", "策略与营销", "风控阈值", "告警阈值", "KPI 规则"):
        assert text in html, text
    assert REGISTRY["risk.max_ltv_pct"].description_zh in html
    visible = html.split('<script id="parameters-state"')[0]  # the API state carries both
    assert REGISTRY["risk.max_ltv_pct"].description_en not in visible
    assert "最高贷款价值比" in html and "逾期率" in html  # names and metric names
    assert "600 分" in html and "80%" in html
    assert "三项占比之和始终为 100%：" in html  # a '%' in a translated template string
    assert "您正以只读方式查看这些参数" in html
    blocks = data_blocks(html)
    assert blocks["parameters-i18n"]["save"] == "保存"
    assert blocks["parameters-i18n"]["keepTheirs"] == "保留对方的值"
    assert blocks["parameters-config"]["lang"] == "zh"
    assert (
        blocks["parameters-config"]["labels"]["alert.overdue_rate.warn_pct"] == "预警阈值：逾期率"
    )


def test_the_script_starts_from_the_same_state_as_the_api(manager: User) -> None:
    html = signed_in(manager).get("/parameters/").content.decode()
    state = data_blocks(html)["parameters-state"]
    api = signed_in(manager).get("/api/parameters/").json()
    assert state["parameters"] == api
    assert [p["name"] for p in state["presets"]] == [
        "emerging_market",
        "mature_optimisation",
        "tech_transformation",
    ]
    assert state["requests"] == []


def test_changes_and_pending_requests_show_on_the_page(manager: User, viewer: User) -> None:
    services.parameters_change(
        changes={"alert.overdue_rate.warn_pct": (7, 1)}, user=manager, reason="watch closer"
    )
    filed = services.parameters_change(changes={"risk.max_ltv_pct": (75, 1)}, user=manager)
    assert filed.pending and filed.request is not None
    html = signed_in(viewer).get("/parameters/").content.decode()
    assert "by maria_manager" in html
    assert "v2" in html
    assert f'href="#request-{filed.request.pk}"' in html
    assert f"Pending #{filed.request.pk}: 75 %" in html
    state = data_blocks(html)["parameters-state"]
    assert [r["id"] for r in state["requests"]] == [filed.request.pk]
    warn = next(p for p in state["parameters"] if p["key"] == "alert.overdue_rate.warn_pct")
    assert warn["value"] == 7 and warn["version"] == 2


def test_budget_total_is_shown(viewer: User, manager: User) -> None:
    from carloan.parameters.registry import BUDGET_KEYS

    services.preset_apply(
        name="tech_transformation", user=manager, versions=dict.fromkeys(BUDGET_KEYS, 1)
    )
    html = signed_in(viewer).get("/parameters/").content.decode()
    assert 'id="budget-total">100 %<' in html
    assert "70 %" in html


def test_page_loads_nothing_from_outside_and_no_inline_code(manager: User) -> None:
    page = parse(signed_in(manager).get("/parameters/").content)
    for tag, attrs in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name, "")
            if tag in {"script", "link", "img"} and value:
                assert value.startswith("/"), (tag, value)
                assert not value.startswith("//"), (tag, value)
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert "style" not in attrs, (tag, attrs)
    modules = [attrs["src"] for attrs, _ in page.scripts if attrs.get("src")]
    assert "/static/js/parameters/main.js" in modules
    for attrs, text in page.scripts:
        if attrs.get("src"):
            # Modules, but for the colour theme's classic script, which must run before the
            # first paint (templates/base.html).
            assert not text.strip()
            assert attrs.get("type") == "module" or attrs["src"] == "/static/js/theme.js"
        else:
            assert attrs.get("type") == "application/json"


def test_page_script_and_socket_module_are_served(viewer: User) -> None:
    client = signed_in(viewer)
    for path in ("/static/js/parameters/main.js", "/static/js/live.js"):
        response = client.get(path)
        assert response.status_code == 200, path
    body = b"".join(client.get("/static/js/parameters/main.js").streaming_content).decode()
    assert 'from "../live.js"' in body
    assert "http://" not in body and "https://" not in body


def test_page_reads_the_parameters_in_a_few_queries(
    viewer: User, django_assert_max_num_queries: Any
) -> None:
    client = signed_in(viewer)
    client.get("/parameters/")  # warm the session
    with django_assert_max_num_queries(12):
        assert client.get("/parameters/").status_code == 200
