"""The `/risk/` page (contract sections 4a and 10) as the server renders it, in English and Chinese:
the queue of flagged applications with their failed checks explained in words, the blacklist,
the pre-screen form; and the two read-only endpoints it adds: an application's ring
(`GET /api/risk/applications/{id}/ring/`) and the blacklist (`GET /api/risk/blacklist/`).
Identifiers are shown masked only: the raw ones never appear in a page or an answer."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from carloan.screening import charts, page_data
from carloan.screening.views import JS_TEXT
from tests.test_pages import parse, signed_in

JS_DIR = Path(__file__).resolve().parent.parent / "static" / "js" / "screening"

# A small hand-made ring. share a phone (three people: more than the two a phone
# may have); R-1 and R-5 share a VIN under two names; R-4 shares R-2's device (one step further
# from R-1); R-7 shares R-4's phone (two steps further: outside R-1's ring); R-6 stands alone.
PHONE = "13800138000"
VIN = "LSVAU2180N2183294"
COLUMNS = "application_id,region,applied_at,decision,applicant_key,phone,vin,device_id"
MONEY = "monthly_income,amount_requested,vehicle_value"
KEY = "1101011990{}1234"  # applicant keys (national IDs) ending in 1234
# (application, region, day of November, applicant, phone, VIN, device, income, amount requested)
ROWS = [
    ("R-1", "EAST-01", 1, "0101", PHONE, VIN, "dev-alpha-0001", 20000, 90000),
    ("R-2", "EAST-01", 2, "0202", "+86 138-0013-8000", "", "dev-bravo-0002", 20000, 50000),
    ("R-3", "WEST-02", 3, "0303", PHONE, "", "", 9000, 50000),
    ("R-4", "EAST-01", 5, "0404", "13900139000", "", "dev-bravo-0002", 20000, 50000),
    ("R-5", "NORTH-03", 6, "0505", "13700137000", VIN, "", 20000, 50000),
    ("R-6", "EAST-01", 7, "0606", "13600136000", "", "", 20000, 50000),
    ("R-7", "EAST-01", 8, "0707", "13900139000", "", "", 20000, 50000),
]
APPLICATIONS = "\n".join(
    [
        f"{COLUMNS},{MONEY}",
        *(
            f"{app},{region},2026-11-{day:02d}T10:00:00+08:00,pending,{KEY.format(person)},"
            f"{phone},{vin},{device},{income},{amount},100000"
            for app, region, day, person, phone, vin, device, income, amount in ROWS
        ),
    ]
)
BLACKLIST = f"""entry_id,type,value,reason,added_at,expires_at,department
BL-1,phone,{PHONE},fraud ring,2026-10-01T09:00:00+08:00,,risk
BL-2,device,dev-zulu-9999,stolen device,2025-01-01T09:00:00+08:00,2025-06-01T09:00:00+08:00,tech
BL-3,vin,LFV2A21K6G4012345,cloned plates,2026-09-01T09:00:00+08:00,2027-09-01T09:00:00+08:00,
"""
RAW = [PHONE, "8613800138000", "138-0013-8000", VIN, "dev-alpha-0001", "dev-bravo-0002"]
RAW += ["110101199001011234", "dev-zulu-9999", "LFV2A21K6G4012345"]


def import_ring_book(refresh: str = "none") -> None:
    """The ring above and the blacklist, imported as a lender's files; with refresh "none" the
    cross-checks are made here at once."""
    from carloan.loanbook.services import loanbook_import
    from carloan.screening.services import recheck_all

    for kind, text in (("blacklist", BLACKLIST), ("applications", APPLICATIONS)):
        loanbook_import(
            kind=kind,
            source=io.BytesIO(text.encode()),
            file_name=f"{kind}.csv",
            refresh=refresh,  # type: ignore[arg-type]
        )
    if refresh == "none":
        recheck_all()


@pytest.fixture
def ring_book(db: Any) -> None:
    import_ring_book()


def data_blocks(html: bytes | str) -> dict[str, Any]:
    page = parse(html)
    return {
        attrs["id"]: json.loads(text)
        for attrs, text in page.scripts
        if attrs.get("type") == "application/json"
    }


def assert_masked(text: str) -> None:
    for raw in RAW:
        assert raw not in text, f"{raw} appears unmasked"


# --- the page ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_signed_out_visitor_goes_to_the_login_form() -> None:
    response = Client().get("/risk/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/risk/"


@pytest.mark.django_db
def test_viewer_sees_the_queue_with_the_failed_checks_explained(
    viewer: User, ring_book: None
) -> None:
    response = signed_in(viewer).get("/risk/")
    assert response.status_code == 200
    assert "screening.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert_masked(html)
    page = parse(html)
    # In the navigation, marked as the current page, before Compliance.
    nav = [a["href"] for a in page.find("a") if a.get("href", "").startswith("/")]
    assert nav.index("/valuation/") < nav.index("/risk/") < nav.index("/compliance/")
    assert page.find("a", href="/risk/", **{"aria-current": "page"})
    assert "Risk screening" in html
    for panel in ("tab-queue", "tab-blacklist", "tab-prescreen"):
        assert page.find("section", id=panel), panel
    assert page.find("form", id="prescreen-form") and page.find("button", id="queue-refresh")
    assert [b["data-status-filter"] for b in page.find("button") if "data-status-filter" in b] == [
        "open",
        "cleared",
        "all",
    ]

    # The queue, most failed checks first: R-1 fails blacklist, shared phone, VIN reuse and LTV.
    items = [li for li in page.find("li") if "data-application" in li]
    assert items[0]["data-application"] == "R-1" and items[0]["data-failed"] == "4"
    assert {li["data-application"] for li in items} == {"R-1", "R-2", "R-3", "R-5"}
    first = html.split('data-application="R-1"')[1].split("</li>")[0]
    results = dict(re.findall(r'data-check="(\w+)" data-result="(\w*)"', first))
    assert results == {
        "blacklist": "fail",
        "shared_phone": "fail",
        "vin_reuse": "fail",
        "ltv": "fail",
        "debt_to_income": "pass",
        "shared_device": "pass",
    }
    assert "Phone ****8000 is on the blacklist (fraud ring)" in first
    assert "Phone ****8000 shared by 3 applicants within 90 days (at most 2 allowed)" in first
    assert "VIN ****3294 also on an application of another applicant within 90 days" in first
    assert "Loan-to-value 90 % is above the 80 % limit" in first
    assert "EAST-01" in first and "applied 2026-11-01" in first
    # R-3 has no device: that check does not apply.
    third = html.split('data-application="R-3"')[1].split("</li>")[0]
    assert 'data-check="shared_device" data-result="not_applicable"' in third

    # The script starts from the same rows as the API, with the explanations beside them.
    blocks = data_blocks(html)
    state = blocks["screening-state"]
    assert state["queueCount"] == 4 and state["status"] == "open"
    api_rows = signed_in(viewer).get("/api/risk/flags/?status=open").json()
    assert state["queue"] == api_rows  # the page's first load is the API's answer
    assert state["queue"][0]["explanations"]["shared_phone"].startswith("Phone ****8000")
    config = blocks["screening-config"]
    assert config["thresholds"]["marketing.lead_score_cutoff"] == 50
    assert config["thresholds"]["risk.min_credit_score"] == 600
    assert config["parameters"]["risk.min_credit_score"]["label"] == "Minimum credit score"
    assert config["refreshSeconds"] == 30

    # The blacklist, masked, and the figures.
    assert [row["data-entry"] for row in page.find("tr") if "data-entry" in row] == [
        "BL-1",
        "BL-3",
        "BL-2",
    ]
    assert "****8000" in html and "****2345" in html and "****9999" in html
    assert re.search(r'id="fig-open">4<', html)
    assert re.search(r'id="fig-blacklist">2<', html)

    # Everything comes from this server: the page's module and the local plotly.js, after the
    # scripts of every page (base.html: the colour theme, shortcuts, saved views).
    sources = [attrs.get("src", "") for attrs, _ in page.scripts if attrs.get("src")]
    assert all(source.startswith("/static/") for source in sources), sources
    assert sources[-2:] == ["/static/plotly/plotly.min.js", "/static/js/screening/main.js"]
    assert all(
        attrs.get("type") in ("application/json", "module") or attrs.get("src")
        for attrs, _ in page.scripts
    )
    assert "style=" not in html.split('<main id="main"')[1]


@pytest.mark.django_db
def test_risk_head_sees_the_same_page(risk_head: User, viewer: User, ring_book: None) -> None:
    html = signed_in(risk_head).get("/risk/").content.decode()
    assert_masked(html)
    page = parse(html)
    assert page.find("a", href="/risk/", **{"aria-current": "page"})
    assert page.find("li", **{"data-application": "R-1", "data-failed": "4"})
    assert page.find("input", id="ps-phone", name="phone", autocomplete="off")
    # The state is the same for everyone; only the controls differ by who is signed in.
    mine = data_blocks(html)
    theirs = data_blocks(signed_in(viewer).get("/risk/").content)
    assert mine["screening-state"] == theirs["screening-state"]
    assert mine["screening-config"]["username"] == "rick_risk"


@pytest.mark.django_db
def test_an_empty_book(viewer: User) -> None:
    html = signed_in(viewer).get("/risk/").content.decode()
    assert "No open flag" in html and "No entry matches." in html
    assert data_blocks(html)["screening-state"]["queue"] == []


@pytest.mark.django_db
def test_chinese_page(risk_head: User, ring_book: None) -> None:
    client = signed_in(risk_head, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = client.get("/risk/").content.decode()
    assert 'lang="zh-Hans"' in html
    assert_masked(html)
    for text in ("风控筛查", "被标记的申请", "共享黑名单", "线索预筛", "实时阈值", "共用手机号"):
        assert text in html, text
    assert "手机号 ****8000 在 90 天内被 3 位申请人共用（最多允许 2 位）" in html
    assert "手机号 ****8000 在黑名单上（fraud ring）" in html
    visible = html.split('<script id="screening-state"')[0]
    assert "Risk screening" not in visible and "Flagged applications" not in visible
    blocks = data_blocks(html)
    assert blocks["screening-config"]["lang"] == "zh"
    assert blocks["screening-config"]["parameters"]["risk.min_credit_score"]["label"] == (
        "最低信用评分"
    )
    text = blocks["screening-i18n"]
    assert text["check_vin_reuse"] == "车架号重复使用" and text["decision_decline"] == "拒绝"
    # Every text the script shows is translated.
    untranslated = [
        key
        for key, value in text.items()
        if value == str(JS_TEXT[key]) and re.search(r"[A-Za-z]{4}", re.sub(r"\{\w+\}", "", value))
    ]
    assert untranslated == []


def test_every_text_the_script_asks_for_is_defined() -> None:
    source = "\n".join(path.read_text() for path in JS_DIR.glob("*.js"))
    keys = set(re.findall(r'\bt\(\s*"(\w+)"', source))
    keys |= {f"check_{k}" for k in page_data.CHECK_LABELS}
    keys |= {f"result_{k}" for k in page_data.RESULT_LABELS}
    keys |= {f"kind_{k}" for k in page_data.KIND_LABELS}
    keys |= {f"link_{k}" for k in page_data.LINK_TYPES}
    keys |= {f"why_{k}" for k in page_data.CHECK_LABELS}
    keys |= {f"status_{s}" for s in ("open", "cleared")}
    keys |= {f"noFlags_{s}" for s in ("open", "cleared", "all")}
    keys |= {f"dept_{d}" for d in ("marketing", "risk", "tech")}
    keys |= {
        f"{p}_{d}" for p in ("decision", "decisionNote") for d in ("invite", "review", "decline")
    }
    keys |= {"reason_blacklist", "reason_credit", "reason_lead"}
    keys |= {"range_lead_score", "range_credit_score"}
    missing = sorted(keys - set(JS_TEXT))
    assert missing == []


# --- the ring ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_ring_of_an_application(viewer: User, client_for: Any, ring_book: None) -> None:
    response = client_for(viewer).get("/api/risk/applications/R-1/ring/")
    assert response.status_code == 200
    assert_masked(response.content.decode())
    ring = response.json()
    nodes = {n["application_id"]: n for n in ring["nodes"]}
    # R-2, R-3 (its phone) and R-5 (its VIN) one step away; R-4 (R-2's device) two; not R-7.
    assert ring["nodes"][0]["application_id"] == "R-1"
    assert {k: n["depth"] for k, n in nodes.items()} == {
        "R-1": 0,
        "R-2": 1,
        "R-3": 1,
        "R-5": 1,
        "R-4": 2,
    }
    assert ring["truncated"] is False and ring["max_nodes"] == page_data.MAX_RING
    assert nodes["R-1"]["flagged"] and nodes["R-2"]["flagged"] and not nodes["R-4"]["flagged"]
    assert nodes["R-3"]["identifiers"]["phone"] == "****8000"
    assert nodes["R-3"]["identifiers"]["device_id"] is None
    # One star per shared identifier: the phone around R-1, the VIN, R-2's device around R-2.
    assert sorted((g["type"], g["masked"], tuple(g["applications"])) for g in ring["groups"]) == [
        ("device", "****0002", ("R-2", "R-4")),
        ("phone", "****8000", ("R-1", "R-2", "R-3")),
        ("vin", "****3294", ("R-1", "R-5")),
    ]
    edges = {(e["source"], e["target"]): e["links"] for e in ring["edges"]}
    assert edges == {
        ("R-1", "R-2"): [{"type": "phone", "masked": "****8000"}],
        ("R-1", "R-3"): [{"type": "phone", "masked": "****8000"}],
        ("R-1", "R-5"): [{"type": "vin", "masked": "****3294"}],
        ("R-2", "R-4"): [{"type": "device", "masked": "****0002"}],
    }
    # The application itself, its checks explained.
    application = ring["application"]
    assert application["checks"]["shared_phone"] == "fail" and application["status"] == "open"
    assert application["explanations"]["shared_phone"] == (
        "Phone ****8000 shared by 3 applicants within 90 days (at most 2 allowed)"
    )
    assert set(application["explanations"]) == {"blacklist", "shared_phone", "vin_reuse", "ltv"}
    # The figure: a trace per link kind (and its labels), a trace per node class.
    figure = ring["figure"]
    roles = [
        (t["meta"]["role"], t["meta"].get("link") or t["meta"].get("class")) for t in figure["data"]
    ]
    assert roles == [
        ("edges", "phone"),
        ("edge-labels", "phone"),
        ("edges", "device"),
        ("edge-labels", "device"),
        ("edges", "vin"),
        ("edge-labels", "vin"),
        ("nodes", "flagged"),
        ("nodes", "clear"),
    ]
    drawn = [i for t in figure["data"] if t["meta"]["role"] == "nodes" for i in t["customdata"]]
    assert sorted(drawn) == ["R-1", "R-2", "R-3", "R-4", "R-5"]
    labels = [t for t in figure["data"] if t["meta"]["role"] == "edge-labels"]
    assert sum(len(t["x"]) for t in labels) == 4
    assert labels[0]["hovertext"] == ["Phone ****8000", "Phone ****8000"]
    assert figure["data"][0]["name"] == "Phone"


@pytest.mark.django_db
def test_a_ring_is_capped_and_an_application_alone_has_none(
    viewer: User, client_for: Any, ring_book: None
) -> None:
    capped = page_data.ring("R-1", max_nodes=3)
    assert capped is not None
    assert len(capped["nodes"]) == 3 and capped["truncated"] is True
    assert {n["depth"] for n in capped["nodes"]} == {0, 1}
    assert all(n["application_id"] in {"R-1", "R-2", "R-3", "R-5"} for n in capped["nodes"])

    alone = client_for(viewer).get("/api/risk/applications/R-6/ring/").json()
    assert [n["application_id"] for n in alone["nodes"]] == ["R-6"]
    assert alone["edges"] == [] and alone["groups"] == []
    assert alone["application"]["flagged"] is False and alone["application"]["explanations"] == {}
    assert alone["figure"]["layout"]["annotations"][0]["text"] == (
        "No other application shares its phone, device or VIN."
    )

    missing = client_for(viewer).get("/api/risk/applications/NOPE/ring/")
    assert missing.status_code == 404
    assert client_for(None).get("/api/risk/applications/R-1/ring/").status_code == 401


@pytest.mark.django_db
def test_the_ring_in_chinese(viewer: User, ring_book: None) -> None:
    client = signed_in(viewer, HTTP_ACCEPT_LANGUAGE="zh-hans")
    ring = client.get("/api/risk/applications/R-1/ring/").json()
    assert ring["application"]["explanations"]["ltv"] == "贷款价值比 90%，高于 80% 的上限"
    assert ring["application"]["explanations"]["vin_reuse"] == (
        "车架号 ****3294 在 90 天内还出现在另外 1 位申请人的申请中"
    )
    names = [t["name"] for t in ring["figure"]["data"] if t.get("showlegend", True)]
    assert names == ["手机号", "设备", "车架号", "被标记", "未被标记"]


# --- the blacklist -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_blacklist_masked_and_filtered(viewer: User, client_for: Any, ring_book: None) -> None:
    client = client_for(viewer)
    response = client.get("/api/risk/blacklist/")
    assert response.status_code == 200
    assert_masked(response.content.decode())
    assert response["X-Total-Count"] == "3"
    entries = {e["entry_id"]: e for e in response.json()}
    assert list(entries) == ["BL-1", "BL-3", "BL-2"]  # newest first
    assert entries["BL-1"] == {
        "entry_id": "BL-1",
        "type": "phone",
        "masked_value": "****8000",
        "reason": "fraud ring",
        "added_at": "2026-10-01T01:00:00+00:00",
        "expires_at": None,
        "department": "risk",
        "active": True,
    }
    assert entries["BL-2"]["active"] is False and entries["BL-3"]["active"] is True
    assert entries["BL-3"]["department"] is None

    def ids(query: str) -> list[str]:
        return [e["entry_id"] for e in client.get(f"/api/risk/blacklist/?{query}").json()]

    assert ids("type=phone") == ["BL-1"]
    assert ids("active=true") == ["BL-1", "BL-3"]
    assert ids("active=false") == ["BL-2"]
    assert ids("type=vin&active=false") == []
    assert ids("limit=1&offset=1") == ["BL-3"]
    assert client.get("/api/risk/blacklist/?type=email").status_code == 400
    assert client.get("/api/risk/blacklist/?active=maybe").status_code == 400
    assert client_for(None).get("/api/risk/blacklist/").status_code == 401


# --- the figure, as plain data -------------------------------------------------------------------


def test_ring_layout_and_figure() -> None:
    nodes = [
        {"application_id": "A", "depth": 0, "flagged": True, "status": "open", "checked": True},
        {"application_id": "B", "depth": 1, "flagged": True, "status": "cleared", "checked": True},
        {"application_id": "C", "depth": 1, "flagged": False, "checked": True},
        {"application_id": "D", "depth": 2, "flagged": False, "checked": False},
    ]
    edges = [
        {"source": "A", "target": "B", "links": [{"type": "phone", "masked": "****1"}]},
        {
            "source": "A",
            "target": "C",
            "links": [{"type": "phone", "masked": "****1"}, {"type": "device", "masked": "****2"}],
        },
        {"source": "C", "target": "D", "links": [{"type": "vin", "masked": "****3"}]},
    ]
    positions = charts.layout_positions(nodes, edges)
    assert positions["A"] == (0.0, 0.0)
    for name, radius in (("B", 1.0), ("C", 1.0), ("D", 2.0)):
        assert abs((positions[name][0] ** 2 + positions[name][1] ** 2) ** 0.5 - radius) < 1e-9

    # D sits in C's arc: closer to C than to B.
    def distance(a: str, b: str) -> float:
        return sum((p - q) ** 2 for p, q in zip(positions[a], positions[b], strict=True))

    assert distance("D", "C") < distance("D", "B")

    figure = charts.ring_figure(
        {"application_id": "A", "nodes": nodes, "edges": edges, "truncated": True, "max_nodes": 4},
        labels={"phone": "Phone", "truncated": "{shown} of {max}"},
    )
    classes = {
        t["meta"]["class"]: t["customdata"] for t in figure["data"] if t["meta"]["role"] == "nodes"
    }
    assert classes == {"flagged": ["A"], "cleared": ["B"], "clear": ["C"], "unchecked": ["D"]}
    focus = next(t for t in figure["data"] if t["meta"].get("class") == "flagged")
    assert focus["marker"]["size"] == [30]  # the application itself, larger
    phone = next(t for t in figure["data"] if t["meta"] == {"role": "edges", "link": "phone"})
    assert phone["x"].count(None) == 2  # two phone edges, each ended by a gap
    assert figure["layout"]["annotations"][0]["text"] == "4 of 4"
    assert figure["layout"]["yaxis"]["scaleanchor"] == "x"
    json.dumps(figure)
    empty = charts.ring_figure({"application_id": "A", "nodes": nodes[:1], "edges": []})
    assert [t["meta"]["role"] for t in empty["data"]] == ["nodes"]
