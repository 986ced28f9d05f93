"""The blacklist, the six cross-checks and the lead pre-screen (contract section 10), as a client
sees them: files through the real import, answers of the API, cards on the board. Every expected
figure is worked out by hand in the test that asserts it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from carloan.loanbook.parsing import ImportRejected
from carloan.loanbook.services import loanbook_import
from carloan.models import LoanApplication
from carloan.parameters.services import change_request_approve, parameters_change
from carloan.screening.models import ApplicationCheck, BlacklistEntry
from kanban.models import Card
from tests.factories import csv_file, make_user

pytestmark = pytest.mark.django_db

CHECKS = "/api/risk/applications/{}/checks/"
FLAGS = "/api/risk/flags/"
PRESCREEN = "/api/leads/prescreen/"
KEYS = ("blacklist", "shared_phone", "vin_reuse", "ltv", "debt_to_income", "shared_device")
NA = "not_applicable"

T0 = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)
WINDOW = 90 * DAY  # risk.xcheck.window_days by default

APP_COLUMNS = (
    "application_id",
    "region",
    "applied_at",
    "decision",
    "applicant_key",
    "phone",
    "vin",
    "dealer_id",
    "device_id",
    "monthly_income",
    "amount_requested",
    "vehicle_value",
)
BLACKLIST_COLUMNS = ("entry_id", "type", "value", "reason", "added_at", "expires_at", "department")

# Valid identifiers (a VIN never holds I, O or Q).
VIN_1 = "LSGJA52U07S000001"
VIN_2 = "LFV2A21K0A3000002"


# --- builders -----------------------------------------------------------------------------------


def app(application_id: str, applied_at: dt.datetime, **fields: Any) -> dict[str, str]:
    """One row of an applications file: pending in EAST-01, with the given optional columns."""
    row = {
        "application_id": application_id,
        "region": "EAST-01",
        "applied_at": applied_at.isoformat(),
        "decision": "pending",
    }
    row.update({name: str(value) for name, value in fields.items()})
    return row


def entry(
    entry_id: str,
    type_: str,
    value: str,
    *,
    added_at: dt.datetime = T0 - 30 * DAY,
    expires_at: dt.datetime | None = None,
) -> dict[str, str]:
    """One row of a blacklist file."""
    return {
        "entry_id": entry_id,
        "type": type_,
        "value": value,
        "reason": "fraud ring",
        "added_at": added_at.isoformat(),
        "expires_at": expires_at.isoformat() if expires_at else "",
        "department": "risk",
    }


def as_csv(columns: tuple[str, ...], rows: tuple[dict[str, str], ...]) -> str:
    return "\n".join(
        [",".join(columns), *(",".join(row.get(c, "") for c in columns) for row in rows)]
    )


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """Run what the code sends after commit (cards for flagged applications, re-checks)."""

    @contextmanager
    def run() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return run


class Loader:
    """Files through the real import, with what it sends after commit."""

    def __init__(self, committed: Callable[[], Any]) -> None:
        self.committed = committed

    def apps(self, *rows: dict[str, str]) -> Any:
        with self.committed():
            return loanbook_import(
                kind="applications", source=csv_file(as_csv(APP_COLUMNS, rows)), refresh="now"
            )

    def blacklist(self, *rows: dict[str, str]) -> Any:
        with self.committed():
            return loanbook_import(
                kind="blacklist", source=csv_file(as_csv(BLACKLIST_COLUMNS, rows)), refresh="now"
            )


@pytest.fixture
def load(committed: Callable[[], Any]) -> Loader:
    return Loader(committed)


@pytest.fixture
def reader(client_for: Callable[[User | None], APIClient], viewer: User) -> APIClient:
    return client_for(viewer)


def checks_of(client: APIClient, application_id: str) -> dict[str, str]:
    answer = client.get(CHECKS.format(application_id))
    assert answer.status_code == 200, answer.content
    return answer.json()["checks"]


def check(client: APIClient, application_id: str, key: str) -> str:
    return checks_of(client, application_id)[key]


def cards_of(application_id: str) -> list[Card]:
    return list(Card.objects.filter(application_id=application_id).select_related("lane"))


# --- 1. each rule at its boundaries ---------------------------------------------------------------

# (rule, the column it looks at, a value, how many distinct applicants it allows)
SHARED = [
    ("shared_phone", "phone", "13800138000", 2),
    ("shared_device", "device_id", "DEV-ALPHA-01", 3),
    ("vin_reuse", "vin", VIN_1, 1),
]


@pytest.mark.parametrize(("rule", "column", "value", "allowed"), SHARED)
@pytest.mark.parametrize(("beyond", "expected"), [(dt.timedelta(0), "fail"), (SECOND, "pass")])
def test_the_window_holds_applications_exactly_window_days_apart_and_not_a_second_more(
    load: Loader,
    reader: APIClient,
    rule: str,
    column: str,
    value: str,
    allowed: int,
    beyond: dt.timedelta,
    expected: str,
) -> None:
    """`allowed` applicants at T0 and one more at T0 + 90 days (+ 1 s): exactly 90 days apart
    they count together, before and after, and the one more is one too many."""
    early = [app(f"E{n}", T0, applicant_key=f"K{n}", **{column: value}) for n in range(allowed)]
    late = app("LATE", T0 + WINDOW + beyond, applicant_key="K-LATE", **{column: value})
    load.apps(*early, late)
    assert check(reader, "LATE", rule) == expected
    assert {check(reader, row["application_id"], rule) for row in early} == {expected}


@pytest.mark.parametrize(("rule", "column", "value", "allowed"), SHARED[:2])
def test_the_limit_reached_passes_and_one_applicant_more_fails(
    load: Loader, reader: APIClient, rule: str, column: str, value: str, allowed: int
) -> None:
    at_limit = [
        app(f"A{n}", T0 + n * DAY, applicant_key=f"K{n}", **{column: value}) for n in range(allowed)
    ]
    load.apps(*at_limit)
    assert {check(reader, f"A{n}", rule) for n in range(allowed)} == {"pass"}

    load.apps(app("MORE", T0 + 10 * DAY, applicant_key="K-MORE", **{column: value}))
    assert {check(reader, f"A{n}", rule) for n in range(allowed)} == {"fail"}
    assert check(reader, "MORE", rule) == "fail"


def test_an_applicant_counts_once_however_many_applications_and_however_written(
    load: Loader, reader: APIClient
) -> None:
    """Two applicants on one phone, one of them three times (the key once in lower case, the
    phone once written the international way): 2 persons, not more than 2 → pass."""
    phone = "13912340000"
    load.apps(
        app("P1", T0, applicant_key="32010219900101123X", phone=phone),
        app("P2", T0 + DAY, applicant_key="32010219900101123x", phone="+86 139-1234-0000"),
        app("P3", T0 + 2 * DAY, applicant_key="32010219900101123X", phone=phone),
        app("P4", T0 + 3 * DAY, applicant_key="110101198502023456", phone=phone),
    )
    assert {check(reader, f"P{n}", "shared_phone") for n in range(1, 5)} == {"pass"}


def test_an_application_without_applicant_key_is_a_person_of_its_own(
    load: Loader, reader: APIClient
) -> None:
    """K1 and one keyless application: 2 persons → pass; a second keyless one makes 3 → fail,
    though neither of the keyless two names anyone."""
    phone = "13912340001"
    load.apps(app("N1", T0, applicant_key="K1", phone=phone), app("N2", T0 + DAY, phone=phone))
    assert check(reader, "N1", "shared_phone") == "pass"
    assert check(reader, "N2", "shared_phone") == "pass"
    load.apps(app("N3", T0 + 2 * DAY, phone=phone))
    assert {check(reader, f"N{n}", "shared_phone") for n in (1, 2, 3)} == {"fail"}


def test_vin_reuse_is_only_across_different_applicants(load: Loader, reader: APIClient) -> None:
    load.apps(
        # the same applicant buying again with the same VIN: no reuse
        app("S1", T0, applicant_key="K1", vin=VIN_1),
        app("S2", T0 + 5 * DAY, applicant_key="k1", vin=VIN_1.lower()),
        # two applications naming nobody: two persons
        app("U1", T0, vin=VIN_2),
        app("U2", T0 + DAY, vin=VIN_2),
    )
    assert check(reader, "S1", "vin_reuse") == "pass"
    assert check(reader, "S2", "vin_reuse") == "pass"
    assert check(reader, "U1", "vin_reuse") == "fail"
    assert check(reader, "U2", "vin_reuse") == "fail"

    load.apps(app("S3", T0 + 6 * DAY, applicant_key="K2", vin=VIN_1))
    assert {check(reader, a, "vin_reuse") for a in ("S1", "S2", "S3")} == {"fail"}


@pytest.mark.parametrize(
    ("fields", "ltv", "dti"),
    [
        # 100 × 80,000 / 100,000 = 80 = risk.max_ltv_pct: not above
        ({"amount_requested": "80000", "vehicle_value": "100000"}, "pass", NA),
        # 80.00001 > 80
        ({"amount_requested": "80000.01", "vehicle_value": "100000"}, "fail", NA),
        # 100 × (180,000 / 36) / 10,000 = 50 = risk.xcheck.max_dti_pct: not above
        ({"amount_requested": "180000", "monthly_income": "10000"}, NA, "pass"),
        # 100 × (180,000.36 / 36) / 10,000 = 50.0001 > 50
        ({"amount_requested": "180000.36", "monthly_income": "10000"}, NA, "fail"),
        # LTV 90 (fail) and DTI 100 × 2,500 / 5,000 = 50 (pass) together
        (
            {"amount_requested": "90000", "vehicle_value": "100000", "monthly_income": "5000"},
            "fail",
            "pass",
        ),
        # no amount: neither can be worked out
        ({"vehicle_value": "100000", "monthly_income": "5000"}, NA, NA),
    ],
)
def test_ltv_and_debt_to_income_fail_only_above_their_limit(
    load: Loader, reader: APIClient, fields: dict[str, str], ltv: str, dti: str
) -> None:
    load.apps(app("R1", T0, **fields))
    found = checks_of(reader, "R1")
    assert (found["ltv"], found["debt_to_income"]) == (ltv, dti)


def test_a_check_whose_fields_are_empty_is_not_applicable(load: Loader, reader: APIClient) -> None:
    load.apps(app("BARE", T0), app("PHONE-ONLY", T0, phone="13912340002"))
    bare = reader.get(CHECKS.format("BARE")).json()
    assert bare == {"application_id": "BARE", "flagged": False, "checks": dict.fromkeys(KEYS, NA)}
    assert checks_of(reader, "PHONE-ONLY") == {
        "blacklist": "pass",  # it has an identifier, and it is not listed
        "shared_phone": "pass",
        "vin_reuse": NA,
        "ltv": NA,
        "debt_to_income": NA,
        "shared_device": NA,
    }


@pytest.mark.parametrize(
    ("expires_at", "expected"),
    [
        (None, "fail"),  # never expires
        (T0 + SECOND, "fail"),  # expires after applied_at
        (T0, "pass"),  # expires at applied_at: not after it
        (T0 - DAY, "pass"),  # expired before
    ],
)
def test_a_blacklist_entry_counts_when_it_expires_after_applied_at(
    load: Loader, reader: APIClient, expires_at: dt.datetime | None, expected: str
) -> None:
    load.apps(app("X1", T0, phone="13912340003"))
    load.blacklist(entry("B1", "phone", "13912340003", expires_at=expires_at))
    assert check(reader, "X1", "blacklist") == expected


IDENTIFIERS = {
    # column: (kind, as the application gives it, as the blacklist gives it)
    "applicant_key": ("applicant", "32010219900101123X", "32010219900101123x"),
    "phone": ("phone", "13912345678", "+86 139 1234 5678"),
    "vin": ("vin", "LSVAU2180N2183294", "lsvau2180n2183294"),
    "device_id": ("device", "DEV-7F3A9C2E", "DEV-7F3A9C2E"),
    "dealer_id": ("dealer", "DLR-SH-0042", "DLR-SH-0042"),
}


@pytest.mark.parametrize("column", list(IDENTIFIERS))
def test_each_kind_of_identifier_on_the_blacklist_fails_the_check(
    load: Loader, reader: APIClient, column: str
) -> None:
    others = {
        "applicant_key": "110101198502023456",
        "phone": "13800138009",
        "vin": VIN_2,
        "device_id": "DEV-OTHER-1",
        "dealer_id": "DLR-OTHER-1",
    }
    load.apps(
        app("HOLDER", T0, **{c: given for c, (_k, given, _l) in IDENTIFIERS.items()}),
        # holds every identifier but the listed one, which it has not
        app("OTHER", T0 + 200 * DAY, **{c: v for c, v in others.items() if c != column}),
    )
    kind, _given, listed = IDENTIFIERS[column]
    load.blacklist(entry("B1", kind, listed))
    assert check(reader, "HOLDER", "blacklist") == "fail"
    assert check(reader, "OTHER", "blacklist") == "pass"


def test_a_listed_value_matches_only_its_own_kind_of_identifier(
    load: Loader, reader: APIClient
) -> None:
    """A device listed as 13912345678 is not the phone 13912345678."""
    load.apps(app("X1", T0, phone="13912345678"))
    load.blacklist(entry("B1", "device", "13912345678"), entry("B2", "dealer", "13912345678"))
    assert check(reader, "X1", "blacklist") == "pass"


# --- 2. order independence ----------------------------------------------------------------------

P, Q, Q2 = "13800138001", "13800138002", "13800138003"
ORDER_APPS = {
    "A1": app("A1", T0, applicant_key="K1", phone=P, vin=VIN_1, device_id="DEV-ALPHA-01"),
    "A2": app("A2", T0 + 31 * DAY, applicant_key="K2", phone=P, device_id="DEV-ALPHA-01"),
    "A3": app("A3", T0 + 59 * DAY, applicant_key="K3", phone=P, vin=VIN_1),
    "A4": app(
        "A4",
        T0 + 161 * DAY,
        applicant_key="K1",
        phone=Q,
        vin=VIN_2,
        dealer_id="DLR-0042",
        amount_requested="90000",
        vehicle_value="100000",
        monthly_income="20000",
    ),
    "A5": app(
        "A5",
        T0 + 162 * DAY,
        phone=Q2,
        device_id="DEV-BETA-02",
        amount_requested="50000",
        vehicle_value="100000",
        monthly_income="1000",
    ),
}
ORDER_BLACKLIST = (
    entry("B1", "dealer", "DLR-0042"),  # A4's dealer, for good
    # A5's device, but expired 20 days before A5 applied
    entry("B2", "device", "DEV-BETA-02", expires_at=T0 + 142 * DAY),
    # K2, listed months after A2 applied, expiring after it: it counts
    entry("B3", "applicant", "K2", added_at=T0 + 172 * DAY, expires_at=T0 + 355 * DAY),
)
F, PS = "fail", "pass"
# blacklist, shared_phone, vin_reuse, ltv, debt_to_income, shared_device
ORDER_EXPECTED = {
    # P is on K1, K2, K3 within 59 days (3 > 2); VIN_1 on K1 and K3; DEV-ALPHA-01 on 2 (≤ 3)
    "A1": (PS, F, F, NA, NA, PS),
    "A2": (F, F, NA, NA, NA, PS),
    "A3": (PS, F, F, NA, NA, NA),
    # LTV 90 > 80; DTI 100 × 2,500 / 20,000 = 12.5
    "A4": (F, PS, PS, F, PS, NA),
    # LTV 50; DTI 100 × 1,388.89 / 1,000 = 138.9 > 50
    "A5": (PS, PS, NA, PS, F, PS),
}
ORDERS = {
    "applications then blacklist": ("all", "blacklist"),
    "blacklist then applications": ("blacklist", "all"),
    "two files then blacklist": ("first", "second", "blacklist"),
    "blacklist then two files reversed": ("blacklist", "second", "first"),
    "blacklist between the files": ("second", "blacklist", "first"),
}


@pytest.mark.parametrize("order", list(ORDERS.values()), ids=list(ORDERS))
def test_the_checks_do_not_depend_on_the_order_of_arrival(
    load: Loader, reader: APIClient, order: tuple[str, ...]
) -> None:
    files = {
        "all": [ORDER_APPS[a] for a in ORDER_APPS],
        "first": [ORDER_APPS[a] for a in ("A1", "A2", "A4")],
        "second": [ORDER_APPS[a] for a in ("A3", "A5")],
    }
    for step in order:
        if step == "blacklist":
            load.blacklist(*ORDER_BLACKLIST)
        else:
            load.apps(*files[step])
    for application_id, expected in ORDER_EXPECTED.items():
        answer = reader.get(CHECKS.format(application_id)).json()
        assert answer["checks"] == dict(zip(KEYS, expected, strict=True)), application_id
        assert answer["flagged"] is True
    # the blacklisted and the twice-failed have one card each; A5 fails only its DTI
    cards = Card.objects.filter(application_id__in=list(ORDER_APPS))
    assert sorted(c.application_id for c in cards) == ["A1", "A2", "A3", "A4"]


# --- 3. re-checked on changes -------------------------------------------------------------------


def test_a_new_application_rechecks_the_applications_it_shares_a_phone_with(
    load: Loader, reader: APIClient
) -> None:
    load.apps(app("OLD1", T0, applicant_key="K1", phone=P))
    load.apps(app("OLD2", T0 + 20 * DAY, applicant_key="K2", phone=P))
    assert check(reader, "OLD1", "shared_phone") == "pass"

    # A third applicant, in a file of its own, on another day.
    load.apps(app("NEW", T0 + 60 * DAY, applicant_key="K3", phone=P))
    assert check(reader, "OLD1", "shared_phone") == "fail"
    assert check(reader, "OLD2", "shared_phone") == "fail"
    assert check(reader, "NEW", "shared_phone") == "fail"
    flags = reader.get(FLAGS, {"status": "open"}).json()
    assert {f["application_id"] for f in flags} == {"OLD1", "OLD2", "NEW"}


def test_an_application_that_changes_its_phone_rechecks_its_old_neighbours(
    load: Loader, reader: APIClient
) -> None:
    load.apps(
        app("OLD1", T0, applicant_key="K1", phone=P),
        app("OLD2", T0 + 20 * DAY, applicant_key="K2", phone=P),
        app("MOVED", T0 + 60 * DAY, applicant_key="K3", phone=P),
    )
    assert check(reader, "OLD1", "shared_phone") == "fail"
    # The phone of MOVED was wrong: corrected, P is on two applicants again.
    load.apps(app("MOVED", T0 + 60 * DAY, applicant_key="K3", phone=Q))
    assert check(reader, "MOVED", "shared_phone") == "pass"
    assert check(reader, "OLD1", "shared_phone") == "pass"
    assert check(reader, "OLD2", "shared_phone") == "pass"


def test_a_blacklist_import_rechecks_the_holders(load: Loader, reader: APIClient) -> None:
    load.apps(app("H1", T0, phone=P), app("H2", T0 + 100 * DAY, vin=VIN_1), app("Z", T0, phone=Q))
    assert check(reader, "H1", "blacklist") == "pass"
    load.blacklist(entry("B1", "phone", P), entry("B2", "vin", VIN_1, added_at=T0 + 200 * DAY))
    assert check(reader, "H1", "blacklist") == "fail"
    assert check(reader, "H2", "blacklist") == "fail"
    assert check(reader, "Z", "blacklist") == "pass"

    # The entry's end moved before H1 applied: H1 is clear again.
    load.blacklist(entry("B1", "phone", P, expires_at=T0 - DAY))
    assert check(reader, "H1", "blacklist") == "pass"


@pytest.mark.parametrize(
    "entries",
    [
        (entry("B1", "phone", P), entry("B2", "vin", VIN_1)),  # two of its identifiers
        (  # one, listed twice (one listing after the other: a value is listed once at a time)
            entry("B1", "phone", P, added_at=T0 - 100 * DAY, expires_at=T0 + 5 * DAY),
            entry("B2", "phone", "+86 " + P, added_at=T0 + 5 * DAY),
        ),
    ],
    ids=["two identifiers of one application", "one identifier listed twice"],
)
def test_a_blacklist_naming_one_application_twice_rechecks_it_once(
    load: Loader, reader: APIClient, entries: tuple[dict[str, str], ...]
) -> None:
    load.apps(app("H1", T0, phone=P, vin=VIN_1))
    assert check(reader, "H1", "blacklist") == "pass"
    load.blacklist(*entries)
    assert check(reader, "H1", "blacklist") == "fail"


def test_a_blacklist_entry_corrected_to_another_value_clears_the_old_holder(
    load: Loader, reader: APIClient
) -> None:
    load.apps(app("H1", T0, phone=P), app("H2", T0, phone=Q))
    load.blacklist(entry("B1", "phone", P))
    assert check(reader, "H1", "blacklist") == "fail"
    load.blacklist(entry("B1", "phone", Q))
    assert check(reader, "H2", "blacklist") == "fail"
    assert check(reader, "H1", "blacklist") == "pass"


@pytest.fixture
def boss(db: Any) -> User:
    """A second manager, for four-eyes."""
    return make_user("bob_boss", "manager")


def test_a_threshold_change_rechecks_every_application_once_approved(
    load: Loader,
    reader: APIClient,
    manager: User,
    boss: User,
    committed: Callable[[], Any],
    eager_celery: None,
) -> None:
    from carloan.tasks import screening_recheck_all

    assert screening_recheck_all.name == "carloan.screening_recheck_all"
    load.apps(
        # three applicants on P (3 > 2)
        *[app(f"PH{n}", T0, applicant_key=f"K{n}", phone=P) for n in range(3)],
        # four on one device (4 > 3)
        *[app(f"DV{n}", T0, applicant_key=f"K{n}", device_id="DEV-ALPHA-01") for n in range(4)],
        # VIN_1 on two applicants 100 days apart (outside 90)
        app("V1", T0, applicant_key="K1", vin=VIN_1),
        app("V2", T0 + 100 * DAY, applicant_key="K2", vin=VIN_1),
        # LTV 85 > 80
        app("LTV", T0, amount_requested="85000", vehicle_value="100000"),
        # DTI 100 × (216,000 / 36) / 10,000 = 60 > 50
        app("DTI", T0, amount_requested="216000", monthly_income="10000"),
    )
    before = {
        "PH0": ("shared_phone", "fail"),
        "DV0": ("shared_device", "fail"),
        "V1": ("vin_reuse", "pass"),
        "V2": ("vin_reuse", "pass"),
        "LTV": ("ltv", "fail"),
        "DTI": ("debt_to_income", "fail"),
    }
    assert {a: check(reader, a, key) for a, (key, _) in before.items()} == {
        a: outcome for a, (_, outcome) in before.items()
    }

    with committed():
        filed = parameters_change(
            changes={
                "risk.xcheck.window_days": (100, 1),
                "risk.xcheck.max_applicants_per_phone": (3, 1),
                "risk.xcheck.max_applicants_per_device": (4, 1),
                "risk.max_ltv_pct": (85, 1),
                "risk.xcheck.max_dti_pct": (60, 1),
            },
            user=manager,
            reason="loosen the cross-checks",
        )
    assert filed.pending  # risk.* waits for a second manager: nothing re-checked yet
    assert check(reader, "PH0", "shared_phone") == "fail"
    assert check(reader, "V1", "vin_reuse") == "pass"

    with committed():
        change_request_approve(request_id=filed.request.pk, user=boss)
    # Each limit now exactly reached: not above it. The VINs are exactly 100 days apart.
    assert {check(reader, f"PH{n}", "shared_phone") for n in range(3)} == {"pass"}
    assert {check(reader, f"DV{n}", "shared_device") for n in range(4)} == {"pass"}
    assert check(reader, "V1", "vin_reuse") == "fail"
    assert check(reader, "V2", "vin_reuse") == "fail"
    assert check(reader, "LTV", "ltv") == "pass"
    assert check(reader, "DTI", "debt_to_income") == "pass"


# --- 4. cards -----------------------------------------------------------------------------------


def test_a_blacklisted_application_gets_one_card_however_often_rechecked(
    load: Loader, reader: APIClient, committed: Callable[[], Any]
) -> None:
    from carloan.screening.services import recheck_all

    load.apps(app("C1", T0, applicant_key="K1", phone=P))
    load.blacklist(entry("B1", "applicant", "K1"))
    [card] = cards_of("C1")
    assert card.lane.department == "risk"

    # Two more applicants on its phone: a second check fails, the card stays one.
    load.apps(
        app("C2", T0 + DAY, applicant_key="K2", phone=P),
        app("C3", T0 + 2 * DAY, applicant_key="K3", phone=P),
    )
    assert check(reader, "C1", "shared_phone") == "fail"
    with committed():
        recheck_all()
    assert len(cards_of("C1")) == 1
    # C2 and C3 fail shared_phone only: flagged, no card
    assert reader.get(CHECKS.format("C2")).json()["flagged"] is True
    assert cards_of("C2") == [] and cards_of("C3") == []


def test_a_second_failed_check_opens_the_card_the_first_did_not(
    load: Loader, reader: APIClient
) -> None:
    load.apps(
        app("L1", T0, applicant_key="K1", phone=P, amount_requested="90000", vehicle_value="100000")
    )
    assert check(reader, "L1", "ltv") == "fail"
    assert reader.get(CHECKS.format("L1")).json()["flagged"] is True
    assert cards_of("L1") == []

    load.apps(
        app("L2", T0 + DAY, applicant_key="K2", phone=P),
        app("L3", T0 + DAY, applicant_key="K3", phone=P),
    )
    [card] = cards_of("L1")
    assert card.lane.department == "risk"


# --- 5. the API ---------------------------------------------------------------------------------


def test_the_checks_answer_and_404_for_an_unknown_application(
    load: Loader, reader: APIClient
) -> None:
    load.apps(app("Y1", T0, phone=P, amount_requested="90000", vehicle_value="100000"))
    answer = reader.get(CHECKS.format("Y1"))
    assert answer.status_code == 200
    assert answer.json() == {
        "application_id": "Y1",
        "flagged": True,
        "checks": {
            "blacklist": "pass",
            "shared_phone": "pass",
            "vin_reuse": NA,
            "ltv": "fail",
            "debt_to_income": NA,
            "shared_device": NA,
        },
    }
    assert reader.get(CHECKS.format("NOPE")).status_code == 404


def test_open_flags_list_the_failed_checks_with_masked_identifiers(
    load: Loader, reader: APIClient
) -> None:
    load.apps(
        app(
            "F1",
            T0,
            applicant_key="320102199001011234",
            phone="13912345678",
            vin="LSVAU2180N2183294",
            device_id="DEV-7F3A9C2E",
            dealer_id="DLR-SH-0042",
            amount_requested="90000",
            vehicle_value="100000",
        ),
        app("OK", T0, phone=Q),
    )
    load.blacklist(entry("B1", "phone", "13912345678"))
    answer = reader.get(FLAGS, {"status": "open"})
    assert answer.status_code == 200
    assert answer["X-Total-Count"] == "1"
    [flag] = answer.json()
    assert flag["application_id"] == "F1"
    assert flag["flagged"] is True
    assert flag["failed_checks"] == ["blacklist", "ltv"]
    assert flag["status"] == "open"
    assert flag["identifiers"] == {
        "applicant_key": "****1234",
        "phone": "****5678",
        "vin": "****3294",
        "device_id": "****9C2E",
        "dealer_id": "****0042",
    }


def test_nothing_is_answered_to_a_stranger(client_for: Callable[[Any], APIClient]) -> None:
    anonymous = client_for(None)
    assert anonymous.get(CHECKS.format("Y1")).status_code == 401
    assert anonymous.get(FLAGS, {"status": "open"}).status_code == 401
    lead = {"region": "EAST-01", "channel": "web", "phone": P}
    assert anonymous.post(PRESCREEN, lead, format="json").status_code == 401


# --- 6. the lead pre-screen ---------------------------------------------------------------------

LEAD = {"region": "EAST-01", "channel": "web"}
LISTED_LEAD = {
    # field: (kind, as the lead gives it; listed in another spelling)
    "applicant_key": ("applicant", "32010219900101123x"),
    "phone": ("phone", "+86 139-1234-5678"),
    "device_id": ("device", "DEV-7F3A9C2E"),
    "vin": ("vin", "lsvau2180n2183294"),
}


@pytest.fixture
def listed(load: Loader) -> None:
    load.blacklist(
        entry("B-APP", "applicant", "32010219900101123X"),
        entry("B-PHONE", "phone", "13912345678", expires_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC)),
        entry("B-DEV", "device", "DEV-7F3A9C2E"),
        entry("B-VIN", "vin", "LSVAU2180N2183294"),
        entry(
            "B-OLD",
            "phone",
            "13800000000",
            added_at=dt.datetime(2019, 1, 1, tzinfo=dt.UTC),
            expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        ),
    )


def prescreen_full(client: APIClient, **fields: Any) -> dict[str, Any]:
    answer = client.post(PRESCREEN, {**LEAD, **fields}, format="json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def prescreen(client: APIClient, **fields: Any) -> dict[str, Any]:
    """The contract's part of the answer: the decision and the reasons in words."""
    answer = prescreen_full(client, **fields)
    return {"decision": answer["decision"], "reasons": answer["reasons"]}


