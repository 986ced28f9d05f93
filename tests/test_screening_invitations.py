"""The false-invitation rate (contract section 10): invited leads whose application was declined,
per region and channel, and as a KPI metric; pre-screen decisions are kept with hashed
identifiers only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from carloan.loanbook.services import loanbook_import
from carloan.screening.models import PrescreenDecision
from carloan.screening.selectors import false_invitation_rate, false_invitations
from tests.factories import csv_file

pytestmark = pytest.mark.django_db

LEADS = [
    # applicant, region, channel, lead score: all invited (cutoff 50)
    ("ID-A", "EAST-01", "wechat", 80),
    ("ID-B", "EAST-01", "wechat", 70),
    ("ID-C", "EAST-01", "wechat", 90),
    ("ID-D", "WEST-01", "dealer", 60),
    ("ID-E", "WEST-01", "dealer", 65),  # never applies: not counted
]


def invite_and_decide(client: Any) -> dt.date:
    """Five leads invited through the API; four of them apply, three within 30 days."""
    for applicant, region, channel, score in LEADS:
        answer = client.post(
            "/api/leads/prescreen/",
            {"region": region, "channel": channel, "applicant_key": applicant, "lead_score": score},
            format="json",
        )
        assert answer.json()["decision"] == "invite"
    today = dt.date.today()
    soon = (today + dt.timedelta(days=3)).isoformat()
    late = (today + dt.timedelta(days=45)).isoformat()
    loanbook_import(
        kind="applications",
        source=csv_file(
            f"""
            application_id,region,applied_at,decision,decided_at,applicant_key
            P1,EAST-01,{soon}T10:00:00+08:00,rejected,{soon}T12:00:00+08:00,ID-A
            P2,EAST-01,{soon}T10:00:00+08:00,approved,{soon}T12:00:00+08:00,ID-B
            P3,EAST-01,{late}T10:00:00+08:00,rejected,{late}T12:00:00+08:00,ID-C
            P4,WEST-01,{soon}T10:00:00+08:00,rejected,{soon}T12:00:00+08:00,ID-D
            """
        ),
        refresh="none",
    )
    return today


def test_invited_leads_declined_per_region_and_channel(
    client_for: Any, marketing_head: Any
) -> None:
    today = invite_and_decide(client_for(marketing_head))
    assert PrescreenDecision.objects.count() == 5
    assert not PrescreenDecision.objects.filter(applicant_key__icontains="ID-").exists()
    rows = {(r["region"], r["channel"]): r for r in false_invitations(today, today)}
    # EAST-01 wechat: A declined, B approved, C applied after 30 days (not an answer) → 1 of 2.
    assert rows[("EAST-01", "wechat")] == {
        "region": "EAST-01",
        "channel": "wechat",
        "decided": 2,
        "declined": 1,
        "rate": 50.0,
    }
    # WEST-01 dealer: D declined; E never applied → 1 of 1.
    assert rows[("WEST-01", "dealer")]["rate"] == 100.0
    assert false_invitation_rate(today, today) == pytest.approx(100 * 2 / 3, abs=0.01)
    assert (
        false_invitation_rate(today - dt.timedelta(days=10), today - dt.timedelta(days=1)) is None
    )


def test_the_risk_page_shows_the_pre_screen_figures_worst_first(
    client_for: Any, marketing_head: Any
) -> None:
    import re

    from tests.test_pages import signed_in

    invite_and_decide(client_for(marketing_head))
    client_for(marketing_head).post(
        "/api/leads/prescreen/",
        {"region": "EAST-01", "channel": "web", "credit_score": 100},
        format="json",
    )
    html = signed_in(marketing_head).get("/risk/").content.decode()

    def text(fragment: str) -> str:
        return re.sub(r"<[^>]+>", "", fragment).strip()

    table = html.split('id="false-invitations"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    rows = [
        [text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]
    # WEST-01 dealer: 1 of 1 declined; EAST-01 wechat: 1 of 2
    assert rows == [
        ["WEST-01", "dealer", "1", "1", "100 %"],
        ["EAST-01", "wechat", "2", "1", "50 %"],
    ]
    counts = dict(
        re.findall(
            r'<li data-decision="(\w+)"><strong>(\d+)</strong>', html.split("prescreen-counts")[1]
        )
    )
    assert counts == {"invite": "5", "review": "0", "decline": "1"}
    # 2 declined of 3 decided
    figure = html.split('id="fig-false-invitations"')[1]
    assert text(figure.split('<span class="scr-figure__value">')[1].split("</span>")[0]) == "66.7 %"


def test_the_false_invitation_rate_is_a_kpi_metric() -> None:
    from metrics.kpi.selectors import known_metrics, metric_info

    assert "false_invitation_rate" in known_metrics()
    assert metric_info("false_invitation_rate")["unit"] == "%"


def test_risk_clears_a_flag_and_it_opens_again_when_more_checks_fail(
    client_for: Any, risk_head: Any, marketing_head: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rows = """
        application_id,region,applied_at,decision,applicant_key,amount_requested,vehicle_value,monthly_income
        X1,EAST-01,2026-11-01T10:00:00+08:00,pending,320102199001011234,90000,100000,10000
    """
    with django_capture_on_commit_callbacks(execute=True):
        loanbook_import(kind="applications", source=csv_file(rows), refresh="now")
    risk = client_for(risk_head)
    assert [f["application_id"] for f in risk.get("/api/risk/flags/").json()] == ["X1"]
    flag = risk.get("/api/risk/flags/").json()[0]
    assert flag["failed_checks"] == ["ltv"] and "ltv" in flag["explanations"]
    assert client_for(marketing_head).post("/api/risk/flags/X1/clear/").status_code == 403
    cleared = risk.post("/api/risk/flags/X1/clear/")
    assert cleared.status_code == 200 and cleared.json()["status"] == "cleared"
    assert risk.get("/api/risk/flags/").json() == []
    assert risk.post("/api/risk/flags/NOPE/clear/").status_code == 404
    # A second failed check (debt-to-income, on a new amount) opens it again.
    worse = rows.replace("90000,100000,10000", "95000,100000,1000")
    with django_capture_on_commit_callbacks(execute=True):
        loanbook_import(kind="applications", source=csv_file(worse), refresh="now")
    again = risk.get("/api/risk/flags/").json()
    assert [(f["application_id"], f["status"]) for f in again] == [("X1", "open")]
    assert again[0]["failed_checks"] == ["ltv", "debt_to_income"]
