"""Changes of the board: one writer per change, each in one transaction, each broadcasting
exactly one typed event (with the board's next `seq`) after commit.

Every writer follows the same steps:

1. check the person may write (department heads and managers, on a board they see);
2. lock the board row and take the board's next event number in one statement
   (`UPDATE kanban_board SET seq = seq + 1 ... RETURNING seq`): writers of one board queue
   here, so moves from many people at once never give two cards the same place, and events are
   numbered in commit order; then lock the card (`SELECT ... FOR UPDATE`);
3. compare versions, field by field (409 with the current card when a field the client changes
   was changed by someone else since the version it sent);
4. validate against the board (lanes and columns of this board, WIP limits: hard → 400, soft →
   a warning in the answer and the event);
5. write, log (transition or edit) and register the event with `carloan.realtime.broadcast`,
   which sends it only once the transaction commits. A failed step rolls everything back,
   the event number included.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from carloan.errors import Conflict
from carloan.models import REGION_MAX, Department
from carloan.realtime import broadcast
from carloan.roles import can_edit, department_of
from kanban import ranks
from kanban.events import CardData, card_event, card_moved
from kanban.models import (
    Board,
    Card,
    CardEdit,
    CardLink,
    CardType,
    Column,
    Comment,
    Lane,
    LinkKind,
    Pillar,
    Transition,
    WipPolicy,
    WipScope,
)
from kanban.selectors import card_state, default_board, may_see_board

logger = logging.getLogger(__name__)

INCIDENT_RESPONSE_METRIC = "incident_response_time"
SAMPLE_SOURCE = "kanban"
# Fields a PATCH may change; each is version-checked on its own.
EDITABLE = (
    "title",
    "description",
    "type",
    "pillar",
    "department",
    "assignees",
    "due_date",
    "labels",
    "checklist",
    "metric",
    "region",
)
PLACE_FIELDS = ("lane", "column", "rank")
# The rules of a card's fields, in one place: `_clean` enforces them for every caller (the API,
# the alert and review listeners, the demo) and the API's serializers document the same numbers.
TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
LABEL_MAX = 40
MAX_LABELS = 20
CHECKLIST_TEXT_MAX = 200
MAX_CHECKLIST = 100
METRIC_MAX = 64


class _Unchanged(Exception):
    """Raised inside a writer's transaction when the change changes nothing: the transaction
    (and the event number it took) is rolled back and no event is sent."""


@dataclass
class MoveResult:
    """What a move did: the card now, soft WIP warnings, whether it was a hand-off and whether
    the target cell's ranks were rebalanced."""

    card: CardData
    warnings: list[str] = field(default_factory=list)
    handoff: bool = False
    rebalanced: bool = False
    moved: bool = True


# --- common steps --------------------------------------------------------------------------------


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _require_writer(user: Any, board: Board) -> None:
    if user is None:  # the system (alert cards)
        return
    if not can_edit(user):
        raise PermissionDenied("Only department heads and managers may change cards.")
    if not may_see_board(user, board):
        raise PermissionDenied("You may not see this board.")


def _next_seq(board_id: int) -> int:
    """Lock the board row and take its next event number (step 2)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE kanban_board SET seq = seq + 1 WHERE id = %s RETURNING seq", [board_id]
        )
        row = cursor.fetchone()
    if row is None:
        raise Board.DoesNotExist(f"There is no board {board_id}.")
    return int(row[0])


def _locked_card(card_id: int) -> tuple[Card, int]:
    """The card, locked, and the board's next event number (board first, then card)."""
    board_id = Card.objects.filter(pk=card_id).values_list("board_id", flat=True).first()
    if board_id is None:
        raise Card.DoesNotExist(f"There is no card {card_id}.")
    seq = _next_seq(board_id)
    card = Card.objects.select_for_update(of=("self",)).select_related("board").get(pk=card_id)
    return card, seq


def _stale_fields(card: Card, version: int, fields: Sequence[str]) -> list[str]:
    """Fields among `fields` changed since `version` (all of them when `version` is unknown)."""
    if version > card.version or version < 1:
        return list(fields)
    return [f for f in fields if int(card.field_versions.get(f, 0)) > version]