def test_the_answer_gives_the_reasons_as_codes_and_the_thresholds_it_used(
    listed: None, reader: APIClient
) -> None:
    both = prescreen_full(reader, phone="13912345678", credit_score=599, lead_score=10)
    assert both == {
        "decision": "decline",
        "reasons": [
            "blacklist: the phone is on the blacklist",
            "credit_score: 599 is below risk.min_credit_score (600)",
        ],
        "details": [
            {"code": "blacklist", "kind": "phone"},
            {
                "code": "credit_score",
                "value": 599,
                "threshold": 600,
                "parameter": "risk.min_credit_score",
            },
        ],
        "thresholds": {"risk.min_credit_score": 600, "marketing.lead_score_cutoff": 50},
    }
    review = prescreen_full(reader, lead_score=10)
    assert review["details"] == [
        {
            "code": "lead_score",
            "value": 10,
            "threshold": 50,
            "parameter": "marketing.lead_score_cutoff",
        }
    ]


@pytest.mark.parametrize("field", list(LISTED_LEAD))
def test_a_lead_on_the_blacklist_is_declined(listed: None, reader: APIClient, field: str) -> None:
    kind, value = LISTED_LEAD[field]
    assert prescreen(reader, **{field: value}, lead_score=90, credit_score=800) == {
        "decision": "decline",
        "reasons": [f"blacklist: the {kind} is on the blacklist"],
    }


