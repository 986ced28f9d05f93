"""The permission matrix (contract section 4): every API endpoint of the OpenAPI schema, for
anonymous, a viewer, each department head and a manager.

The endpoints are read from the schema itself, so a new endpoint fails this test until it is
given a row in EXPECTED. Each row says who may call it:

- `public`: anyone (the token endpoint);
- `signed_in`: every signed-in user (reads; quotes);
- `editor`: department heads and managers (cards, imports, samples);
- `manager`: managers only (parameters, KPI definitions, quarters, approvals);
- `marketing`, `risk`, `marketing_or_risk`: that department's head, or a manager (scripts,
  the phrase library, verdicts).

Anonymous callers get 401 everywhere but `public`. Reads answer 200 to everyone signed in. A
write by someone not allowed answers 403; by someone allowed, anything but 401/403 and never a
5xx (the body sent is empty, so usually a 400 about the missing fields).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.factories import make_user, token_for

PUBLIC, SIGNED_IN, EDITOR, MANAGER = "public", "signed_in", "editor", "manager"
# Risk collaboration (contract section 9): marketing writes scripts, risk control reviews them,
# keeps the library and gives verdicts; both may change a script (each its own moves).
MARKETING, RISK, MARKETING_OR_RISK = "marketing", "risk", "marketing_or_risk"

# (method, path) → (who may call it, query string for the call).
EXPECTED: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("POST", "/api/auth/token/"): (PUBLIC, {}),
    ("GET", "/api/alerts/"): (SIGNED_IN, {}),
    ("GET", "/api/alerts/export/"): (SIGNED_IN, {"status": "open"}),
    ("GET", "/api/auth/tokens/"): (SIGNED_IN, {}),
    ("POST", "/api/people/{user_id}/deactivate/"): (MANAGER, {}),
    ("POST", "/api/auth/tokens/"): (SIGNED_IN, {}),
    # the object is a manager's token: only its owner or a manager may revoke it
    ("POST", "/api/auth/tokens/{token_id}/revoke/"): (MANAGER, {}),
    ("POST", "/api/alerts/{alert_id}/acknowledge/"): (EDITOR, {}),
    ("GET", "/api/alerts/{alert_id}/history/"): (SIGNED_IN, {}),
    ("GET", "/api/alerts/silences/"): (SIGNED_IN, {}),
    ("POST", "/api/alerts/silences/"): (EDITOR, {}),
    ("POST", "/api/alerts/silences/{silence_id}/end/"): (EDITOR, {}),
    ("GET", "/api/notifications/channels/"): (MANAGER, {}),
    ("POST", "/api/notifications/channels/"): (MANAGER, {}),
    ("PATCH", "/api/notifications/channels/{channel_id}/"): (MANAGER, {}),
    ("DELETE", "/api/notifications/channels/{channel_id}/"): (MANAGER, {}),
    ("POST", "/api/notifications/channels/{channel_id}/test/"): (MANAGER, {}),
    ("GET", "/api/notifications/deliveries/"): (MANAGER, {}),
    ("POST", "/api/compliance/check/"): (SIGNED_IN, {}),
    ("GET", "/api/compliance/scripts/"): (SIGNED_IN, {}),
    ("POST", "/api/compliance/scripts/"): (MARKETING, {}),
    ("GET", "/api/compliance/scripts/{script_id}/"): (SIGNED_IN, {}),
    ("PATCH", "/api/compliance/scripts/{script_id}/"): (MARKETING_OR_RISK, {}),
    ("GET", "/api/compliance/scripts/{script_id}/history/"): (SIGNED_IN, {}),
    ("GET", "/api/compliance/calls/"): (SIGNED_IN, {"flagged": "1"}),
    ("GET", "/api/compliance/calls/export/"): (SIGNED_IN, {"flagged": "1", "format": "xlsx"}),
    ("POST", "/api/compliance/calls/"): (EDITOR, {}),
    ("GET", "/api/compliance/calls/{call_id}/"): (SIGNED_IN, {}),
    ("POST", "/api/compliance/calls/{call_id}/verdicts/"): (RISK, {}),
    ("GET", "/api/compliance/precision/"): (SIGNED_IN, {}),
    ("GET", "/api/compliance/library/"): (SIGNED_IN, {}),
    ("GET", "/api/compliance/library/{category}/"): (SIGNED_IN, {}),
    ("PATCH", "/api/compliance/library/{category}/"): (RISK, {}),
    ("GET", "/api/compliance/library/{category}/history/"): (SIGNED_IN, {}),
    ("POST", "/api/compliance/library/{category}/revert/"): (RISK, {}),
    ("GET", "/api/compliance/matrix/"): (SIGNED_IN, {}),
    ("GET", "/api/compliance/figures/"): (SIGNED_IN, {}),
    ("GET", "/api/compliance/evaluation/"): (SIGNED_IN, {}),
    ("GET", "/api/imports/"): (SIGNED_IN, {}),
    ("GET", "/api/risk/applications/{application_id}/checks/"): (SIGNED_IN, {}),
    ("GET", "/api/risk/applications/{application_id}/ring/"): (SIGNED_IN, {}),
    ("GET", "/api/risk/flags/"): (SIGNED_IN, {"status": "open"}),
    ("GET", "/api/risk/flags/export/"): (SIGNED_IN, {"status": "open"}),
    ("POST", "/api/risk/flags/{application_id}/clear/"): (RISK, {}),
    ("GET", "/api/risk/blacklist/"): (SIGNED_IN, {}),
    ("GET", "/api/risk/blacklist/changes/"): (SIGNED_IN, {"status": "pending"}),
    ("POST", "/api/risk/blacklist/changes/"): (EDITOR, {}),
    ("POST", "/api/risk/blacklist/changes/{change_id}/confirm/"): (RISK, {}),
    ("POST", "/api/risk/blacklist/changes/{change_id}/reject/"): (RISK, {}),
    ("POST", "/api/leads/prescreen/"): (SIGNED_IN, {}),
    ("GET", "/api/leads/prescreen/false-invitations/"): (SIGNED_IN, {}),
    ("POST", "/api/imports/"): (EDITOR, {}),
    ("GET", "/api/kanban/boards/"): (SIGNED_IN, {}),
    ("GET", "/api/kanban/boards/{board_id}/"): (SIGNED_IN, {}),
    ("GET", "/api/kanban/boards/{board_id}/flow/"): (SIGNED_IN, {}),
    ("GET", "/api/kanban/boards/{board_id}/export/"): (SIGNED_IN, {"format": "xlsx"}),
    ("POST", "/api/kanban/cards/"): (EDITOR, {}),
    ("GET", "/api/kanban/cards/{card_id}/"): (SIGNED_IN, {}),
    ("PATCH", "/api/kanban/cards/{card_id}/"): (EDITOR, {}),
    ("DELETE", "/api/kanban/cards/{card_id}/"): (EDITOR, {}),
    ("GET", "/api/kanban/cards/{card_id}/comments/"): (SIGNED_IN, {}),
    ("POST", "/api/kanban/cards/{card_id}/comments/"): (EDITOR, {}),
    ("GET", "/api/kanban/cards/{card_id}/history/"): (SIGNED_IN, {}),
    ("GET", "/api/kanban/cards/{card_id}/links/"): (SIGNED_IN, {}),
    ("POST", "/api/kanban/cards/{card_id}/links/"): (EDITOR, {}),
    ("DELETE", "/api/kanban/cards/{card_id}/links/{link_id}/"): (EDITOR, {}),
    ("POST", "/api/kanban/cards/{card_id}/move/"): (EDITOR, {}),
    ("GET", "/api/kpi/departments/"): (SIGNED_IN, {}),
    ("GET", "/api/kpi/departments/{department}/kpis/"): (SIGNED_IN, {}),
    ("PUT", "/api/kpi/departments/{department}/kpis/"): (MANAGER, {}),
    ("GET", "/api/kpi/departments/{department}/kpis/history/"): (SIGNED_IN, {}),
    ("GET", "/api/kpi/quarters/"): (SIGNED_IN, {}),
    ("GET", "/api/kpi/quarters/{quarter}/"): (SIGNED_IN, {}),
    ("POST", "/api/kpi/quarters/{quarter}/close/"): (MANAGER, {}),
    ("POST", "/api/kpi/quarters/{quarter}/reopen/"): (MANAGER, {}),
    ("GET", "/api/kpi/review/"): (SIGNED_IN, {}),
    ("GET", "/api/kpi/allocation/"): (SIGNED_IN, {"quarter": "2026Q3"}),
    ("GET", "/api/kpi/reviews/{quarter}/actions/"): (SIGNED_IN, {}),
    ("POST", "/api/kpi/reviews/{quarter}/actions/"): (EDITOR, {}),
    ("POST", "/api/kpi/review/pdf/"): (SIGNED_IN, {}),
    ("GET", "/api/kpi/review/pdf/{export_id}/"): (SIGNED_IN, {}),
    ("GET", "/api/kpi/review/pdf/{export_id}/download/"): (SIGNED_IN, {}),
    ("GET", "/api/kpi/scorecards/"): (SIGNED_IN, {}),
    ("GET", "/api/kpi/trends/"): (SIGNED_IN, {}),
    ("GET", "/api/metrics/"): (SIGNED_IN, {}),
    ("GET", "/api/metrics/compare/"): (SIGNED_IN, {"metric": "overdue_rate"}),
    ("GET", "/api/metrics/summary/"): (SIGNED_IN, {}),
    ("GET", "/api/metrics/panels/"): (SIGNED_IN, {}),
    ("GET", "/api/metrics/regions/"): (SIGNED_IN, {}),
    ("POST", "/api/metrics/samples/"): (EDITOR, {}),
    ("GET", "/api/metrics/series/"): (SIGNED_IN, {"metric": "overdue_rate"}),
    ("GET", "/api/metrics/values/"): (SIGNED_IN, {"metric": "overdue_rate"}),
    ("GET", "/api/parameters/"): (SIGNED_IN, {}),
    ("PATCH", "/api/parameters/"): (MANAGER, {}),
    ("GET", "/api/parameters/{key}/"): (SIGNED_IN, {}),
    ("PATCH", "/api/parameters/{key}/"): (MANAGER, {}),
    ("GET", "/api/parameters/{key}/history/"): (SIGNED_IN, {}),
    ("POST", "/api/parameters/{key}/revert/"): (MANAGER, {}),
    ("GET", "/api/parameters/{key}/what-if/"): (SIGNED_IN, {"value": "620"}),
    ("POST", "/api/parameters/calibrate/"): (MANAGER, {}),
    ("GET", "/api/parameters/presets/"): (SIGNED_IN, {}),
    ("POST", "/api/parameters/presets/{name}/apply/"): (MANAGER, {}),
    ("GET", "/api/parameters/requests/"): (SIGNED_IN, {}),
    ("GET", "/api/parameters/requests/{id}/"): (SIGNED_IN, {}),
    ("POST", "/api/parameters/requests/{id}/approve/"): (MANAGER, {}),
    ("POST", "/api/parameters/requests/{id}/reject/"): (MANAGER, {}),
    ("GET", "/api/valuations/collateral/"): (SIGNED_IN, {}),
    ("GET", "/api/valuations/collateral/export/"): (SIGNED_IN, {"format": "csv"}),
    # Saved views: anyone signed in keeps their own; the object is a manager's shared view, so
    # only its owner (the manager) changes or deletes it, and anyone signed in may pin it.
    ("GET", "/api/views/"): (SIGNED_IN, {}),
    ("POST", "/api/views/"): (SIGNED_IN, {}),
    ("PATCH", "/api/views/{view_id}/"): (MANAGER, {}),
    ("DELETE", "/api/views/{view_id}/"): (MANAGER, {}),
    ("POST", "/api/views/{view_id}/pin/"): (SIGNED_IN, {}),
    ("DELETE", "/api/views/{view_id}/pin/"): (SIGNED_IN, {}),
    ("GET", "/api/valuations/models/"): (SIGNED_IN, {}),
    ("POST", "/api/valuations/quote/"): (SIGNED_IN, {}),
    ("POST", "/api/valuations/quote/batch/"): (SIGNED_IN, {}),
}

ROLES = ("anonymous", "viewer", "marketing", "risk", "tech", "manager")
ALLOWED = {
    PUBLIC: set(ROLES),
    SIGNED_IN: set(ROLES) - {"anonymous"},
    EDITOR: {"marketing", "risk", "tech", "manager"},
    MANAGER: {"manager"},
    MARKETING: {"marketing", "manager"},
    RISK: {"risk", "manager"},
    MARKETING_OR_RISK: {"marketing", "risk", "manager"},
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def schema_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    )


def _objects(manager: User) -> dict[str, str]:
    """Real objects for every path parameter the schema names."""
    from carloan.parameters.presets import PRESETS
    from carloan.parameters.services import change_request_file
    from kanban import services as kanban_services
    from tests.test_kanban_support import new_card, shared_board

    board = shared_board()
    card = new_card(manager, "Matrix card", "risk")
    other = new_card(manager, "Matrix other", "tech")
    link = kanban_services.link_add(
        user=manager, card_id=card["id"], to_card_id=other["id"], kind="relates"
    )
    from carloan.parameters.selectors import parameter_value

    key = "risk.min_credit_score"
    request = change_request_file(
        changes={key: int(parameter_value(key)) + 10}, user=None, reason="permission matrix"
    ).request
    from carloan.compliance.models import Call
    from carloan.compliance.services import calls_check_pending, script_create
    from metrics.kpi.models import ReviewExport
    from metrics.kpi.quarters import Quarter
    from metrics.kpi.services import review_export_request

    script = script_create(
        user=manager, title="Matrix script", channel="phone", text="年化利率6%，首付三成。"
    )
    Call.objects.create(
        call_id="MATRIX-1",
        started_at="2026-11-02T10:00:00+08:00",
        region="EAST-01",
        agent="agent_matrix",
        transcript="坐席：百分百包过。",
    )
    calls_check_pending()
    export = review_export_request(quarter=Quarter.parse("2026Q3"), user=manager, language="en")
    ReviewExport.objects.filter(id=export.id).update(status="done", document=b"%PDF-1.4\n", pages=1)
    return {
        "export_id": str(export.id),
        "board_id": str(board.pk),
        "card_id": str(card["id"]),
        "link_id": str(link.pk),
        "key": key,
        "name": next(iter(PRESETS)),
        "id": str(request.pk if request else 1),
        "department": "risk",
        "quarter": "2026Q3",
        "script_id": str(script["id"]),
        "call_id": "MATRIX-1",
        "category": "guaranteed_approval",
        "application_id": _checked_application(),
        "change_id": _proposed_blacklist_change(manager),
        **_notification_objects(manager),
        # A manager's own token (revoked by each signed-in role in turn: others' is 403 or 404)
        "token_id": str(token_create(user=manager, name="matrix")[0].pk),
        "user_id": str(make_user("pm_leaving", "viewer").pk),
        **_saved_views(manager),
    }


def token_create(**kwargs: object) -> tuple:
    from carloan.people.services import token_create as create

    return create(**kwargs)  # type: ignore[arg-type]


def _saved_views(manager: User) -> dict[str, str]:
    """A manager's shared view, and another for the DELETE (which runs first and removes it)."""
    from carloan.people.services import saved_view_create

    def view(name: str) -> str:
        made = saved_view_create(owner=manager, name=name, path="/kanban/", shared=True)
        return str(made.pk)

    return {"view_id": view("Matrix view"), "deleted_view_id": view("Matrix view to delete")}