def _conflict(card: Card, stale: Sequence[str], what: str) -> Conflict:
    current = card_state(card.pk)
    # 409 body: the card as it is now and the fields someone else changed (what blocks a merge)
    return Conflict(
        f"Card #{card.pk} changed since you loaded it ({', '.join(stale)} now at version "
        f"{card.version}): {what} was not applied. Review the current card and try again.",
        card=current,
        fields=list(stale),
    )


def _lane_and_column(board: Board, lane_id: int, column_id: int) -> tuple[Lane, Column]:
    lane = Lane.objects.filter(board=board, pk=lane_id).first()
    column = Column.objects.filter(board=board, pk=column_id).first()
    errors: dict[str, list[str]] = {}
    if lane is None:
        errors["lane"] = [f"Board {board.pk} has no lane {lane_id}."]
    if column is None:
        errors["column"] = [f"Board {board.pk} has no column {column_id}."]
    if errors:
        raise ValidationError(errors)
    assert lane is not None and column is not None
    return lane, column


def _wip_check(
    column: Column, lane: Lane, *, card_id: int | None, enforce: bool = True
) -> list[str]:
    """A card enters `column` (in `lane`): hard limit → ValidationError, soft → a warning."""
    if column.wip_limit is None:
        return []
    cards = Card.objects.filter(column=column, archived=False)
    if column.wip_scope == WipScope.PER_LANE:
        cards = cards.filter(lane=lane)
    if card_id is not None:
        cards = cards.exclude(pk=card_id)
    count = cards.count()
    if count + 1 <= column.wip_limit:
        return []
    where = f"{lane.department}'s lane of " if column.wip_scope == WipScope.PER_LANE else ""
    message = (
        f"WIP limit: {where}{column.name} holds at most {column.wip_limit} "
        f"card{'s' if column.wip_limit != 1 else ''} and has {count} already."
    )
    if column.wip_policy == WipPolicy.HARD and enforce:
        raise ValidationError({"column": [message + " Finish or move one out first."]})
    return [message]


@dataclass
class _Place:
    rank: str
    rebalanced: bool


def _place(lane: Lane, column: Column, position: int | None, *, card_id: int | None) -> _Place:
    """The rank of a card put at `position` (None: last) of the cell, between its neighbours.

    When the key between them would be too long (or the neighbours tie, which the writers never
    make), every card of the cell gets a fresh evenly spaced key, in the same transaction.
    """
    cell = list(
        Card.objects.filter(lane=lane, column=column, archived=False)
        .exclude(pk=card_id)
        .order_by("rank", "id")
        .values_list("id", "rank")
    )
    index = len(cell) if position is None else max(0, min(position, len(cell)))
    lo = cell[index - 1][1] if index > 0 else None
    hi = cell[index][1] if index < len(cell) else None
    try:
        key = ranks.rank_between(lo, hi)
        if len(key) <= ranks.MAX_RANK_LENGTH:
            return _Place(key, False)
    except ValueError:
        logger.warning("rank keys tie or are malformed in cell %s/%s: rebalancing", lane, column)
    keys = ranks.spread(len(cell) + 1)
    mine = keys.pop(index)
    ids = [card for card, _ in cell]
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE kanban_card AS c SET rank = v.rank "
                "FROM unnest(%s::bigint[], %s::text[]) AS v(id, rank) WHERE c.id = v.id",
                [ids, keys],
            )
    return _Place(mine, True)


def _transition(
    card: Card,
    *,
    from_lane: Lane | None,
    from_column: Column | None,
    to_lane: Lane,
    to_column: Column,
    user: Any,
    at: dt.datetime,
) -> Transition:
    handoff = from_lane is not None and from_lane.department != to_lane.department
    return Transition.objects.create(
        card=card,
        board_id=card.board_id,
        from_lane=from_lane,
        from_column=from_column,
        to_lane=to_lane,
        to_column=to_column,
        from_department=from_lane.department if from_lane else "",
        to_department=to_lane.department,
        by=user,
        by_department=department_of(user) if user is not None else "",
        at=at,
        is_handoff=handoff,
    )


# --- field values ----------------------------------------------------------------------------


