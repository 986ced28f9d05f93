"""The parameters API and its one writer (contract section 4, issue 3): reading, changing with
versions and validation, history and revert, presets, four-eyes requests, roles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from carloan.parameters.models import ChangeRequest, Parameter, ParameterChange
from carloan.parameters.registry import BUDGET_KEYS, REGISTRY
from carloan.parameters.selectors import parameter_cache_invalidate, parameter_value
from carloan.parameters.services import parameters_change
from tests.factories import make_user

pytestmark = pytest.mark.django_db

URL = "/api/parameters/"
DATA, RISK, AGILE = BUDGET_KEYS
Clients = Callable[[User | None], APIClient]


@pytest.fixture(autouse=True)
def fresh_parameter_cache() -> Iterator[None]:
    parameter_cache_invalidate()
    yield
    parameter_cache_invalidate()


@pytest.fixture
def boss(db: Any) -> User:
    """A second manager, for four-eyes."""
    return make_user("bob_boss", "manager")


@pytest.fixture
def as_manager(client_for: Clients, manager: User) -> APIClient:
    return client_for(manager)


@pytest.fixture
def as_boss(client_for: Clients, boss: User) -> APIClient:
    return client_for(boss)


def state(client: APIClient, key: str) -> dict[str, Any]:
    response = client.get(f"{URL}{key}/")
    assert response.status_code == 200
    return response.json()


def patch(client: APIClient, key: str, value: Any, version: int, **extra: Any) -> Any:
    return client.patch(
        f"{URL}{key}/", {"value": value, "version": version, **extra}, format="json"
    )


def nothing_stored() -> bool:
    return not ParameterChange.objects.exists() and not ChangeRequest.objects.exists()


# --- reading ----------------------------------------------------------------------------------


def test_everyone_signed_in_reads_every_parameter(client_for: Clients, viewer: User) -> None:
    response = client_for(viewer).get(URL)

    assert response.status_code == 200
    rows = {row["key"]: row for row in response.json()}
    assert set(rows) == set(REGISTRY)
    ltv = rows["risk.max_ltv_pct"]
    assert ltv["value"] == 80
    assert ltv["type"] == "percent"
    assert ltv["category"] == "risk"
    assert (ltv["min"], ltv["max"], ltv["unit"]) == (10, 150, "%")
    assert ltv["version"] == 1
    assert ltv["updated_by"] is None
    assert ltv["updated_at"] is None
    assert ltv["description"]["en"] and ltv["description"]["zh"]
    assert ltv["four_eyes"] is True
    assert ltv["pending_requests"] == []
    assert rows["risk.calibration.mode"]["choices"] == ["propose", "off"]
    assert rows["alert.availability.critical_pct"]["value"] == 12


def test_parameters_need_a_signed_in_user(client_for: Clients) -> None:
    assert client_for(None).get(URL).status_code == 401


def test_a_category_filter(client_for: Clients, viewer: User) -> None:
    rows = client_for(viewer).get(URL, {"category": "strategy"}).json()

    assert {row["category"] for row in rows} == {"strategy"}
    assert client_for(viewer).get(URL, {"category": "nope"}).status_code == 400


def test_an_unknown_key_is_404(as_manager: APIClient) -> None:
    assert as_manager.get(f"{URL}no.such.key/").status_code == 404
    assert patch(as_manager, "no.such.key", 1, 1).status_code == 404
    assert as_manager.get(f"{URL}no.such.key/history/").status_code == 404


# --- changing -----------------------------------------------------------------------------------


def test_a_manager_changes_a_value_and_gets_the_new_state(
    as_manager: APIClient, manager: User
) -> None:
    response = patch(as_manager, "marketing.target_cac", "2100.50", 1, reason="Q3 plan")

    assert response.status_code == 200
    body = response.json()
    assert body["value"] == 2100.5
    assert body["version"] == 2
    assert body["updated_by"] == manager.username
    assert body["updated_at"]
    assert parameter_value("marketing.target_cac") == 2100.5
    [change] = ParameterChange.objects.filter(key="marketing.target_cac")
    assert (change.old_value, change.new_value, change.version) == (2500.0, 2100.5, 2)
    assert (change.reason, change.changed_by, change.action) == ("Q3 plan", manager, "set")


def test_versions_follow_each_change(as_manager: APIClient) -> None:
    assert patch(as_manager, "marketing.lead_score_cutoff", 55, 1).json()["version"] == 2
    assert patch(as_manager, "marketing.lead_score_cutoff", 60, 2).json()["version"] == 3
    assert state(as_manager, "marketing.lead_score_cutoff")["value"] == 60


def test_the_same_value_changes_nothing(as_manager: APIClient) -> None:
    response = patch(as_manager, "marketing.lead_score_cutoff", 50, 1)

    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert nothing_stored()


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("marketing.lead_score_cutoff", 101, "between 0 and 100"),
        ("marketing.lead_score_cutoff", "many", "not a number"),
        ("marketing.lead_score_cutoff", 50.5, "whole number"),
        ("marketing.max_promo_discount_pct", 80, "between 0 and 50 %"),
        ("marketing.promotions_enabled", "perhaps", "true or false"),
        ("alert.npl_ratio.warn_pct", -1, "between 0 and 1000 %"),
    ],
)
def test_a_bad_value_is_400_and_nothing_is_stored(
    as_manager: APIClient, key: str, value: Any, says: str
) -> None:
    response = patch(as_manager, key, value, 1)

    assert response.status_code == 400
    assert says in response.json()["value"][0]
    assert nothing_stored()
    assert state(as_manager, key)["version"] == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"value": 5}, {"version": 1}, {"value": None, "version": 1}, {"value": 5, "version": 0}],
)
def test_a_malformed_body_is_400(as_manager: APIClient, body: dict[str, Any]) -> None:
    response = as_manager.patch(f"{URL}marketing.lead_score_cutoff/", body, format="json")

    assert response.status_code == 400
    assert nothing_stored()


def test_a_single_budget_share_cannot_break_the_sum(as_manager: APIClient) -> None:
    response = patch(as_manager, DATA, 50, 1)

    assert response.status_code == 400
    message = response.json()["value"][0]
    assert "must sum to 100" in message
    assert "together" in message and "PATCH /api/parameters/" in message
    assert nothing_stored()


def test_the_budget_split_changes_in_one_bulk_change(as_manager: APIClient) -> None:
    response = as_manager.patch(
        URL,
        {
            "changes": [
                {"key": DATA, "value": 50, "version": 1},
                {"key": RISK, "value": 25, "version": 1},
                {"key": AGILE, "value": 25, "version": 1},
            ],
            "reason": "rebalance",
        },
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["changed"] == sorted(BUDGET_KEYS)
    assert {p["key"]: p["value"] for p in body["parameters"]} == {
        DATA: 50,
        RISK: 25,
        AGILE: 25,
    }
    change_sets = set(ParameterChange.objects.values_list("change_set", flat=True))
    assert [str(c) for c in change_sets] == [body["change_set"]]


def test_a_bulk_change_that_breaks_a_rule_stores_nothing(as_manager: APIClient) -> None:
    response = as_manager.patch(
        URL,
        {
            "changes": [
                {"key": DATA, "value": 50, "version": 1},
                {"key": RISK, "value": 35, "version": 1},
                {"key": "marketing.lead_score_cutoff", "value": 70, "version": 1},
            ]
        },
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {DATA, RISK}
    assert "(it would be 115 %)" in errors[DATA][0]
    assert nothing_stored()
    assert state(as_manager, "marketing.lead_score_cutoff")["value"] == 50


def test_a_bulk_change_names_each_bad_or_unknown_key(as_manager: APIClient) -> None:
    response = as_manager.patch(
        URL,
        {
            "changes": [
                {"key": "no.such", "value": 1, "version": 1},
                {"key": "marketing.lead_score_cutoff", "value": 700, "version": 1},
            ]
        },
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"no.such", "marketing.lead_score_cutoff"}
    duplicate = as_manager.patch(
        URL,
        {"changes": [{"key": DATA, "value": 1, "version": 1}] * 2},
        format="json",
    )
    assert duplicate.status_code == 400
    assert "at most once" in str(duplicate.json())


def test_warn_must_stay_below_critical(as_manager: APIClient) -> None:
    response = patch(as_manager, "alert.overdue_rate.warn_pct", 12, 1)

    assert response.status_code == 400
    assert "must be below its critical threshold" in response.json()["value"][0]
    assert patch(as_manager, "alert.overdue_rate.critical_pct", 20, 1).status_code == 200
    assert patch(as_manager, "alert.overdue_rate.warn_pct", 12, 1).status_code == 200


def test_a_stale_version_is_409_with_the_current_value(
    as_manager: APIClient, as_boss: APIClient, boss: User
) -> None:
    assert patch(as_boss, "marketing.lead_score_cutoff", 70, 1).status_code == 200

    response = patch(as_manager, "marketing.lead_score_cutoff", 40, 1)

    assert response.status_code == 409
    body = response.json()
    assert (body["value"], body["version"]) == (70, 2)
    assert body["current"][0]["updated_by"] == boss.username
    assert "changed since you loaded it" in body["detail"]
    assert state(as_manager, "marketing.lead_score_cutoff")["value"] == 70
    assert ParameterChange.objects.count() == 1


def test_a_stale_key_in_a_bulk_change_stores_nothing(as_manager: APIClient) -> None:
    patch(as_manager, "marketing.lead_score_cutoff", 70, 1)

    response = as_manager.patch(
        URL,
        {
            "changes": [
                {"key": "marketing.lead_score_cutoff", "value": 40, "version": 1},
                {"key": "marketing.target_cac", "value": 100, "version": 1},
            ]
        },
        format="json",
    )

    assert response.status_code == 409
    assert [c["key"] for c in response.json()["current"]] == ["marketing.lead_score_cutoff"]
    assert state(as_manager, "marketing.target_cac")["version"] == 1


@pytest.mark.parametrize("who", ["viewer", "risk_head", "marketing_head"])
def test_only_managers_change_parameters(
    client_for: Clients, request: pytest.FixtureRequest, who: str
) -> None:
    client = client_for(request.getfixturevalue(who))

    responses = [
        patch(client, "marketing.lead_score_cutoff", 60, 1),
        client.patch(URL, {"changes": [{"key": DATA, "value": 1, "version": 1}]}, format="json"),
        client.post(f"{URL}marketing.lead_score_cutoff/revert/", {"version": 1}, format="json"),
        apply_preset(client, "emerging_market"),
        client.post(f"{URL}calibrate/"),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert nothing_stored()


def test_the_service_refuses_non_managers_too(viewer: User) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        parameters_change(changes={"marketing.lead_score_cutoff": (60, 1)}, user=viewer)


def test_a_superuser_is_a_manager(client_for: Clients) -> None:
    root = make_user("root", "", superuser=True)

    assert patch(client_for(root), "marketing.lead_score_cutoff", 60, 1).status_code == 200


# --- history and revert ------------------------------------------------------------------------


def test_history_lists_every_change_newest_first(as_manager: APIClient, manager: User) -> None:
    patch(as_manager, "marketing.lead_score_cutoff", 55, 1, reason="first")
    patch(as_manager, "marketing.lead_score_cutoff", 65, 2)

    history = as_manager.get(f"{URL}marketing.lead_score_cutoff/history/").json()

    assert [(h["version"], h["old_value"], h["new_value"]) for h in history] == [
        (3, 55, 65),
        (2, 50, 55),
    ]
    assert history[1]["reason"] == "first"
    assert history[1]["changed_by"] == manager.username
    assert history[1]["action"] == "set"
    assert history[1]["changed_at"]


def test_revert_makes_a_new_version_with_the_old_value(as_manager: APIClient) -> None:
    patch(as_manager, "marketing.lead_score_cutoff", 55, 1)
    patch(as_manager, "marketing.lead_score_cutoff", 65, 2)

    response = as_manager.post(
        f"{URL}marketing.lead_score_cutoff/revert/", {"version": 2}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["parameters"][0]["value"] == 55
    assert response.json()["parameters"][0]["version"] == 4
    latest = as_manager.get(f"{URL}marketing.lead_score_cutoff/history/").json()[0]
    assert (latest["version"], latest["action"], latest["new_value"]) == (4, "revert", 55)
    assert latest["reason"] == "Revert marketing.lead_score_cutoff to version 2"
    # Version 1 is the default, the value before the first change.
    back = as_manager.post(
        f"{URL}marketing.lead_score_cutoff/revert/", {"version": 1}, format="json"
    )
    assert back.json()["parameters"][0]["value"] == 50
    assert back.json()["parameters"][0]["version"] == 5


def test_a_revert_based_on_a_stale_view_is_409(as_manager: APIClient) -> None:
    """The page sends the version it shows: another manager's change made since is not lost."""
    key = "marketing.lead_score_cutoff"
    patch(as_manager, key, 55, 1)  # the page shows version 2
    patch(as_manager, key, 65, 2)  # someone else's change: version 3

    stale = as_manager.post(f"{URL}{key}/revert/", {"version": 1, "base_version": 2}, format="json")
    assert stale.status_code == 409
    assert parameter_value(key) == 65

    fresh = as_manager.post(f"{URL}{key}/revert/", {"version": 1, "base_version": 3}, format="json")
    assert fresh.status_code == 200
    assert parameter_value(key) == 50


