"""Reads of the board: who may see which board, a card as the API and the sockets show it, the
whole board in a constant number of queries, a card's history.

Visibility rule: a board with `visibility = everyone` (the default board) is seen by every
signed-in user; a `departments` board only by managers, superusers, its listed departments'
people and its members. Anyone else gets 404 from the API (its existence is not revealed) and
4403 from its socket. Writing needs `carloan.roles.can_edit` (department heads and managers)
on top of seeing the board; a department head may edit any card of a board they see, not only
their department's: the board is shared so that one department can move work on to another.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from carloan.roles import department_of, is_manager
from kanban.events import (
    BoardData,
    BoardSnapshot,
    CardData,
    ColumnData,
    LaneData,
    LinkData,
    UserRef,
)
from kanban.models import Board, Card, CardEdit, CardLink, Column, Comment, Lane, Transition

# Column medians for card ageing are taken over stays that ended in this many recent days.
AGEING_WINDOW_DAYS = 90
DEFAULT_BOARD_SLUG = "shared"


# --- who sees what -------------------------------------------------------------------------------


def visible_boards(user: Any) -> QuerySet[Board]:
    """The boards `user` may see (see the module)."""
    boards = Board.objects.all()
    if not user.is_authenticated:
        return boards.none()
    if is_manager(user):
        return boards
    rule = Q(visibility="everyone") | Q(members=user)
    department = department_of(user)
    if department:
        rule |= Q(departments__contains=[department])
    return boards.filter(rule).distinct()


def may_see_board(user: Any, board: Board) -> bool:
    """True when `user` may see `board` (and so subscribe to its events)."""
    if not user.is_authenticated:
        return False
    if board.visibility == "everyone" or is_manager(user):
        return True
    department = department_of(user)
    if department and department in board.departments:
        return True
    return board.members.filter(pk=user.pk).exists()


def default_board() -> Board | None:
    """The shared board the migration creates (where alert cards go)."""
    return Board.objects.filter(slug=DEFAULT_BOARD_SLUG).first() or Board.objects.first()


# --- shapes ----------------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def lane_data(lane: Lane) -> LaneData:
    return {"id": lane.pk, "department": lane.department, "position": lane.position}


def column_data(column: Column) -> ColumnData:
    return {
        "id": column.pk,
        "name": column.name,
        "position": column.position,
        "wip_limit": column.wip_limit,
        "wip_scope": column.wip_scope,
        "wip_policy": column.wip_policy,
        "is_done": column.is_done,
    }


def board_data(board: Board, lanes: Iterable[Lane], columns: Iterable[Column]) -> BoardData:
    return {
        "id": board.pk,
        "name": board.name,
        "slug": board.slug,
        "visibility": board.visibility,
        "departments": list(board.departments),
        "lanes": [lane_data(lane) for lane in lanes],
        "columns": [column_data(column) for column in columns],
        "seq": board.seq,
    }


CARD_FIELDS = (
    "id",
    "board_id",
    "lane_id",
    "column_id",
    "rank",
    "title",
    "description",
    "type",
    "pillar",
    "department",
    "due_date",
    "labels",
    "checklist",
    "metric",
    "alert_id",
    "region",
    "version",
    "created_by__username",
    "created_at",
    "updated_at",
    "column_entered_at",
    "done_at",
    "archived",
)


def _card_rows(cards: QuerySet[Card]) -> list[dict[str, Any]]:
    """Cards as plain rows with their comment and hand-off counts, assignees and links: three
    queries whatever their number (plain rows: building 2,000 model objects and their prefetch
    querysets cost more than the queries themselves)."""
    comments = (
        Comment.objects.filter(card=OuterRef("pk"))
        .order_by()
        .values("card")
        .annotate(n=Count("*"))
        .values("n")
    )
    handoffs = (
        Transition.objects.filter(card=OuterRef("pk"), is_handoff=True)
        .order_by()
        .values("card")
        .annotate(n=Count("*"))
        .values("n")
    )
    rows = list(
        cards.annotate(
            comment_count=Coalesce(Subquery(comments, output_field=IntegerField()), 0),
            handoff_count=Coalesce(Subquery(handoffs, output_field=IntegerField()), 0),
        )
        .order_by("lane_id", "column_id", "rank", "id")
        .values(*CARD_FIELDS, "comment_count", "handoff_count")
    )
    if not rows:
        return rows
    ids = cards.order_by().values("pk")  # a subquery: no list of 2,000 parameters to bind
    assignees: dict[int, list[UserRef]] = defaultdict(list)
    through = Card.assignees.through.objects.filter(card_id__in=ids).order_by("user__username")
    for card_id, user_id, username in through.values_list("card_id", "user_id", "user__username"):
        assignees[card_id].append({"id": user_id, "username": username})
    links: dict[int, list[LinkData]] = defaultdict(list)
    outgoing = CardLink.objects.filter(from_card_id__in=ids).order_by("id")
    for card_id, link_id, to_id, kind in outgoing.values_list(
        "from_card_id", "id", "to_card_id", "kind"
    ):
        links[card_id].append({"id": link_id, "to": to_id, "kind": kind})
    for row in rows:
        row["assignees"] = assignees.get(row["id"], [])
        row["links"] = links.get(row["id"], [])
    return rows


def card_data(
    row: dict[str, Any], *, position: int, median_days: float | None, now: datetime
) -> CardData:
    """A card as the API and the events show it, from a `_card_rows` row; `position` is its
    0-based place in its cell."""
    age_days = (now - row["column_entered_at"]).total_seconds() / 86400
    due = row["due_date"]
    return {
        "id": row["id"],
        "board": row["board_id"],
        "lane": row["lane_id"],
        "column": row["column_id"],
        "position": position,
        "rank": row["rank"],
        "title": row["title"],
        "description": row["description"],
        "type": row["type"],
        "pillar": row["pillar"] or None,
        "department": row["department"],
        "assignees": row["assignees"],
        "due_date": _iso(due),
        "overdue": bool(due and due < timezone.localdate(now) and row["done_at"] is None),
        "labels": list(row["labels"]),
        "checklist": list(row["checklist"]),
        "metric": row["metric"] or None,
        "alert": row["alert_id"],
        "region": row["region"] or None,
        "version": row["version"],
        "created_by": row["created_by__username"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "column_entered_at": row["column_entered_at"].isoformat(),
        "done_at": _iso(row["done_at"]),
        "archived": row["archived"],
        "comment_count": row["comment_count"],
        "handoff_count": row["handoff_count"],
        "links": row["links"],
        "age_days": age_days,
        "column_median_days": median_days,
        "ageing": median_days is not None and age_days > median_days,
    }


def column_medians(board_id: int) -> dict[int, float]:
    """Median days a card stays in each column of the board (stays ended in the last
    `AGEING_WINDOW_DAYS` days, from the transition log); columns without a stay are absent."""
    sql = """
        WITH stays AS (
            SELECT t.to_column_id AS column_id, t.at AS entered,
                   lead(t.at) OVER (PARTITION BY t.card_id ORDER BY t.at, t.id) AS left_at
            FROM kanban_transition t
            WHERE t.board_id = %(board)s
        )
        SELECT column_id,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM left_at - entered) / 86400.0)
        FROM stays
        WHERE left_at IS NOT NULL AND left_at >= %(since)s
        GROUP BY column_id
    """
    params = {"board": board_id, "since": timezone.now() - timedelta(days=AGEING_WINDOW_DAYS)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {column_id: float(median) for column_id, median in cursor.fetchall()}


def _position_of(row: dict[str, Any]) -> int:
    if row["archived"]:
        return -1
    return (
        Card.objects.filter(
            board_id=row["board_id"],
            lane_id=row["lane_id"],
            column_id=row["column_id"],
            archived=False,
        )
        .filter(Q(rank__lt=row["rank"]) | Q(rank=row["rank"], pk__lt=row["id"]))
        .count()
    )


# Medians of time in column move slowly (they span 90 days): a card's answer or event reuses
# them for this long in each process; the whole board answer always computes them afresh.
MEDIANS_TTL_SECONDS = 60.0
_medians_cache: dict[int, tuple[float, dict[int, float]]] = {}


def column_medians_cached(board_id: int) -> dict[int, float]:
    """`column_medians` of the board, at most `MEDIANS_TTL_SECONDS` old."""
    now = time.monotonic()
    cached = _medians_cache.get(board_id)
    if cached is None or cached[0] < now:
        cached = (now + MEDIANS_TTL_SECONDS, column_medians(board_id))
        _medians_cache[board_id] = cached
    return cached[1]


def card_state(card_id: int) -> CardData:
    """One card as shown now (a few queries; the board answer uses `board_snapshot`).
    Card.DoesNotExist when there is no such card."""
    rows = _card_rows(Card.objects.filter(pk=card_id))
    if not rows:
        raise Card.DoesNotExist(f"There is no card {card_id}.")
    row = rows[0]
    medians = column_medians_cached(row["board_id"])
    return card_data(
        row,
        position=_position_of(row),
        median_days=medians.get(row["column_id"]),
        now=timezone.now(),
    )


def board_cards(board: Board, *, medians: dict[int, float] | None = None) -> list[CardData]:
    """Every live card of the board, in cell order, with positions (constant query count)."""
    if medians is None:
        medians = column_medians(board.pk)
        _medians_cache[board.pk] = (time.monotonic() + MEDIANS_TTL_SECONDS, medians)
    rows = _card_rows(Card.objects.filter(board=board, archived=False))
    now = timezone.now()
    positions: dict[tuple[int, int], int] = defaultdict(int)
    result = []
    for row in rows:
        cell = (row["lane_id"], row["column_id"])
        result.append(
            card_data(
                row, position=positions[cell], median_days=medians.get(row["column_id"]), now=now
            )
        )
        positions[cell] += 1
    return result


def board_snapshot(board: Board) -> BoardSnapshot:
    """The whole board for the API and the socket's `board.snapshot`.

    The board's `seq` is read before the cards: an event committed in between is then both in
    the cards and announced with a later number (clients apply it again harmlessly, by version),
    never lost.
    """
    board.refresh_from_db(fields=["seq", "name", "visibility", "departments"])
    lanes = list(board.lanes.all())
    columns = list(board.columns.all())
    data = board_data(board, lanes, columns)
    return {"type": "board.snapshot", **data, "cards": board_cards(board)}


def boards_list(user: Any) -> list[dict[str, Any]]:
    """The boards `user` sees, with lanes, columns and their number of live cards."""
    boards = list(
        visible_boards(user)
        .annotate(card_count=Count("cards", filter=Q(cards__archived=False)))
        .prefetch_related("lanes", "columns")
    )
    return [
        {
            **board_data(board, board.lanes.all(), board.columns.all()),
            "card_count": board.card_count,
        }
        for board in boards
    ]


def card_comments(card_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": comment.pk,
            "card": comment.card_id,
            "author": comment.author.get_username() if comment.author else None,
            "text": comment.text,
            "created_at": comment.created_at.isoformat(),
        }
        for comment in Comment.objects.filter(card_id=card_id).select_related("author")
    ]


def card_history(card_id: int) -> list[dict[str, Any]]:
    """Every move (from the transition log) and every edit of a card, oldest first."""
    items: list[dict[str, Any]] = []
    transitions = Transition.objects.filter(card_id=card_id).select_related("by")
    for t in transitions:
        items.append(
            {
                "kind": "created" if t.from_lane_id is None else "moved",
                "at": t.at.isoformat(),
                "by": t.by.get_username() if t.by else None,
                "from_lane": t.from_lane_id,
                "from_column": t.from_column_id,
                "to_lane": t.to_lane_id,
                "to_column": t.to_column_id,
                "from_department": t.from_department or None,
                "to_department": t.to_department,
                "is_handoff": t.is_handoff,
                "version": None,
                "changes": None,
            }
        )
    for edit in CardEdit.objects.filter(card_id=card_id).select_related("by"):
        items.append(
            {
                "kind": edit.action,
                "at": edit.at.isoformat(),
                "by": edit.by.get_username() if edit.by else None,
                "from_lane": None,
                "from_column": None,
                "to_lane": None,
                "to_column": None,
                "from_department": None,
                "to_department": None,
                "is_handoff": False,
                "version": edit.version,
                "changes": edit.changes,
            }
        )
    items.sort(key=lambda item: item["at"])
    return items


def finished_work_by_pillar(start: datetime, end: datetime) -> list[tuple[str, str, int]]:
    """(pillar, department, count) of the cards finished in [start, end), archived ones
    included; pillar '' for cards without one (the review's strategy split)."""
    rows = (
        Card.objects.filter(done_at__gte=start, done_at__lt=end)
        .order_by()
        .values_list("pillar", "department")
        .annotate(n=Count("id"))
    )
    return [(pillar, department, n) for pillar, department, n in rows]


def cards_done(ids: list[int]) -> dict[int, dict[str, Any]]:
    """Whether each card is finished (review actions read their status from it)."""
    rows = Card.objects.filter(pk__in=ids).values_list("pk", "done_at")
    return {pk: {"done": done_at is not None, "done_at": _iso(done_at)} for pk, done_at in rows}
