"""Flow statistics of the board, straight from the transition log in SQL (no cron job, nothing
stored): time in column, cycle time, hand-offs, cumulative flow, and the two collaboration
metrics of contract section 7.

Definitions (a period is [start, end], business days in `TIME_ZONE`, both included):

- **stay**: from a transition into a cell to the card's next transition (or now; or its
  archiving). Time in column sums a card's stays per column.
- **cycle time**: days from a card's creation to its `done_at` (its last entry into a Done
  column); a card counts in the period its `done_at` falls in (archived cards too: clearing the
  Done column does not undo the work).
- **hand-off**: a move into another department's lane. Its **wait** runs until the receiving
  department first moves the card: the first transition of the card, from the hand-off on, made
  by a person of that department (when that department pulled the card over itself, the wait
  is 0). A move into another lane's Done column finishes the work: it is no hand-off to wait
  for (nor counted in the matrix). A hand-off whose card leaves the lane again before anyone of
  that department moves it has no wait (nobody of the department responded); one still waiting
  is counted as waiting.
- `handoff_wait_time` (hours): median wait of the hand-offs picked up in the period.
- `cross_department_cycle_time` (days): median cycle time of the cards done in the period that
  passed through two lanes or more.
- the hand-off matrix counts hand-offs made in the period per (from, to) department, with the
  median wait of those picked up in the period and how many are waiting now.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from kanban.models import Board

MAX_PERIOD_DAYS = 731


def _bounds(start: dt.date, end: dt.date) -> dict[str, Any]:
    return {"start": start, "end": end, "tz": settings.TIME_ZONE}


def _fetch(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _board_filter(alias: str, board_id: int | None) -> str:
    return f"AND {alias}.board_id = %(board)s" if board_id is not None else ""


# The hand-offs with their pick-up time (NULL: not picked up) and whether the card left the
# receiving lane before being picked up. `{board}` filters on the board when one is given.
HANDOFF_WAITS = """
    WITH h AS (
        SELECT t.id, t.card_id, t.at, t.from_department, t.to_department
        FROM kanban_transition t
        JOIN kanban_column col ON col.id = t.to_column_id
        WHERE t.is_handoff AND NOT col.is_done {board}
    ),
    w AS (
        SELECT h.*, (
            SELECT min(x.id) FROM kanban_transition x
            WHERE x.card_id = h.card_id AND x.id > h.id
              AND x.from_department = h.to_department AND x.to_department <> h.to_department
        ) AS left_id
        FROM h
    )
    SELECT w.id, w.card_id, w.at, w.from_department, w.to_department, w.left_id, (
        SELECT x.at FROM kanban_transition x
        WHERE x.card_id = w.card_id AND x.id >= w.id
          AND (w.left_id IS NULL OR x.id <= w.left_id)
          AND x.by_department = w.to_department
        ORDER BY x.id LIMIT 1
    ) AS picked_at
    FROM w
