"""HTTP API of risk collaboration (contract section 9), thin over services and selectors.

Status codes: 200 read or changed; 201 created; 400 bad input, nothing stored (field errors);
403 not allowed for the role (the message says who may); 404 unknown script, call or category;
409 stale `version` (the body's `current` is how it stands now).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carloan.compliance import selectors, services
from carloan.compliance.checker import MAX_TEXT
from carloan.compliance.library import BY_KEY, CATEGORIES
from carloan.compliance.models import ScriptState, Severity, Verdict
from carloan.compliance.patterns import MAX_PATTERN_LENGTH, MAX_PATTERNS
from carloan.compliance.report import evaluation_summary
from carloan.exports import (
    EXPORT_FORMAT_PARAMETER,
    ExportAPIView,
    export_response,
    export_responses,
)
from carloan.roles import CanRead

TAG = ["compliance"]
CATEGORY_KEYS = [c.key for c in CATEGORIES]
MAX_MATRIX_DAYS = 366
MAX_PAGE = 500


# --- shapes -------------------------------------------------------------------------------------


class CheckRequestSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=MAX_TEXT,
        trim_whitespace=False,
        help_text=f"A script or transcript, Chinese, English or mixed, at most {MAX_TEXT:,} "
        "characters.",
        error_messages={
            "blank": "Give the text to check.",
            "max_length": f"The text is longer than {MAX_TEXT:,} characters: check it in parts.",
        },
    )


class FindingSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=CATEGORY_KEYS)
    start = serializers.IntegerField(help_text="Offset of the first character, in `text`.")
    end = serializers.IntegerField(help_text="Offset after the last character, in `text`.")
    excerpt = serializers.CharField()
    severity = serializers.ChoiceField(choices=Severity.values)
    suggestion = serializers.CharField(
        help_text="A compliant way to say it, in the text's language."
    )
    parameter = serializers.CharField(
        allow_null=True, help_text="The live parameter the finding contradicts, if any."
    )


class ScriptSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(max_length=services.MAX_TITLE)
    channel = serializers.CharField(
        max_length=services.MAX_CHANNEL, help_text="e.g. phone, wechat, sms, store, web."
    )
    text = serializers.CharField(max_length=MAX_TEXT, trim_whitespace=False)
    state = serializers.ChoiceField(choices=ScriptState.values, read_only=True)
    version = serializers.IntegerField(read_only=True)
    compliant = serializers.BooleanField(read_only=True)
    findings = FindingSerializer(many=True, read_only=True)
    checked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    checked_against = serializers.JSONField(
        read_only=True,
        help_text="The live parameter values and library versions the findings were made with.",
    )
    review_note = serializers.CharField(read_only=True)
    created_by = serializers.CharField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_by = serializers.CharField(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ScriptPatchSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=0, help_text="The version you read (409 if stale)."
    )
    title = serializers.CharField(max_length=services.MAX_TITLE, required=False)
    channel = serializers.CharField(max_length=services.MAX_CHANNEL, required=False)
    text = serializers.CharField(max_length=MAX_TEXT, required=False, trim_whitespace=False)
    state = serializers.ChoiceField(
        choices=ScriptState.values,
        required=False,
        help_text="draft→in_review (marketing: submit); in_review→approved or →draft (risk: "
        "approve, ask for changes); needs_review→approved or →draft (risk); approved→"
        "needs_review (risk); any→retired (marketing or risk).",
    )
    note = serializers.CharField(
        max_length=services.MAX_NOTE,
        required=False,
        allow_blank=True,
        help_text="Why: required to ask for changes, and to approve a script the check "
        "finds not compliant.",
    )


class ScriptRevisionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    action = serializers.CharField()
    state = serializers.ChoiceField(choices=ScriptState.values)
    title = serializers.CharField()
    text = serializers.CharField()
    note = serializers.CharField()
    by = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField()


class ComplianceConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = serializers.JSONField(help_text="How it stands now (a script or a category).")


class VerdictCountsSerializer(serializers.Serializer):
    right = serializers.IntegerField()
    wrong = serializers.IntegerField()
    missed = serializers.IntegerField(help_text="Findings reviewers said the check missed.")
    precision = serializers.FloatField(
        allow_null=True, help_text="100 × right / (right + wrong); null before any verdict."
    )


class PrecisionSerializer(VerdictCountsSerializer):
    categories = serializers.DictField(
        child=VerdictCountsSerializer(), help_text="The same, per category with verdicts."
    )


class FiguresSerializer(serializers.Serializer):
    script_discrepancy_rate = serializers.FloatField(
        allow_null=True,
        help_text="% of live scripts (approved or needs_review) contradicting a live parameter.",
    )
    flagged_calls_per_100 = serializers.FloatField(
        allow_null=True, help_text="Flagged calls per 100 checked calls over the last `days`."
    )
    days = serializers.IntegerField()
    live_scripts = serializers.IntegerField()
    needs_review = serializers.IntegerField()


class CategoryChangeSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    old = serializers.JSONField(help_text="severity, patterns, suggestion_en, suggestion_zh")
    new = serializers.JSONField()
    reason = serializers.CharField()
    changed_by = serializers.CharField(allow_null=True)
    changed_at = serializers.DateTimeField()


class MatrixRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The script id of the calls, or the agent.")
    label = serializers.CharField()
    calls = serializers.IntegerField()
    flagged = serializers.IntegerField()
    categories = serializers.DictField(
        child=serializers.IntegerField(), help_text="Findings per category."
    )
    regions = serializers.ListField(child=serializers.CharField())
    complaints = serializers.IntegerField(
        help_text="Complaints received in the period in the regions of its calls."
    )


class MatrixSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    region = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    complaints_by_region = serializers.DictField(child=serializers.IntegerField())
    scripts = MatrixRowSerializer(many=True)
    agents = MatrixRowSerializer(many=True)


def _check_region(value: str) -> str:
    value = value.strip()
    if value.lower() == "all":
        raise serializers.ValidationError("'all' is reserved for every region together.")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise serializers.ValidationError("contains a control character; use a region code")
    return value


class CallInSerializer(serializers.Serializer):
    call_id = serializers.CharField(max_length=64)
    started_at = serializers.DateTimeField()
    region = serializers.CharField(max_length=32)
    agent = serializers.CharField(max_length=64)
    transcript = serializers.CharField(
        max_length=MAX_TEXT,
        trim_whitespace=False,
        error_messages={
            "max_length": f"The transcript is longer than {MAX_TEXT:,} characters.",
        },
    )
    lead_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    script_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    direction = serializers.ChoiceField(
        choices=["outbound", "inbound"], required=False, allow_null=True, default=None
    )

    def validate_region(self, value: str) -> str:
        return _check_region(value)

    def validate_started_at(self, value: dt.datetime) -> dt.datetime:
        if not 1900 <= value.year <= 2999:
            raise serializers.ValidationError("Give a time between 1900 and 2999.")
        return value

    def validate_transcript(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Give the transcript.")
        if "\x00" in value:
            raise serializers.ValidationError("contains a NUL character")
        return value


class CallFindingSerializer(FindingSerializer):
    verdict = serializers.ChoiceField(
        choices=[Verdict.RIGHT, Verdict.WRONG], allow_null=True, help_text="A reviewer's verdict."
    )


class CallSerializer(serializers.Serializer):
    call_id = serializers.CharField()
    started_at = serializers.DateTimeField()
    region = serializers.CharField()
    agent = serializers.CharField()
    lead_id = serializers.CharField()
    script_id = serializers.CharField()
    direction = serializers.CharField(allow_null=True)
    transcript = serializers.CharField()
    checked_at = serializers.DateTimeField(allow_null=True)
    flagged = serializers.BooleanField(
        allow_null=True, help_text="A `high` or `medium` finding (null: not checked yet)."
    )
    findings = CallFindingSerializer(many=True)
    missed = serializers.ListField(
        child=serializers.DictField(), help_text="Findings reviewers said the check missed."
    )


class CallsQuery(serializers.Serializer):
    flagged = serializers.BooleanField(required=False, allow_null=True, default=None)
    region = serializers.CharField(required=False, max_length=32)
    agent = serializers.CharField(required=False, max_length=64)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, default=100)
    offset = serializers.IntegerField(required=False, min_value=0, default=0)


class VerdictInSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=CATEGORY_KEYS)
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=1)
    verdict = serializers.ChoiceField(
        choices=Verdict.values,
        help_text="`right` or `wrong` for a finding of the check; `missed` for a span the check "
        "should have found.",
    )
    note = serializers.CharField(max_length=services.MAX_NOTE, required=False, allow_blank=True)


class CategorySerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=CATEGORY_KEYS)
    severity = serializers.ChoiceField(choices=Severity.values)
    not_allowed = serializers.CharField()
    not_allowed_zh = serializers.CharField()
    patterns = serializers.ListField(
        child=serializers.CharField(),
        help_text="Regular expressions over folded text (full-width folded, lower case); "
        "`{N}` stands for a number in digits or Chinese numerals.",
    )
    suggestion_en = serializers.CharField()
    suggestion_zh = serializers.CharField()
    parameter = serializers.CharField(allow_null=True)
    version = serializers.IntegerField()
    edited = serializers.BooleanField()
    updated_by = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class CategoryPatchSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The version you read.")
    reason = serializers.CharField(max_length=services.MAX_NOTE, help_text="Why it changes.")
    severity = serializers.ChoiceField(choices=Severity.values, required=False)
    patterns = serializers.ListField(
        child=serializers.CharField(
            max_length=MAX_PATTERN_LENGTH,
            trim_whitespace=False,
            error_messages={
                "max_length": f"A pattern is at most {MAX_PATTERN_LENGTH} characters long."
            },
        ),
        required=False,
        max_length=MAX_PATTERNS,
        help_text="Each must compile, not match the empty text, and run in time on hostile "
        "texts (a pattern that could be catastrophically slow is refused).",
    )
    suggestion_en = serializers.CharField(max_length=services.MAX_NOTE, required=False)
    suggestion_zh = serializers.CharField(max_length=services.MAX_NOTE, required=False)


class CategoryRevertSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, help_text="The version to restore (1 = shipped)."
    )
    base_version = serializers.IntegerField(min_value=1, help_text="The version you read.")
    reason = serializers.CharField(max_length=services.MAX_NOTE, required=False, allow_blank=True)


class MatrixQuery(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    region = serializers.CharField(required=False, max_length=32)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        end = attrs.get("end") or timezone.localdate()
        start = attrs.get("start") or end - dt.timedelta(days=29)
        if end < start:
            raise serializers.ValidationError({"end": "end is before start."})
        if (end - start).days >= MAX_MATRIX_DAYS:
            raise serializers.ValidationError({"end": f"At most {MAX_MATRIX_DAYS} days."})
        region = attrs.get("region")
        return {
            "start": start,
            "end": end,
            "region": None if region in (None, "", "all") else region,
        }


# --- who may write (checked before the body is read, so a refusal is a 403, not a 400) ---------


class _WriteRule(BasePermission):
    rule: Callable[[Any], bool] = staticmethod(lambda user: False)

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in SAFE_METHODS or self.rule(request.user)


class MarketingWrites(_WriteRule):
    message = "Only marketing's head and managers may write scripts."
    rule = staticmethod(services.may_write_scripts)


class MarketingOrRiskWrites(_WriteRule):
    message = "Only marketing's and risk control's heads and managers may change scripts."
    rule = staticmethod(
        lambda user: services.may_write_scripts(user) or services.may_review_scripts(user)
    )


class RiskWrites(_WriteRule):
    message = "Only risk control's head and managers may change this."
    rule = staticmethod(services.may_edit_library)


class EditorWrites(_WriteRule):
    message = "Only department heads and managers may send calls."
    rule = staticmethod(services.may_post_calls)


# --- helpers ------------------------------------------------------------------------------------


def _call(fn: Callable[[], Any], not_found: str) -> Any:
    """Run a service; LookupError is a 404 (its Conflict is a 409 by the API's handler)."""
    try:
        return fn()
    except LookupError as exc:
        raise exceptions.NotFound(not_found) from exc


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _known_category(key: str) -> None:
    if key not in BY_KEY:
        raise exceptions.NotFound(
            f"There is no category {key!r}; the library has: {', '.join(CATEGORY_KEYS)}."
        )


_400 = OpenApiResponse(description="Bad input: the body names each field's problem.")
_404 = OpenApiResponse(description="No such script, call or category.")
_CONFLICT = OpenApiResponse(
    ComplianceConflictSerializer, description="Stale version: the current state."
)


# --- the check ----------------------------------------------------------------------------------


class CheckView(APIView):
    """Check a sales script or call transcript."""

    permission_classes = [CanRead]
    allow_any_signed_in_write = True  # checking a text changes nothing

    @extend_schema(
        tags=TAG,
        summary="Check a text against the sensitive-phrase library and the live parameters",
        description="Answers every finding (category, offsets into `text`, excerpt, severity, "
        "suggested rewrite, the live parameter it contradicts) and `compliant`: false when any "
        'finding is `high` or `medium`. A text that negates or warns against a thing ("我们不能'
        '保证一定通过审批", "this is not a zero-interest product") has no finding for it. '
        "Numbers are read against the live parameters: a down payment below what "
        "`risk.max_ltv_pct` allows, a loan share above it, a discount above "
        "`marketing.max_promo_discount_pct`, a monthly or daily rate without an annual one. "
        "The library is the one risk control keeps (its edits apply at once); a learned model "
        "trained on labelled utterances and reviewers' verdicts adds what the patterns miss.",
        request=CheckRequestSerializer,
        responses={
            200: inline_serializer(
                "ComplianceCheck",
                {"compliant": serializers.BooleanField(), "findings": FindingSerializer(many=True)},
            ),
            400: OpenApiResponse(description="No text, or a text over the limit."),
        },
    )
    def post(self, request: Request) -> Response:
        text = _valid(CheckRequestSerializer, request.data)["text"]
        if not text.strip():
            raise serializers.ValidationError({"text": ["Give the text to check."]})
        return Response(services.check(text).result.as_dict())


# --- scripts ------------------------------------------------------------------------------------


class ScriptsView(APIView):
    permission_classes = [MarketingWrites]

    @extend_schema(
        tags=TAG,
        summary="Sales scripts with their findings",
        parameters=[OpenApiParameter("state", enum=ScriptState.values, required=False)],
        responses={200: ScriptSerializer(many=True), 400: _400},
    )
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state")
        if state is not None and state not in ScriptState.values:
            raise serializers.ValidationError(
                {"state": [f"Give one of {', '.join(ScriptState.values)}."]}
            )
        return Response(selectors.scripts_list(state=state))

    @extend_schema(
        tags=TAG,
        summary="Write a new script (a draft, checked at once): marketing's head or a manager",
        request=ScriptSerializer,
        responses={201: ScriptSerializer, 400: OpenApiResponse(description="Bad field.")},
    )
    def post(self, request: Request) -> Response:
        data = _valid(ScriptSerializer, request.data)
        created = services.script_create(user=request.user, **data)
        return Response(created, status=status.HTTP_201_CREATED)


class ScriptView(APIView):
    permission_classes = [MarketingOrRiskWrites]

    @extend_schema(tags=TAG, summary="One script", responses={200: ScriptSerializer, 404: _404})
    def get(self, request: Request, script_id: int) -> Response:
        found = selectors.scripts_by_id(script_id)
        if found is None:
            raise exceptions.NotFound(f"There is no script {script_id}.")
        return Response(found)

    @extend_schema(
        tags=TAG,
        summary="Edit a script or move it through its review",
        description="Editing the words of a script in review or approved sends it back to "
        "draft. Approving or asking for changes is risk control's (or a manager's); writing "
        "and submitting marketing's. A submitted script, or an approved one a parameter or "
        "library change makes inconsistent (`needs_review`), is a hand-off card from "
        "marketing to risk control on the kanban; the decision closes it.",
        request=ScriptPatchSerializer,
        responses={200: ScriptSerializer, 400: _400, 404: _404, 409: _CONFLICT},
    )
    def patch(self, request: Request, script_id: int) -> Response:
        data = _valid(ScriptPatchSerializer, request.data)
        version = data.pop("version")
        note = data.pop("note", "")
        answer = _call(
            lambda: services.script_update(
                user=request.user, script_id=script_id, version=version, changes=data, note=note
            ),
            f"There is no script {script_id}.",
        )
        return Response(answer)


class ScriptHistoryView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="Every version of a script: edits and review decisions, who and why",
        responses={200: ScriptRevisionSerializer(many=True), 404: _404},
    )
    def get(self, request: Request, script_id: int) -> Response:
        if selectors.scripts_by_id(script_id) is None:
            raise exceptions.NotFound(f"There is no script {script_id}.")
        return Response(selectors.script_history(script_id))


