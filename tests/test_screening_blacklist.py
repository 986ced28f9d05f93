"""The shared blacklist's four-eyes: any department head proposes, risk control confirms (never
its own proposal), and only then is the entry written and its holders re-checked; a value is
listed once; every change, imports included, is in the history. Through the API, as a client
sees it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from carloan.screening.models import BlacklistChange, BlacklistEntry
from tests.factories import csv_file, make_user
from tests.test_screening import (
    BLACKLIST_COLUMNS,
    DAY,
    Loader,
    app,
    as_csv,
    cards_of,
    check,
    entry,
)

pytestmark = pytest.mark.django_db

CHANGES = "/api/risk/blacklist/changes/"
CONFIRM = CHANGES + "{}/confirm/"
REJECT = CHANGES + "{}/reject/"
PHONE = "13912340077"
NOW = timezone.now()
# An application made yesterday: in force entries added now hold it (no expiry, or a later one).
APPLIED = NOW - DAY


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """Run what the code sends after commit (re-checks, cards)."""

    @contextmanager
    def run() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return run


@pytest.fixture
def load(committed: Callable[[], Any]) -> Loader:
    return Loader(committed)


@pytest.fixture
def clients(
    client_for: Callable[[Any], APIClient],
    marketing_head: User,
    risk_head: User,
    manager: User,
    viewer: User,
) -> dict[str, APIClient]:
    return {
        "marketing": client_for(marketing_head),
        "risk": client_for(risk_head),
        "risk2": client_for(make_user("rita_risk", "department_head", "risk")),
        "manager": client_for(manager),
        "viewer": client_for(viewer),
    }


def propose_phone(client: APIClient, phone: str = PHONE, **fields: Any) -> Any:
    return client.post(
        CHANGES,
        {"action": "add", "type": "phone", "value": phone, "reason": "fraud ring", **fields},
        format="json",
    )


def confirm(client: APIClient, change_id: int, **body: Any) -> Any:
    with_commit = body.pop("committed", None)
    if with_commit is not None:
        with with_commit():
            return client.post(CONFIRM.format(change_id), body, format="json")
    return client.post(CONFIRM.format(change_id), body, format="json")


def test_a_marketing_head_proposes_and_nothing_is_listed_until_risk_control_confirms(
    load: Loader, clients: dict[str, APIClient], committed: Callable[[], Any]
) -> None:
    load.apps(app("H1", APPLIED, applicant_key="K1", phone="139 1234 0077"))
    assert check(clients["viewer"], "H1", "blacklist") == "pass"

    proposed = propose_phone(clients["marketing"], note="seen in three call recordings")
    assert proposed.status_code == 201, proposed.content
    change = proposed.json()
    assert change["status"] == "pending"
    assert change["action"] == "add" and change["source"] == "proposal"
    assert change["masked_value"] == "****0077"
    assert change["department"] == "marketing"  # the proposer's by default
    assert change["proposed_by"] == "mia_marketing"
    assert change["entry_id"].startswith("BL-")
    assert not BlacklistEntry.objects.exists()
    assert check(clients["viewer"], "H1", "blacklist") == "pass"
    pending = clients["viewer"].get(CHANGES, {"status": "pending"})
    assert [c["id"] for c in pending.json()] == [change["id"]]
    assert pending["X-Total-Count"] == "1"

    # The proposer is not risk control: no confirming
    refused = clients["marketing"].post(CONFIRM.format(change["id"]), {}, format="json")
    assert refused.status_code == 403
    assert "risk control" in refused.json()["detail"]

    confirmed = confirm(clients["risk"], change["id"], note="checked", committed=committed)
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["decided_by"] == "rick_risk"
    assert confirmed.json()["decision_note"] == "checked"
    listed = BlacklistEntry.objects.get()
    assert listed.entry_id == change["entry_id"] and listed.reason == "fraud ring"
    # Its holder re-checked at once, and a card opened in risk control's lane
    assert check(clients["viewer"], "H1", "blacklist") == "fail"
    [card] = cards_of("H1")
    assert card.lane.department == "risk"
    assert clients["viewer"].get(CHANGES, {"status": "pending"}).json() == []


def test_four_eyes_the_proposer_never_confirms_even_in_risk_control_or_as_manager(
    clients: dict[str, APIClient],
) -> None:
    by_risk = propose_phone(clients["risk"]).json()
    own = clients["risk"].post(CONFIRM.format(by_risk["id"]), {}, format="json")
    assert own.status_code == 403 and "four-eyes" in own.json()["detail"]
    assert (
        clients["risk2"].post(CONFIRM.format(by_risk["id"]), {}, format="json").status_code == 200
    )

    by_manager = propose_phone(clients["manager"], phone="13912340078").json()
    assert clients["manager"].post(CONFIRM.format(by_manager["id"]), {}).status_code == 403
    assert clients["risk"].post(CONFIRM.format(by_manager["id"]), {}).status_code == 200
    assert BlacklistEntry.objects.count() == 2


def test_viewers_may_read_the_changes_but_not_propose(clients: dict[str, APIClient]) -> None:
    assert propose_phone(clients["viewer"]).status_code == 403
    assert clients["viewer"].get(CHANGES).status_code == 200
    assert not BlacklistChange.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"value": "1391234007"}, "value", "not a phone number"),
        ({"type": "vin", "value": "LSVAU2180N218329O"}, "value", "no I, O or Q"),
        ({"type": "vin", "value": "LSVAU2180N21832"}, "value", "15 characters"),
        ({"type": "passport"}, "type", ""),
        ({"reason": ""}, "reason", ""),
        ({"expires_at": (NOW - DAY).isoformat()}, "expires_at", "never be in force"),
    ],
)
def test_a_bad_proposal_is_a_400_naming_the_field_and_nothing_is_kept(
    clients: dict[str, APIClient], fields: dict[str, str], field: str, says: str
) -> None:
    answer = propose_phone(clients["marketing"], **fields)
    assert answer.status_code == 400
    assert says in " ".join(answer.json()[field])
    assert not BlacklistChange.objects.exists()


def test_a_value_already_listed_or_already_proposed_is_refused(
    load: Loader, clients: dict[str, APIClient]
) -> None:
    load.blacklist(entry("B1", "phone", "+86 139-1234-0077"))
    listed = propose_phone(clients["marketing"])  # another spelling of the same phone
    assert listed.status_code == 400
    assert listed.json()["value"] == ["This phone is already listed (entry B1): change that entry."]

    first = propose_phone(clients["marketing"], phone="13912340099")
    assert first.status_code == 201
    again = propose_phone(clients["risk"], phone="139-1234-0099")
    assert again.status_code == 400
    assert f"already proposed (change #{first.json()['id']})" in again.json()["value"][0]
    # An expired listing does not stand in the way of a new one
    load.blacklist(entry("OLD", "phone", "13912340055", expires_at=NOW - 2 * DAY))
    assert propose_phone(clients["marketing"], phone="13912340055").status_code == 201


def test_two_proposals_of_one_value_the_second_confirmed_is_stale(
    clients: dict[str, APIClient],
) -> None:
    """Both filed before either was confirmed (a race the proposal check cannot see): the
    second confirmation finds the value listed and is refused, nothing written twice."""
    first = propose_phone(clients["marketing"]).json()
    second = BlacklistChange.objects.create(
        action="add",
        entry_id="BL-RACE",
        type="phone",
        value=BlacklistChange.objects.get(pk=first["id"]).value,
        reason="same ring",
        proposed_at=NOW,
    )
    assert clients["risk"].post(CONFIRM.format(first["id"]), {}).status_code == 200
    stale = clients["risk"].post(CONFIRM.format(second.pk), {})
    assert stale.status_code == 409
    assert "listed meanwhile" in stale.json()["detail"]
    assert stale.json()["current"]["status"] == "pending"
    assert BlacklistEntry.objects.count() == 1


def test_a_shorter_expiry_and_a_removal_clear_the_holders_once_confirmed(
    load: Loader, clients: dict[str, APIClient], committed: Callable[[], Any]
) -> None:
    load.apps(
        app("H1", APPLIED, applicant_key="K1", phone=PHONE),
        app("H2", APPLIED, applicant_key="K2", device_id="DEV-RING-0001"),
    )
    load.blacklist(
        entry("B1", "phone", PHONE, added_at=NOW - 30 * DAY),
        entry("B2", "device", "DEV-RING-0001", added_at=NOW - 30 * DAY),
    )
    assert check(clients["viewer"], "H1", "blacklist") == "fail"
    assert check(clients["viewer"], "H2", "blacklist") == "fail"

    # It expires before H1 applied: H1 no longer holds a listed phone
    shorter = clients["marketing"].post(
        CHANGES,
        {
            "action": "change",
            "entry_id": "B1",
            "expires_at": (APPLIED - DAY).isoformat(),
            "note": "the bureau lifted it",
        },
        format="json",
    )
    assert shorter.status_code == 201, shorter.content
    assert shorter.json()["before"]["expires_at"] is None
    assert shorter.json()["before"]["masked_value"] == "****0077"
    assert check(clients["viewer"], "H1", "blacklist") == "fail"  # pending: nothing changed
    assert confirm(clients["risk"], shorter.json()["id"], committed=committed).status_code == 200
    assert check(clients["viewer"], "H1", "blacklist") == "pass"
    assert BlacklistEntry.objects.get(entry_id="B1").expires_at == APPLIED - DAY

    removed = clients["manager"].post(
        CHANGES, {"action": "remove", "entry_id": "B2", "note": "listed in error"}, format="json"
    )
    assert removed.status_code == 201
    assert confirm(clients["risk"], removed.json()["id"], committed=committed).status_code == 200
    assert not BlacklistEntry.objects.filter(entry_id="B2").exists()
    assert check(clients["viewer"], "H2", "blacklist") == "pass"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"action": "change", "entry_id": "B1", "note": "why"}, 400, "detail"),  # nothing
        (
            {"action": "change", "entry_id": "B1", "reason": "fraud ring", "note": "x"},
            400,
            "detail",
        ),
        ({"action": "change", "entry_id": "B1", "reason": "new"}, 400, "note"),
        ({"action": "remove", "entry_id": "NOPE", "note": "x"}, 404, "detail"),
        ({"action": "remove", "entry_id": "B1"}, 400, "note"),
        ({"action": "add", "type": "phone"}, 400, "value"),
    ],
)
def test_a_change_that_changes_nothing_or_names_no_entry_is_refused(
    load: Loader, clients: dict[str, APIClient], body: dict[str, str], status: int, field: str
) -> None:
    load.blacklist(entry("B1", "phone", PHONE))
    answer = clients["marketing"].post(CHANGES, body, format="json")
    assert answer.status_code == status, answer.content
    assert field in answer.json()


def test_an_expiry_before_the_entry_was_added_is_refused(
    load: Loader, clients: dict[str, APIClient]
) -> None:
    load.blacklist(entry("B1", "phone", PHONE, added_at=NOW - 30 * DAY))
    answer = clients["marketing"].post(
        CHANGES,
        {
            "action": "change",
            "entry_id": "B1",
            "expires_at": (NOW - 31 * DAY).isoformat(),
            "note": "x",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["expires_at"] == ["Is not after the entry was added."]


def test_a_change_proposed_before_the_entry_changed_is_stale_and_changes_nothing(
    load: Loader, clients: dict[str, APIClient]
) -> None:
    load.blacklist(entry("B1", "phone", PHONE))
    proposed = (
        clients["marketing"]
        .post(
            CHANGES,
            {"action": "change", "entry_id": "B1", "reason": "mule", "note": "x"},
            format="json",
        )
        .json()
    )
    # Meanwhile risk control's import gives the entry a new expiry
    changed = entry("B1", "phone", PHONE, expires_at=NOW + 300 * DAY)
    load.blacklist(changed)
    stale = clients["risk"].post(CONFIRM.format(proposed["id"]), {})
    assert stale.status_code == 409
    assert stale.json()["detail"] == (
        f"Change #{proposed['id']} is stale: entry B1 changed since it was proposed."
    )
    assert BlacklistEntry.objects.get().reason == "fraud ring"
    assert BlacklistChange.objects.get(pk=proposed["id"]).status == "pending"


def test_a_decided_change_cannot_be_decided_again(clients: dict[str, APIClient]) -> None:
    change = propose_phone(clients["marketing"]).json()
    assert clients["risk"].post(CONFIRM.format(change["id"]), {}).status_code == 200
    for url in (CONFIRM, REJECT):
        again = clients["risk2"].post(url.format(change["id"]), {})
        assert again.status_code == 409
        assert (
            again.json()["detail"] == f"Change #{change['id']} was already confirmed by rick_risk."
        )
        assert again.json()["current"]["status"] == "confirmed"
    assert clients["risk"].post(CONFIRM.format(99999), {}).status_code == 404


def test_risk_control_rejects_the_proposer_withdraws_others_may_not(
    clients: dict[str, APIClient],
) -> None:
    one = propose_phone(clients["marketing"]).json()
    two = propose_phone(clients["marketing"], phone="13912340078").json()
    three = propose_phone(clients["risk"], phone="13912340079").json()

    rejected = clients["risk"].post(REJECT.format(one["id"]), {"note": "not enough evidence"})
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_note"] == "not enough evidence"
    withdrawn = clients["marketing"].post(REJECT.format(two["id"]), {})
    assert withdrawn.json()["status"] == "withdrawn"
    assert clients["marketing"].post(REJECT.format(three["id"]), {}).status_code == 403
    assert not BlacklistEntry.objects.exists()


def test_an_entrys_history_holds_its_import_and_each_confirmed_change(
    load: Loader, clients: dict[str, APIClient], risk_head: User
) -> None:
    from carloan.loanbook.services import loanbook_import

    def bureau_file() -> None:
        loanbook_import(
            kind="blacklist",
            source=csv_file(as_csv(BLACKLIST_COLUMNS, (entry("B1", "phone", PHONE),))),
            file_name="bureau.csv",
            user=risk_head,
            refresh="none",
        )

    bureau_file()
    bureau_file()  # the same file again changes nothing, and records nothing
    proposed = (
        clients["marketing"]
        .post(
            CHANGES,
            {"action": "change", "entry_id": "B1", "reason": "mule", "note": "x"},
            format="json",
        )
        .json()
    )
    clients["manager"].post(CONFIRM.format(proposed["id"]), {})
    history = clients["viewer"].get(CHANGES, {"entry_id": "B1"}).json()
    assert [(c["action"], c["source"], c["status"]) for c in history] == [
        ("change", "proposal", "confirmed"),
        ("add", "import", "confirmed"),
    ]
    imported = history[1]
    assert imported["proposed_by"] == imported["decided_by"] == "rick_risk"
    assert imported["note"] == "Imported from bureau.csv"
    assert imported["masked_value"] == "****0077"
    assert history[0]["before"]["reason"] == "fraud ring"
    assert history[0]["reason"] == "mule"


def test_only_risk_control_imports_the_blacklist(
    clients: dict[str, APIClient],
) -> None:
    body = {
        "kind": "blacklist",
        "file": csv_file(as_csv(BLACKLIST_COLUMNS, (entry("B1", "phone", PHONE),))),
    }
    refused = clients["marketing"].post("/api/imports/", body, format="multipart")
    assert refused.status_code == 403
    assert "propose entries" in refused.json()["detail"]
    assert not BlacklistEntry.objects.exists()
    body["file"].seek(0)
    assert clients["risk"].post("/api/imports/", body, format="multipart").status_code == 201


def test_an_import_listing_a_value_twice_over_overlapping_periods_names_the_lines(
    load: Loader, clients: dict[str, APIClient]
) -> None:
    load.blacklist(entry("B1", "phone", PHONE, added_at=NOW - 60 * DAY))
    rows = (
        entry("B2", "vin", "LSVAU2180N2183294"),  # line 2
        entry("B3", "phone", "+8613912340077"),  # line 3: B1 lists it, in force
        entry("B4", "vin", "lsvau2180n2183294"),  # line 4: line 2 lists it
        # line 5: the same device again, but after line 6's listing ended: allowed
        entry("B5", "device", "DEV-1", added_at=NOW - 10 * DAY),
        entry("B6", "device", "DEV-1", added_at=NOW - 40 * DAY, expires_at=NOW - 20 * DAY),
    )
    answer = clients["risk"].post(
        "/api/imports/",
        {"kind": "blacklist", "file": csv_file(as_csv(BLACKLIST_COLUMNS, rows))},
        format="multipart",
    )
    assert answer.status_code == 400
    errors = {(e["line"], e["column"]): e["reason"] for e in answer.json()["errors"]}
    assert set(errors) == {(3, "value"), (4, "value")}
    assert errors[(3, "value")].startswith("is already listed (entry B1)")
    assert errors[(4, "value")].startswith("is already listed (line 2)")
    assert answer.json()["total_errors"] == 2
    assert list(BlacklistEntry.objects.values_list("entry_id", flat=True)) == ["B1"]
    assert not BlacklistChange.objects.filter(entry_id__in=["B2", "B3"]).exists()


def test_an_entry_moved_to_another_value_by_the_file_itself_is_not_in_the_way(
    load: Loader, clients: dict[str, APIClient]
) -> None:
    """B1 lists the phone; the file moves B1 to another phone and lists the first under B2."""
    load.blacklist(entry("B1", "phone", PHONE))
    rows = (entry("B1", "phone", "13912340088"), entry("B2", "phone", PHONE))
    answer = clients["risk"].post(
        "/api/imports/",
        {"kind": "blacklist", "file": csv_file(as_csv(BLACKLIST_COLUMNS, rows))},
        format="multipart",
    )
    assert answer.status_code == 201, answer.content
    assert BlacklistEntry.objects.count() == 2


def test_the_changes_list_is_paged_and_filtered(clients: dict[str, APIClient]) -> None:
    for n in range(3):
        propose_phone(clients["marketing"], phone=f"1391234001{n}")
    page = clients["viewer"].get(CHANGES, {"limit": 2})
    assert page["X-Total-Count"] == "3" and len(page.json()) == 2
    assert clients["viewer"].get(CHANGES, {"status": "confirmed"}).json() == []
    assert clients["viewer"].get(CHANGES, {"status": "maybe"}).status_code == 400


def test_a_proposal_at_a_time_for_an_entry(load: Loader, clients: dict[str, APIClient]) -> None:
    load.blacklist(entry("B1", "phone", PHONE))
    first = clients["marketing"].post(
        CHANGES, {"action": "remove", "entry_id": "B1", "note": "x"}, format="json"
    )
    assert first.status_code == 201
    second = clients["risk"].post(
        CHANGES, {"action": "change", "entry_id": "B1", "reason": "y", "note": "x"}, format="json"
    )
    assert second.status_code == 400
    assert f"pending change (#{first.json()['id']})" in second.json()["entry_id"][0]
