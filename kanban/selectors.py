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

import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
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


def _iso_sql(column: str) -> str:
    """SQL: a timestamptz as Python's isoformat() of the UTC datetime Django reads
    ("2026-12-05T09:30:00+00:00", microseconds only when there are some), null stays null."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN extract(microseconds FROM {utc})::int %% 1000000 <> 0 "
        f"THEN to_char({utc}, '.US') ELSE '' END || '+00:00'"
    )


# The cards of `card_data`, field for field, built by PostgreSQL as one JSON array text: the board
# answer is the heaviest read of a busy day, and reading 2,000 rows into Python objects to write
# them out again as JSON cost ten times the query (tests/test_kanban_api.py compares the two).
BOARD_CARDS_SQL = f"""
    WITH live AS (
        SELECT k.*, u.username AS created_by_name,
               row_number() OVER (
                   PARTITION BY k.lane_id, k.column_id ORDER BY k.rank, k.id) - 1 AS position,
               (extract(epoch FROM %(now)s::timestamptz - k.column_entered_at) / 86400)::float8
                   AS age_days,
               m.median AS median_days
        FROM kanban_card AS k
        LEFT JOIN auth_user AS u ON u.id = k.created_by_id
        LEFT JOIN unnest(%(median_columns)s::bigint[], %(medians)s::float8[])
            AS m(column_id, median) ON m.column_id = k.column_id
        WHERE k.board_id = %(board)s AND NOT k.archived
    ),
    -- What hangs off the cards, gathered per card once (not a subquery per card).
    assignees AS (
        SELECT a.card_id, json_agg(json_build_object('id', au.id, 'username', au.username)
                                   ORDER BY au.username) AS list
        FROM kanban_card_assignees AS a JOIN auth_user AS au ON au.id = a.user_id
        WHERE a.card_id IN (SELECT id FROM live) GROUP BY a.card_id
    ),
    links AS (
        SELECT l.from_card_id AS card_id,
               json_agg(json_build_object('id', l.id, 'to', l.to_card_id, 'kind', l.kind)
                        ORDER BY l.id) AS list
        FROM kanban_cardlink AS l
        WHERE l.from_card_id IN (SELECT id FROM live) GROUP BY l.from_card_id
    ),
    comments AS (
        SELECT o.card_id, count(*) AS n FROM kanban_comment AS o
        WHERE o.card_id IN (SELECT id FROM live) GROUP BY o.card_id
    ),
    handoffs AS (
        SELECT t.card_id, count(*) AS n FROM kanban_transition AS t
        WHERE t.card_id IN (SELECT id FROM live) AND t.is_handoff GROUP BY t.card_id
    )
    SELECT coalesce(json_agg(json_build_object(
        'id', c.id, 'board', c.board_id, 'lane', c.lane_id, 'column', c.column_id,
        'position', c.position, 'rank', c.rank, 'title', c.title,
        'description', c.description, 'type', c.type, 'pillar', nullif(c.pillar, ''),
        'department', c.department, 'assignees', coalesce(a.list, '[]'::json),
        'due_date', to_char(c.due_date, 'YYYY-MM-DD'),
        'overdue', coalesce(c.due_date < (%(now)s::timestamptz AT TIME ZONE %(tz)s)::date
                            AND c.done_at IS NULL, false),
        'labels', to_json(c.labels), 'checklist', c.checklist,
        'metric', nullif(c.metric, ''), 'alert', c.alert_id, 'region', nullif(c.region, ''),
        'version', c.version, 'created_by', c.created_by_name,
        'created_at', {_iso_sql("c.created_at")}, 'updated_at', {_iso_sql("c.updated_at")},
        'column_entered_at', {_iso_sql("c.column_entered_at")},
        'done_at', {_iso_sql("c.done_at")}, 'archived', c.archived,
        'comment_count', coalesce(o.n, 0), 'handoff_count', coalesce(h.n, 0),
        'links', coalesce(l.list, '[]'::json),
        'age_days', c.age_days, 'column_median_days', c.median_days,
        'ageing', coalesce(c.age_days > c.median_days, false)
    ) ORDER BY c.lane_id, c.column_id, c.rank, c.id), '[]'::json)::text
    FROM live AS c
    LEFT JOIN assignees AS a ON a.card_id = c.id
    LEFT JOIN links AS l ON l.card_id = c.id
    LEFT JOIN comments AS o ON o.card_id = c.id
    LEFT JOIN handoffs AS h ON h.card_id = c.id
