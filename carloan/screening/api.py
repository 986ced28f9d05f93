"""HTTP API of screening (contract section 10): an application's checks, the flagged
applications, and the lead pre-screen for the marketing systems; for the `/risk/` page, an
application's ring and the blacklist (read only, identifiers masked)."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carloan.departments import DEPARTMENTS
from carloan.exports import (
    EXPORT_FORMAT_PARAMETER,
    ExportAPIView,
    export_response,
    export_responses,
)
from carloan.roles import CanEditOrRead, CanRead
from carloan.screening import page_data, selectors, services
from carloan.screening.identifiers import BLACKLIST_TYPES
from carloan.screening.models import CHECK_KEYS, BlacklistChange, Check

TAG = ["screening"]
BLACKLIST_ACTIONS = [action for action, _ in BlacklistChange.Action.choices]


class ChecksSerializer(serializers.Serializer):
    application_id = serializers.CharField()
    flagged = serializers.BooleanField(help_text="At least one check failed.")
    checks = serializers.DictField(
        child=serializers.ChoiceField(choices=Check.values),
        help_text=f"Each of {', '.join(CHECK_KEYS)}: pass, fail or not_applicable.",
    )


class RiskWrites(BasePermission):
    """Reads for everyone signed in; writes for risk control's head and managers."""

    message = "Only risk control's head and managers may clear flags."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in SAFE_METHODS or services.may_clear_flags(request.user)


class FlagSerializer(ChecksSerializer):
    failed_checks = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField(help_text="open, or cleared by risk control.")
    checked_at = serializers.DateTimeField()
    region = serializers.CharField(allow_null=True)
    applied_at = serializers.DateTimeField(allow_null=True)
    identifiers = serializers.DictField(
        child=serializers.CharField(allow_null=True),
        help_text="Masked (****1234): identifiers are never shown whole.",
    )
    explanations = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="Each failed check in words (e.g. the phone's applicant count in the window).",
    )


class FlagsQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=["open", "cleared", "all"], default="open")
    limit = serializers.IntegerField(min_value=1, max_value=500, default=200)
    offset = serializers.IntegerField(min_value=0, max_value=10**9, default=0)


class PrescreenSerializer(serializers.Serializer):
    region = serializers.CharField(max_length=32)
    channel = serializers.CharField(max_length=64)
    applicant_key = serializers.CharField(max_length=128, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    device_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    vin = serializers.CharField(max_length=32, required=False, allow_blank=True)
    lead_score = serializers.IntegerField(min_value=0, max_value=100, required=False)
    credit_score = serializers.IntegerField(min_value=0, max_value=1000, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        problems = services.identifier_problems(attrs)
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class PrescreenDetailSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["blacklist", "credit_score", "lead_score"], help_text="What stood against it."
    )
    kind = serializers.CharField(
        required=False, help_text="blacklist: the identifier that is listed (applicant, phone...)."
    )
    value = serializers.IntegerField(required=False, help_text="The score given.")
    threshold = serializers.IntegerField(required=False, help_text="The live threshold it missed.")
    parameter = serializers.CharField(required=False, help_text="The threshold's parameter.")


class PrescreenAnswerSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["invite", "review", "decline"])
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why, in words (empty for invite): 'blacklist: the phone is on the "
        "blacklist', 'credit_score: 550 is below risk.min_credit_score (600)', 'lead_score: ...'.",
    )
    details = PrescreenDetailSerializer(
        many=True, help_text="The same reasons as codes and figures, one per reason, in order."
    )
    thresholds = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="The live values this answer used: risk.min_credit_score and "
        "marketing.lead_score_cutoff.",
    )


class ApplicationChecksView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="An application's six cross-checks",
        responses={200: ChecksSerializer, 404: OpenApiResponse(description="No such application.")},
    )
    def get(self, request: Request, application_id: str) -> Response:
        found = selectors.application_checks(application_id)
        if found is None:
            raise exceptions.NotFound(f"No checked application {application_id!r}.")
        return Response(found)