# --- calls --------------------------------------------------------------------------------------


class CallsView(APIView):
    permission_classes = [EditorWrites]

    @extend_schema(
        tags=TAG,
        summary="Checked calls, newest first (`flagged=1`: those with a high or medium finding)",
        description="A list (contract section 9), `limit` at a time from `offset`; the header "
        "`X-Total-Count` says how many calls match.",
        parameters=[
            CallsQuery,
            OpenApiParameter(
                "X-Total-Count",
                int,
                OpenApiParameter.HEADER,
                response=[200],
                description="How many calls match.",
            ),
        ],
        responses={
            200: CallSerializer(many=True),
            400: _400,
        },
    )
    def get(self, request: Request) -> Response:
        query = _valid(CallsQuery, request.query_params)
        count, calls = selectors.calls_list(**query)
        return Response(calls, headers={"X-Total-Count": str(count)})

    @extend_schema(
        tags=TAG,
        summary="Send one call transcript: stored and checked at once",
        description="The same columns as the `calls` import; a call sent again with the same "
        "`call_id` replaces the earlier one and is checked again.",
        request=CallInSerializer,
        responses={201: CallSerializer, 400: OpenApiResponse(description="Bad field.")},
    )
    def post(self, request: Request) -> Response:
        data = _valid(CallInSerializer, request.data)
        return Response(
            services.call_record(user=request.user, data=data), status=status.HTTP_201_CREATED
        )