# A DELETE removes its object: it is given one of its own, so the calls after it find theirs.
OWN_OBJECT = {("DELETE", "/api/views/{view_id}/"): {"view_id": "deleted_view_id"}}


def _notification_objects(manager: User) -> dict[str, str]:
    """An alert, a silence and a channel (to a public address: nothing is resolved)."""
    import datetime as dt

    from django.utils import timezone

    from metrics.models import Alert
    from metrics.notify.services import channel_create, silence_create

    alert = Alert.objects.create(
        metric="availability",
        region="EAST-01",
        day=timezone.localdate(),
        level="critical",
        value=99.0,
        raised_at=timezone.now(),
    )
    silence = silence_create(
        user=manager,
        metric="availability",
        region="all",
        until=timezone.now() + dt.timedelta(hours=1),
        reason="permission matrix",
    )
    channel = channel_create(
        user=manager, kind="webhook", target="https://93.184.216.34/hook", department="tech"
    )
    return {"alert_id": str(alert.pk), "silence_id": str(silence.pk), "channel_id": str(channel.pk)}


def _proposed_blacklist_change(manager: User) -> str:
    """A proposal by a manager: risk control's head confirms it (then it is decided)."""
    from carloan.screening.services import blacklist_propose_add

    change = blacklist_propose_add(
        user=manager, type="phone", value="13800138077", reason="permission matrix"
    )
    return str(change.pk)