def _clean(name: str, value: Any) -> Any:
    """A field's value as stored, or ValidationError (the API's serializers check types first;
    this is the rule for every caller)."""
    if name == "title":
        text = str(value or "").strip()
        if not text or len(text) > TITLE_MAX:
            raise ValidationError({name: [f"A title of 1 to {TITLE_MAX} characters."]})
        return text
    if name == "description":
        description = str(value or "")
        if len(description) > DESCRIPTION_MAX:
            raise ValidationError({name: [f"At most {DESCRIPTION_MAX} characters."]})
        return description
    if name == "type":
        if value not in CardType.values:
            raise ValidationError({name: [f"One of: {', '.join(CardType.values)}."]})
        return value
    if name == "pillar":
        if value in (None, ""):
            return ""
        if value not in Pillar.values:
            raise ValidationError(
                {name: [f"One of: {', '.join(Pillar.values)}, or empty for none."]}
            )
        return value
    if name == "department":
        if value not in Department.values:
            raise ValidationError({name: [f"One of: {', '.join(Department.values)}."]})
        return value
    if name == "assignees":
        ids = sorted({int(v) for v in value or []})
        found = set(get_user_model().objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [i for i in ids if i not in found]
        if missing:
            raise ValidationError({name: [f"No such user: {', '.join(map(str, missing))}."]})
        return ids
    if name == "due_date":
        if value is None or isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError({name: ["A date as YYYY-MM-DD, or null."]}) from None
    if name == "labels":
        labels: list[str] = []
        for raw in value or []:
            label = str(raw).strip()
            if not label or len(label) > LABEL_MAX:
                raise ValidationError({name: [f"Labels of 1 to {LABEL_MAX} characters."]})
            if label not in labels:
                labels.append(label)
        if len(labels) > MAX_LABELS:
            raise ValidationError({name: [f"At most {MAX_LABELS} labels."]})
        return labels
    if name == "checklist":
        items = []
        for raw in value or []:
            text = str(raw.get("text", "")).strip() if isinstance(raw, dict) else ""
            if not text or len(text) > CHECKLIST_TEXT_MAX:
                raise ValidationError({name: ['Items like {"text": "...", "done": false}.']})
            items.append({"text": text, "done": bool(raw.get("done", False))})
        if len(items) > MAX_CHECKLIST:
            raise ValidationError({name: [f"At most {MAX_CHECKLIST} items."]})
        return items
    if name == "metric":
        from metrics.registry import METRICS, PERIOD_METRICS

        key = str(value or "")
        if key and (len(key) > METRIC_MAX or (key not in METRICS and key not in PERIOD_METRICS)):
            raise ValidationError({name: [f"There is no metric {key}."]})
        return key
    if name == "region":
        region = str(value or "").strip()
        if len(region) > REGION_MAX:
            raise ValidationError({name: [f"At most {REGION_MAX} characters."]})
        return region
    raise ValidationError({name: ["This field cannot be changed here."]})


def _cleaned(changes: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EDITABLE:
            errors[name] = ["This field cannot be changed here."]
            continue
        try:
            cleaned[name] = _clean(name, value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _current(card: Card, name: str) -> Any:
    if name == "assignees":
        return sorted(card.assignees.values_list("pk", flat=True))
    return getattr(card, name)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


# --- the writers -------------------------------------------------------------------------------


def card_create(
    *,
    user: Any,
    board_id: int,
    title: str,
    lane_id: int,
    column_id: int,
    position: int | None = None,
    alert_id: int | None = None,
    **fields: Any,
) -> CardData:
    """Put a new card on the board (at `position` in its cell, last by default).

    Optional `fields`: description, type, department (default: the lane's), assignees (user
    ids), due_date, labels, checklist ([{text, done}]), metric, region. A hard WIP limit
    refuses it (ValidationError) except for the system's alert cards (`user` None).
    """
    cleaned = _cleaned({"title": title, **fields})
    assignees = cleaned.pop("assignees", [])
    board = Board.objects.filter(pk=board_id).first()
    if board is None:
        raise ValidationError({"board": [f"There is no board {board_id}."]})
    _require_writer(user, board)
    with transaction.atomic():
        seq = _next_seq(board.pk)
        lane, column = _lane_and_column(board, lane_id, column_id)
        warnings = _wip_check(column, lane, card_id=None, enforce=user is not None)
        place = _place(lane, column, position, card_id=None)
        now = timezone.now()
        card = Card.objects.create(
            board=board,
            lane=lane,
            column=column,
            rank=place.rank,
            department=cleaned.pop("department", lane.department),
            created_by=user,
            created_at=now,
            updated_at=now,
            column_entered_at=now,
            done_at=now if column.is_done else None,
            alert_id=alert_id,
            field_versions={},
            **cleaned,
        )
        if assignees:
            card.assignees.set(assignees)
        _transition(
            card,
            from_lane=None,
            from_column=None,
            to_lane=lane,
            to_column=column,
            user=user,
            at=now,
        )
        data = card_state(card.pk)
        if warnings:
            logger.info("card #%s created over a WIP limit: %s", card.pk, "; ".join(warnings))
        broadcast(
            board.group_name, card_event("card.created", seq=seq, card=data, by=_username(user))
        )
    return data


def card_update(*, user: Any, card_id: int, version: int, changes: Mapping[str, Any]) -> CardData:
    """Edit fields of a card (title, description, type, department, assignees, due date,
    labels, checklist, metric, region) against the `version` the client saw.

    Field-level optimistic locking: when `version` is stale but none of the fields sent was
    changed since it (someone else edited other fields or moved the card), the edit is merged
    and succeeds; otherwise Conflict (409) with the current card. Unchanged values are not
    written and an edit that changes nothing sends no event.
    """
    cleaned = _cleaned(changes)
    if not cleaned:
        raise ValidationError({"detail": ["Send at least one field to change."]})
    try:
        return _card_update(user=user, card_id=card_id, version=version, cleaned=cleaned)
    except _Unchanged:
        return card_state(card_id)


def _card_update(*, user: Any, card_id: int, version: int, cleaned: dict[str, Any]) -> CardData:
    with transaction.atomic():
        card, seq = _locked_card(card_id)
        _require_writer(user, card.board)
        if card.archived:
            raise Card.DoesNotExist(f"Card {card_id} was deleted.")
        stale = _stale_fields(card, version, list(cleaned))
        if stale:
            raise _conflict(card, stale, "your edit")
        effective = {
            name: (old, new)
            for name, new in cleaned.items()
            if (old := _current(card, name)) != new
        }
        if not effective:
            raise _Unchanged
        card.version += 1
        card.updated_at = timezone.now()
        for name, (_, new) in effective.items():
            card.field_versions[name] = card.version
            if name == "assignees":
                card.assignees.set(new)
            else:
                setattr(card, name, new)
        card.save()
        CardEdit.objects.create(
            card=card,
            version=card.version,
            changes={name: [_json(old), _json(new)] for name, (old, new) in effective.items()},
            by=user,
            at=card.updated_at,
        )
        data = card_state(card.pk)
        broadcast(
            card.board.group_name,
            card_event(
                "card.updated", seq=seq, card=data, by=_username(user), changed=sorted(effective)
            ),
        )
    return data


def card_move(
    *,
    user: Any,
    card_id: int,
    lane_id: int,
    column_id: int,
    position: int,
    version: int,
) -> MoveResult:
    """Move a card to `position` (0-based) of the cell `lane_id` × `column_id`.

    - 409 (Conflict) when someone else moved the card since `version` (an edit of its other
      fields meanwhile does not block the move);
    - 400 (ValidationError) when the card would break a hard WIP limit; a soft one gives a
      warning;
    - a move into another department's lane is a hand-off, recorded in the transition log;
    - the first time an incident card leaves the column it was created in, its response time
      (hours since it was opened) is recorded as an `incident_response_time` sample;
    - moving into a Done column stamps `done_at` (moving out clears it).
    One `card.moved` event, also when the target cell's ranks were rebalanced. A move to where
    the card already is changes nothing and sends nothing (`moved` False).
    """
    try:
        return _card_move(
            user=user,
            card_id=card_id,
            lane_id=lane_id,
            column_id=column_id,
            position=position,
            version=version,
        )
    except _Unchanged:
        return MoveResult(card=card_state(card_id), moved=False)


def _card_move(
    *, user: Any, card_id: int, lane_id: int, column_id: int, position: int, version: int
) -> MoveResult:
    with transaction.atomic():
        card, seq = _locked_card(card_id)
        board = card.board
        _require_writer(user, board)
        if card.archived:
            raise Card.DoesNotExist(f"Card {card_id} was deleted.")
        stale = _stale_fields(card, version, PLACE_FIELDS)
        if stale:
            raise _conflict(card, stale, "your move")
        lane, column = _lane_and_column(board, lane_id, column_id)
        from_lane, from_column = card.lane, card.column
        same_cell = lane.pk == from_lane.pk and column.pk == from_column.pk
        if same_cell and _position_unchanged(card, position):
            raise _Unchanged
        warnings: list[str] = []
        enters_scope = column.pk != from_column.pk or (
            column.wip_scope == WipScope.PER_LANE and lane.pk != from_lane.pk
        )
        if enters_scope:
            warnings = _wip_check(column, lane, card_id=card.pk)
        place = _place(lane, column, position, card_id=card.pk)
        now = timezone.now()
        handoff = False
        if not same_cell:
            handoff = lane.department != from_lane.department
            _transition(
                card,
                from_lane=from_lane,
                from_column=from_column,
                to_lane=lane,
                to_column=column,
                user=user,
                at=now,
            )
            card.column_entered_at = now
        if column.pk != from_column.pk:
            if card.responded_at is None:
                card.responded_at = now
                if card.type == CardType.INCIDENT:
                    _record_incident_response(card, now)
            if column.is_done and not from_column.is_done:
                card.done_at = now
            elif not column.is_done:
                card.done_at = None
        card.lane, card.column, card.rank = lane, column, place.rank
        card.version += 1
        for name in PLACE_FIELDS:
            card.field_versions[name] = card.version
        card.updated_at = now
        card.save()
        data = card_state(card.pk)
        broadcast(
            board.group_name,
            card_moved(
                seq=seq,
                card=data,
                by=_username(user),
                from_lane=from_lane.pk,
                from_column=from_column.pk,
                handoff=handoff,
                rebalanced=place.rebalanced,
                warnings=warnings,
            ),
        )
    return MoveResult(card=data, warnings=warnings, handoff=handoff, rebalanced=place.rebalanced)


def _position_unchanged(card: Card, position: int) -> bool:
    ids = list(
        Card.objects.filter(lane_id=card.lane_id, column_id=card.column_id, archived=False)
        .order_by("rank", "id")
        .values_list("id", flat=True)
    )
    return ids.index(card.pk) == max(0, min(position, len(ids) - 1))


def _record_incident_response(card: Card, at: dt.datetime) -> None:
    from metrics.services import samples_record

    hours = (at - card.created_at).total_seconds() / 3600
    samples_record(rows=[(INCIDENT_RESPONSE_METRIC, at, hours, card.region or "", SAMPLE_SOURCE)])


def card_delete(*, user: Any, card_id: int, version: int | None = None) -> CardData:
    """Archive a card (it leaves the board; its history stays). With `version`, 409 when the
    card changed since."""
    with transaction.atomic():
        card, seq = _locked_card(card_id)
        _require_writer(user, card.board)
        if card.archived:
            raise Card.DoesNotExist(f"Card {card_id} was already deleted.")
        if version is not None and version != card.version:
            raise _conflict(card, ["version"], "the deletion")
        now = timezone.now()
        card.archived = True
        card.archived_at = now
        card.version += 1
        card.field_versions["archived"] = card.version
        card.updated_at = now
        card.save()
        CardEdit.objects.create(
            card=card,
            version=card.version,
            changes={"archived": [False, True]},
            by=user,
            at=now,
            action="deleted",
        )
        data = card_state(card.pk)
        broadcast(
            card.board.group_name,
            card_event(
                "card.deleted", seq=seq, card=data, by=_username(user), changed=["archived"]
            ),
        )
    return data


def comment_add(*, user: Any, card_id: int, text: str) -> Comment:
    """Leave a comment on a card (one `card.updated` event; the card's version stays)."""
    text = (text or "").strip()
    if not text or len(text) > 5000:
        raise ValidationError({"text": ["A comment of 1 to 5,000 characters."]})
    with transaction.atomic():
        card, seq = _locked_card(card_id)
        _require_writer(user, card.board)
        if card.archived:
            raise Card.DoesNotExist(f"Card {card_id} was deleted.")
        comment = Comment.objects.create(
            card=card, author=user, text=text, created_at=timezone.now()
        )
        data = card_state(card.pk)
        broadcast(
            card.board.group_name,
            card_event(
                "card.updated", seq=seq, card=data, by=_username(user), changed=["comments"]
            ),
        )
    return comment


def link_add(*, user: Any, card_id: int, to_card_id: int, kind: str) -> CardLink:
    """Link a card to another of the same board: it `blocks` it or `relates` to it."""
    if kind not in LinkKind.values:
        raise ValidationError({"kind": [f"One of: {', '.join(LinkKind.values)}."]})
    try:
        return _link_add(user=user, card_id=card_id, to_card_id=to_card_id, kind=kind)
    except _Unchanged:
        return CardLink.objects.get(from_card_id=card_id, to_card_id=to_card_id, kind=kind)


def _link_add(*, user: Any, card_id: int, to_card_id: int, kind: str) -> CardLink:
    with transaction.atomic():
        card, seq = _locked_card(card_id)
        _require_writer(user, card.board)
        if card.archived:
            raise Card.DoesNotExist(f"Card {card_id} was deleted.")
        if to_card_id == card.pk:
            raise ValidationError({"to": ["A card cannot be linked to itself."]})
        if not Card.objects.filter(pk=to_card_id, board_id=card.board_id, archived=False).exists():
            raise ValidationError({"to": [f"Board {card.board_id} has no card {to_card_id}."]})
        link, created = CardLink.objects.get_or_create(
            from_card=card, to_card_id=to_card_id, kind=kind, defaults={"created_by": user}
        )
        if not created:
            raise _Unchanged
        data = card_state(card.pk)
        broadcast(
            card.board.group_name,
            card_event("card.updated", seq=seq, card=data, by=_username(user), changed=["links"]),
        )
    return link


def link_remove(*, user: Any, card_id: int, link_id: int) -> None:
    """Remove one of a card's links. CardLink.DoesNotExist when it has no such link."""
    with transaction.atomic():
        card, seq = _locked_card(card_id)
        _require_writer(user, card.board)
        deleted, _ = CardLink.objects.filter(pk=link_id, from_card=card).delete()
        if not deleted:
            raise CardLink.DoesNotExist(f"Card {card_id} has no link {link_id}.")
        data = card_state(card.pk)
        broadcast(
            card.board.group_name,
            card_event("card.updated", seq=seq, card=data, by=_username(user), changed=["links"]),
        )


# --- alerts become cards ---------------------------------------------------------------------

# A critical alert about a day older than this opens no card: importing last year's book raises
# alerts for old days, and those are history, not work.
ALERT_CARD_MAX_AGE_DAYS = 7
ALERT_COLUMN = "Backlog"


def alert_card_title(alert: Mapping[str, Any]) -> str:
    """E.g. "Overdue rate critical in SOUTH-01 on 2026-11-20 (+38 %)"."""
    from metrics.registry import METRICS

    definition = METRICS.get(alert["metric"])
    name = definition.name_en if definition else alert["metric"]
    where = "all regions" if alert["region"] == "all" else alert["region"]
    delta = alert.get("delta_pct")
    change = f" ({delta:+.0f} %)" if delta is not None else ""
    return f"{name} critical in {where} on {alert['day']}{change}"[:200]


def card_open_for_alert(alert: Mapping[str, Any], *, today: dt.date | None = None) -> int | None:
    """Open the card of a critical alert (an `AlertData`), once: in the owning department's lane
    of the shared board, first in Backlog, linked to the alert both ways. Returns the card id,
    or None when the alert deserves no card (not critical, too old, already has one, no board)
    or joins the still-open card of its episode (same metric and region).
    """
    from metrics.registry import METRICS
    from metrics.services import alert_card_attach

    if alert.get("level") != "critical":
        return None
    today = today or timezone.localdate()
    day = dt.date.fromisoformat(str(alert["day"]))
    if day < today - dt.timedelta(days=ALERT_CARD_MAX_AGE_DAYS):
        return None
    board = default_board()
    if board is None:
        return None
    department = alert.get("department") or (
        METRICS[alert["metric"]].department if alert["metric"] in METRICS else Department.TECH
    )
    lane = Lane.objects.filter(board=board, department=department).first()
    column = (
        Column.objects.filter(board=board, name=ALERT_COLUMN).first()
        or Column.objects.filter(board=board).order_by("position", "id").first()
    )
    if lane is None or column is None:
        return None
    if Card.objects.filter(alert_id=alert["id"]).exists():
        return None
    region = "" if alert["region"] == "all" else alert["region"]
    # One card per episode: while a card for this metric and region is still open (not done, not
    # archived), the next critical days of the same episode join it instead of opening another.
    episode_card = (
        Card.objects.filter(
            board=board,
            type=CardType.ALERT,
            metric=alert["metric"],
            region=region,
            archived=False,
            column__is_done=False,
        )
        .order_by("-created_at")
        .values_list("pk", flat=True)
        .first()
    )
    if episode_card is not None:
        alert_card_attach(alert_id=alert["id"], card_id=episode_card)
        return None
    try:
        with transaction.atomic():
            data = card_create(
                user=None,
                board_id=board.pk,
                title=alert_card_title(alert),
                lane_id=lane.pk,
                column_id=column.pk,
                position=0,
                alert_id=alert["id"],
                type=CardType.ALERT,
                department=department,
                metric=alert["metric"],
                region=region,
                description=_alert_description(alert),
            )
            alert_card_attach(alert_id=alert["id"], card_id=data["id"])
    except IntegrityError:
        # Another process opened it meanwhile: the card's one-to-one link to the alert lets
        # only one insert through (the second waited on the board lock, then hit the key).
        return None
    return data["id"]


def _alert_description(alert: Mapping[str, Any]) -> str:
    return (
        f"Opened by the metrics: {alert['metric']} in {alert['region']} on {alert['day']} was "
        f"{alert.get('value')} against a baseline of {alert.get('baseline')} "
        f"({alert.get('delta_pct')} %). Alert #{alert['id']}."
    )


# --- script reviews (contract section 9) ---------------------------------------------------------

SCRIPT_REVIEW_LABEL = "script-review"


def _open_review_card(script_id: int) -> Card | None:
    return (
        Card.objects.filter(script_id=script_id, archived=False, column__is_done=False)
        .order_by("-created_at")
        .first()
    )


def _review_places(board: Board) -> tuple[Lane, Lane, Column, Column] | None:
    marketing = Lane.objects.filter(board=board, department=Department.MARKETING).first()
    risk = Lane.objects.filter(board=board, department=Department.RISK).first()
    backlog = (
        Column.objects.filter(board=board, name=ALERT_COLUMN).first()
        or Column.objects.filter(board=board).order_by("position", "id").first()
    )
    done = Column.objects.filter(board=board, is_done=True).order_by("position", "id").first()
    if marketing is None or risk is None or backlog is None or done is None:
        return None
    return marketing, risk, backlog, done


def card_open_for_script_review(script: Mapping[str, Any], reason: str) -> int | None:
    """Hand a script's review from marketing to risk control: its card (opened in marketing's
    lane the first time, or the one risk sent back) moves into risk control's lane, so the
    hand-off metrics measure how long risk takes to pick it up. Answers the card id, or None
    when there is no board to put it on."""
    board = default_board()
    places = _review_places(board) if board is not None else None
    if board is None or places is None:
        return None
    marketing, risk, backlog, _done = places
    with transaction.atomic():
        card = _open_review_card(script["id"])
        if card is None:
            data = card_create(
                user=None,
                board_id=board.pk,
                title=f"Review script: {script['title']}"[:200],
                lane_id=marketing.pk,
                column_id=backlog.pk,
                type=CardType.REQUEST,
                pillar=Pillar.RISK_COLLABORATION,
                department=Department.MARKETING,
                labels=[SCRIPT_REVIEW_LABEL],
                description=_script_description(script, reason),
            )
            Card.objects.filter(pk=data["id"]).update(script_id=script["id"])
            card_id, version = data["id"], data["version"]
        else:
            card_id, version = card.pk, card.version
            if card.lane_id == risk.pk:
                return card_id
        card_move(
            user=None,
            card_id=card_id,
            lane_id=risk.pk,
            column_id=backlog.pk,
            position=0,
            version=version,
        )
    return card_id


def card_close_for_script_review(script: Mapping[str, Any], outcome: str, user: Any) -> int | None:
    """Risk control decided: an approved, retired or withdrawn review's card goes to Done; a
    request for changes hands the card back to marketing's lane. Answers the card id."""
    card = _open_review_card(script["id"])
    board = default_board()
    places = _review_places(board) if board is not None else None
    if card is None or places is None:
        return None
    marketing, _risk, backlog, done = places
    mover = user if user is not None and can_edit(user) else None
    with transaction.atomic():
        if outcome == "changes_requested":
            card_move(
                user=mover,
                card_id=card.pk,
                lane_id=marketing.pk,
                column_id=backlog.pk,
                position=0,
                version=card.version,
            )
        else:
            card_move(
                user=mover,
                card_id=card.pk,
                lane_id=card.lane_id,
                column_id=done.pk,
                position=0,
                version=card.version,
            )
        note = script.get("review_note") or ""
        if mover is not None and note:
            comment_add(user=mover, card_id=card.pk, text=f"{outcome}: {note}"[:2000])
    return card.pk


def _script_description(script: Mapping[str, Any], reason: str) -> str:
    findings = script.get("findings") or []
    lines = [
        f"Sales script #{script['id']} ({script.get('channel', '')}), version "
        f"{script.get('version')}: {reason}.",
        f"{len(findings)} finding(s) of the compliance check. Review it at "
        f"/compliance/#script-{script['id']}.",
    ]
    return "\n".join(lines)


# --- flagged applications (contract section 10) ------------------------------------------------


def card_open_for_application(application: Mapping[str, Any]) -> int | None:
    """One card in risk control's lane for an application that fails the blacklist check or two
    checks or more; None when it has one already or there is no board."""
    board = default_board()
    if board is None or Card.objects.filter(application_id=application["application_id"]).exists():
        return None
    lane = Lane.objects.filter(board=board, department=Department.RISK).first()
    column = (
        Column.objects.filter(board=board, name=ALERT_COLUMN).first()
        or Column.objects.filter(board=board).order_by("position", "id").first()
    )
    if lane is None or column is None:
        return None
    why = (
        "on the blacklist"
        if application.get("blacklist")
        else (f"{application.get('failed')} cross-checks failed")
    )
    try:
        with transaction.atomic():
            data = card_create(
                user=None,
                board_id=board.pk,
                title=f"Flagged application {application['application_id']}: {why}"[:200],
                lane_id=lane.pk,
                column_id=column.pk,
                position=0,
                type=CardType.REQUEST,
                pillar=Pillar.RISK_COLLABORATION,
                department=Department.RISK,
                labels=["flagged-application"],
                description=(
                    f"The cross-checks flagged application {application['application_id']} "
                    f"({why}). See GET /api/risk/applications/{application['application_id']}"
                    "/checks/."
                ),
            )
            Card.objects.filter(pk=data["id"]).update(application_id=application["application_id"])
    except IntegrityError:
        return None
    return data["id"]


def card_open_for_review_action(action: Mapping[str, Any]) -> int | None:
    """The card of a review's action: in the department's lane, first in Backlog, due when the
    action is, assigned to its owner, labelled `review-action`. None without a board."""
    board = default_board()
    if board is None:
        return None
    lane = Lane.objects.filter(board=board, department=action["department"]).first()
    column = Column.objects.filter(board=board).order_by("position", "id").first()
    if lane is None or column is None:
        return None
    owner = (
        get_user_model()
        .objects.filter(username=action["owner"])
        .values_list("pk", flat=True)
        .first()
        if action.get("owner")
        else None
    )
    data = card_create(
        user=None,
        board_id=board.pk,
        title=f"Review {action['quarter']}: {action['title']}"[:200],
        lane_id=lane.pk,
        column_id=column.pk,
        position=0,
        type=CardType.TASK,
        department=action["department"],
        labels=["review-action"],
        due_date=dt.date.fromisoformat(action["due_date"]),
        assignees=[owner] if owner else [],
        metric=action.get("metric") or "",
        description=(
            f"Decided in the {action['quarter']} quarterly review"
            + (f" by {action['created_by']}" if action.get("created_by") else "")
            + (f"; it aims at {action['metric']}." if action.get("metric") else ".")
        ),
    )
    return int(data["id"])