"""


def handoff_wait_time(start: dt.date, end: dt.date, board_id: int | None = None) -> float | None:
    """Contract section 7: median hours from a card entering another department's lane until
    that department first moves it, over the hand-offs picked up in [start, end]; None when
    none was."""
    sql = f"""
        WITH waits AS ({HANDOFF_WAITS.format(board=_board_filter("t", board_id))})
        SELECT percentile_cont(0.5) WITHIN GROUP (
            ORDER BY extract(epoch FROM picked_at - at) / 3600.0)
        FROM waits
        WHERE picked_at IS NOT NULL
          AND (picked_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s
    """
    rows = _fetch(sql, {**_bounds(start, end), "board": board_id})
    value = rows[0][0] if rows else None
    return float(value) if value is not None else None


CROSS_DEPARTMENT = """
    SELECT c.id, c.title, c.department, c.type, c.created_at, c.done_at,
           extract(epoch FROM c.done_at - c.created_at) / 86400.0 AS days,
           (SELECT count(DISTINCT t.to_lane_id) FROM kanban_transition t
            WHERE t.card_id = c.id) AS lanes
    FROM kanban_card c
    WHERE c.done_at IS NOT NULL
      AND (c.done_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s {board}
"""


def cross_department_cycle_time(
    start: dt.date, end: dt.date, board_id: int | None = None
) -> float | None:
    """Contract section 7: median days from creation to done of the cards done in [start, end]
    that passed through two lanes or more; None when there is none."""
    sql = f"""
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY days)
        FROM ({CROSS_DEPARTMENT.format(board=_board_filter("c", board_id))}) done
        WHERE lanes >= 2
    """
    rows = _fetch(sql, {**_bounds(start, end), "board": board_id})
    value = rows[0][0] if rows else None
    return float(value) if value is not None else None


def _percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (as `percentile_cont`, contract section 1)."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def cycle_times(board_id: int, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Every card done in the period with its cycle time (days) and lanes passed, plus p50/p85
    of all of them and of the cross-department ones."""
    rows = _fetch(
        CROSS_DEPARTMENT.format(board=_board_filter("c", board_id)) + " ORDER BY c.done_at, c.id",
        {**_bounds(start, end), "board": board_id},
    )
    cards = [
        {
            "card": card_id,
            "title": title,
            "department": department,
            "type": type_,
            "created_at": created_at.isoformat(),
            "done_at": done_at.isoformat(),
            "days": float(days),
            "lanes": int(lanes),
        }
        for card_id, title, department, type_, created_at, done_at, days, lanes in rows
    ]
    all_days = [c["days"] for c in cards]
    cross_days = [c["days"] for c in cards if c["lanes"] >= 2]
    return {
        "cards": cards,
        "p50": _percentile(all_days, 0.5),
        "p85": _percentile(all_days, 0.85),
        "cross_department_p50": _percentile(cross_days, 0.5),
        "cross_department_p85": _percentile(cross_days, 0.85),
    }


def handoff_matrix(board_id: int, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Who waits for whom: per (from, to) department, hand-offs made in the period, the median
    and p85 wait (hours) of those picked up in the period, and how many are waiting now."""
    sql = f"""
        WITH waits AS ({HANDOFF_WAITS.format(board=_board_filter("t", board_id))}),
        flagged AS (
            SELECT waits.*, c.archived,
                   (at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s AS made_in,
                   picked_at IS NOT NULL
                   AND (picked_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s
                       AS picked_in,
                   extract(epoch FROM picked_at - at) / 3600.0 AS hours
            FROM waits JOIN kanban_card c ON c.id = waits.card_id
        )
        SELECT from_department, to_department,
               count(*) FILTER (WHERE made_in),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) FILTER (WHERE picked_in),
               percentile_cont(0.85) WITHIN GROUP (ORDER BY hours) FILTER (WHERE picked_in),
               count(*) FILTER (WHERE picked_in),
               count(*) FILTER (WHERE picked_at IS NULL AND left_id IS NULL AND NOT archived)
        FROM flagged
        GROUP BY 1, 2
        ORDER BY 1, 2
    """
    rows = _fetch(sql, {**_bounds(start, end), "board": board_id})
    return [
        {
            "from_department": from_department,
            "to_department": to_department,
            "count": int(count),
            "median_wait_hours": float(median) if median is not None else None,
            "p85_wait_hours": float(p85) if p85 is not None else None,
            "picked_up": int(picked),
            "waiting_now": int(waiting),
        }
        for from_department, to_department, count, median, p85, picked, waiting in rows
        if count or picked or waiting
    ]


def cumulative_flow(board: Board, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Cards per column at the end of each day of the period (archived cards leave it)."""
    sql = """
        WITH days AS (
            SELECT d::date AS day, (d + interval '1 day') AT TIME ZONE %(tz)s AS day_end
            FROM generate_series(%(start)s::timestamp, %(end)s::timestamp, interval '1 day') d
        )
        SELECT days.day, last.to_column_id, count(*)
        FROM days
        JOIN kanban_card c
          ON c.board_id = %(board)s AND c.created_at < days.day_end
         AND (c.archived_at IS NULL OR c.archived_at >= days.day_end)
        CROSS JOIN LATERAL (
            SELECT t.to_column_id FROM kanban_transition t
            WHERE t.card_id = c.id AND t.at < days.day_end
            ORDER BY t.at DESC, t.id DESC LIMIT 1
        ) last
        GROUP BY 1, 2
    """
    rows = _fetch(sql, {**_bounds(start, end), "board": board.pk})
    counts = {(day, column): int(n) for day, column, n in rows}
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return {
        "days": [d.isoformat() for d in days],
        "columns": [
            {
                "id": column.pk,
                "name": column.name,
                "counts": [counts.get((d, column.pk), 0) for d in days],
            }
            for column in board.columns.all()
        ],
    }


def time_in_columns(card_id: int) -> list[dict[str, Any]]:
    """Hours a card has spent in each column (all its stays; the open one up to now)."""
    sql = """
        SELECT s.to_column_id, col.name,
               sum(extract(epoch FROM coalesce(s.next_at, c.archived_at, now()) - s.at)) / 3600.0
        FROM (
            SELECT t.card_id, t.to_column_id, t.at,
                   lead(t.at) OVER (ORDER BY t.at, t.id) AS next_at
            FROM kanban_transition t WHERE t.card_id = %(card)s
        ) s
        JOIN kanban_card c ON c.id = s.card_id
        JOIN kanban_column col ON col.id = s.to_column_id
        GROUP BY 1, 2, col.position
        ORDER BY col.position
    """
    return [
        {"column": column_id, "name": name, "hours": float(hours)}
        for column_id, name, hours in _fetch(sql, {"card": card_id})
    ]


def board_flow(board: Board, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The flow view of a board over [start, end]: cumulative flow, cycle times with p50/p85,
    the hand-off matrix and the two collaboration metrics."""
    return {
        "board": board.pk,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "generated_at": timezone.now().isoformat(),
        "cumulative_flow": cumulative_flow(board, start, end),
        "cycle_times": cycle_times(board.pk, start, end),
        "handoffs": handoff_matrix(board.pk, start, end),
        "metrics": {
            "handoff_wait_time": handoff_wait_time(start, end, board.pk),
            "cross_department_cycle_time": cross_department_cycle_time(start, end, board.pk),
        },
    }