class FlagsView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="Flagged applications with their failed checks (most failed first)",
        parameters=[
            FlagsQuery,
            OpenApiParameter(
                "X-Total-Count",
                int,
                OpenApiParameter.HEADER,
                response=[200],
                description="How many flagged applications match.",
            ),
        ],
        responses={200: FlagSerializer(many=True), 400: OpenApiResponse(description="Bad query.")},
    )
    def get(self, request: Request) -> Response:
        query = FlagsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        status = query.validated_data["status"]
        count, rows = selectors.flags(
            status=None if status == "all" else status,
            limit=query.validated_data["limit"],
            offset=query.validated_data["offset"],
        )
        why = page_data.explanations(row["application_id"] for row in rows)
        for row in rows:
            row["explanations"] = why.get(row["application_id"], {})
        return Response(rows, headers={"X-Total-Count": str(count)})


class FlagsExportQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=["open", "cleared", "all"], default="open")


class FlagsExportView(ExportAPIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="Flagged applications as CSV or XLSX",
        description="Every flagged application of the status the risk page's queue shows "
        "(`open` by default, `cleared` or `all`), most failed checks first: its status, how "
        "many checks failed and which, the six results, why each failed one failed in words "
        "(in the reader's language), region, when it was applied for and checked, and its "
        "identifiers masked (`****1234`). Times are in the business time zone. Recorded in the "
        "audit trail.",
        parameters=[EXPORT_FORMAT_PARAMETER, FlagsExportQuery],
        responses=export_responses(),
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        fmt = self.format_of(request)
        query = FlagsExportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        status = query.validated_data["status"]
        return export_response(
            request,
            fmt,
            f"flagged-applications-{status}-{timezone.localdate():%Y-%m-%d}",
            page_data.FLAG_EXPORT_COLUMNS,
            page_data.flags_export_rows(status=None if status == "all" else status),
            sheet_title=gettext("Flagged applications"),
        )


class FlagClearView(APIView):
    permission_classes = [RiskWrites]

    @extend_schema(
        tags=TAG,
        summary="Clear a flag: risk control reviewed the application and lets it through",
        description="Risk control's head or a manager. The flag opens again by itself if a "
        "later change makes more checks fail than when it was cleared.",
        request=None,
        responses={
            200: FlagSerializer,
            404: OpenApiResponse(description="No flagged application with this id."),
        },
    )
    def post(self, request: Request, application_id: str) -> Response:
        if not services.flag_clear(application_id=application_id, user=request.user):
            raise exceptions.NotFound(f"No flagged application {application_id!r}.")
        _count, rows = selectors.flags(status=None, only=application_id)
        return Response(rows[0])


class PrescreenView(APIView):
    permission_classes = [CanRead]
    allow_any_signed_in_write = True  # a question, nothing is changed

    @extend_schema(
        tags=TAG,
        summary="Pre-screen a lead: invite, review or decline, with the reasons",
        description="decline on a blacklist hit (applicant_key, phone, device_id or vin) or a "
        "credit_score below `risk.min_credit_score`; review when lead_score is below "
        "`marketing.lead_score_cutoff`; invite otherwise. Both parameters are read live.",
        request=PrescreenSerializer,
        responses={
            200: PrescreenAnswerSerializer,
            400: OpenApiResponse(description="A malformed phone or VIN, or a bad field."),
        },
    )
    def post(self, request: Request) -> Response:
        data = PrescreenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.prescreen(data.validated_data))


# --- for the /risk/ page: an application's ring, the blacklist ----------------------------------


class MaskedIdentifiersSerializer(serializers.Serializer):
    applicant_key = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    vin = serializers.CharField(allow_null=True)
    device_id = serializers.CharField(allow_null=True)
    dealer_id = serializers.CharField(allow_null=True)