def test_an_expired_entry_does_not_decline(listed: None, reader: APIClient) -> None:
    assert prescreen(reader, phone="13800000000", lead_score=90) == {
        "decision": "invite",
        "reasons": [],
    }


def test_the_credit_score_declines_below_the_minimum_not_at_it(
    listed: None, reader: APIClient
) -> None:
    # risk.min_credit_score 600
    assert prescreen(reader, credit_score=600, lead_score=50) == {
        "decision": "invite",
        "reasons": [],
    }
    low = prescreen(reader, credit_score=599, lead_score=90)
    assert low["decision"] == "decline"
    assert low["reasons"] == ["credit_score: 599 is below risk.min_credit_score (600)"]
    both = prescreen(reader, phone="13912345678", credit_score=599, lead_score=10)
    assert both["decision"] == "decline"
    assert [r.split(":")[0] for r in both["reasons"]] == ["blacklist", "credit_score"]


def test_a_low_lead_score_is_reviewed_against_the_live_cutoff(
    reader: APIClient, manager: User, committed: Callable[[], Any]
) -> None:
    # marketing.lead_score_cutoff 50
    assert prescreen(reader, lead_score=49) == {
        "decision": "review",
        "reasons": ["lead_score: 49 is below marketing.lead_score_cutoff (50)"],
    }
    assert prescreen(reader, lead_score=50)["decision"] == "invite"
    assert prescreen(reader)["decision"] == "invite"  # nothing against it

    with committed():
        outcome = parameters_change(
            changes={"marketing.lead_score_cutoff": (70, 1)}, user=manager, reason="stricter"
        )
    assert not outcome.pending  # marketing.* applies at once
    assert prescreen(reader, lead_score=69) == {
        "decision": "review",
        "reasons": ["lead_score: 69 is below marketing.lead_score_cutoff (70)"],
    }
    assert prescreen(reader, lead_score=70)["decision"] == "invite"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "1391234567"),  # 10 digits
        ("phone", "23912345678"),  # no mainland mobile starts with 2
        ("phone", "139-1234-567a"),
        ("vin", "LSVAU2180N218329"),  # 16
        ("vin", "LSVAU2180N21832945"),  # 18
        ("vin", "LSVAU2180N218329I"),
        ("vin", "LSVAU2180N218329O"),
        ("vin", "LSVAU2180N218329Q"),
    ],
)
def test_a_malformed_phone_or_vin_is_400_naming_the_field(
    reader: APIClient, field: str, value: str
) -> None:
    answer = reader.post(PRESCREEN, {**LEAD, field: value}, format="json")
    assert answer.status_code == 400
    assert list(answer.json()) == [field]