def _checked_application() -> str:
    """An application with its cross-checks made."""
    import io

    from carloan.loanbook.services import loanbook_import
    from carloan.screening.services import recheck_applications

    loanbook_import(
        kind="applications",
        source=io.BytesIO(
            b"application_id,region,applied_at,decision,phone\n"
            b"MATRIX-APP,EAST-01,2026-11-01T10:00:00+08:00,pending,13800138000\n"
        ),
        refresh="none",
    )
    recheck_applications(["MATRIX-APP"])
    return "MATRIX-APP"


def _fill(path: str, objects: dict[str, str]) -> str:
    for name, value in objects.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no object for a parameter of {path}: add one to _objects()"
    return path


def test_every_schema_endpoint_has_an_expectation() -> None:
    operations = schema_operations()
    missing = [op for op in operations if op not in EXPECTED]
    assert not missing, f"endpoints without a row in EXPECTED: {missing}"
    gone = [op for op in EXPECTED if op not in operations]
    assert not gone, f"rows in EXPECTED for endpoints the schema no longer has: {gone}"


@pytest.mark.django_db
def test_permission_matrix() -> None:

    users = {
        "viewer": make_user("pm_viewer", "viewer"),
        "marketing": make_user("pm_marketing", "department_head", "marketing"),
        "risk": make_user("pm_risk", "department_head", "risk"),
        "tech": make_user("pm_tech", "department_head", "tech"),
        "manager": make_user("pm_manager", "manager"),
    }
    clients: dict[str, APIClient] = {"anonymous": APIClient()}
    for role, user in users.items():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        clients[role] = client
    objects = _objects(users["manager"])

    # Reads first, then writes (a write may change what a later read finds); within a write,
    # the roles not allowed come first, so a refused call is checked before one that changes.
    operations = sorted(schema_operations(), key=lambda op: (op[0] in WRITE_METHODS, op))
    wrong: list[str] = []
    for method, path in operations:
        who, query = EXPECTED[(method, path)]
        own = {name: objects[key] for name, key in OWN_OBJECT.get((method, path), {}).items()}
        url = _fill(path, {**objects, **own})
        roles = sorted(ROLES, key=lambda role: role in ALLOWED[who])
        for role in roles:
            client = clients[role]
            if method in WRITE_METHODS:
                answer = getattr(client, method.lower())(url, {}, format="json")
            else:
                answer = client.get(url, query)
            status = answer.status_code
            if role not in ALLOWED[who]:
                expected = "401" if role == "anonymous" else "403"
                ok = str(status) == expected
            elif method not in WRITE_METHODS:
                expected = "200"
                ok = status == 200
            else:
                expected = "not 401/403, below 500"
                ok = status not in (401, 403) and status < 500
            if not ok:
                wrong.append(f"{method} {path} as {role}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_outside_the_schema_healthz_is_public_and_the_schema_and_docs_are_not() -> None:
    from django.test import Client

    viewer = make_user("pm_docs_viewer", "viewer")
    anonymous = APIClient()
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/api/schema/").status_code == 401
    docs = Client().get("/api/docs/")
    assert docs.status_code == 302 and "/login/" in docs["Location"]
    signed_in = APIClient()
    signed_in.force_authenticate(viewer)
    assert signed_in.get("/api/schema/").status_code == 200


def test_roles_cover_the_contract() -> None:
    assert set(ALLOWED) == {PUBLIC, SIGNED_IN, EDITOR, MANAGER, MARKETING, RISK, MARKETING_OR_RISK}
    assert {who for who, _ in EXPECTED.values()} <= set(ALLOWED)


@pytest.fixture(autouse=True)
def _quiet_broadcasts(settings: Any) -> None:
    # Writes broadcast after commit; in these (rolled back) tests nothing commits.
    settings.METRICS_API_LATENCY = False
