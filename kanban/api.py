"""HTTP API of the shared board (contract section 4), thin over the services and selectors.

Status codes: 200/201 done (a move over a soft WIP limit says so in `warnings`); 400 bad input
or a hard WIP limit, nothing stored; 401; 403 a viewer writing (department heads and managers
write); 404 no such board or card, or a board you may not see; 409 a stale `version`, with the
current card (`card`) and the fields someone else changed (`fields`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carloan.exports import (
    EXPORT_FORMAT_PARAMETER,
    ExportAPIView,
    Sheet,
    export_response,
    export_responses,
)
from carloan.roles import CanEditOrRead
from kanban import flow, selectors, services
from kanban.models import Board, Card, CardLink, CardType, Department, Pillar

TAG = ["kanban"]


# --- shapes (for the schema; the data itself comes from the selectors) -------------------------


class KanbanLaneSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    department = serializers.CharField(help_text="marketing, risk or tech.")
    position = serializers.IntegerField()


class KanbanColumnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    wip_limit = serializers.IntegerField(allow_null=True, help_text="null: no limit.")
    wip_scope = serializers.ChoiceField(
        choices=["per_lane", "board"], help_text="Counted per lane or across the lanes."
    )
    wip_policy = serializers.ChoiceField(
        choices=["soft", "hard"], help_text="soft: a warning; hard: the move is refused (400)."
    )
    is_done = serializers.BooleanField(help_text="Entering it stamps the card's `done_at`.")


class KanbanUserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class KanbanLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    to = serializers.IntegerField(help_text="The linked card.")
    kind = serializers.CharField(help_text="blocks (this card blocks `to`) or relates.")


class KanbanChecklistItemSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=services.CHECKLIST_TEXT_MAX)
    done = serializers.BooleanField(default=False)


class CardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    board = serializers.IntegerField()
    lane = serializers.IntegerField()
    column = serializers.IntegerField()
    position = serializers.IntegerField(
        help_text="0-based place within its lane and column (-1 once deleted)."
    )
    rank = serializers.CharField(
        help_text="Ordering key within the cell; may be rebalanced: order by `position`."
    )
    title = serializers.CharField()
    description = serializers.CharField()
    type = serializers.CharField(help_text="task, request, incident or alert.")
    pillar = serializers.CharField(
        allow_null=True,
        help_text="The strategy pillar its work builds: data_platform, risk_collaboration or "
        "agile_platform (the `strategy.budget.*` split); null when none.",
    )
    department = serializers.CharField(help_text="The owning one: marketing, risk or tech.")
    assignees = KanbanUserRefSerializer(many=True)
    due_date = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField(help_text="Due date passed and not done.")
    labels = serializers.ListField(child=serializers.CharField())
    checklist = KanbanChecklistItemSerializer(many=True)
    metric = serializers.CharField(
        allow_null=True,
        help_text="A metric key (alert cards: the alerting metric); its sparkline comes from "
        "`/api/metrics/values/`.",
    )
    alert = serializers.IntegerField(
        allow_null=True, help_text="The metric alert it was opened for."
    )
    region = serializers.CharField(allow_null=True)
    version = serializers.IntegerField(help_text="Send it back with a change (409 when stale).")
    created_by = serializers.CharField(allow_null=True, help_text="null: opened by the system.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    column_entered_at = serializers.DateTimeField(help_text="When it entered its current cell.")
    done_at = serializers.DateTimeField(allow_null=True)
    archived = serializers.BooleanField()
    comment_count = serializers.IntegerField()
    handoff_count = serializers.IntegerField(help_text="Moves into another department's lane.")
    links = KanbanLinkSerializer(many=True, help_text="Links from this card to others.")
    age_days = serializers.FloatField(help_text="Days in its current column.")
    column_median_days = serializers.FloatField(
        allow_null=True, help_text="The usual (median) days a card stays in that column."
    )
    ageing = serializers.BooleanField(help_text="In its column longer than the usual time.")


class BoardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    visibility = serializers.ChoiceField(choices=["everyone", "departments"])
    departments = serializers.ListField(child=serializers.CharField())
    lanes = KanbanLaneSerializer(many=True)
    columns = KanbanColumnSerializer(many=True)
    seq = serializers.IntegerField(help_text="Number of the board's last event.")


class BoardListItemSerializer(BoardSerializer):
    card_count = serializers.IntegerField()


class BoardDetailSerializer(BoardSerializer):
    cards = CardSerializer(many=True)


class KanbanMoveResultSerializer(CardSerializer):
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="Soft WIP limits the move went over."
    )
    handoff = serializers.BooleanField(help_text="Moved into another department's lane.")
    rebalanced = serializers.BooleanField(help_text="The target cell's ranks were rewritten.")


class KanbanConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    fields = serializers.ListField(
        child=serializers.CharField(), help_text="Fields someone else changed since your version."
    )
    card = CardSerializer(help_text="The current card.")


class KanbanCommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    card = serializers.IntegerField()
    author = serializers.CharField(allow_null=True)
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class KanbanHistoryItemSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="created, moved, update or deleted.")
    at = serializers.DateTimeField()
    by = serializers.CharField(allow_null=True)
    from_lane = serializers.IntegerField(allow_null=True)
    from_column = serializers.IntegerField(allow_null=True)
    to_lane = serializers.IntegerField(allow_null=True)
    to_column = serializers.IntegerField(allow_null=True)
    from_department = serializers.CharField(allow_null=True)
    to_department = serializers.CharField(allow_null=True)
    is_handoff = serializers.BooleanField()
    version = serializers.IntegerField(allow_null=True, help_text="Edits: the version made.")
    changes = serializers.JSONField(allow_null=True, help_text="Edits: {field: [old, new]}.")


class KanbanTimeInColumnSerializer(serializers.Serializer):
    column = serializers.IntegerField()
    name = serializers.CharField()
    hours = serializers.FloatField()


class KanbanHistorySerializer(serializers.Serializer):
    card = serializers.IntegerField()
    items = KanbanHistoryItemSerializer(many=True, help_text="Moves and edits, oldest first.")
    time_in_columns = KanbanTimeInColumnSerializer(many=True)
    handoff_count = serializers.IntegerField()
    cycle_time_days = serializers.FloatField(allow_null=True, help_text="Creation to done.")


class KanbanFlowColumnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    counts = serializers.ListField(child=serializers.IntegerField(), help_text="One per day.")


class KanbanCumulativeFlowSerializer(serializers.Serializer):
    days = serializers.ListField(child=serializers.DateField())
    columns = KanbanFlowColumnSerializer(many=True)


class KanbanCycleCardSerializer(serializers.Serializer):
    card = serializers.IntegerField()
    title = serializers.CharField()
    department = serializers.CharField()
    type = serializers.CharField()
    created_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField()
    days = serializers.FloatField()
    lanes = serializers.IntegerField(help_text="Distinct lanes it passed through.")


class KanbanCycleTimesSerializer(serializers.Serializer):
    cards = KanbanCycleCardSerializer(many=True, help_text="Cards done in the period.")
    p50 = serializers.FloatField(allow_null=True)
    p85 = serializers.FloatField(allow_null=True)
    cross_department_p50 = serializers.FloatField(allow_null=True)
    cross_department_p85 = serializers.FloatField(allow_null=True)


class KanbanHandoffSerializer(serializers.Serializer):
    from_department = serializers.CharField()
    to_department = serializers.CharField(help_text="The department waited for.")
    count = serializers.IntegerField(help_text="Hand-offs made in the period.")
    median_wait_hours = serializers.FloatField(allow_null=True)
    p85_wait_hours = serializers.FloatField(allow_null=True)
    picked_up = serializers.IntegerField(help_text="Waits that ended in the period.")
    waiting_now = serializers.IntegerField()


class KanbanCollaborationSerializer(serializers.Serializer):
    handoff_wait_time = serializers.FloatField(allow_null=True, help_text="Hours (median).")
    cross_department_cycle_time = serializers.FloatField(
        allow_null=True, help_text="Days (median)."
    )


class KanbanFlowSerializer(serializers.Serializer):
    board = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    generated_at = serializers.DateTimeField()
    cumulative_flow = KanbanCumulativeFlowSerializer()
    cycle_times = KanbanCycleTimesSerializer()
    handoffs = KanbanHandoffSerializer(many=True, help_text="Who waits for whom.")
    metrics = KanbanCollaborationSerializer(help_text="Contract section 7, over the period.")


# --- input ---------------------------------------------------------------------------------------


def _one_of(values: list[str]) -> str:
    return ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else values[0]


class CardFieldsSerializer(serializers.Serializer):
    """The JSON shapes of a card's fields; their rules (choices, lengths, known users and
    metrics) are `kanban.services._clean`'s, which every caller goes through, and the numbers
    here are its constants."""

    description = serializers.CharField(
        required=False, allow_blank=True, max_length=services.DESCRIPTION_MAX
    )
    type = serializers.CharField(
        required=False, help_text=f"{_one_of(CardType.values)} (default task)."
    )
    pillar = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=f"{_one_of(Pillar.values)}; empty or null for none.",
    )
    department = serializers.CharField(
        required=False,
        help_text=f"{_one_of(Department.values)}; default: the lane's department.",
    )
    assignees = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, help_text="User ids."
    )
    due_date = serializers.DateField(required=False, allow_null=True)
    labels = serializers.ListField(
        child=serializers.CharField(max_length=services.LABEL_MAX),
        required=False,
        max_length=services.MAX_LABELS,
    )
    checklist = KanbanChecklistItemSerializer(
        many=True, required=False, max_length=services.MAX_CHECKLIST
    )
    metric = serializers.CharField(required=False, allow_blank=True, max_length=services.METRIC_MAX)
    region = serializers.CharField(required=False, allow_blank=True, max_length=services.REGION_MAX)


class CardCreateSerializer(CardFieldsSerializer):
    board = serializers.IntegerField(min_value=1)
    title = serializers.CharField(max_length=services.TITLE_MAX)
    lane = serializers.IntegerField(min_value=1)
    column = serializers.IntegerField(min_value=1)
    position = serializers.IntegerField(
        min_value=0, required=False, help_text="0-based in the cell; default: last."
    )


class CardPatchSerializer(CardFieldsSerializer):
    version = serializers.IntegerField(min_value=1, help_text="The version you edited from.")
    title = serializers.CharField(max_length=services.TITLE_MAX, required=False)


class KanbanMoveSerializer(serializers.Serializer):
    lane = serializers.IntegerField(min_value=1)
    column = serializers.IntegerField(min_value=1)
    position = serializers.IntegerField(min_value=0, help_text="0-based in the target cell.")
    version = serializers.IntegerField(min_value=1)


class KanbanCommentInSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class KanbanLinkInSerializer(serializers.Serializer):
    to = serializers.IntegerField(min_value=1, help_text="The card to link to.")
    kind = serializers.CharField(help_text="blocks or relates.")


# --- helpers ---------------------------------------------------------------------------------


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _call(fn: Callable[[], Any]) -> Any:
    """Run a service; a card or link that does not exist is a 404 with its message. Its
    `Conflict` (409 with the card and the stale fields), PermissionDenied (403) and
    ValidationError (400) are answered by `carloan.api.exception_handler`."""
    try:
        return fn()
    except (Card.DoesNotExist, CardLink.DoesNotExist) as exc:
        raise exceptions.NotFound(str(exc) or None) from exc


def _board(request: Request, board_id: int) -> Board:
    board = get_object_or_404(Board, pk=board_id)
    if not selectors.may_see_board(request.user, board):
        raise exceptions.NotFound("No such board.")
    return board


def _card(request: Request, card_id: int) -> Card:
    card = get_object_or_404(Card.objects.select_related("board"), pk=card_id)
    if not selectors.may_see_board(request.user, card.board):
        raise exceptions.NotFound("No such card.")
    return card


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    if "checklist" in data:
        data["checklist"] = [dict(item) for item in data["checklist"]]
    return data


ERRORS: dict[int, Any] = {
    400: OpenApiResponse(
        description="Bad input (field errors) or a hard WIP limit; nothing stored."
    ),
    403: OpenApiResponse(description="Only department heads and managers change cards."),
    404: OpenApiResponse(description="No such board or card, or a board you may not see."),
    409: OpenApiResponse(KanbanConflictSerializer, description="Stale version: the current card."),
}


def _errors(*codes: int) -> dict[int | str, Any]:
    return {code: ERRORS[code] for code in codes}


# --- views -----------------------------------------------------------------------------------


class BoardListView(APIView):
    """The boards you may see."""

    @extend_schema(
        tags=TAG,
        operation_id="kanban_boards_list",
        summary="Boards you may see, with lanes, columns and live card counts",
        responses={200: BoardListItemSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.boards_list(request.user))


class BoardDetailView(APIView):
    """A whole board: lanes, columns and every live card (what the socket's snapshot holds)."""

    @extend_schema(
        tags=TAG,
        operation_id="kanban_boards_retrieve",
        summary="A board with lanes, columns, cards and its event number `seq`",
        responses={200: BoardDetailSerializer, **_errors(404)},
    )
    def get(self, request: Request, board_id: int) -> HttpResponse:
        # The JSON is PostgreSQL's, passed through (kanban.selectors.board_snapshot_json).
        board = _board(request, board_id)
        text = selectors.board_snapshot_json(board, event=False, fresh=True)
        return HttpResponse(text, content_type="application/json")


def _day(request: Request, name: str, default: dt.date) -> dt.date:
    raw = request.query_params.get(name)
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise exceptions.ValidationError({name: ["A date as YYYY-MM-DD."]}) from None


class BoardFlowView(APIView):
    """Flow statistics of a board over a period."""

    @extend_schema(
        tags=TAG,
        operation_id="kanban_boards_flow",
        summary="Cumulative flow, cycle times (p50/p85), hand-offs and collaboration metrics",
        parameters=[
            OpenApiParameter("start", dt.date, description="First day (default: end − 29)."),
            OpenApiParameter("end", dt.date, description="Last day (default: today)."),
        ],
        responses={200: KanbanFlowSerializer, **_errors(400, 404)},
    )
    def get(self, request: Request, board_id: int) -> Response:
        board = _board(request, board_id)
        end = _day(request, "end", timezone.localdate())
        start = _day(request, "start", end - dt.timedelta(days=29))
        if start > end:
            raise exceptions.ValidationError({"start": ["On or before `end`."]})
        if (end - start).days + 1 > flow.MAX_PERIOD_DAYS:
            raise exceptions.ValidationError(
                {"start": [f"A period of at most {flow.MAX_PERIOD_DAYS} days."]}
            )
        return Response(flow.board_flow(board, start, end))


class BoardExportView(ExportAPIView):
    """The board's cards as a table, filtered as the board page filters them."""

    @extend_schema(
        tags=TAG,
        operation_id="kanban_boards_export",
        summary="The board's cards as CSV or XLSX, with their hand-offs",
        description="One row per live card the board shows under the same filters as the board "
        "page's URL (`department`, `assignee` (`-`: nobody), `label`, `type`, `overdue`, `q`), "
        "in the board's order: its fields, its comment count and its hand-offs summed up "
        "(`handoffs`, and the last one's `last_handoff_from`, `last_handoff_to`, "
        "`last_handoff_at`). The XLSX has a second sheet, *Hand-offs*, with one row per "
        "hand-off of those cards (when, from which department and column to which, by whom). "
        "Times are in the business time zone. Recorded in the audit trail.",
        parameters=[
            EXPORT_FORMAT_PARAMETER,
            OpenApiParameter("department", str, description="The owning department."),
            OpenApiParameter("assignee", str, description="A user name, or `-` for nobody."),
            OpenApiParameter("label", str),
            OpenApiParameter("type", str, enum=list(CardType.values)),
            OpenApiParameter("overdue", str, enum=["1"], description="`1`: overdue cards only."),
            OpenApiParameter("q", str, description="Words of the title, or `#` and a number."),
        ],
        responses=export_responses({404: ERRORS[404]}),
    )
    def get(self, request: Request, board_id: int) -> StreamingHttpResponse:
        fmt = self.format_of(request)
        board = _board(request, board_id)
        filters = {
            name: request.query_params.get(name, "").strip()[:80] for name in selectors.CARD_FILTERS
        }
        handoffs = Sheet(
            gettext("Hand-offs"),
            selectors.HANDOFF_EXPORT_COLUMNS,
            selectors.handoffs_export_rows(board, filters),
        )
        return export_response(
            request,
            fmt,
            f"cards-{board.slug}-{timezone.localdate():%Y-%m-%d}",
            selectors.CARD_EXPORT_COLUMNS,
            selectors.cards_export_rows(board, filters),
            sheet_title=gettext("Cards"),
            more_sheets=[handoffs],
        )


class CardCreateView(APIView):
    """Put a new card on a board."""

    permission_classes = [CanEditOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="kanban_cards_create",
        summary="Create a card in a lane and column (last in the cell unless `position`)",
        request=CardCreateSerializer,
        responses={201: CardSerializer, **_errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        data = _fields(_valid(CardCreateSerializer, request.data))
        board = Board.objects.filter(pk=data["board"]).first()
        if board is None or not selectors.may_see_board(request.user, board):
            raise exceptions.ValidationError({"board": [f"There is no board {data['board']}."]})
        result = _call(
            lambda: services.card_create(
                user=request.user,
                board_id=data.pop("board"),
                title=data.pop("title"),
                lane_id=data.pop("lane"),
                column_id=data.pop("column"),
                position=data.pop("position", None),
                **data,
            )
        )
        return Response(result, status=status.HTTP_201_CREATED)


class CardDetailView(APIView):
    """One card: read, edit (with its version) or delete (archive)."""

    permission_classes = [CanEditOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="kanban_cards_retrieve",
        responses={200: CardSerializer, **_errors(404)},
    )
    def get(self, request: Request, card_id: int) -> Response:
        card = _card(request, card_id)
        return Response(selectors.card_state(card.pk))

    @extend_schema(
        tags=TAG,
        operation_id="kanban_cards_update",
        summary="Edit fields (field-level locking: a stale version merges when untouched fields)",
        description=(
            "Send `version` and only the fields you change. When someone changed the card since "
            "your version but none of your fields, your edit is merged (200); when they changed "
            "one of your fields, 409 with the current card and those `fields`."
        ),
        request=CardPatchSerializer,
        responses={200: CardSerializer, **_errors(400, 403, 404, 409)},
    )
    def patch(self, request: Request, card_id: int) -> Response:
        card = _card(request, card_id)
        data = _fields(_valid(CardPatchSerializer, request.data))
        version = data.pop("version")
        result = _call(
            lambda: services.card_update(
                user=request.user, card_id=card.pk, version=version, changes=data
            )
        )
        return Response(result)

    @extend_schema(
        tags=TAG,
        operation_id="kanban_cards_destroy",
        summary="Delete (archive) a card; its history stays",
        parameters=[
            OpenApiParameter("version", int, description="When sent: 409 if the card changed.")
        ],
        responses={200: CardSerializer, **_errors(400, 403, 404, 409)},
    )
    def delete(self, request: Request, card_id: int) -> Response:
        card = _card(request, card_id)
        raw = request.query_params.get("version")
        try:
            version = int(raw) if raw else None
        except ValueError:
            raise exceptions.ValidationError({"version": ["A whole number."]}) from None
        result = _call(
            lambda: services.card_delete(user=request.user, card_id=card.pk, version=version)
        )
        return Response(result)


class CardMoveView(APIView):
    """Move a card to a place of the board."""

    permission_classes = [CanEditOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="kanban_cards_move",
        summary="Move a card to a lane, column and position (a hand-off across departments)",
        description=(
            "409 when someone else moved the card since `version`; 400 when a hard WIP limit "
            "would be broken; 200 with `warnings` over a soft one."
        ),
        request=KanbanMoveSerializer,
        responses={200: KanbanMoveResultSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, card_id: int) -> Response:
        card = _card(request, card_id)
        data = _valid(KanbanMoveSerializer, request.data)
        result = _call(
            lambda: services.card_move(
                user=request.user,
                card_id=card.pk,
                lane_id=data["lane"],
                column_id=data["column"],
                position=data["position"],
                version=data["version"],
            )
        )
        return Response(
            {
                **result.card,
                "warnings": result.warnings,
                "handoff": result.handoff,
                "rebalanced": result.rebalanced,
            }
        )


class CardCommentsView(APIView):
    """A card's comments; add one."""

    permission_classes = [CanEditOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="kanban_cards_comments_list",
        responses={200: KanbanCommentSerializer(many=True), **_errors(404)},
    )
    def get(self, request: Request, card_id: int) -> Response:
        return Response(selectors.card_comments(_card(request, card_id).pk))

    @extend_schema(
        tags=TAG,
        operation_id="kanban_cards_comments_create",
        request=KanbanCommentInSerializer,
        responses={201: KanbanCommentSerializer, **_errors(400, 403, 404)},
    )
    def post(self, request: Request, card_id: int) -> Response:
        card = _card(request, card_id)
        data = _valid(KanbanCommentInSerializer, request.data)
        comment = _call(
            lambda: services.comment_add(user=request.user, card_id=card.pk, text=data["text"])
        )
        mine = [c for c in selectors.card_comments(card.pk) if c["id"] == comment.pk]
        return Response(mine[0], status=status.HTTP_201_CREATED)


class CardHistoryView(APIView):
    """Every move and edit of a card, and its time in each column."""

    @extend_schema(
        tags=TAG,
        operation_id="kanban_cards_history",
        responses={200: KanbanHistorySerializer, **_errors(404)},
    )
    def get(self, request: Request, card_id: int) -> Response:
        card = _card(request, card_id)
        items = selectors.card_history(card.pk)
        cycle = (card.done_at - card.created_at).total_seconds() / 86400 if card.done_at else None
        return Response(
            {
                "card": card.pk,
                "items": items,
                "time_in_columns": flow.time_in_columns(card.pk),
                "handoff_count": sum(1 for item in items if item["is_handoff"]),
                "cycle_time_days": cycle,
            }
        )


class CardLinksView(APIView):
    """Link a card to another card of its board."""

    permission_classes = [CanEditOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="kanban_cards_links_list",
        responses={200: KanbanLinkSerializer(many=True), **_errors(404)},
    )
    def get(self, request: Request, card_id: int) -> Response:
        return Response(selectors.card_state(_card(request, card_id).pk)["links"])

    @extend_schema(
        tags=TAG,
        operation_id="kanban_cards_links_create",
        summary="This card blocks (or relates to) another card of the board",
        request=KanbanLinkInSerializer,
        responses={201: KanbanLinkSerializer, **_errors(400, 403, 404)},
    )
    def post(self, request: Request, card_id: int) -> Response:
        card = _card(request, card_id)
        data = _valid(KanbanLinkInSerializer, request.data)
        link = _call(
            lambda: services.link_add(
                user=request.user, card_id=card.pk, to_card_id=data["to"], kind=data["kind"]
            )
        )
        return Response(
            {"id": link.pk, "to": link.to_card_id, "kind": link.kind},
            status=status.HTTP_201_CREATED,
        )


class CardLinkDetailView(APIView):
    """Remove a link."""

    permission_classes = [CanEditOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="kanban_cards_links_destroy",
        responses={204: None, **_errors(403, 404)},
    )
    def delete(self, request: Request, card_id: int, link_id: int) -> Response:
        card = _card(request, card_id)
        _call(lambda: services.link_remove(user=request.user, card_id=card.pk, link_id=link_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