# --- 7. bad identifiers in imports --------------------------------------------------------------


def test_an_applications_file_with_a_bad_phone_or_vin_is_rejected_whole(
    load: Loader,
) -> None:
    rows = (
        app("G1", T0, phone=P, vin=VIN_1),  # line 2: good
        app("G2", T0, phone="1391234567"),  # line 3
        app("G3", T0, vin="LSVAU2180N218329I"),  # line 4
        app("G4", T0, vin="LSVAU2180N218329O"),  # line 5
        app("G5", T0, vin="LSVAU2180N218329Q"),  # line 6
        app("G6", T0, vin="LSVAU2180N218329"),  # line 7: 16 characters
        app("G7", T0, vin="LSVAU2180N21832945"),  # line 8: 18 characters
        app("G8", T0, phone="139-1234-567a", vin="LSVAU2180N2183294"),  # line 9
    )
    with pytest.raises(ImportRejected) as rejected:
        load.apps(*rows)
    errors = {(e["line"], e["column"]): e["reason"] for e in rejected.value.errors}
    assert set(errors) == {
        (3, "phone"),
        (4, "vin"),
        (5, "vin"),
        (6, "vin"),
        (7, "vin"),
        (8, "vin"),
        (9, "phone"),
    }
    assert "no I, O or Q" in errors[(4, "vin")]
    assert "16 characters" in errors[(7, "vin")] and "17" in errors[(7, "vin")]
    assert "18 characters" in errors[(8, "vin")]
    assert not LoanApplication.objects.exists()
    assert not ApplicationCheck.objects.exists()