class CallsExportQuery(serializers.Serializer):
    flagged = serializers.BooleanField(required=False, allow_null=True, default=None)
    region = serializers.CharField(required=False, max_length=32)
    agent = serializers.CharField(required=False, max_length=64)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)


class CallsExportView(ExportAPIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="Checked calls as CSV or XLSX (`flagged=1`: the flagged calls)",
        description="Every call `GET /api/compliance/calls/` lists under the same filters "
        "(without its pages), newest first: who, where and when, whether it is flagged, its "
        "findings counted by severity, their categories and excerpts, and how many reviewers "
        "judged right, wrong or missed. The compliance page's link asks for `flagged=1`. Times "
        "are in the business time zone. Recorded in the audit trail.",
        parameters=[EXPORT_FORMAT_PARAMETER, CallsExportQuery],
        responses=export_responses(),
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        fmt = self.format_of(request)
        query = _valid(CallsExportQuery, request.query_params)
        flagged = query.get("flagged")
        which = "calls" if flagged is None else ("flagged-calls" if flagged else "unflagged-calls")
        return export_response(
            request,
            fmt,
            f"{which}-{timezone.localdate():%Y-%m-%d}",
            selectors.CALL_EXPORT_COLUMNS,
            selectors.calls_export_rows(**query),
            sheet_title=gettext("Calls"),
        )


class CallView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        operation_id="compliance_call_detail",
        summary="One call with its findings and verdicts",
        responses={200: CallSerializer, 404: _404},
    )
    def get(self, request: Request, call_id: str) -> Response:
        found = selectors.call_detail(call_id)
        if found is None:
            raise exceptions.NotFound(f"There is no call {call_id!r}.")
        return Response(found)


