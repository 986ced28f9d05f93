"""Flow statistics from the transition log against medians computed by hand, and the two
collaboration metrics as KPI scoring reads them (through the metrics registry).

The story, March 2026 (UTC), marketing head M, risk head R, tech head T:

- A: M creates it in marketing (02 09:00); M → risk Waiting (02 10:00); R → In progress
  (02 14:00); R → marketing Done (04 09:00). Wait m→r 4 h; cycle 2.0 days, 2 lanes.
- B: T creates it in tech (01 08:00); T → risk Backlog (03 08:00); M → In progress (03 09:00,
  not risk); R → Review (03 18:00); R → tech Done (06 08:00). Wait t→r 10 h; cycle 5.0, 2 lanes.
- C: R creates it in risk (02 00:00); R → In progress (02 12:00); R → Done (03 00:00).
  Cycle 1.0, 1 lane.
- D: M creates it in marketing (03 00:00); R pulls it → risk In progress (03 12:00); R → Done
  (05 12:00). Wait m→r 0 h (pulled by risk); cycle 2.5, 2 lanes.
- E: M creates it (01 00:00); M → tech Waiting (04 00:00). Still waiting for tech.
- F: M creates it (01 12:00); M → tech Waiting (02 00:00); M → marketing Backlog (02 06:00).
  m→t left before tech moved it (no wait); t→m 0 h (marketing pulled it back).

Moves into a Done column finish the work: they are not hand-offs to wait for.
- handoff_wait_time over March: median(4, 10, 0, 0) = 2.0 h; over 3 March only: median(10, 0) = 5.0
- cross_department_cycle_time over March: median(2.0, 5.0, 2.5) = 2.5 days
- cycle times over March: [1, 2, 2.5, 5] → p50 2.25, p85 2.5 + 0.55 × 2.5 = 3.875
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from kanban import flow
from kanban.models import Board
from metrics.formulas import metric_values_for_period
from metrics.registry import PERIOD_METRICS
from tests.test_kanban_support import move, new_card, set_times, shared_board

pytestmark = pytest.mark.django_db

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.fixture
def story(marketing_head: User, risk_head: User, tech_head: User) -> dict[str, int]:
    m, r, t = marketing_head, risk_head, tech_head
    ids: dict[str, int] = {}

    a = ids["A"] = new_card(m, "A")["id"]
    move(m, a, "risk", "Waiting for another department")
    move(r, a, "risk", "In progress")
    move(r, a, "marketing", "Done")
    set_times(a, ["2026-03-02T09:00", "2026-03-02T10:00", "2026-03-02T14:00", "2026-03-04T09:00"])

    b = ids["B"] = new_card(t, "B", "tech")["id"]
    move(t, b, "risk", "Backlog")
    move(m, b, "risk", "In progress")
    move(r, b, "risk", "Review")
    move(r, b, "tech", "Done")
    set_times(
        b,
        [
            "2026-03-01T08:00",
            "2026-03-03T08:00",
            "2026-03-03T09:00",
            "2026-03-03T18:00",
            "2026-03-06T08:00",
        ],
    )

    c = ids["C"] = new_card(r, "C", "risk")["id"]
    move(r, c, "risk", "In progress")
    move(r, c, "risk", "Done")
    set_times(c, ["2026-03-02T00:00", "2026-03-02T12:00", "2026-03-03T00:00"])

    d = ids["D"] = new_card(m, "D")["id"]
    move(r, d, "risk", "In progress")
    move(r, d, "risk", "Done")
    set_times(d, ["2026-03-03T00:00", "2026-03-03T12:00", "2026-03-05T12:00"])

    e = ids["E"] = new_card(m, "E")["id"]
    move(m, e, "tech", "Waiting for another department")
    set_times(e, ["2026-03-01T00:00", "2026-03-04T00:00"])

    f = ids["F"] = new_card(m, "F")["id"]
    move(m, f, "tech", "Waiting for another department")
    move(m, f, "marketing", "Backlog")
    set_times(f, ["2026-03-01T12:00", "2026-03-02T00:00", "2026-03-02T06:00"])
    return ids


def test_handoff_wait_time_is_the_median_wait_until_the_receiving_department_moves_it(
    story: dict[str, int],
) -> None:
    assert flow.handoff_wait_time(*MARCH) == pytest.approx(2.0)
    assert flow.handoff_wait_time(dt.date(2026, 3, 3), dt.date(2026, 3, 3)) == pytest.approx(5.0)
    assert flow.handoff_wait_time(dt.date(2026, 4, 1), dt.date(2026, 4, 30)) is None


def test_cross_department_cycle_time_is_the_median_of_cards_through_two_lanes(
    story: dict[str, int],
) -> None:
    assert flow.cross_department_cycle_time(*MARCH) == pytest.approx(2.5)
    # Done on 3 March: only C, which never left risk's lane.
    assert flow.cross_department_cycle_time(dt.date(2026, 3, 3), dt.date(2026, 3, 3)) is None
    assert flow.cross_department_cycle_time(dt.date(2026, 3, 6), dt.date(2026, 3, 6)) == (
        pytest.approx(5.0)
    )


def test_kpi_scoring_reads_both_collaboration_metrics_from_the_metrics_registry(
    story: dict[str, int],
) -> None:
    assert PERIOD_METRICS["handoff_wait_time"] is flow.handoff_wait_time
    assert PERIOD_METRICS["cross_department_cycle_time"] is flow.cross_department_cycle_time
    values = metric_values_for_period(
        *MARCH, metrics=["handoff_wait_time", "cross_department_cycle_time"]
    )
    assert values["handoff_wait_time"]["all"] == pytest.approx(2.0)
    assert values["cross_department_cycle_time"]["all"] == pytest.approx(2.5)


def test_cycle_times_with_50th_and_85th_percentiles(story: dict[str, int]) -> None:
    board = shared_board()
    cycle = flow.cycle_times(board.pk, *MARCH)
    assert [(c["card"], c["days"], c["lanes"]) for c in cycle["cards"]] == [
        (story["C"], pytest.approx(1.0), 1),
        (story["A"], pytest.approx(2.0), 2),
        (story["D"], pytest.approx(2.5), 2),
        (story["B"], pytest.approx(5.0), 2),
    ]
    assert cycle["p50"] == pytest.approx(2.25)
    assert cycle["p85"] == pytest.approx(3.875)
    assert cycle["cross_department_p50"] == pytest.approx(2.5)


def test_the_handoff_matrix_says_who_waits_for_whom(story: dict[str, int]) -> None:
    matrix = {
        (row["from_department"], row["to_department"]): row
        for row in flow.handoff_matrix(shared_board().pk, *MARCH)
    }
    assert set(matrix) == {
        ("marketing", "risk"),
        ("tech", "risk"),
        ("marketing", "tech"),
        ("tech", "marketing"),
    }
    to_risk = matrix[("marketing", "risk")]
    assert (to_risk["count"], to_risk["picked_up"], to_risk["waiting_now"]) == (2, 2, 0)
    assert to_risk["median_wait_hours"] == pytest.approx(2.0)  # median(4, 0)
    assert matrix[("tech", "risk")]["median_wait_hours"] == pytest.approx(10.0)
    to_tech = matrix[("marketing", "tech")]
    assert (to_tech["count"], to_tech["picked_up"], to_tech["waiting_now"]) == (2, 0, 1)
    assert to_tech["median_wait_hours"] is None
    back = matrix[("tech", "marketing")]
    assert (back["count"], back["picked_up"], back["median_wait_hours"]) == (1, 1, 0.0)


def test_cumulative_flow_counts_each_columns_cards_at_the_end_of_each_day(
    story: dict[str, int],
) -> None:
    board = shared_board()
    cfd = flow.cumulative_flow(board, dt.date(2026, 3, 1), dt.date(2026, 3, 3))
    assert cfd["days"] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    counts = {col["name"]: col["counts"] for col in cfd["columns"]}
    assert counts == {
        "Backlog": [3, 3, 2],
        "In progress": [0, 2, 2],
        "Waiting for another department": [0, 0, 0],
        "Review": [0, 0, 1],
        "Done": [0, 0, 1],
    }


def test_time_in_columns_of_one_card(story: dict[str, int]) -> None:
    stays = {row["name"]: row["hours"] for row in flow.time_in_columns(story["B"])}
    assert stays["Backlog"] == pytest.approx(48.0 + 1.0)  # tech 01 08:00→03 08:00, risk 1 h
    assert stays["In progress"] == pytest.approx(9.0)
    assert stays["Review"] == pytest.approx(62.0)  # 03 18:00 → 06 08:00


def test_the_flow_answer_of_a_board(story: dict[str, int], client_for: Any, viewer: User) -> None:
    board: Board = shared_board()
    answer = client_for(viewer).get(
        f"/api/kanban/boards/{board.pk}/flow/", {"start": "2026-03-01", "end": "2026-03-31"}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["metrics"] == {
        "handoff_wait_time": pytest.approx(2.0),
        "cross_department_cycle_time": pytest.approx(2.5),
    }
    assert len(body["cumulative_flow"]["days"]) == 31
    assert body["cycle_times"]["p85"] == pytest.approx(3.875)
    assert {(h["from_department"], h["to_department"]) for h in body["handoffs"]} == {
        ("marketing", "risk"),
        ("tech", "risk"),
        ("marketing", "tech"),
        ("tech", "marketing"),
    }
    bad = client_for(viewer).get(
        f"/api/kanban/boards/{board.pk}/flow/", {"start": "2026-04-01", "end": "2026-03-01"}
    )
    assert bad.status_code == 400
    assert client_for(viewer).get(f"/api/kanban/boards/{board.pk}/flow/?end=x").status_code == 400