def test_revert_to_a_version_that_never_was_is_400(as_manager: APIClient) -> None:
    response = as_manager.post(
        f"{URL}marketing.lead_score_cutoff/revert/", {"version": 7}, format="json"
    )

    assert response.status_code == 400
    assert "has no version 7" in response.json()["version"][0]


def test_reverting_a_budget_share_restores_that_whole_split(as_manager: APIClient) -> None:
    assert apply_preset(as_manager, "emerging_market").status_code == 200
    assert apply_preset(as_manager, "tech_transformation").status_code == 200

    response = as_manager.post(f"{URL}{RISK}/revert/", {"version": 2}, format="json")

    assert response.status_code == 200
    assert {p["key"]: p["value"] for p in response.json()["parameters"]} == {
        DATA: 60,
        RISK: 20,
        AGILE: 20,
    }
    assert len({str(c) for c in ParameterChange.objects.values_list("change_set", flat=True)}) == 3


# --- presets -------------------------------------------------------------------------------------


def apply_preset(client: APIClient, name: str, reason: str = "") -> Any:
    """Apply a preset as the page does: with the versions the presets list gave."""
    listed = client.get(f"{URL}presets/").json()
    versions = next((p["versions"] for p in listed if p["name"] == name), {}) if listed else {}
    return client.post(
        f"{URL}presets/{name}/apply/", {"versions": versions, "reason": reason}, format="json"
    )


