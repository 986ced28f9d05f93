"""KPI scoring through the API (contract sections 4 and 7): the default sets, replacing a set
and its rules (with the live minimum collaboration weight), who may, the change log, scorecards
against hand-computed values, closing and reopening a quarter (a re-import does not change a
frozen quarter), trends, and the CSV/XLSX exports carrying the API's numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from carloan.loanbook.services import loanbook_import
from carloan.parameters.selectors import parameter_cache_invalidate, parameters_state
from carloan.parameters.services import parameters_change
from metrics.kpi.defaults import DEFAULT_KPI_SETS
from metrics.kpi.models import KPIDefinition, KPISetChange, QuarterClosing
from metrics.kpi.scoring import DEPARTMENTS

pytestmark = pytest.mark.django_db
Clients = Callable[[User | None], APIClient]
QUARTER = "2026Q2"
MIN_KEY = "kpi.min_collaboration_weight_pct"

# A tech set whose actuals the test book fixes: availability 95 % (19 up, 1 down) scores
# 100 × (95 − 90) / (100 − 90) = 50; API p95 of 100 and 200 ms is 195 ms, which scores
# 100 × (195 − 300) / (100 − 300) = 52.5; the hand-off wait has no kanban data: 0, missing.
TECH_SET = [
    {"metric": "availability", "target": 100, "threshold": 90, "weight": 40},
    {"metric": "api_response_time_p95", "target": 100, "threshold": 300, "weight": 40},
    {"metric": "handoff_wait_time", "target": 4, "threshold": 48, "weight": 20},
]
TECH_SCORE = (50 * 40 + 52.5 * 40 + 0 * 20) / 100


@pytest.fixture(autouse=True)
def fresh_parameter_cache() -> Iterator[None]:
    parameter_cache_invalidate()
    yield
    parameter_cache_invalidate()


@pytest.fixture
def as_manager(manager: User, client_for: Clients) -> APIClient:
    return client_for(manager)


@pytest.fixture
def as_viewer(viewer: User, client_for: Clients) -> APIClient:
    return client_for(viewer)


def import_samples(rows: list[tuple[str, str, float]], name: str = "samples.csv") -> None:
    """Samples through the real import, metrics recomputed before returning."""
    lines = ["metric,ts,value,source"]
    lines += [f"{metric},{ts},{value},probe-{i}" for i, (metric, ts, value) in enumerate(rows)]
    handle = io.BytesIO(("\n".join(lines) + "\n").encode())
    loanbook_import(kind="samples", source=handle, file_name=name, refresh="now")


@pytest.fixture
def tech_book(as_manager: APIClient, django_capture_on_commit_callbacks: Any) -> None:
    """Q2 2026 samples for TECH_SET, and TECH_SET installed as tech's KPIs."""
    rows = [("availability", f"2026-05-{d:02d}T10:00:00", 1.0) for d in range(1, 20)]
    rows.append(("availability", "2026-06-20T10:00:00", 0.0))
    rows += [("api_response_time", "2026-04-10T09:00:00", 100.0)]
    rows += [("api_response_time", "2026-06-10T09:00:00", 200.0)]
    with django_capture_on_commit_callbacks(execute=True):
        import_samples(rows)
    assert (
        as_manager.put("/api/kpi/departments/tech/kpis/", TECH_SET, format="json").status_code
        == 200
    )


def set_parameter(manager: User, key: str, value: Any, capture: Any) -> None:
    version = parameters_state([key])[0]["version"]
    with capture(execute=True):
        parameters_change(changes={key: (value, version)}, user=manager)


def card(body: list[dict[str, Any]], department: str) -> dict[str, Any]:
    return next(c for c in body if c["department"] == department)


# --- KPI sets -----------------------------------------------------------------------------------