class RingNodeSerializer(serializers.Serializer):
    application_id = serializers.CharField()
    depth = serializers.IntegerField(
        help_text="0: the application; 1: shares its phone, device or VIN; 2: shares one with a "
        "depth-1 application."
    )
    region = serializers.CharField()
    applied_at = serializers.DateTimeField()
    checked = serializers.BooleanField(help_text="Its cross-checks have been made.")
    flagged = serializers.BooleanField()
    status = serializers.CharField(allow_null=True, help_text="open or cleared; null unchecked.")
    failed_checks = serializers.ListField(child=serializers.CharField())
    identifiers = MaskedIdentifiersSerializer(help_text="Masked (****1234).")


class RingApplicationSerializer(RingNodeSerializer):
    checks = serializers.DictField(
        child=serializers.ChoiceField(choices=Check.values), allow_null=True
    )
    checked_at = serializers.DateTimeField(allow_null=True)
    explanations = serializers.DictField(
        child=serializers.CharField(),
        help_text="Each failed check in words, in the caller's language.",
    )


class RingLinkSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="What is shared: phone, device or vin.")
    masked = serializers.CharField(help_text="The shared value, masked (****1234).")


class RingEdgeSerializer(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()
    links = RingLinkSerializer(many=True)


class RingGroupSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="What is shared: phone, device or vin.")
    masked = serializers.CharField()
    applications = serializers.ListField(
        child=serializers.CharField(), help_text="The applications (drawn) holding it."
    )


class RingSerializer(serializers.Serializer):
    application_id = serializers.CharField()
    application = RingApplicationSerializer()
    nodes = RingNodeSerializer(many=True, help_text="The application first, then by depth.")
    edges = RingEdgeSerializer(
        many=True, help_text="Each shared identifier drawn as a star around its first holder."
    )
    groups = RingGroupSerializer(many=True)
    truncated = serializers.BooleanField(help_text="More applications than max_nodes are linked.")
    max_nodes = serializers.IntegerField()
    figure = serializers.DictField(help_text="A Plotly figure (data, layout) of the ring.")


class RingView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="An application's ring: who shares its phone, device or VIN",
        description="The application, the applications sharing its phone, device or VIN, and "
        f"theirs one step further: at most {page_data.MAX_RING}, the nearest in time first. "
        "Identifiers are masked.",
        responses={200: RingSerializer, 404: OpenApiResponse(description="No such application.")},
    )
    def get(self, request: Request, application_id: str) -> Response:
        found = page_data.ring_with_figure(application_id)
        if found is None:
            raise exceptions.NotFound(f"No application {application_id!r}.")
        return Response(found)


class BlacklistEntrySerializer(serializers.Serializer):
    entry_id = serializers.CharField()
    type = serializers.ChoiceField(choices=list(BLACKLIST_TYPES))
    masked_value = serializers.CharField(help_text="The listed value, masked (****1234).")
    reason = serializers.CharField()
    added_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    department = serializers.CharField(allow_null=True)
    active = serializers.BooleanField(help_text="In force now: no expiry, or one still ahead.")


class BlacklistQuery(serializers.Serializer):
    type = serializers.ChoiceField(choices=list(BLACKLIST_TYPES), required=False)
    active = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="In force now, or not."
    )
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100)
    offset = serializers.IntegerField(min_value=0, max_value=10**9, default=0)


class BlacklistView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="The blacklist, values masked (newest first)",
        parameters=[
            BlacklistQuery,
            OpenApiParameter(
                "X-Total-Count",
                int,
                OpenApiParameter.HEADER,
                response=[200],
                description="How many entries match.",
            ),
        ],
        responses={
            200: BlacklistEntrySerializer(many=True),
            400: OpenApiResponse(description="Bad query."),
        },
    )
    def get(self, request: Request) -> Response:
        query = BlacklistQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        count, rows = page_data.blacklist(
            type=data.get("type"),
            active=data.get("active"),
            limit=data["limit"],
            offset=data["offset"],
        )
        return Response(rows, headers={"X-Total-Count": str(count)})