def test_presets_are_listed_with_their_split(client_for: Clients, viewer: User) -> None:
    presets = {p["name"]: p for p in client_for(viewer).get(f"{URL}presets/").json()}

    assert set(presets) == {"emerging_market", "mature_optimisation", "tech_transformation"}
    assert presets["emerging_market"]["values"] == {DATA: 60, RISK: 20, AGILE: 20}
    assert presets["emerging_market"]["label"]["zh"]
    assert not any(p["current"] for p in presets.values())


def test_a_preset_applies_all_three_values_as_one_change_set(
    as_manager: APIClient, manager: User
) -> None:
    response = apply_preset(as_manager, "tech_transformation", reason="new CTO")

    assert response.status_code == 200
    assert {p["key"]: p["value"] for p in response.json()["parameters"]} == {
        DATA: 15,
        RISK: 15,
        AGILE: 70,
    }
    rows = ParameterChange.objects.all()
    assert {r.key for r in rows} == set(BUDGET_KEYS)
    assert {r.action for r in rows} == {"preset"}
    assert {str(r.change_set) for r in rows} == {response.json()["change_set"]}
    assert {r.reason for r in rows} == {"new CTO"}
    listed = {p["name"]: p["current"] for p in as_manager.get(f"{URL}presets/").json()}
    assert listed == {
        "emerging_market": False,
        "mature_optimisation": False,
        "tech_transformation": True,
    }