"""


def board_cards_json(board: Board, *, medians: dict[int, float] | None = None) -> str:
    """`board_cards` as the JSON text of the array, built in one statement by PostgreSQL."""
    if medians is None:
        medians = column_medians(board.pk)
        _medians_cache[board.pk] = (time.monotonic() + MEDIANS_TTL_SECONDS, medians)
    params = {
        "board": board.pk,
        "now": timezone.now(),
        "tz": timezone.get_default_timezone_name(),
        "median_columns": list(medians),
        "medians": list(medians.values()),
    }
    with connection.cursor() as cursor:
        cursor.execute(BOARD_CARDS_SQL, params)
        return cursor.fetchone()[0]


def board_snapshot_json(board: Board, *, event: bool = True, fresh: bool = False) -> str:
    """`board_snapshot` as JSON text: the board's fields (with `"type": "board.snapshot"` when
    `event`; the API's answer has none), then the cards array from `board_cards_json` spliced in
    as it came from the database. `fresh`: `board` was just read (else it is read again, for
    its current `seq`)."""
    if not fresh:
        board.refresh_from_db(fields=["seq", "name", "visibility", "departments"])
    data = board_data(board, list(board.lanes.all()), list(board.columns.all()))
    head = json.dumps({"type": "board.snapshot", **data} if event else dict(data))
    return f'{head[:-1]}, "cards": {_cards_at_seq(board)}}}'


def _cards_at_seq(board: Board) -> str:
    """`board_cards_json`, kept for KANBAN_BOARD_CACHE_SECONDS under the board's `seq`: every
    change of a card (and of its comments, links, assignees) takes the next seq, so a cached
    array is never served after one; only the ages (`age_days`, `ageing`, `overdue`) may be that
    many seconds old. Every open board reads it on each page view and reconnect."""
    seconds = float(getattr(settings, "KANBAN_BOARD_CACHE_SECONDS", 0))
    if seconds <= 0:
        return board_cards_json(board)
    key = f"kanban:board-cards:{board.pk}:{board.seq}"
    cards = cache.get(key)
    if cards is None:
        cards = board_cards_json(board)
        cache.set(key, cards, seconds)
    return cards


def board_snapshot(board: Board) -> BoardSnapshot:
    """The whole board for the API and the socket's `board.snapshot`.

    The board's `seq` is read before the cards: an event committed in between is then both in
    the cards and announced with a later number (clients apply it again harmlessly, by version),
    never lost.
    """
    return json.loads(board_snapshot_json(board))  # type: ignore[no-any-return]


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


# --- the board as a table (the CSV/XLSX export) --------------------------------------------------

# The board page's filters, kept in its URL (static/js/kanban/state.js `matches`).
CARD_FILTERS = ("department", "assignee", "label", "type", "overdue", "q")
CARD_EXPORT_COLUMNS = (
    "id",
    "title",
    "type",
    "pillar",
    "department",
    "lane",
    "column",
    "assignees",
    "labels",
    "due_date",
    "overdue",
    "checklist_done",
    "checklist_items",
    "created_by",
    "created_at",
    "in_column_since",
    "done_at",
    "comments",
    "handoffs",
    "last_handoff_from",
    "last_handoff_to",
    "last_handoff_at",
    "metric",
    "region",
    "alert",
    "description",
)
HANDOFF_EXPORT_COLUMNS = (
    "card",
    "title",
    "at",
    "from_department",
    "to_department",
    "from_column",
    "to_column",
    "by",
)


def filtered_cards(board: Board, filters: dict[str, str]) -> QuerySet[Card]:
    """The board's live cards that the board page shows under `filters` (its URL's department,
    assignee (`-`: nobody), label, type, overdue and q: a title's words or `#id`)."""
    cards = Card.objects.filter(board=board, archived=False)
    if filters.get("department"):
        cards = cards.filter(department=filters["department"])
    if filters.get("type"):
        cards = cards.filter(type=filters["type"])
    if filters.get("overdue"):
        cards = cards.filter(due_date__lt=timezone.localdate(), done_at__isnull=True)
    if filters.get("label"):
        cards = cards.filter(labels__contains=[filters["label"]])
    assignee = filters.get("assignee")
    if assignee == "-":
        cards = cards.filter(assignees__isnull=True)
    elif assignee:
        cards = cards.filter(assignees__username=assignee)
    query = (filters.get("q") or "").lower()
    if query:
        number = query.removeprefix("#")
        match = Q(title__icontains=query)
        if re.fullmatch(r"[0-9]{1,17}", number):  # not isdigit(): "²" is a digit int() refuses
            match |= Q(pk=int(number))
        cards = cards.filter(match)
    return cards


