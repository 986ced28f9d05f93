"""What-if and auto-calibration against small hand-built loan books, with hand-computed figures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from carloan.models import Loan as LoanRow
from carloan.models import LoanApplication, LoanSnapshot
from carloan.parameters.calibration import credit_score_calibrate
from carloan.parameters.models import ChangeRequest, Parameter
from carloan.parameters.selectors import parameter_cache_invalidate, parameter_value
from carloan.tasks import parameters_calibrate

pytestmark = pytest.mark.django_db

D = date(2026, 6, 30)  # the book's last decision day and last snapshot day
Clients = Callable[[User | None], APIClient]


@pytest.fixture(autouse=True)
def fresh_parameter_cache() -> Iterator[None]:
    parameter_cache_invalidate()
    yield
    parameter_cache_invalidate()


def at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def application(app_id: str, score: int | None, decision: str = "approved", day: date = D) -> None:
    LoanApplication.objects.create(
        application_id=app_id,
        region="EAST-01",
        applied_at=at(day - timedelta(days=2)),
        decision=decision,
        decided_at=None if decision == "pending" else at(day),
        credit_score=score,
    )


def loan(
    loan_id: str,
    app_id: str,
    principal: int,
    appraised: int | None,
    *snapshots: tuple[date, int, int, str],
    funded: date = D,
) -> None:
    LoanRow.objects.create(
        loan_id=loan_id,
        application_id=app_id,
        region="EAST-01",
        funded_at=at(funded),
        principal=principal,
        term_months=36,
        appraised_value=appraised,
    )
    for as_of, outstanding, dpd, status in snapshots:
        LoanSnapshot.objects.create(
            loan_id=loan_id, as_of=as_of, outstanding_principal=outstanding, dpd=dpd, status=status
        )


def set_parameter(key: str, value: Any) -> None:
    """A stored value, as if a change had been approved long ago."""
    Parameter.objects.update_or_create(key=key, defaults={"value": value, "version": 2})
    parameter_cache_invalidate()


# --- what-if ----------------------------------------------------------------------------------


@pytest.fixture
def small_book(db: Any) -> None:
    """Seven approved applications in the 90-day window (and others that must not count)."""
    application("A1", 550)
    loan("L1", "A1", 8000, 10000, (D, 8000, 0, "active"))  # LTV 80
    application("A2", 610)
    loan("L2", "A2", 9000, 10000, (D, 6000, 5, "active"))  # LTV 90, overdue
    application("A3", 650)
    loan(
        "L3",
        "A3",
        7000,
        10000,
        (D - timedelta(days=10), 5000, 30, "active"),
        (D, 4000, 0, "active"),
    )
    application("A4", 700)
    loan("L4", "A4", 5000, 10000, (D, 2000, 40, "active"))  # LTV 50, overdue
    application("A5", 720)  # approved, never funded: no LTV
    application("A6", None)  # no score
    loan("L6", "A6", 6000, 10000, (D, 1000, 0, "active"))  # LTV 60
    application("A8", 660)
    loan("L8", "A8", 6000, 10000, (D, 0, 0, "closed"))  # LTV 60, not active
    # Outside the window, rejected or pending: never approvals.
    application("A7", 800, day=D - timedelta(days=100))
    loan("L7", "A7", 3000, 10000, (D, 3000, 10, "active"))
    application("R1", 680, "rejected")
    application("R2", 590, "rejected")
    application("P1", 900, "pending")


def test_what_if_for_the_credit_score_cutoff(small_book: None) -> None:
    from carloan.parameters.whatif import parameter_what_if

    result = parameter_what_if(key="risk.min_credit_score", proposed="650")

    assert result["window"] == {"start": "2026-04-02", "end": "2026-06-30", "days": 90}
    assert result["snapshot_day"] == "2026-06-30"
    assert (result["population"], result["unmeasured"]) == (7, 1)
    current, proposed = result["current"], result["proposed"]
    # >= 600: A2, A3, A4, A5, A8; their active loans L2, L3, L4: 8000 of 12000 overdue.
    assert current["value"] == 600
    assert (current["approvals"], current["decided_eligible"]) == (5, 6)
    assert (current["active_loans"], current["outstanding"]) == (3, 12000)
    assert current["overdue_rate"] == pytest.approx(100 * 8000 / 12000)
    # >= 650: A3, A4, A5, A8; L3, L4: 2000 of 6000 overdue.
    assert proposed["value"] == 650
    assert (proposed["approvals"], proposed["decided_eligible"]) == (4, 5)
    assert (proposed["active_loans"], proposed["outstanding"]) == (2, 6000)
    assert proposed["overdue_rate"] == pytest.approx(100 * 2000 / 6000)
    assert result["difference"]["approvals"] == -1
    assert result["difference"]["overdue_rate_pp"] == pytest.approx(100 / 3 - 200 / 3)


def test_what_if_for_the_ltv_limit(small_book: None) -> None:
    from carloan.parameters.whatif import parameter_what_if

    result = parameter_what_if(key="risk.max_ltv_pct", proposed=70)

    assert (result["population"], result["unmeasured"]) == (7, 1)  # A5 has no loan
    # <= 80: A1, A3, A4, A6, A8; active L1, L3, L4, L6: 2000 of 15000 overdue.
    assert result["current"]["approvals"] == 5
    assert result["current"]["active_loans"] == 4
    assert result["current"]["overdue_rate"] == pytest.approx(100 * 2000 / 15000)
    # <= 70: A3, A4, A6, A8; L3, L4, L6: 2000 of 7000 overdue.
    assert result["proposed"]["approvals"] == 4
    assert result["proposed"]["overdue_rate"] == pytest.approx(100 * 2000 / 7000)


def test_what_if_uses_the_current_stored_value(small_book: None) -> None:
    from carloan.parameters.whatif import parameter_what_if

    set_parameter("risk.min_credit_score", 700)

    result = parameter_what_if(key="risk.min_credit_score", proposed=600)

    assert result["current"]["value"] == 700
    assert result["current"]["approvals"] == 2  # A4, A5
    assert result["proposed"]["approvals"] == 5


def test_what_if_on_an_empty_book_has_no_rates(db: Any) -> None:
    from carloan.parameters.whatif import parameter_what_if

    result = parameter_what_if(key="risk.min_credit_score", proposed=650)

    assert result["population"] == 0
    assert result["window"]["end"] is None
    assert result["current"]["overdue_rate"] is None
    assert result["difference"]["overdue_rate_pp"] is None


def test_what_if_over_http(small_book: None, client_for: Clients, viewer: User) -> None:
    client = client_for(viewer)

    ok = client.get("/api/parameters/risk.min_credit_score/what-if/", {"value": "650"})
    other_key = client.get("/api/parameters/marketing.target_cac/what-if/", {"value": "1"})
    out_of_bounds = client.get("/api/parameters/risk.max_ltv_pct/what-if/", {"value": "500"})
    missing = client.get("/api/parameters/risk.max_ltv_pct/what-if/")
    unknown = client.get("/api/parameters/nope/what-if/", {"value": "1"})

    assert ok.status_code == 200
    assert ok.json()["proposed"]["approvals"] == 4
    assert other_key.status_code == 400
    assert "only" in other_key.json()["key"][0]
    assert out_of_bounds.status_code == 400
    assert "between 10 and 150" in out_of_bounds.json()["value"][0]
    assert missing.status_code == 400
    assert unknown.status_code == 404


# --- calibration ---------------------------------------------------------------------------------


def scored_loans(prefix: str, score: int, good: int, bad: int, funded: date) -> None:
    for i in range(good + bad):
        app_id, loan_id = f"{prefix}-A{i}", f"{prefix}-L{i}"
        LoanApplication.objects.create(
            application_id=app_id,
            region="EAST-01",
            applied_at=at(funded),
            decision="approved",
            decided_at=at(funded),
            credit_score=score,
        )
        # Bad loans went 30+ days past due at some point (here: at the first snapshot).
        first = min(funded + timedelta(days=60), D - timedelta(days=1))
        snapshots = [(first, 9000, 31 if i < bad else 0, "active")]
        snapshots.append((D, 8000, 0, "active"))
        loan(loan_id, app_id, 10000, 12500, *snapshots, funded=funded)


@pytest.fixture
def scored_book(db: Any) -> None:
    """Loans funded 100 days before the last snapshot, by score band:

    550-599: 10 loans, 5 bad; 600-649: 20 loans, 4 bad; 650-699: 20, 1 bad; 700-749: 20, 0 bad.
    At or above 600: 60 loans, 5 bad (8.33 %); at or above 650: 40 loans, 1 bad (2.5 %).
    """
    funded = D - timedelta(days=100)
    scored_loans("b550", 570, 5, 5, funded)
    scored_loans("b600", 620, 17, 2, funded)
    scored_loans("b650", 660, 19, 1, funded)
    scored_loans("b700", 720, 20, 0, funded)
    # Two more 600-649 bad loans of other kinds: past due earlier then cured, and charged off.
    application("cured", 630, day=funded)
    loan(
        "cured-L",
        "cured",
        10000,
        12500,
        (funded + timedelta(days=70), 9000, 45, "active"),
        (D, 8000, 0, "active"),
        funded=funded,
    )
    application("lost", 640, day=funded)
    loan("lost-L", "lost", 10000, 12500, (D, 0, 0, "charged_off"), funded=funded)
    # Too young (funded 30 days ago) and too old (400 days ago): never in the sample.
    scored_loans("young", 660, 0, 3, D - timedelta(days=30))
    scored_loans("old", 660, 0, 3, D - timedelta(days=400))
    # 29 days past due is not bad.
    application("late", 610, day=funded)
    loan("late-L", "late", 10000, 12500, (D, 9000, 29, "active"), funded=funded)
    set_parameter("risk.calibration.min_sample", 30)
    set_parameter("risk.calibration.target_bad_rate_pct", 5.0)
    set_parameter("risk.calibration.max_step", 20)


def test_the_cutoff_table(scored_book: None) -> None:
    from carloan.parameters.calibration import cutoff_table

    table = {row["band_start"]: row for row in cutoff_table(lookback_days=365)}

    assert sorted(table) == [550, 600, 650, 700]
    assert (table[600]["loans"], table[600]["bad"]) == (22, 4)  # 17 + 2 + cured + lost + late
    assert table[600]["band_end"] == 649
    assert table[600]["bad_rate_pct"] == pytest.approx(100 * 4 / 22)
    assert (table[650]["loans_at_or_above"], table[650]["bad_at_or_above"]) == (40, 1)
    assert table[650]["bad_rate_at_or_above_pct"] == pytest.approx(2.5)
    assert table[550]["loans_at_or_above"] == 72


def test_calibration_files_a_capped_proposal_with_its_evidence(scored_book: None) -> None:
    result = credit_score_calibrate()

    assert result.proposed
    evidence = result.evidence
    assert evidence["at_current_cutoff"] == {
        "loans": 62,
        "bad": 5,
        "bad_rate_pct": pytest.approx(100 * 5 / 62),
    }
    assert evidence["suggested_cutoff"] == 650
    assert evidence["proposed_cutoff"] == 620  # 600 + max step 20
    assert evidence["capped"] is True
    assert evidence["sample"] == 72
    assert evidence["window"] == {
        "snapshot_day": "2026-06-30",
        "funded_from": "2025-06-30",
        "funded_to": "2026-05-01",
    }
    request = result.request
    assert request is not None
    assert request.status == ChangeRequest.Status.PENDING
    assert request.source == ChangeRequest.Source.CALIBRATION
    assert request.requested_by is None
    assert request.changes == {"risk.min_credit_score": 620}
    assert request.evidence["bands"][1]["band_start"] == 600
    assert "capped by the maximum step of 20 points" in request.reason
    assert parameter_value("risk.min_credit_score") == 600  # never applied


def test_calibration_within_the_step_proposes_the_suggested_cutoff(scored_book: None) -> None:
    set_parameter("risk.calibration.max_step", 100)

    result = credit_score_calibrate()

    assert result.evidence["proposed_cutoff"] == 650
    assert result.evidence["capped"] is False


def test_no_proposal_when_the_sample_is_too_small(scored_book: None) -> None:
    set_parameter("risk.calibration.min_sample", 100)

    result = credit_score_calibrate()

    assert not result.proposed
    assert "Too little evidence: 62 recent loans" in result.reason
    assert "at least 100" in result.reason
    assert not ChangeRequest.objects.exists()


def test_no_proposal_when_the_cutoff_meets_the_target(scored_book: None) -> None:
    set_parameter("risk.calibration.target_bad_rate_pct", 10.0)

    result = credit_score_calibrate()

    assert not result.proposed
    assert "already meets the target" in result.reason
    assert result.evidence["bands"]  # the evidence is shown all the same
    assert not ChangeRequest.objects.exists()


def test_no_proposal_when_no_cutoff_with_enough_loans_meets_the_target(
    scored_book: None,
) -> None:
    set_parameter("risk.calibration.min_sample", 50)

    result = credit_score_calibrate()

    assert not result.proposed
    assert "no higher cutoff with at least 50 loans meets the target" in result.reason


def test_a_pending_proposal_blocks_the_next_run(scored_book: None) -> None:
    first = credit_score_calibrate()

    second = credit_score_calibrate()

    assert first.proposed and not second.proposed
    assert f"#{first.request.pk} is still pending" in second.reason  # type: ignore[union-attr]
    assert ChangeRequest.objects.count() == 1


def test_a_proposal_is_applied_only_when_a_manager_approves(
    scored_book: None, client_for: Clients, manager: User
) -> None:
    client = client_for(manager)
    answer = client.post("/api/parameters/calibrate/")
    assert answer.status_code == 200
    body = answer.json()
    assert body["proposed"] is True
    assert body["request"]["source"] == "calibration"
    assert body["evidence"]["bands"][0]["band_start"] == 550

    approved = client.post(f"/api/parameters/requests/{body['request']['id']}/approve/")

    assert approved.status_code == 200
    assert parameter_value("risk.min_credit_score") == 620


def test_the_beat_task_and_its_off_switch(scored_book: None) -> None:
    set_parameter("risk.calibration.mode", "off")
    assert parameters_calibrate() == "Calibration is off (risk.calibration.mode)."
    assert not ChangeRequest.objects.exists()

    set_parameter("risk.calibration.mode", "propose")
    assert "proposed 620" in parameters_calibrate()
    assert ChangeRequest.objects.count() == 1


def test_the_command_prints_the_table_and_the_proposal(
    scored_book: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("calibrate_credit_score")

    out = capsys.readouterr().out
    assert "score band" in out
    assert " 600-649 " in out
    assert "proposed 620" in out
    assert "Filed change request #" in out


def test_calibration_on_an_empty_book_says_why(db: Any) -> None:
    result = credit_score_calibrate()

    assert not result.proposed
    assert "Too little evidence: 0 recent loans" in result.reason


def test_the_calibration_runs_daily() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["parameters-calibrate"]
    assert entry["task"] == "carloan.parameters_calibrate"