def test_an_unknown_preset_is_404(as_manager: APIClient) -> None:
    assert as_manager.post(f"{URL}presets/yolo/apply/", {}, format="json").status_code == 404


def test_a_preset_applied_over_a_change_made_meanwhile_is_409(as_manager: APIClient) -> None:
    """The manager saw the split at some versions; another manager changed a share since: the
    preset must not silently overwrite that change."""
    seen = {p["name"]: p for p in as_manager.get(f"{URL}presets/").json()}["emerging_market"]
    assert seen["versions"] == {DATA: 1, RISK: 1, AGILE: 1}
    changed = as_manager.patch(
        URL,
        {
            "changes": [
                {"key": DATA, "value": 35, "version": 1},
                {"key": AGILE, "value": 35, "version": 1},
            ]
        },
        format="json",
    )
    assert changed.status_code == 200, changed.json()

    stale = as_manager.post(
        f"{URL}presets/emerging_market/apply/",
        {"versions": seen["versions"], "reason": ""},
        format="json",
    )
    assert stale.status_code == 409
    assert parameter_value(DATA) == 35  # the change made meanwhile stands

    without = as_manager.post(f"{URL}presets/emerging_market/apply/", {}, format="json")
    assert without.status_code == 400 and "versions" in without.json()


# --- four-eyes -----------------------------------------------------------------------------------


