"""The strategy split against the work done (contract section 7a): cards carry a pillar, and the
quarterly review sets the budget split in force (time-weighted over the quarter) beside the share
of finished work per pillar, overall and per department. Figures worked out by hand on boards
built in the test."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from carloan.parameters.models import ParameterChange
from carloan.parameters.services import parameters_change, preset_apply
from kanban.models import Card
from metrics.kpi.quarters import Quarter
from metrics.kpi.strategy import strategy_split
from tests.test_kanban_support import new_card
from tests.test_pages import signed_in

pytestmark = pytest.mark.django_db

ZONE = timezone.get_default_timezone()
Q3 = Quarter.parse("2026Q3")  # 1 July to 30 September: 92 days
NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=ZONE)


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=ZONE)


def finished(user: User, title: str, department: str, pillar: str, day: str) -> int:
    """A card done on `day` (built in Done, its finishing moment set to that day)."""
    card = new_card(user, title, department, "Done", pillar=pillar)
    Card.objects.filter(pk=card["id"]).update(done_at=at(day))
    return card["id"]


def test_the_target_is_the_split_in_force_at_the_quarters_end(manager: User) -> None:
    """40/30/30 (the defaults) from 1 July, the emerging-market preset (60/20/20) from 16 August:
    at the quarter's end the preset is in force (contract section 7a), and the review says the
    split changed during the quarter; the quarter before held the defaults."""
    preset_apply(
        name="emerging_market",
        user=manager,
        versions={
            "strategy.budget.data_platform_pct": 1,
            "strategy.budget.risk_collaboration_pct": 1,
            "strategy.budget.agile_platform_pct": 1,
        },
    )
    ParameterChange.objects.update(changed_at=at("2026-08-16", 0))
    split = strategy_split(Q3, now=NOW)
    assert split["target"] == {
        "data_platform": 60.0,
        "risk_collaboration": 20.0,
        "agile_platform": 20.0,
    }
    assert split["preset"] == "emerging_market" and split["changed"] is True
    trend = {row["quarter"]: row["target"] for row in split["trend"]}
    assert trend["2026Q2"] == {
        "data_platform": 40.0,
        "risk_collaboration": 30.0,
        "agile_platform": 30.0,
    }
    q2 = strategy_split(Quarter.parse("2026Q2"), now=NOW)
    assert q2["changed"] is False and q2["preset"] is None


def test_a_split_changed_after_the_quarter_leaves_it_as_it_was(manager: User) -> None:
    parameters_change(
        changes={
            "strategy.budget.data_platform_pct": (20, 1),
            "strategy.budget.risk_collaboration_pct": (50, 1),
            "strategy.budget.agile_platform_pct": (30, 1),
        },
        user=manager,
        reason="after the quarter",
    )
    ParameterChange.objects.update(changed_at=at("2026-10-03"))
    q3 = strategy_split(Q3, now=NOW)
    assert q3["target"]["data_platform"] == 40.0 and q3["preset"] is None
    assert strategy_split(Quarter.parse("2026Q4"), now=NOW)["target"]["risk_collaboration"] == 50


def test_the_share_of_finished_work_per_pillar_and_department(manager: User) -> None:
    finished(manager, "Data lake ingestion", "tech", "data_platform", "2026-07-03")
    finished(manager, "Sync monitor", "tech", "data_platform", "2026-09-30")
    finished(manager, "Lead attribution", "marketing", "data_platform", "2026-08-01")
    finished(manager, "Blacklist review", "risk", "risk_collaboration", "2026-08-20")
    finished(manager, "Untagged chore", "tech", "", "2026-08-21")
    finished(manager, "Untagged two", "risk", "", "2026-08-22")
    finished(manager, "Last quarter", "tech", "agile_platform", "2026-06-30")  # Q2
    new_card(manager, "Still open", "tech", "Backlog", pillar="agile_platform")

    split = strategy_split(Q3, now=NOW)
    done = split["done"]
    assert done["counts"] == {"data_platform": 3, "risk_collaboration": 1, "agile_platform": 0}
    assert done["total"] == 4 and done["untagged"] == 2
    assert done["shares"] == {
        "data_platform": 75.0,
        "risk_collaboration": 25.0,
        "agile_platform": 0.0,
    }
    # against the defaults 40/30/30
    assert split["gap"] == {
        "data_platform": 35.0,
        "risk_collaboration": -5.0,
        "agile_platform": -30.0,
    }
    assert done["departments"]["tech"]["shares"]["data_platform"] == 100.0
    assert done["departments"]["marketing"]["counts"]["data_platform"] == 1
    assert done["departments"]["risk"]["shares"] == {
        "data_platform": 0.0,
        "risk_collaboration": 100.0,
        "agile_platform": 0.0,
    }
    q2 = next(row for row in split["trend"] if row["quarter"] == "2026Q2")
    assert q2["shares"]["agile_platform"] == 100.0 and q2["total"] == 1
    # A quarter with no tagged work has no shares (not zeros)
    q1 = next(row for row in split["trend"] if row["quarter"] == "2026Q1")
    assert q1["shares"] == {
        "data_platform": None,
        "risk_collaboration": None,
        "agile_platform": None,
    }


def test_a_card_gets_its_pillar_through_the_api(
    manager: User, client_for: Any, marketing_head: User
) -> None:
    card = new_card(manager, "Attribution model", "marketing")
    assert card["pillar"] is None
    client = client_for(marketing_head)
    answer = client.patch(
        f"/api/kanban/cards/{card['id']}/",
        {"pillar": "data_platform", "version": card["version"]},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["pillar"] == "data_platform"
    bad = client.patch(
        f"/api/kanban/cards/{card['id']}/",
        {"pillar": "marketing_magic", "version": answer.json()["version"]},
        format="json",
    )
    assert bad.status_code == 400 and "pillar" in bad.json()
    cleared = client.patch(
        f"/api/kanban/cards/{card['id']}/",
        {"pillar": "", "version": answer.json()["version"]},
        format="json",
    )
    assert cleared.status_code == 200 and cleared.json()["pillar"] is None


def test_the_review_shows_the_split_against_the_work(manager: User) -> None:
    finished(manager, "Data lake ingestion", "tech", "data_platform", "2026-07-03")
    finished(manager, "Blacklist review", "risk", "risk_collaboration", "2026-08-20")
    html = signed_in(manager).get("/kpi/review/?quarter=2026Q3").content.decode()
    assert 'data-slide="strategy"' in html
    table = html.split('id="strategy-split"')[1].split("</table>")[0]
    row = table.split('data-pillar="data_platform"')[1].split("</tr>")[0]
    assert "40.0 %" in row and "50.0 %" in row and 'data-gap="10.0"' in row
    import json

    figures = json.loads(
        html.split('id="kpi-figures" type="application/json">')[1].split("</script>")[0]
    )
    bars = {trace["name"]: trace["y"] for trace in figures["strategy"]["data"]}
    # the last quarter of the figure is the one reviewed: budget 40, done 50 for the data platform
    assert bars["Data platform · budget"][-1] == 40.0
    assert bars["Data platform · work done"][-1] == 50.0


def test_changing_the_budget_split_changes_what_the_review_shows(manager: User) -> None:
    """The budget parameters bite: the quarter under way's target follows a saved change."""
    quarter = Quarter.of(timezone.localdate())
    before = strategy_split(quarter)["target"]["data_platform"]
    parameters_change(
        changes={
            "strategy.budget.data_platform_pct": (10, 1),
            "strategy.budget.risk_collaboration_pct": (45, 1),
            "strategy.budget.agile_platform_pct": (45, 1),
        },
        user=manager,
        reason="shift to risk",
    )
    ParameterChange.objects.update(
        changed_at=timezone.make_aware(dt.datetime.combine(quarter.start, dt.time()))
    )
    after = strategy_split(quarter)["target"]
    assert before == 40.0
    assert after == {"data_platform": 10.0, "risk_collaboration": 45.0, "agile_platform": 45.0}


def test_the_allocation_api_answers_as_the_contract_says(
    manager: User, client_for: Any, viewer: User
) -> None:
    finished(manager, "Data lake ingestion", "tech", "data_platform", "2026-07-03")
    finished(manager, "Sync monitor", "tech", "data_platform", "2026-08-03")
    finished(manager, "Blacklist review", "risk", "risk_collaboration", "2026-08-20")
    finished(manager, "Chore", "tech", "", "2026-08-21")
    answer = client_for(viewer).get("/api/kpi/allocation/", {"quarter": "2026Q3"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["target"] == {
        "data_platform": 40.0,
        "risk_collaboration": 30.0,
        "agile_platform": 30.0,
    }
    assert body["actual"] == {
        "data_platform": pytest.approx(66.7),
        "risk_collaboration": pytest.approx(33.3),
        "agile_platform": 0.0,
    }
    assert (body["cards"], body["untagged"]) == (3, 1)
    assert client_for(viewer).get("/api/kpi/allocation/", {"quarter": "2026Q9"}).status_code == 400
