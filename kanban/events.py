"""Typed socket messages of `/ws/kanban/{board_id}/` (contract section 5) and the data they carry.

Every event carries the whole card (as `GET /api/kanban/cards/{id}/` answers it), the card's
`version` and the board's `seq`. `seq` goes up by one per committed change of the board: a
client that sees a number skipped asks for a `resync` (a fresh `board.snapshot`, which carries
the `seq` it is current to). Order clients by `position`, not by `rank`: a rebalance rewrites
the ranks of a whole cell in one `card.moved` event (`rebalanced: true`) but no position.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class LaneData(TypedDict):
    id: int
    department: str
    position: int


class ColumnData(TypedDict):
    id: int
    name: str
    position: int
    wip_limit: int | None
    wip_scope: str
    wip_policy: str
    is_done: bool


class BoardData(TypedDict):
    id: int
    name: str
    slug: str
    visibility: str
    departments: list[str]
    lanes: list[LaneData]
    columns: list[ColumnData]
    seq: int


class UserRef(TypedDict):
    id: int
    username: str


class LinkData(TypedDict):
    id: int
    to: int
    kind: str


class CardData(TypedDict):
    id: int
    board: int
    lane: int
    column: int
    position: int
    rank: str
    title: str
    description: str
    type: str
    pillar: str | None
    department: str
    assignees: list[UserRef]
    due_date: str | None
    overdue: bool
    labels: list[str]
    checklist: list[dict[str, Any]]
    metric: str | None
    alert: int | None
    region: str | None
    version: int
    created_by: str | None
    created_at: str
    updated_at: str
    column_entered_at: str
    done_at: str | None
    archived: bool
    comment_count: int
    handoff_count: int
    links: list[LinkData]
    age_days: float
    column_median_days: float | None
    ageing: bool


class BoardSnapshot(BoardData):
    type: Literal["board.snapshot"]
    cards: list[CardData]


class CardEvent(TypedDict):
    """`card.created`, `card.updated` (fields, comments, links) and `card.deleted` (archived)."""

    type: Literal["card.created", "card.updated", "card.deleted"]
    board: int
    seq: int
    version: int
    card: CardData
    by: str | None
    changed: list[str]


class CardMoved(TypedDict):
    """A card moved to another place (a hand-off when into another department's lane)."""

    type: Literal["card.moved"]
    board: int
    seq: int
    version: int
    card: CardData
    by: str | None
    from_lane: int
    from_column: int
    handoff: bool
    rebalanced: bool
    warnings: list[str]


def card_event(
    type_: Literal["card.created", "card.updated", "card.deleted"],
    *,
    seq: int,
    card: CardData,
    by: str | None,
    changed: list[str] | None = None,
) -> CardEvent:
    return {
        "type": type_,
        "board": card["board"],
        "seq": seq,
        "version": card["version"],
        "card": card,
        "by": by,
        "changed": changed or [],
    }


def card_moved(
    *,
    seq: int,
    card: CardData,
    by: str | None,
    from_lane: int,
    from_column: int,
    handoff: bool,
    rebalanced: bool,
    warnings: list[str],
) -> CardMoved:
    return {
        "type": "card.moved",
        "board": card["board"],
        "seq": seq,
        "version": card["version"],
        "card": card,
        "by": by,
        "from_lane": from_lane,
        "from_column": from_column,
        "handoff": handoff,
        "rebalanced": rebalanced,
        "warnings": warnings,
    }