def test_a_risk_change_becomes_a_pending_request(as_manager: APIClient, manager: User) -> None:
    response = patch(as_manager, "risk.max_ltv_pct", 75, 1, reason="tighten")

    assert response.status_code == 202
    request = response.json()
    assert request["status"] == "pending"
    assert request["changes"] == {"risk.max_ltv_pct": 75}
    assert request["base_versions"] == {"risk.max_ltv_pct": 1}
    assert request["requested_by"] == manager.username
    assert request["reason"] == "tighten"
    assert request["source"] == "manual"
    ltv = state(as_manager, "risk.max_ltv_pct")
    assert (ltv["value"], ltv["version"]) == (80, 1)
    assert ltv["pending_requests"] == [request["id"]]
    assert not ParameterChange.objects.exists()
    listed = as_manager.get(f"{URL}requests/", {"status": "pending"}).json()
    assert [r["id"] for r in listed] == [request["id"]]


def test_the_requester_cannot_approve_their_own_request(as_manager: APIClient) -> None:
    request_id = patch(as_manager, "risk.max_ltv_pct", 75, 1).json()["id"]

    response = as_manager.post(f"{URL}requests/{request_id}/approve/", {}, format="json")

    assert response.status_code == 403
    assert "another manager must approve it" in response.json()["detail"]
    assert state(as_manager, "risk.max_ltv_pct")["value"] == 80
    assert ChangeRequest.objects.get().status == "pending"