def test_defaults_exist_after_migration(as_viewer: APIClient) -> None:
    for department in DEPARTMENTS:
        response = as_viewer.get(f"/api/kpi/departments/{department}/kpis/")
        assert response.status_code == 200
        kpis = response.json()
        assert [k["metric"] for k in kpis] == [k["metric"] for k in DEFAULT_KPI_SETS[department]]
        assert sum(k["weight"] for k in kpis) == 100
        assert sum(k["weight"] for k in kpis if k["collaboration"]) >= 20
        assert set(kpis[0]) == {"metric", "target", "threshold", "weight", "collaboration"}
        assert response["X-KPI-Set-Version"] == "1"
    assert KPISetChange.objects.filter(version=1).count() == 3


def test_every_department_at_once(as_viewer: APIClient) -> None:
    body = as_viewer.get("/api/kpi/departments/").json()
    assert [d["department"] for d in body] == list(DEPARTMENTS)
    assert body[0]["version"] == 1


def test_a_manager_replaces_a_set_and_the_change_is_kept(
    as_manager: APIClient, manager: User
) -> None:
    before = as_manager.get("/api/kpi/departments/tech/kpis/").json()
    response = as_manager.put(
        "/api/kpi/departments/tech/kpis/",
        {"kpis": TECH_SET, "reason": "Focus on uptime", "version": 1},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [k["metric"] for k in response.json()] == [k["metric"] for k in TECH_SET]
    assert response.json()[2]["collaboration"] is True  # defaults on for collaboration metrics
    assert response["X-KPI-Set-Version"] == "2"
    history = as_manager.get("/api/kpi/departments/tech/kpis/history/").json()
    assert [h["version"] for h in history] == [2, 1]
    assert history[0]["changed_by"] == manager.username
    assert history[0]["reason"] == "Focus on uptime"
    assert history[0]["old_set"] == before
    assert history[0]["new_set"] == response.json()
    # A second edit made against version 1 is stale.
    stale = as_manager.put(
        "/api/kpi/departments/tech/kpis/", {"kpis": TECH_SET, "version": 1}, format="json"
    )
    assert stale.status_code == 409


@pytest.mark.parametrize("who", ["viewer", "tech_head"])
def test_only_managers_change_sets(
    who: str, request: pytest.FixtureRequest, client_for: Clients
) -> None:
    client = client_for(request.getfixturevalue(who))
    response = client.put("/api/kpi/departments/tech/kpis/", TECH_SET, format="json")
    assert response.status_code == 403
    assert "managers" in response.json()["detail"]
    assert KPISetChange.objects.filter(department="tech").count() == 1


def test_signed_out_is_401(client_for: Clients) -> None:
    assert client_for(None).get("/api/kpi/scorecards/").status_code == 401


def test_weights_must_sum_to_100(as_manager: APIClient) -> None:
    kpis = [dict(k) for k in TECH_SET]
    kpis[0]["weight"] = 30
    response = as_manager.put("/api/kpi/departments/tech/kpis/", kpis, format="json")
    assert response.status_code == 400
    assert response.json()["weight"] == ["The weights sum to 90; they must sum to 100."]
    assert KPIDefinition.objects.filter(department="tech").count() == 5  # nothing stored


def test_bad_metric_or_flat_kpi_is_400(as_manager: APIClient) -> None:
    kpis = [dict(k) for k in TECH_SET]
    kpis[0] = {"metric": "moonshots", "target": 5, "threshold": 5, "weight": 40}
    body = as_manager.put("/api/kpi/departments/tech/kpis/", kpis, format="json").json()
    assert "unknown metric 'moonshots'" in body["metric"][0]
    assert "must differ" in body["target"][0]
    shapeless = as_manager.put(
        "/api/kpi/departments/tech/kpis/", [{"metric": "availability"}], format="json"
    )
    assert shapeless.status_code == 400
    assert as_manager.get("/api/kpi/departments/sales/kpis/").status_code == 404


def test_the_collaboration_minimum_follows_the_parameter(
    as_manager: APIClient, manager: User, django_capture_on_commit_callbacks: Any
) -> None:
    # TECH_SET's collaboration weighs 20: fine at the default minimum of 20 ...
    ok = as_manager.put("/api/kpi/departments/tech/kpis/", TECH_SET, format="json")
    assert ok.status_code == 200
    # ... refused once the minimum is raised to 30 ...
    set_parameter(manager, MIN_KEY, 30, django_capture_on_commit_callbacks)
    refused = as_manager.put("/api/kpi/departments/tech/kpis/", TECH_SET, format="json")
    assert refused.status_code == 400
    assert "at least 30" in refused.json()["collaboration"][0]
    # ... and passes again once it is lowered back to 20.
    set_parameter(manager, MIN_KEY, 20, django_capture_on_commit_callbacks)
    assert (
        as_manager.put("/api/kpi/departments/tech/kpis/", TECH_SET, format="json").status_code
        == 200
    )


def test_the_collaboration_floor_of_the_seed_cannot_be_lowered(
    as_manager: APIClient, manager: User
) -> None:
    """The seed's rule: collaboration weighs at least 20 % of every department's KPIs. A manager
    may raise the minimum, not take it below 20."""
    state = as_manager.get("/api/parameters/").json()
    spec = next(p for p in state if p["key"] == MIN_KEY)
    assert (spec["min"], spec["value"]) == (20, 20)

    refused = as_manager.patch(
        f"/api/parameters/{MIN_KEY}/", {"value": 19, "version": spec["version"]}, format="json"
    )
    assert refused.status_code == 400
    assert "20" in str(refused.json())
    assert parameters_state([MIN_KEY])[0]["value"] == 20

    raised = as_manager.patch(
        f"/api/parameters/{MIN_KEY}/", {"value": 25, "version": spec["version"]}, format="json"
    )
    assert raised.status_code == 200, raised.json()
    assert raised.json()["value"] == 25


# --- scorecards ---------------------------------------------------------------------------------


def test_scorecards_against_hand_computed_values(as_viewer: APIClient, tech_book: None) -> None:
    response = as_viewer.get("/api/kpi/scorecards/", {"quarter": QUARTER})
    assert response.status_code == 200
    body = response.json()
    assert [c["department"] for c in body] == list(DEPARTMENTS)
    tech = card(body, "tech")
    assert tech["quarter"] == QUARTER and tech["frozen"] is False
    assert tech["score"] == pytest.approx(TECH_SCORE)
    assert tech["collaboration_weight"] == 20
    availability, latency, handoff = tech["kpis"]
    assert availability["actual"] == pytest.approx(95.0)
    assert availability["score"] == pytest.approx(50.0)
    assert latency["actual"] == pytest.approx(195.0)
    assert latency["score"] == pytest.approx(52.5)
    assert handoff == {
        "metric": "handoff_wait_time",
        "target": 4.0,
        "threshold": 48.0,
        "weight": 20.0,
        "collaboration": True,
        "actual": None,
        "score": 0.0,
        "missing": True,
    }
    # The loan-book departments have no data in this book: every KPI missing, none dropped.
    marketing = card(body, "marketing")
    assert marketing["score"] == 0 and all(k["missing"] for k in marketing["kpis"])
    assert len(marketing["kpis"]) == len(DEFAULT_KPI_SETS["marketing"])


@pytest.mark.parametrize("quarter", ["2026Q5", "2026-07", "Q3", "x" * 40])
def test_a_malformed_quarter_is_400(as_viewer: APIClient, quarter: str) -> None:
    response = as_viewer.get("/api/kpi/scorecards/", {"quarter": quarter})
    assert response.status_code == 400
    assert "is not a quarter" in response.json()["quarter"][0]
    assert (
        as_viewer.get("/api/kpi/scorecards/", {"quarter": quarter, "format": "xlsx"}).status_code
        == 400
    )


def test_scorecards_default_to_the_current_quarter(as_viewer: APIClient) -> None:
    body = as_viewer.get("/api/kpi/scorecards/").json()
    assert len(body) == 3 and body[0]["quarter"].startswith("20")


def test_trends_cover_eight_quarters(as_viewer: APIClient, tech_book: None) -> None:
    body = as_viewer.get("/api/kpi/trends/", {"quarter": QUARTER}).json()
    assert body["quarters"][-1] == QUARTER and len(body["quarters"]) == 8
    assert body["scores"]["tech"][-1] == pytest.approx(TECH_SCORE)
    assert body["scores"]["tech"][0] is None  # nothing measured that long ago
    assert body["actuals"]["tech"]["availability"][-1] == pytest.approx(95.0)


# --- closing a quarter --------------------------------------------------------------------------


def test_a_closed_quarter_does_not_change_when_data_is_reimported(
    as_manager: APIClient,
    as_viewer: APIClient,
    manager: User,
    tech_book: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    closed = as_manager.post(f"/api/kpi/quarters/{QUARTER}/close/", {"reason": "Q2 review"})
    assert closed.status_code == 200, closed.json()
    frozen = closed.json()
    assert frozen["frozen"] is True and frozen["closed_by"] == manager.username
    assert frozen["inputs"]["actuals"]["availability"] == pytest.approx(95.0)
    assert frozen["inputs"]["kpi_sets"]["tech"][0]["metric"] == "availability"
    assert frozen["inputs"]["parameters"][MIN_KEY] == 20
    before = as_viewer.get("/api/kpi/scorecards/", {"quarter": QUARTER}).json()
    assert card(before, "tech")["frozen"] is True

    # More data for the quarter arrives (20 more down samples), the KPI set and a parameter change.
    with django_capture_on_commit_callbacks(execute=True):
        import_samples(
            [("availability", f"2026-06-{d:02d}T11:00:00", 0.0) for d in range(1, 21)],
            name="late.csv",
        )
    set_parameter(manager, MIN_KEY, 30, django_capture_on_commit_callbacks)
    lighter = [dict(k) for k in TECH_SET]
    lighter[0]["weight"] = 45
    lighter[1]["weight"] = 25
    lighter[2]["weight"] = 30
    assert (
        as_manager.put("/api/kpi/departments/tech/kpis/", lighter, format="json").status_code == 200
    )

    after = as_viewer.get("/api/kpi/scorecards/", {"quarter": QUARTER}).json()
    assert after == before
    assert card(after, "tech")["score"] == pytest.approx(TECH_SCORE)

    # Closing again is a conflict; reopening needs a manager and a reason, and is logged.
    assert as_manager.post(f"/api/kpi/quarters/{QUARTER}/close/").status_code == 409
    assert (
        as_viewer.post(f"/api/kpi/quarters/{QUARTER}/reopen/", {"reason": "x"}).status_code == 403
    )
    assert as_manager.post(f"/api/kpi/quarters/{QUARTER}/reopen/", {}).status_code == 400
    reopened = as_manager.post(
        f"/api/kpi/quarters/{QUARTER}/reopen/", {"reason": "Late samples arrived"}
    )
    assert reopened.status_code == 200
    log = reopened.json()
    assert log["reopened_by"] == manager.username and log["reopen_reason"] == "Late samples arrived"
    assert log["closed_by"] == manager.username and log["reopened_at"]
    assert (
        as_manager.post(f"/api/kpi/quarters/{QUARTER}/reopen/", {"reason": "x"}).status_code == 409
    )

    live = card(as_viewer.get("/api/kpi/scorecards/", {"quarter": QUARTER}).json(), "tech")
    assert live["frozen"] is False
    assert live["kpis"][0]["actual"] == pytest.approx(100 * 19 / 40)  # 19 up of 40
    assert live["kpis"][0]["weight"] == 45  # today's KPI set
    assert QuarterClosing.objects.get().reopened_at is not None
    quarters = as_viewer.get("/api/kpi/quarters/").json()
    assert quarters[0]["quarter"] == QUARTER and quarters[0]["reopen_reason"]


def test_only_managers_close_and_not_the_future(
    as_manager: APIClient, as_viewer: APIClient
) -> None:
    assert as_viewer.post(f"/api/kpi/quarters/{QUARTER}/close/").status_code == 403
    assert as_manager.post("/api/kpi/quarters/2999Q1/close/").status_code == 400
    assert as_manager.post("/api/kpi/quarters/2026Q9/close/").status_code == 400
    assert not QuarterClosing.objects.exists()


# --- CSV and XLSX -------------------------------------------------------------------------------


def test_xlsx_has_the_same_numbers_as_the_api(as_viewer: APIClient, tech_book: None) -> None:
    from openpyxl import load_workbook

    api = as_viewer.get("/api/kpi/scorecards/", {"quarter": QUARTER}).json()
    response = as_viewer.get("/api/kpi/scorecards/", {"quarter": QUARTER, "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"kpi-scorecards-{QUARTER}.xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    records = [dict(zip(header, r, strict=True)) for r in body]
    expected = [(c, k) for c in api for k in c["kpis"]]
    assert len(records) == len(expected)
    for record, (c, k) in zip(records, expected, strict=True):
        assert record["department"] == c["department"]
        assert record["department_score"] == c["score"]
        assert record["metric"] == k["metric"]
        assert record["actual"] == k["actual"]
        assert record["score"] == k["score"]
        assert record["weight"] == k["weight"]
        assert record["missing"] == k["missing"]


def test_csv_has_the_same_numbers_as_the_api(as_viewer: APIClient, tech_book: None) -> None:
    api = as_viewer.get("/api/kpi/scorecards/", {"quarter": QUARTER}).json()
    response = as_viewer.get("/api/kpi/scorecards/", {"quarter": QUARTER, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    tech = [r for r in rows if r["department"] == "tech"]
    api_tech = card(api, "tech")
    assert [float(r["score"]) for r in tech] == [k["score"] for k in api_tech["kpis"]]
    assert float(tech[0]["department_score"]) == api_tech["score"]
    assert tech[2]["actual"] == "" and tech[2]["missing"] == "true"


def test_the_compliance_figures_are_kpi_metrics(
    as_manager: APIClient, as_viewer: APIClient
) -> None:
    """Flagged calls per 100 calls (contract section 9) in marketing's set: 4 calls checked in
    Q2, 1 flagged → 25 per 100, which scores 100 × (25 − 40) / (10 − 40) = 50."""
    from carloan.compliance.models import Call
    from carloan.compliance.services import calls_check_pending

    for n, text in enumerate(["百分百包过，不查征信", "年化利率6%", "审批以征信为准", "首付三成"]):
        Call.objects.create(
            call_id=f"Q2-{n}",
            started_at=f"2026-05-1{n}T10:00:00+08:00",
            region="EAST-01",
            agent="agent_kpi",
            transcript=text,
        )
    assert calls_check_pending() == 4
    kpis = [
        {"metric": "lead_conversion_rate", "target": 30, "threshold": 10, "weight": 40},
        {"metric": "flagged_calls_per_100", "target": 10, "threshold": 40, "weight": 30},
        {"metric": "handoff_wait_time", "target": 4, "threshold": 48, "weight": 30},
    ]
    saved = as_manager.put("/api/kpi/departments/marketing/kpis/", kpis, format="json")
    assert saved.status_code == 200, saved.json()
    assert saved.json()[1]["collaboration"] is False
    marketing = card(
        as_viewer.get("/api/kpi/scorecards/", {"quarter": QUARTER}).json(), "marketing"
    )
    flagged = marketing["kpis"][1]
    assert flagged["metric"] == "flagged_calls_per_100"
    assert flagged["actual"] == pytest.approx(25.0)
    assert flagged["score"] == pytest.approx(50.0)