def test_a_blacklist_file_with_an_entry_not_expiring_after_it_was_added_is_rejected(
    client_for: Callable[[Any], APIClient], risk_head: User
) -> None:
    added = T0 - 30 * DAY
    rows = (
        entry("OK", "phone", P, added_at=added, expires_at=added + SECOND),  # line 2: good
        entry("SAME", "phone", Q, added_at=added, expires_at=added),  # line 3
        entry("BEFORE", "vin", VIN_1, added_at=added, expires_at=added - DAY),  # line 4
        entry("BADPHONE", "phone", "1391234567"),  # line 5
        entry("BADVIN", "vin", "LSVAU2180N218329O"),  # line 6
    )
    answer = client_for(risk_head).post(
        "/api/imports/",
        {"kind": "blacklist", "file": csv_file(as_csv(BLACKLIST_COLUMNS, rows))},
        format="multipart",
    )
    assert answer.status_code == 400
    errors = {(e["line"], e["column"]): e["reason"] for e in answer.json()["errors"]}
    assert set(errors) == {(3, "expires_at"), (4, "expires_at"), (5, "value"), (6, "value")}
    assert errors[(3, "expires_at")] == errors[(4, "expires_at")] == "is not after added_at"
    assert "phone" in errors[(5, "value")] and "VIN" in errors[(6, "value")]
    assert not BlacklistEntry.objects.exists()


