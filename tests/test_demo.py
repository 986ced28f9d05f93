"""The demo book generator and `seed_demo`: deterministic CSVs in the contract's shape, the demo
users, a book loaded once through the import service, and the overdue spike it is built to show."""

from __future__ import annotations

import bisect
import csv
import io
import statistics
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.management import call_command

from carloan.dev import demo
from carloan.loanbook.kinds import KINDS, SAMPLE_METRICS
from carloan.models import (
    Complaint,
    Lead,
    Loan,
    LoanApplication,
    LoanSnapshot,
    MarketingSpend,
    Sample,
    Valuation,
    VehicleSale,
)

END = date(2026, 6, 10)
SPIKE_REGION = "SOUTH-01"
BOOK_MODELS = (
    Lead,
    LoanApplication,
    Loan,
    LoanSnapshot,
    MarketingSpend,
    Valuation,
    Complaint,
    Sample,
    VehicleSale,
)


def small_book(seed: int = 7) -> dict[str, bytes]:
    return demo.generate_book(
        start=date(2026, 1, 1), end=date(2026, 1, 31), scale=0.1, sample_scale=0.1, seed=seed
    )


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_generator_is_deterministic_for_a_seed() -> None:
    first, again, other = small_book(7), small_book(7), small_book(8)
    assert first == again
    assert first != other
    # a subset of kinds gives the same rows as the whole book
    subset = demo.generate_book(
        start=date(2026, 1, 1),
        end=date(2026, 1, 31),
        scale=0.1,
        sample_scale=0.1,
        seed=7,
        kinds=["samples", "loans"],
    )
    assert subset == {"samples": first["samples"], "loans": first["loans"]}


def test_every_kind_has_the_contract_header_and_rows() -> None:
    book = small_book()
    assert set(book) == set(KINDS)
    for kind, data in book.items():
        header = data.decode("utf-8").splitlines()[0]
        assert header == ",".join(KINDS[kind].column_names), kind
        assert len(rows_of(data)) > 0, kind
    samples = rows_of(book["samples"])
    assert {s["metric"] for s in samples} == set(SAMPLE_METRICS)
    assert any(s["region"] == "" for s in samples)
    sales = rows_of(book["vehicle_sales"])
    assert {s["condition_grade"] for s in sales} <= set("ABCDE")
    assert {s["fuel_type"] for s in sales} <= {"petrol", "diesel", "hybrid", "ev"}


def test_months_before_gives_a_period_ending_on_the_end_date() -> None:
    assert demo.months_before(date(2026, 11, 28), 6) == date(2026, 5, 29)
    assert demo.months_before(date(2026, 8, 31), 6) == date(2026, 3, 1)


def overdue_rate(snapshots: dict[str, list[tuple[date, float, int, str]]], day: date) -> float:
    """100 × Σ outstanding of active loans with dpd >= 1 / Σ outstanding of active loans on day
    (a loan's state: its latest snapshot with as_of <= day)."""
    overdue = total = 0.0
    for states in snapshots.values():
        i = bisect.bisect_right([s[0] for s in states], day)
        if not i:
            continue
        _, outstanding, dpd, status = states[i - 1]
        if status == "active":
            total += outstanding
            overdue += outstanding if dpd >= 1 else 0.0
    return 100 * overdue / total


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in BOOK_MODELS}


def test_seed_demo_users_only(db: Any) -> None:
    User.objects.create_user("viewer", password="something-else")
    out = io.StringIO()
    call_command("seed_demo", "--users-only", stdout=out)
    call_command("seed_demo", "--users-only", stdout=out)
    assert "carloan-demo" in out.getvalue()
    assert not Lead.objects.exists()
    viewer = User.objects.get(username="viewer")
    assert viewer.check_password("carloan-demo")
    assert list(viewer.groups.values_list("name", flat=True)) == ["viewer"]


def test_seed_demo_loads_the_book_once_with_an_overdue_spike(db: Any) -> None:
    out = io.StringIO()
    call_command("seed_demo", "--end-date", END.isoformat(), "--scale", "0.25", stdout=out)

    expected = {
        "manager": ("manager", ""),
        "marketing": ("department_head", "marketing"),
        "risk": ("department_head", "risk"),
        "tech": ("department_head", "tech"),
        "viewer": ("viewer", ""),
    }
    for username, (role, department) in expected.items():
        user = User.objects.get(username=username)
        assert user.check_password("carloan-demo")
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.profile.department == department

    loaded = counts()
    assert all(n > 0 for n in loaded.values()), loaded
    regions = set(Lead.objects.values_list("region", flat=True).distinct())
    assert len(regions) >= 6 and SPIKE_REGION in regions
    lead_days = [d.date() for d in Lead.objects.values_list("created_at", flat=True)]
    assert max(lead_days) == END
    assert demo.months_before(END, 6) <= min(lead_days) <= demo.months_before(END, 6) + timedelta(2)
    assert LoanSnapshot.objects.order_by("-as_of").first().as_of == END  # type: ignore[union-attr]
    assert Sample.objects.filter(region="").exists()
    assert Sample.objects.values("metric").distinct().count() == len(SAMPLE_METRICS)
    # the calls are checked as they arrive; the scripts went through review as the demo says
    from carloan.compliance.models import Call, Script

    assert not Call.objects.filter(checked_hash="").exists()
    assert (
        Call.objects.filter(flagged=True).exists() and Call.objects.filter(flagged=False).exists()
    )
    states = sorted(Script.objects.values_list("state", flat=True))
    assert states == ["approved", "approved", "approved", "draft", "in_review"]
    # The board has the demo's own work although the checks opened flag cards before it, and
    # finished work carries strategy pillars (the review's split against work); a blacklist
    # proposal waits for risk control.
    from carloan.screening.models import BlacklistChange
    from kanban.models import Card

    people_cards = Card.objects.filter(created_by__isnull=False)
    assert people_cards.count() >= 40
    assert people_cards.filter(done_at__isnull=False).exclude(pillar="").count() >= 10
    assert BlacklistChange.objects.filter(status="pending", source="proposal").count() == 1

    # a second run leaves the book as it is, and says so
    again = io.StringIO()
    call_command("seed_demo", "--end-date", END.isoformat(), "--scale", "0.25", stdout=again)
    assert "not empty" in again.getvalue()
    assert counts() == loaded
    assert User.objects.filter(username__in=expected).count() == 5

    # the spike: SOUTH-01's overdue rate on the end day against its previous calendar month
    loan_ids = set(Loan.objects.filter(region=SPIKE_REGION).values_list("loan_id", flat=True))
    snapshots: dict[str, list[tuple[date, float, int, str]]] = {}
    for loan_id, as_of, outstanding, dpd, status in (
        LoanSnapshot.objects.filter(loan_id__in=loan_ids)
        .order_by("loan_id", "as_of")
        .values_list("loan_id", "as_of", "outstanding_principal", "dpd", "status")
    ):
        snapshots.setdefault(loan_id, []).append((as_of, float(outstanding), dpd, status))
    month_end = END.replace(day=1) - timedelta(days=1)
    previous_month = [month_end.replace(day=1) + timedelta(days=i) for i in range(month_end.day)]
    baseline = statistics.mean(overdue_rate(snapshots, d) for d in previous_month)
    today = overdue_rate(snapshots, END)
    assert today > baseline * 1.15, (today, baseline)