class CallVerdictView(APIView):
    permission_classes = [RiskWrites]

    @extend_schema(
        tags=TAG,
        summary="A reviewer's verdict on a finding (right, wrong) or a finding the check missed",
        request=VerdictInSerializer,
        responses={200: CallSerializer, 400: _400, 404: _404},
    )
    def post(self, request: Request, call_id: str) -> Response:
        data = _valid(VerdictInSerializer, request.data)
        if data["end"] <= data["start"]:
            raise serializers.ValidationError({"end": ["end must be after start."]})
        return Response(
            _call(
                lambda: services.verdict_record(user=request.user, call_id=call_id, **data),
                f"There is no call {call_id!r}.",
            )
        )


class PrecisionView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="Running precision from reviewers' verdicts, overall and per category",
        responses={200: PrecisionSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.running_precision())


# --- the library --------------------------------------------------------------------------------


class LibraryView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG, summary="The 23 categories as they stand", responses=CategorySerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.library_list())


class CategoryView(APIView):
    permission_classes = [RiskWrites]

    @extend_schema(tags=TAG, summary="One category", responses={200: CategorySerializer, 404: _404})
    def get(self, request: Request, category: str) -> Response:
        _known_category(category)
        return Response(selectors.library_category(category))

    @extend_schema(
        tags=TAG,
        summary="Edit a category (risk control's head or a manager): versioned, with why",
        description="Every script is re-checked at once against the new library; approved "
        "ones that no longer comply go to `needs_review`.",
        request=CategoryPatchSerializer,
        responses={200: CategorySerializer, 400: _400, 404: _404, 409: _CONFLICT},
    )
    def patch(self, request: Request, category: str) -> Response:
        _known_category(category)
        data = _valid(CategoryPatchSerializer, request.data)
        version, reason = data.pop("version"), data.pop("reason")
        return Response(
            _call(
                lambda: services.category_update(
                    user=request.user, key=category, version=version, changes=data, reason=reason
                ),
                f"There is no category {category!r}.",
            )
        )