def cards_export_rows(board: Board, filters: dict[str, str]) -> Iterator[tuple[Any, ...]]:
    """One row per card of CARD_EXPORT_COLUMNS, in the board's order (lane, column, place),
    with its hand-offs summed up: how many, and the last one's departments and time. One query,
    read in chunks."""
    from django.contrib.postgres.expressions import ArraySubquery

    from carloan.exports import EXPORT_CHUNK_ROWS

    def counted(rows: QuerySet[Any]) -> Any:
        return Coalesce(
            Subquery(
                rows.order_by().values("card").annotate(n=Count("*")).values("n"),
                output_field=IntegerField(),
            ),
            0,
        )

    handoffs = Transition.objects.filter(card=OuterRef("pk"), is_handoff=True)
    last = handoffs.order_by("-at", "-id")
    names = (
        Card.assignees.through.objects.filter(card_id=OuterRef("pk"))
        .order_by("user__username")
        .values("user__username")
    )
    rows = (
        filtered_cards(board, filters)
        .annotate(
            comment_count=counted(Comment.objects.filter(card=OuterRef("pk"))),
            handoff_count=counted(handoffs),
            last_from=Subquery(last.values("from_department")[:1]),
            last_to=Subquery(last.values("to_department")[:1]),
            last_at=Subquery(last.values("at")[:1]),
            assignee_names=ArraySubquery(names),
        )
        .order_by("lane__position", "column__position", "rank", "id")
        .values_list(
            "id",
            "title",
            "type",
            "pillar",
            "department",
            "lane__department",
            "column__name",
            "assignee_names",
            "labels",
            "due_date",
            "checklist",
            "created_by__username",
            "created_at",
            "column_entered_at",
            "done_at",
            "comment_count",
            "handoff_count",
            "last_from",
            "last_to",
            "last_at",
            "metric",
            "region",
            "alert_id",
            "description",
        )
    )
    today = timezone.localdate()
    for (
        card_id,
        title,
        kind,
        pillar,
        department,
        lane,
        column,
        assignees,
        labels,
        due,
        checklist,
        created_by,
        created_at,
        entered,
        done_at,
        comments,
        handoff_count,
        last_from,
        last_to,
        last_at,
        metric,
        region,
        alert,
        description,
    ) in rows.iterator(chunk_size=EXPORT_CHUNK_ROWS):
        items = checklist if isinstance(checklist, list) else []
        yield (
            card_id,
            title,
            kind,
            pillar or None,
            department,
            lane,
            column,
            list(assignees or []),
            list(labels or []),
            due,
            bool(due and due < today and done_at is None),
            sum(1 for item in items if isinstance(item, dict) and item.get("done")),
            len(items),
            created_by,
            created_at,
            entered,
            done_at,
            comments,
            handoff_count,
            last_from or None,
            last_to,
            last_at,
            metric or None,
            region or None,
            alert,
            description,
        )


def handoffs_export_rows(board: Board, filters: dict[str, str]) -> Iterator[tuple[Any, ...]]:
    """One row per hand-off of the cards `filtered_cards` gives (HANDOFF_EXPORT_COLUMNS),
    oldest first."""
    from carloan.exports import EXPORT_CHUNK_ROWS

    rows = (
        Transition.objects.filter(
            is_handoff=True, card__in=filtered_cards(board, filters).values("pk")
        )
        .order_by("at", "id")
        .values_list(
            "card_id",
            "card__title",
            "at",
            "from_department",
            "to_department",
            "from_column__name",
            "to_column__name",
            "by__username",
        )
    )
    yield from rows.iterator(chunk_size=EXPORT_CHUNK_ROWS)