# --- 8. no identifier leaks ---------------------------------------------------------------------

SECRET_PHONE = "13912345678"
SECRET_VIN = "LSVAU2180N2183294"
SECRET_APPLICANT = "320102199001011234"
SECRET_DEVICE = "DEVICE-9F8E7D6C5B"
SECRET_DEALER = "DEALER-SH-000777"
# Whole identifiers as given and as normalised, and their heads (the masked form shows only the
# last four characters): every needle is longer than four characters.
NEEDLES = (
    SECRET_PHONE,
    "139-1234-5678",
    "139 1234 5678",
    "+8613912345678",
    SECRET_VIN,
    SECRET_APPLICANT,
    SECRET_DEVICE,
    SECRET_DEALER,
    "13912345",
    "LSVAU218",
    "32010219",
    "DEVICE-9F8E",
    "DEALER-SH",
)
assert all(len(needle) > 4 for needle in NEEDLES)


def leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [needle for needle in NEEDLES if needle.lower() in lowered]


def test_no_identifier_is_stored_logged_or_answered_whole(
    load: Loader,
    client_for: Callable[[Any], APIClient],
    viewer: User,
    risk_head: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # every statement and its parameters to the log
    answers: list[str] = []
    try:
        # The blacklist first: its holders are checked as they arrive.
        load.blacklist(
            entry("BL-PHONE", "phone", "139 1234 5678"),
            entry("BL-VIN", "vin", SECRET_VIN),
            entry("BL-APP", "applicant", SECRET_APPLICANT),
            entry("BL-DEV", "device", SECRET_DEVICE),
            entry("BL-DLR", "dealer", SECRET_DEALER),
        )
        load.apps(
            app(
                "LEAK1",
                T0,
                applicant_key=SECRET_APPLICANT,
                phone="+86 139-1234-5678",
                vin=SECRET_VIN.lower(),
                device_id=SECRET_DEVICE,
                dealer_id=SECRET_DEALER,
                amount_requested="90000",
                vehicle_value="100000",
            ),
            app("LEAK2", T0 + DAY, applicant_key="K2", phone=SECRET_PHONE, vin=SECRET_VIN),
        )
        # Rejected files keep their errors: they must not quote the identifiers either.
        with pytest.raises(ImportRejected) as bad_apps:
            load.apps(app("LEAK3", T0, phone=SECRET_PHONE, vin=SECRET_VIN + "X"))
        answers.append(repr((bad_apps.value.detail, bad_apps.value.errors)))
        importer = client_for(risk_head)
        rejected = importer.post(
            "/api/imports/",
            {
                "kind": "blacklist",
                "file": csv_file(
                    as_csv(
                        BLACKLIST_COLUMNS,
                        (
                            entry("BL-X", "phone", SECRET_PHONE, expires_at=T0 - 30 * DAY),
                            entry("BL-Y", "vin", SECRET_VIN + "0"),
                        ),
                    )
                ),
            },
            format="multipart",
        )
        assert rejected.status_code == 400
        answers.append(rejected.content.decode())

        client = client_for(viewer)
        got = [
            client.get(CHECKS.format("LEAK1")),
            client.get(CHECKS.format("LEAK2")),
            client.get(FLAGS, {"status": "all"}),
            client.post(PRESCREEN, {**LEAD, "phone": SECRET_PHONE}, format="json"),
            client.post(
                PRESCREEN,
                {
                    **LEAD,
                    "applicant_key": SECRET_APPLICANT,
                    "vin": SECRET_VIN,
                    "device_id": SECRET_DEVICE,
                    "credit_score": 300,
                },
                format="json",
            ),
            # malformed: the 400 must not echo them back
            client.post(PRESCREEN, {**LEAD, "phone": SECRET_PHONE + "9"}, format="json"),
            client.post(PRESCREEN, {**LEAD, "vin": SECRET_VIN + "X"}, format="json"),
            client.get("/api/imports/"),
        ]
        assert [a.status_code for a in got] == [200, 200, 200, 200, 200, 400, 400, 200]
        assert got[3].json()["decision"] == "decline"
        flags = {f["application_id"]: f for f in got[2].json()}
        assert flags["LEAK1"]["identifiers"]["phone"] == "****5678"
        assert flags["LEAK1"]["identifiers"]["vin"] == "****3294"
        assert flags["LEAK1"]["identifiers"]["applicant_key"] == "****1234"
        answers += [a.content.decode() for a in got]

        # Proposals and the blacklist's history: the value goes in whole, never out.
        changes = "/api/risk/blacklist/changes/"
        proposals = [
            importer.post(
                changes,
                {"action": "add", "type": "phone", "value": SECRET_PHONE, "reason": "x"},
                format="json",
            ),
            importer.post(
                changes,
                {"action": "add", "type": "vin", "value": SECRET_VIN + "X", "reason": "x"},
                format="json",
            ),
            importer.post(
                changes,
                {"action": "add", "type": "device", "value": SECRET_DEVICE + "-2", "reason": "x"},
                format="json",
            ),
            importer.post(
                changes, {"action": "remove", "entry_id": "BL-VIN", "note": "x"}, format="json"
            ),
            client.get(changes),
            client.get("/api/risk/blacklist/"),
        ]
        assert [a.status_code for a in proposals] == [400, 400, 201, 201, 200, 200]
        answers += [a.content.decode() for a in proposals]
    finally:
        connection.force_debug_cursor = False

    # (c) what clients got
    assert [leaks(a) for a in answers] == [[]] * len(answers)

    # (b) the log, statements and their parameters included
    assert any(r.name == "django.db.backends" for r in caplog.records)  # it was listening
    logged = caplog.text + "\n".join(
        f"{r.getMessage()} {r.__dict__.get('sql', '')} {r.__dict__.get('params', '')}"
        for r in caplog.records
    )
    assert leaks(logged) == []

    # (a) every column of every table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        tables = [name for (name,) in cursor.fetchall()]
        assert {"loanbook_application", "screening_blacklist_entry"} <= set(tables)
        patterns = [f"%{needle.lower()}%" for needle in NEEDLES]
        found: dict[str, list[str]] = {}
        for table in tables:
            cursor.execute(
                f"SELECT x::text FROM {connection.ops.quote_name(table)} x "
                "WHERE lower(x::text) LIKE ANY(%s) LIMIT 3",
                [patterns],
            )
            rows = [text for (text,) in cursor.fetchall()]
            if rows:
                found[table] = rows
        stored_rows = LoanApplication.objects.count() + BlacklistEntry.objects.count()
    assert stored_rows == 7  # the scan looked at what the imports stored
    assert found == {}