def test_another_manager_approves_and_the_value_changes(
    as_manager: APIClient, as_boss: APIClient, boss: User, manager: User
) -> None:
    request_id = patch(as_manager, "risk.max_ltv_pct", 75, 1, reason="tighten").json()["id"]

    response = as_boss.post(
        f"{URL}requests/{request_id}/approve/", {"note": "agreed"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["request"]["status"] == "approved"
    assert body["request"]["decided_by"] == boss.username
    assert body["request"]["decision_note"] == "agreed"
    assert body["parameters"][0]["value"] == 75
    assert body["parameters"][0]["version"] == 2
    assert parameter_value("risk.max_ltv_pct") == 75
    [entry] = as_boss.get(f"{URL}risk.max_ltv_pct/history/").json()
    assert entry["action"] == "approval"
    assert entry["changed_by"] == boss.username
    assert entry["requested_by"] == manager.username
    assert entry["request"] == request_id
    assert entry["reason"] == "tighten"
    again = as_boss.post(f"{URL}requests/{request_id}/approve/", {}, format="json")
    assert again.status_code == 409
    assert "already approved" in again.json()["detail"]


def test_a_rejected_request_changes_nothing(as_manager: APIClient, as_boss: APIClient) -> None:
    request_id = patch(as_manager, "risk.min_credit_score", 650, 1).json()["id"]

    response = as_boss.post(
        f"{URL}requests/{request_id}/reject/", {"note": "too strict"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["decision_note"] == "too strict"
    assert state(as_manager, "risk.min_credit_score")["value"] == 600
    assert not ParameterChange.objects.exists()
    assert as_boss.post(f"{URL}requests/{request_id}/approve/").status_code == 409


def test_the_requester_may_withdraw_their_own_request(as_manager: APIClient) -> None:
    request_id = patch(as_manager, "risk.min_credit_score", 650, 1).json()["id"]

    response = as_manager.post(f"{URL}requests/{request_id}/reject/", {}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"


def test_a_stale_request_is_409_on_approval(
    as_manager: APIClient, as_boss: APIClient, client_for: Clients
) -> None:
    third = client_for(make_user("carl_cfo", "manager"))
    first = patch(as_manager, "risk.max_ltv_pct", 75, 1).json()["id"]
    second = patch(as_boss, "risk.max_ltv_pct", 70, 1).json()["id"]
    assert third.post(f"{URL}requests/{second}/approve/").status_code == 200

    response = third.post(f"{URL}requests/{first}/approve/")

    assert response.status_code == 409
    body = response.json()
    assert "is stale" in body["detail"]
    assert body["current"][0]["value"] == 70
    assert body["current"][0]["version"] == 2
    assert body["request"]["id"] == first
    assert ChangeRequest.objects.get(pk=first).status == "pending"
    assert parameter_value("risk.max_ltv_pct") == 70


def test_a_risk_request_with_a_bad_value_is_400(as_manager: APIClient) -> None:
    response = patch(as_manager, "risk.max_ltv_pct", 500, 1)

    assert response.status_code == 400
    assert nothing_stored()


def test_a_risk_request_with_a_stale_version_is_409(
    as_manager: APIClient, as_boss: APIClient
) -> None:
    request_id = patch(as_manager, "risk.max_ltv_pct", 75, 1).json()["id"]
    as_boss.post(f"{URL}requests/{request_id}/approve/")

    response = patch(as_manager, "risk.max_ltv_pct", 70, 1)

    assert response.status_code == 409
    assert (response.json()["value"], response.json()["version"]) == (75, 2)


def patch_risk_and_cutoff_together(client: APIClient) -> Any:
    """A change set with a risk key (so a request) and a marketing key."""
    return client.patch(
        URL,
        {
            "changes": [
                {"key": "risk.max_ltv_pct", "value": 70, "version": 1},
                {"key": "marketing.lead_score_cutoff", "value": 70, "version": 1},
            ]
        },
        format="json",
    )


def test_a_bulk_change_with_a_risk_key_is_one_request(
    as_manager: APIClient, as_boss: APIClient
) -> None:
    response = patch_risk_and_cutoff_together(as_manager)

    assert response.status_code == 202
    assert state(as_manager, "marketing.lead_score_cutoff")["value"] == 50
    approved = as_boss.post(f"{URL}requests/{response.json()['id']}/approve/").json()
    assert approved["changed"] == ["marketing.lead_score_cutoff", "risk.max_ltv_pct"]
    assert len({p["version"] for p in approved["parameters"]}) == 1


def test_a_change_answers_with_the_requests_still_pending_on_its_key(
    as_manager: APIClient, as_boss: APIClient
) -> None:
    filed = patch_risk_and_cutoff_together(as_manager).json()["id"]

    changed = patch(as_manager, "marketing.lead_score_cutoff", 55, 1)

    assert changed.status_code == 200
    assert (changed.json()["value"], changed.json()["pending_requests"]) == (55, [filed])
    assert patch(as_manager, "marketing.target_cac", 2000, 1).json()["pending_requests"] == []
    as_boss.post(f"{URL}requests/{filed}/reject/", {}, format="json")
    assert patch(as_manager, "marketing.lead_score_cutoff", 60, 2).json()["pending_requests"] == []


def test_an_approval_answers_with_its_request_no_longer_pending(
    as_manager: APIClient, as_boss: APIClient
) -> None:
    request_id = patch(as_manager, "risk.max_ltv_pct", 75, 1).json()["id"]

    approved = as_boss.post(f"{URL}requests/{request_id}/approve/", {}, format="json").json()

    assert approved["parameters"][0]["pending_requests"] == []


def test_a_risk_revert_needs_a_second_manager(as_manager: APIClient, as_boss: APIClient) -> None:
    request_id = patch(as_manager, "risk.max_ltv_pct", 75, 1).json()["id"]
    as_boss.post(f"{URL}requests/{request_id}/approve/")

    response = as_manager.post(f"{URL}risk.max_ltv_pct/revert/", {"version": 1}, format="json")

    assert response.status_code == 202
    assert response.json()["action"] == "revert"
    assert response.json()["changes"] == {"risk.max_ltv_pct": 80}
    assert state(as_manager, "risk.max_ltv_pct")["value"] == 75


def test_unknown_requests_are_404(as_manager: APIClient) -> None:
    assert as_manager.get(f"{URL}requests/999/").status_code == 404
    assert as_manager.post(f"{URL}requests/999/approve/").status_code == 404
    assert as_manager.post(f"{URL}requests/999/reject/").status_code == 404
    assert as_manager.get(f"{URL}requests/", {"status": "maybe"}).status_code == 400


def test_the_schema_documents_the_parameters_api(as_manager: APIClient) -> None:
    schema = as_manager.get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    for path in (
        "/api/parameters/",
        "/api/parameters/{key}/",
        "/api/parameters/{key}/history/",
        "/api/parameters/{key}/revert/",
        "/api/parameters/{key}/what-if/",
        "/api/parameters/presets/",
        "/api/parameters/presets/{name}/apply/",
        "/api/parameters/requests/",
        "/api/parameters/requests/{id}/approve/",
        "/api/parameters/requests/{id}/reject/",
        "/api/parameters/calibrate/",
    ):
        assert path in paths
    assert set(paths["/api/parameters/{key}/"]["patch"]["responses"]) >= {
        "200",
        "202",
        "400",
        "403",
        "404",
        "409",
    }


def test_parameter_rows_exist_only_once_changed(as_manager: APIClient) -> None:
    patch(as_manager, "marketing.lead_score_cutoff", 60, 1)

    assert set(Parameter.objects.values_list("key", flat=True)) == {"marketing.lead_score_cutoff"}