class CategoryHistoryView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="Every edit of a category: before, after, who, when, why",
        responses={200: CategoryChangeSerializer(many=True), 404: _404},
    )
    def get(self, request: Request, category: str) -> Response:
        _known_category(category)
        return Response(selectors.library_history(category))


class CategoryRevertView(APIView):
    permission_classes = [RiskWrites]

    @extend_schema(
        tags=TAG,
        summary="Restore a category as it was at a version (1 = as shipped), as a new version",
        request=CategoryRevertSerializer,
        responses={200: CategorySerializer, 400: _400, 404: _404, 409: _CONFLICT},
    )
    def post(self, request: Request, category: str) -> Response:
        _known_category(category)
        data = _valid(CategoryRevertSerializer, request.data)
        return Response(
            _call(
                lambda: services.category_revert(
                    user=request.user,
                    key=category,
                    to_version=data["version"],
                    base_version=data["base_version"],
                    reason=data.get("reason", ""),
                ),
                f"There is no category {category!r}.",
            )
        )


# --- the matrix, the figures, the evaluation ------------------------------------------------------


class MatrixView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="Script × risk-category and agent × risk-category counts, with complaints",
        description="For each script (calls' `script_id`) and each agent: calls, flagged calls, "
        "findings per category in [start, end] (default the last 30 days), and the complaints "
        "received in the same period in the regions of its calls.",
        parameters=[MatrixQuery],
        responses={200: MatrixSerializer, 400: _400},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.risk_matrix(**_valid(MatrixQuery, request.query_params)))


class FiguresView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="Script–parameter discrepancy rate and flagged calls per 100 calls",
        description="`script_discrepancy_rate`: % of live scripts (approved or needs_review) "
        "whose text contradicts a live parameter. `flagged_calls_per_100`: over the last "
        "`days` days.",
        responses={200: FiguresSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.figures())


class EvaluationView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=TAG,
        summary="Precision and recall of the check on the held-apart labelled set",
        description="Per category and of `not compliant` as a whole, rules alone and rules "
        "with the learned model (the same figures as `manage.py compliance_evaluate`).",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        return Response(evaluation_summary())