class FalseInvitationsQuery(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    region = serializers.CharField(required=False, max_length=32)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from datetime import timedelta

        from django.utils import timezone

        end = attrs.get("end") or timezone.localdate()
        start = attrs.get("start") or end - timedelta(days=89)
        if end < start:
            raise serializers.ValidationError({"end": "end is before start."})
        if (end - start).days > 731:
            raise serializers.ValidationError({"end": "At most two years."})
        return {"start": start, "end": end, "region": attrs.get("region") or None}


class FalseInvitationSerializer(serializers.Serializer):
    region = serializers.CharField()
    channel = serializers.CharField()
    decided = serializers.IntegerField(help_text="Invited leads whose application was decided.")
    declined = serializers.IntegerField(help_text="Of which declined.")
    rate = serializers.FloatField(allow_null=True, help_text="100 × declined / decided.")


class FalseInvitationsView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="The false-invitation rate per region and channel",
        description="Leads the pre-screen invited in [start, end] (default the last 90 days) "
        "whose applicant applied within 30 days and was decided: how many were declined. Also "
        "a KPI metric (`false_invitation_rate`).",
        parameters=[FalseInvitationsQuery],
        responses={
            200: FalseInvitationSerializer(many=True),
            400: OpenApiResponse(description="Bad query."),
        },
    )
    def get(self, request: Request) -> Response:
        query = FalseInvitationsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(selectors.false_invitations(**query.validated_data))


# --- the blacklist's changes: proposals, confirmations, history --------------------------------


class BlacklistStateSerializer(serializers.Serializer):
    type = serializers.CharField()
    masked_value = serializers.CharField(allow_null=True)
    reason = serializers.CharField()
    added_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    department = serializers.CharField(allow_null=True)


class BlacklistChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.ChoiceField(choices=BLACKLIST_ACTIONS)
    source = serializers.ChoiceField(
        choices=BlacklistChange.Source.choices,
        help_text="proposal (four-eyes), or import (risk control's file, confirmed at once).",
    )
    entry_id = serializers.CharField()
    type = serializers.CharField()
    masked_value = serializers.CharField(allow_null=True, help_text="Masked (****1234).")
    reason = serializers.CharField(help_text="The entry's reason after the change.")
    expires_at = serializers.DateTimeField(allow_null=True, help_text="After the change.")
    department = serializers.CharField(allow_null=True)
    before = BlacklistStateSerializer(
        allow_null=True, help_text="The entry as it stood (change, remove)."
    )
    note = serializers.CharField(help_text="Why the change was proposed.")
    status = serializers.ChoiceField(choices=BlacklistChange.Status.choices)
    proposed_by = serializers.CharField()
    proposed_at = serializers.DateTimeField()
    decided_by = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()


class BlacklistChangesQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=BlacklistChange.Status.choices, required=False)
    entry_id = serializers.CharField(required=False, max_length=64)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100)
    offset = serializers.IntegerField(min_value=0, max_value=10**9, default=0)


class BlacklistProposalSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=BLACKLIST_ACTIONS)
    entry_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="add: optional (generated when empty); change and remove: required.",
    )
    type = serializers.ChoiceField(
        choices=list(BLACKLIST_TYPES), required=False, help_text="add only."
    )
    value = serializers.CharField(
        required=False,
        max_length=128,
        help_text="add only: the identifier, whole. Stored only as a keyed hash and its last "
        "four characters; never answered.",
    )
    reason = serializers.CharField(
        required=False, max_length=500, help_text="add: required; change: a new reason."
    )
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="add: optional, after now; change: a new expiry (null: never expires), "
        "after the entry was added.",
    )
    department = serializers.ChoiceField(
        choices=list(DEPARTMENTS),
        required=False,
        allow_null=True,
        help_text="Whose entry; by default the proposer's department.",
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Why: required for change and remove.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        action = attrs["action"]
        if action == "add":
            missing = [name for name in ("type", "value", "reason") if not attrs.get(name)]
        else:
            missing = [name for name in ("entry_id", "note") if not attrs.get(name)]
        if missing:
            raise serializers.ValidationError({name: ["Required."] for name in missing})
        return attrs


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class BlacklistChangesView(APIView):
    permission_classes = [CanEditOrRead]

    @extend_schema(
        tags=TAG,
        summary="The blacklist's changes: proposals waiting for risk control, and the history",
        description="Newest first. `status=pending`: the proposals to confirm; `entry_id`: one "
        "entry's history (imports included). Values masked.",
        parameters=[
            BlacklistChangesQuery,
            OpenApiParameter(
                "X-Total-Count",
                int,
                OpenApiParameter.HEADER,
                response=[200],
                description="How many changes match.",
            ),
        ],
        responses={
            200: BlacklistChangeSerializer(many=True),
            400: OpenApiResponse(description="Bad query."),
        },
    )
    def get(self, request: Request) -> Response:
        query = BlacklistChangesQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        count, rows = selectors.blacklist_changes(
            status=data.get("status"),
            entry_id=data.get("entry_id"),
            limit=data["limit"],
            offset=data["offset"],
        )
        return Response(rows, headers={"X-Total-Count": str(count)})

    @extend_schema(
        tags=TAG,
        summary="Propose adding, changing or removing a blacklist entry",
        description="Any department head or manager proposes; risk control's head or a manager "
        "other than the proposer confirms (four-eyes), and only then is the entry written and "
        "the applications it touches re-checked. A value already listed (in force) or already "
        "proposed is refused: change that entry instead.",
        request=BlacklistProposalSerializer,
        responses={
            201: BlacklistChangeSerializer,
            400: OpenApiResponse(
                description="A malformed value (phone, VIN...), a value already listed or "
                "proposed, an expiry not after the entry is added, a change that changes "
                "nothing, or an entry with a pending change."
            ),
            403: OpenApiResponse(description="Viewers may not propose."),
            404: OpenApiResponse(description="change or remove: no such entry."),
        },
    )
    def post(self, request: Request) -> Response:
        form = BlacklistProposalSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        action = data["action"]
        if action == "add":
            change = services.blacklist_propose_add(
                user=request.user,
                type=data["type"],
                value=data["value"],
                reason=data["reason"],
                expires_at=data.get("expires_at"),
                department=data.get("department"),
                entry_id=data.get("entry_id", ""),
                note=data.get("note", ""),
            )
        elif action == "change":
            fields = {
                name: data[name] for name in ("reason", "expires_at", "department") if name in data
            }
            change = services.blacklist_propose_change(
                user=request.user, entry_id=data["entry_id"], note=data["note"], **fields
            )
        else:
            change = services.blacklist_propose_remove(
                user=request.user, entry_id=data["entry_id"], note=data["note"]
            )
        return Response(selectors.blacklist_change_data(change), status=201)


_DECISION_RESPONSES = {
    200: BlacklistChangeSerializer,
    403: OpenApiResponse(description="Not allowed (see the message)."),
    404: OpenApiResponse(description="No such change."),
    409: OpenApiResponse(
        description="Already decided, or stale (the entry changed, or the value got listed, "
        "since it was proposed): `detail` and `current`, the change as it stands."
    ),
}


class BlacklistConfirmView(APIView):
    permission_classes = [CanEditOrRead]

    @extend_schema(
        tags=TAG,
        summary="Confirm a proposed blacklist change (risk control, four-eyes)",
        description="Risk control's head or a manager, never the proposer. The entry is "
        "written and the applications holding the value are re-checked at once.",
        request=DecisionSerializer,
        responses=_DECISION_RESPONSES,
    )
    def post(self, request: Request, change_id: int) -> Response:
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        change = services.blacklist_confirm(
            change_id=change_id, user=request.user, note=form.validated_data.get("note", "")
        )
        return Response(selectors.blacklist_change_data(change))


class BlacklistRejectView(APIView):
    permission_classes = [CanEditOrRead]

    @extend_schema(
        tags=TAG,
        summary="Reject a proposed blacklist change (risk control), or withdraw one's own",
        request=DecisionSerializer,
        responses=_DECISION_RESPONSES,
    )
    def post(self, request: Request, change_id: int) -> Response:
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        change = services.blacklist_reject(
            change_id=change_id, user=request.user, note=form.validated_data.get("note", "")
        )
        return Response(selectors.blacklist_change_data(change))
