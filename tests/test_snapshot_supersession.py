"""Each snapshot's `superseded_on` (the as_of of its loan's next snapshot) is kept by the
database whoever writes: the import (bulk and row by row), single inserts, updates that move a
snapshot, deletes. The stock metrics read it, so a snapshot imported out of order changes the
state of the right days."""

from __future__ import annotations

from datetime import date

import pytest

from carloan.models import LoanSnapshot
from metrics.formulas import Frame, compute
from tests.test_import import import_text
from tests.test_metrics_support import loan, snapshot

pytestmark = pytest.mark.django_db

HEADER = "loan_id,as_of,outstanding_principal,dpd,status\n"


def chain(loan_id: str) -> list[tuple[str, str | None]]:
    return [
        (s.as_of.isoformat(), s.superseded_on.isoformat() if s.superseded_on else None)
        for s in LoanSnapshot.objects.filter(loan_id=loan_id).order_by("as_of")
    ]


@pytest.mark.parametrize("bulk", [True, False])
def test_the_import_links_each_snapshot_to_the_next_stored_or_imported(bulk: bool) -> None:
    snapshot("K1", "2026-03-10", "900", 0, "active")  # stored before the import
    text = HEADER + "\n".join(
        [
            "K1,2026-03-20,800,0,active",  # after the stored one
            "K1,2026-03-01,1000,0,active",  # before it (out of order)
            "K2,2026-03-05,500,0,active",
            "K2,2026-03-06,400,3,active",
        ]
    )
    import_text("loan_snapshots", text, bulk=bulk)

    assert chain("K1") == [
        ("2026-03-01", "2026-03-10"),
        ("2026-03-10", "2026-03-20"),
        ("2026-03-20", None),
    ]
    assert chain("K2") == [("2026-03-05", "2026-03-06"), ("2026-03-06", None)]


def test_inserts_updates_and_deletes_keep_the_chain() -> None:
    last = snapshot("K1", "2026-03-20", "800", 0, "active")
    snapshot("K1", "2026-03-01", "1000", 0, "active")
    middle = snapshot("K1", "2026-03-10", "900", 0, "active")
    assert chain("K1") == [
        ("2026-03-01", "2026-03-10"),
        ("2026-03-10", "2026-03-20"),
        ("2026-03-20", None),
    ]

    last.as_of = date(2026, 3, 5)  # moved before the middle one
    last.save()
    assert chain("K1") == [
        ("2026-03-01", "2026-03-05"),
        ("2026-03-05", "2026-03-10"),
        ("2026-03-10", None),
    ]

    middle.delete()
    assert chain("K1") == [("2026-03-01", "2026-03-05"), ("2026-03-05", None)]

    LoanSnapshot.objects.filter(loan_id="K1", as_of="2026-03-05").update(loan_id="K9")
    assert chain("K1") == [("2026-03-01", None)]
    assert chain("K9") == [("2026-03-05", None)]


def test_a_snapshot_imported_late_changes_the_stock_from_its_day() -> None:
    loan("EAST", "2026-02-01T10:00", loan_id="K1", principal="1000")
    snapshot("K1", "2026-03-01", "1000", 0, "active")
    snapshot("K1", "2026-03-20", "800", 0, "active")
    # Late news: K1 was 10 days past due on 03-10.
    import_text("loan_snapshots", HEADER + "K1,2026-03-10,900,10,active")

    rows = compute(["portfolio"], Frame.daily(date(2026, 3, 9), date(2026, 3, 21)), ["EAST"])
    overdue = {
        d.isoformat(): v for m, r, d, v, _n, _dn in rows if m == "overdue_rate" and r == "EAST"
    }
    assert overdue["2026-03-09"] == pytest.approx(0.0)
    assert overdue["2026-03-10"] == pytest.approx(100.0)
    assert overdue["2026-03-19"] == pytest.approx(100.0)
    assert overdue["2026-03-20"] == pytest.approx(0.0)
    # One day only (the refresh after a daily import): the same figure.
    rows = compute(["portfolio"], Frame.daily(date(2026, 3, 15), date(2026, 3, 15)), ["EAST"])
    assert [v for m, r, _d, v, _n, _dn in rows if m == "overdue_rate" and r == "EAST"] == [
        pytest.approx(100.0)
    ]


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_loan_leave_one_chain() -> None:
    """T1 adds 03-05 and T2 03-03 to the same loan at the same time: the second relinks after
    the first commits, seeing its row (without the lock each saw only its own: two latest)."""
    import threading
    import time

    import psycopg

    from tests.dburl import this_test_database_url

    snapshot("K1", "2026-03-01", "1000", 0, "active")
    insert = (
        "INSERT INTO loanbook_snapshot (loan_id, as_of, outstanding_principal, dpd, status) "
        "VALUES ('K1', %s, 900, 0, 'active')"
    )
    first = psycopg.connect(this_test_database_url())
    second = psycopg.connect(this_test_database_url())
    try:
        first.execute(insert, ["2026-03-05"])

        def write_second() -> None:
            second.execute(insert, ["2026-03-03"])
            second.commit()

        writer = threading.Thread(target=write_second)
        writer.start()
        time.sleep(0.5)
        assert writer.is_alive()  # waiting for the first to commit
        first.commit()
        writer.join(timeout=10)
        assert not writer.is_alive()
    finally:
        first.close()
        second.close()

    assert chain("K1") == [
        ("2026-03-01", "2026-03-03"),
        ("2026-03-03", "2026-03-05"),
        ("2026-03-05", None),
    ]
