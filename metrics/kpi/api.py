"""HTTP API of KPI scoring (contract sections 4 and 7): KPI sets, scorecards, trends, quarter
closing, and the review's exports. Thin: parse, call a selector or a service, shape the answer.

Status codes: 400 bad input (a malformed quarter, a KPI set that breaks a rule: nothing stored),
401 not signed in, 403 not a manager, 404 unknown department, 409 a stale `version` or a quarter
already closed (or not closed, to reopen), 503 when the PDF cannot be printed.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone, translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carloan.exports import attachment_header
from carloan.people.audit import record
from carloan.roles import TOKEN_FIRST, CanEditOrRead, CanRead, ManagerOrRead
from metrics.kpi import exports, selectors, services
from metrics.kpi.quarters import Quarter
from metrics.kpi.scoring import DEPARTMENTS

TAG = ["kpi"]
DETAIL = inline_serializer("KPIDetail", {"detail": serializers.CharField()})
QUARTER_ERROR = inline_serializer(
    "KPIQuarterError", {"quarter": serializers.ListField(child=serializers.CharField())}
)
UNAUTHENTICATED = OpenApiResponse(DETAIL, description="Not signed in.")
NOT_MANAGER = OpenApiResponse(DETAIL, description="Only managers may do this.")


# --- renderers ----------------------------------------------------------------------------------


class ScorecardCSVRenderer(BaseRenderer):
    """`?format=csv`: one row per KPI (formula-like text escaped)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        return exports.scorecards_csv(exports.flat_rows(data))


class ScorecardXLSXRenderer(BaseRenderer):
    """`?format=xlsx`: the same rows as a workbook."""

    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        # The scorecards' view hands the review's actions and strategy split over too.
        extras = getattr((renderer_context or {}).get("view"), "export_extras", {}) or {}
        return exports.scorecards_xlsx(exports.flat_rows(data), **extras)


class PDFRenderer(BaseRenderer):
    """`?format=pdf`: the view hands over the finished document."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        return data if isinstance(data, bytes) else b""


class KPIAPIView(APIView):
    # Token first, so that an anonymous call is answered 401 (with WWW-Authenticate), not 403.
    authentication_classes = TOKEN_FIRST
    permission_classes = [ManagerOrRead]

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are always JSON, whatever format was asked for (CSV, XLSX, PDF).
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


# --- input --------------------------------------------------------------------------------------


def parse_quarter(text: str | None) -> Quarter:
    """The quarter named (default: the current one); 400 when malformed."""
    if text is None or text == "":
        return Quarter.of(timezone.localdate())
    try:
        return Quarter.parse(text)
    except ValueError as exc:
        raise serializers.ValidationError({"quarter": [str(exc)]}) from exc


def _department(department: str) -> str:
    if department not in DEPARTMENTS:
        raise Http404(f"No department {department!r}.")
    return department


class KPIInSerializer(serializers.Serializer):
    metric = serializers.CharField(
        max_length=64,
        help_text="One of the fourteen metrics, handoff_wait_time or cross_department_cycle_time.",
    )
    target = serializers.FloatField(help_text="The value that scores 100.")
    threshold = serializers.FloatField(help_text="The value that scores 0 (≠ target).")
    weight = serializers.FloatField(help_text="Of 100; the set's weights sum to 100.")
    collaboration = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Counts toward the collaboration weight. Default: true for the two "
        "collaboration metrics, false otherwise.",
    )


class KPISetInSerializer(serializers.Serializer):
    kpis = KPIInSerializer(many=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The set's version you edited (409 when someone changed it since).",
    )


class KPIOutSerializer(serializers.Serializer):
    metric = serializers.CharField()
    target = serializers.FloatField()
    threshold = serializers.FloatField()
    weight = serializers.FloatField()
    collaboration = serializers.BooleanField()


class KPISetStateSerializer(serializers.Serializer):
    department = serializers.ChoiceField(choices=list(DEPARTMENTS))
    kpis = KPIOutSerializer(many=True)
    version = serializers.IntegerField()
    updated_by = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class KPISetChangeSerializer(serializers.Serializer):
    department = serializers.CharField()
    version = serializers.IntegerField()
    changed_by = serializers.CharField(allow_null=True)
    changed_at = serializers.DateTimeField()
    old_set = KPIOutSerializer(many=True)
    new_set = KPIOutSerializer(many=True)
    reason = serializers.CharField()


class KPIScoreSerializer(KPIOutSerializer):
    actual = serializers.FloatField(
        allow_null=True, help_text="The metric over the quarter (region all); null: no data."
    )
    score = serializers.FloatField(
        help_text="clamp(100 × (actual − threshold) / (target − "
        "threshold), 0, 100); 0 when missing."
    )
    missing = serializers.BooleanField(help_text="The actual is null (scored 0, kept).")


class KPIScorecardSerializer(serializers.Serializer):
    department = serializers.CharField()
    score = serializers.FloatField(help_text="Weighted mean of the KPI scores.")
    collaboration_weight = serializers.FloatField()
    kpis = KPIScoreSerializer(many=True)
    quarter = serializers.CharField(help_text="e.g. 2026Q3")
    frozen = serializers.BooleanField(help_text="The quarter is closed: figures are frozen.")


class KPIReviewSerializer(serializers.Serializer):
    quarter = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    frozen = serializers.BooleanField()
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.CharField(allow_null=True)
    computed_at = serializers.DateTimeField()
    scorecards = inline_serializer(
        "KPIReviewScorecard",
        {
            "department": serializers.CharField(),
            "score": serializers.FloatField(),
            "collaboration_weight": serializers.FloatField(),
            "kpis": KPIScoreSerializer(many=True),
        },
        many=True,
    )
    inputs = inline_serializer(
        "KPIReviewInputs",
        {
            "actuals": serializers.DictField(child=serializers.FloatField(allow_null=True)),
            "kpi_sets": serializers.DictField(child=KPIOutSerializer(many=True)),
            "parameters": serializers.DictField(child=serializers.JSONField()),
        },
    )


class KPIClosingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    quarter = serializers.CharField()
    closed_by = serializers.CharField(allow_null=True)
    closed_at = serializers.DateTimeField()
    reason = serializers.CharField()
    reopened_by = serializers.CharField(allow_null=True)
    reopened_at = serializers.DateTimeField(allow_null=True)
    reopen_reason = serializers.CharField()


class KPIReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class KPITrendsSerializer(serializers.Serializer):
    quarters = serializers.ListField(child=serializers.CharField())
    frozen = serializers.ListField(child=serializers.BooleanField())
    scores = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
        help_text="department → score per quarter (null: nothing measured that quarter).",
    )
    actuals = serializers.DictField(
        child=serializers.DictField(
            child=serializers.ListField(child=serializers.FloatField(allow_null=True))
        ),
        help_text="department → metric → actual per quarter.",
    )


QUARTER_PARAM = OpenApiParameter(
    "quarter", str, description="A quarter such as `2026Q3`; default: the current quarter."
)


# --- views --------------------------------------------------------------------------------------


class DepartmentListView(KPIAPIView):
    """Every department's KPI set with its version."""

    @extend_schema(
        tags=TAG,
        summary="KPI sets of every department",
        responses={200: KPISetStateSerializer(many=True), 401: UNAUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        return Response([selectors.kpi_set_state(d) for d in DEPARTMENTS])


class KPISetView(KPIAPIView):
    """A department's KPI set, replaced whole by a manager."""

    @extend_schema(
        tags=TAG,
        summary="A department's KPI set",
        description="The KPIs (`metric`, `target`, `threshold`, `weight`, `collaboration`) in "
        "their order. The header `X-KPI-Set-Version` holds the set's version.",
        responses={200: KPIOutSerializer(many=True), 401: UNAUTHENTICATED, 404: DETAIL},
    )
    def get(self, request: Request, department: str) -> Response:
        state = selectors.kpi_set_state(_department(department))
        return Response(state["kpis"], headers={"X-KPI-Set-Version": str(state["version"])})

    @extend_schema(
        tags=TAG,
        summary="Replace a department's KPI set",
        description="Send the whole set: a list of KPIs, or an object `{kpis, reason?, "
        "version?}`. Refused with 400 (nothing stored) when a metric is unknown or repeated, "
        "a target equals its threshold, a weight is not in (0, 100], the weights do not sum to "
        "100, or the collaboration KPIs weigh less than the parameter "
        "`kpi.min_collaboration_weight_pct`. Every change is kept (who, when, old and new set). "
        "Answers the new set, as GET does.",
        request=KPISetInSerializer,
        responses={
            200: KPIOutSerializer(many=True),
            400: OpenApiResponse(
                description="Field errors: `metric`, `target`, `weight`, `collaboration`, `kpis`."
            ),
            401: UNAUTHENTICATED,
            403: NOT_MANAGER,
            404: DETAIL,
            409: OpenApiResponse(DETAIL, description="`version` is stale."),
        },
    )
    def put(self, request: Request, department: str) -> Response:
        department = _department(department)
        body = request.data
        if isinstance(body, list):
            body = {"kpis": body}
        query = KPISetInSerializer(data=body)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        state = services.kpi_set_replace(
            department=department,
            kpis=services.kpis_parse(data["kpis"]),
            user=request.user,
            reason=data["reason"],
            version=data["version"],
        )
        return Response(state["kpis"], headers={"X-KPI-Set-Version": str(state["version"])})


class KPISetHistoryView(KPIAPIView):
    """Every change of a department's KPI set."""

    @extend_schema(
        tags=TAG,
        summary="Changes of a department's KPI set",
        description="Newest first: version, who, when, the set before and after, and why.",
        responses={200: KPISetChangeSerializer(many=True), 401: UNAUTHENTICATED, 404: DETAIL},
    )
    def get(self, request: Request, department: str) -> Response:
        return Response(selectors.kpi_set_history(_department(department)))


class ScorecardsView(KPIAPIView):
    """The quarter's scorecards, as JSON, CSV or XLSX."""

    renderer_classes = [JSONRenderer, ScorecardCSVRenderer, ScorecardXLSXRenderer]

    @extend_schema(
        tags=TAG,
        summary="Scorecards of a quarter",
        description="Per department: `department`, `score` (the weighted mean of its KPI "
        "scores), `collaboration_weight`, and `kpis` (`metric`, `target`, `threshold`, "
        "`weight`, `collaboration`, `actual`, `score`, `missing`), with the `quarter` and "
        "whether it is `frozen` (closed: the figures stored at closing). Actuals are the "
        "metrics over the quarter for region `all` (flow metrics over the quarter, stock "
        "metrics on its last day). `?format=csv` or `?format=xlsx` download one row per KPI.",
        parameters=[
            QUARTER_PARAM,
            OpenApiParameter("format", str, enum=["json", "csv", "xlsx"]),
        ],
        responses={
            (200, "application/json"): KPIScorecardSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            (200, ScorecardXLSXRenderer.media_type): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="A malformed quarter."),
            401: UNAUTHENTICATED,
        },
    )
    def get(self, request: Request) -> Response:
        quarter = parse_quarter(request.query_params.get("quarter"))
        response = Response(selectors.scorecard_rows(selectors.quarter_review(quarter)))
        fmt = getattr(request.accepted_renderer, "format", "json")
        if fmt == "xlsx":
            from metrics.kpi.actions import actions_of

            self.export_extras = {
                "actions": actions_of(quarter),
                "allocation": _allocation(quarter),
            }
        if fmt in ("csv", "xlsx"):
            response["Content-Disposition"] = attachment_header(f"kpi-scorecards-{quarter}.{fmt}")
            record("export", actor=request.user, target=f"kpi-scorecards-{quarter}.{fmt}")
        return response


class QuarterListView(KPIAPIView):
    """Every closing and reopening of a quarter."""

    @extend_schema(
        tags=TAG,
        summary="Quarter closings",
        description="Newest first: the quarter, who closed it and when, and, once reopened, "
        "who reopened it, when and why.",
        responses={200: KPIClosingSerializer(many=True), 401: UNAUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.quarter_closings())


class QuarterView(KPIAPIView):
    """A quarter's scorecards with the inputs they come from."""

    @extend_schema(
        tags=TAG,
        summary="A quarter's review data",
        description="The scorecards with their inputs: the actuals, the KPI sets and the "
        "parameter values in force (as stored at closing for a closed quarter; as of now for "
        "an open one).",
        responses={200: KPIReviewSerializer, 400: DETAIL, 401: UNAUTHENTICATED},
    )
    def get(self, request: Request, quarter: str) -> Response:
        return Response(selectors.quarter_review(parse_quarter(quarter)))


class QuarterCloseView(KPIAPIView):
    """Freeze a quarter's scorecards."""

    @extend_schema(
        tags=TAG,
        summary="Close a quarter",
        description="Stores the quarter's scorecards as computed now, with the actuals, the KPI "
        "sets and the parameter values in force; from then on the quarter's scorecards come "
        "from this record and do not change when data is re-imported. Answers the frozen "
        "review.",
        request=KPIReasonSerializer,
        responses={
            200: KPIReviewSerializer,
            400: DETAIL,
            401: UNAUTHENTICATED,
            403: NOT_MANAGER,
            409: OpenApiResponse(DETAIL, description="Already closed."),
        },
    )
    def post(self, request: Request, quarter: str) -> Response:
        q = parse_quarter(quarter)
        body = KPIReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.quarter_close(quarter=q, user=request.user, reason=body.validated_data["reason"])
        return Response(selectors.quarter_review(q))


class QuarterReopenView(KPIAPIView):
    """Return a closed quarter to live computation."""

    @extend_schema(
        tags=TAG,
        summary="Reopen a quarter",
        description="The quarter's scorecards are computed live again. `reason` is required; "
        "who, when and why are kept with the closing.",
        request=KPIReasonSerializer,
        responses={
            200: KPIClosingSerializer,
            400: DETAIL,
            401: UNAUTHENTICATED,
            403: NOT_MANAGER,
            409: OpenApiResponse(DETAIL, description="The quarter is not closed."),
        },
    )
    def post(self, request: Request, quarter: str) -> Response:
        q = parse_quarter(quarter)
        body = KPIReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        closing = services.quarter_reopen(
            quarter=q, user=request.user, reason=body.validated_data["reason"]
        )
        return Response(next(c for c in selectors.quarter_closings(q) if c["id"] == closing.pk))


class TrendsView(KPIAPIView):
    """Scores and actuals over the last quarters."""

    @extend_schema(
        tags=TAG,
        summary="KPI trends",
        description="Each department's score and each KPI's actual over the quarters ending "
        "with `quarter` (8 by default, at most 12).",
        parameters=[QUARTER_PARAM, OpenApiParameter("quarters", int, description="1-12.")],
        responses={200: KPITrendsSerializer, 400: DETAIL, 401: UNAUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        quarter = parse_quarter(request.query_params.get("quarter"))
        count = serializers.IntegerField(min_value=1, max_value=12).run_validation(
            request.query_params.get("quarters", selectors.TREND_QUARTERS)
        )
        return Response(selectors.trends(quarter, count))


class ReviewView(KPIAPIView):
    """The quarterly review as JSON (its PDF is printed by the worker: `ReviewPDFExportsView`)."""

    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        tags=TAG,
        summary="The quarterly review",
        description="Scorecards, trends, the quarter's alerts (summarised) and its parameter "
        "changes. The PDF of the review is printed in the background: "
        "`POST /api/kpi/review/pdf/` asks for it (`?format=pdf` here answers 400 saying so).",
        parameters=[QUARTER_PARAM],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            400: DETAIL,
            401: UNAUTHENTICATED,
        },
    )
    def get(self, request: Request) -> Response:
        quarter = parse_quarter(request.query_params.get("quarter"))
        if getattr(request.accepted_renderer, "format", "json") == "pdf":
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
            return Response(
                {
                    "detail": "The PDF is printed in the background: POST "
                    f"/api/kpi/review/pdf/ with quarter={quarter.label}, then follow its "
                    "status_url until download_url is given."
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(selectors.review_context(quarter))


class ReviewExportSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    quarter = serializers.CharField()
    language = serializers.CharField()
    status = serializers.ChoiceField(choices=["queued", "rendering", "done", "failed"])
    requested_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(help_text="Why printing failed (status failed), else empty.")
    pages = serializers.IntegerField(allow_null=True)
    status_url = serializers.CharField()
    download_url = serializers.CharField(allow_null=True, help_text="Set once status is done.")


def _export_answer(export: Any) -> dict[str, Any]:
    base = f"/api/kpi/review/pdf/{export.id}/"
    done = export.status == "done"
    return {
        "id": str(export.id),
        "quarter": export.quarter,
        "language": export.language,
        "status": export.status,
        "requested_at": export.requested_at,
        "finished_at": export.finished_at,
        "error": export.error,
        "pages": export.pages,
        "status_url": base,
        "download_url": base + "download/" if done else None,
    }


class ReviewPDFExportsView(KPIAPIView):
    """Ask for the review of a quarter as a PDF, printed by the worker."""

    permission_classes = [CanRead]
    allow_any_signed_in_write = True  # printing a review is reading it

    @extend_schema(
        tags=TAG,
        summary="Print the quarterly review as a PDF (in the background)",
        description="Queues the review of `quarter` for the worker's Chromium, in the request's "
        "language, and answers 202 with the request: poll `status_url` (`queued`, `rendering`, "
        f"`done`, `failed`) and download from `download_url` once done. Asking again for the "
        "same quarter and language while yours is unfinished answers that one. Each person "
        f"has at most {services.EXPORTS_PER_PERSON} unfinished, and everyone together "
        f"{services.EXPORTS_IN_ALL}: past that the answer is 429 with `Retry-After`. A PDF is "
        f"kept {services.EXPORT_KEPT_HOURS} h.",
        request=inline_serializer("ReviewPDFRequest", {"quarter": serializers.CharField()}),
        responses={
            202: ReviewExportSerializer,
            400: OpenApiResponse(QUARTER_ERROR, description="Not a quarter."),
            401: UNAUTHENTICATED,
            429: OpenApiResponse(DETAIL, description="Too many PDFs being printed."),
        },
    )
    def post(self, request: Request) -> Response:
        raw = request.data.get("quarter") if hasattr(request.data, "get") else None
        quarter = parse_quarter(raw or request.query_params.get("quarter"))
        try:
            export = services.review_export_request(
                quarter=quarter, user=request.user, language=translation.get_language() or "en"
            )
        except services.ExportsBusy as busy:
            response = Response({"detail": str(busy)}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            response["Retry-After"] = str(busy.retry_after)
            return response
        answer = _export_answer(export)
        return Response(
            answer, status=status.HTTP_202_ACCEPTED, headers={"Location": answer["status_url"]}
        )


def _export(request: Request, export_id: Any) -> Any:
    from metrics.kpi.models import ReviewExport

    # Any signed-in person may follow or download a PDF whose id they were given: it holds the
    # review, which everyone signed in may read (and the id is a random UUID).
    found = ReviewExport.objects.filter(id=export_id).defer("document").first()
    if found is None:
        raise Http404("No such PDF: it has expired (PDFs are kept a day), or never was.")
    return found


class ReviewPDFExportView(KPIAPIView):
    """One requested PDF: where it stands."""

    @extend_schema(
        tags=TAG,
        summary="A requested review PDF",
        responses={200: ReviewExportSerializer, 401: UNAUTHENTICATED, 404: DETAIL},
    )
    def get(self, request: Request, export_id: Any) -> Response:
        return Response(_export_answer(_export(request, export_id)))


class ReviewPDFDownloadView(KPIAPIView):
    """The printed PDF."""

    renderer_classes = [PDFRenderer, JSONRenderer]

    @extend_schema(
        tags=TAG,
        summary="Download a printed review PDF",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            401: UNAUTHENTICATED,
            404: DETAIL,
            409: OpenApiResponse(DETAIL, description="Not printed (yet, or it failed)."),
        },
    )
    def get(self, request: Request, export_id: Any) -> Response:
        from metrics.kpi.models import ReviewExport

        export = _export(request, export_id)
        if export.status != "done":
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
            detail = export.error or f"The PDF is {export.status}: follow its status first."
            return Response({"detail": detail}, status=status.HTTP_409_CONFLICT)
        document = ReviewExport.objects.values_list("document", flat=True).get(id=export.id)
        response = Response(bytes(document))
        response["Content-Disposition"] = attachment_header(f"kpi-review-{export.quarter}.pdf")
        record("export", actor=request.user, target=f"kpi-review-{export.quarter}.pdf")
        return response


def _allocation(quarter: Quarter) -> dict[str, Any]:
    from metrics.kpi.strategy import strategy_split

    split = strategy_split(quarter)
    return {
        "quarter": quarter.label,
        "target": split["target"],
        "actual": split["done"]["shares"],
        "cards": split["done"]["total"],
        "untagged": split["done"]["untagged"],
        "preset": split["preset"],
    }


class AllocationCSVRenderer(BaseRenderer):
    """`?format=csv`: one row per pillar."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        if not isinstance(data, dict) or "target" not in data:
            return JSONRenderer().render(data)
        return exports.table_csv(exports.SPLIT_COLUMNS, exports.split_rows(data))


class ActionsCSVRenderer(BaseRenderer):
    """`?format=csv`: one row per action."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        if not isinstance(data, list):
            return JSONRenderer().render(data)
        return exports.table_csv(exports.ACTION_COLUMNS, data)


class AllocationSerializer(serializers.Serializer):
    quarter = serializers.CharField()
    target = serializers.DictField(
        child=serializers.FloatField(),
        help_text="Each pillar's budget share (strategy.budget.*_pct) in force at the quarter's "
        "end (now for the quarter under way).",
    )
    actual = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="Each pillar's share of the cards finished in the quarter that carry a pillar; "
        "null when none does.",
    )
    cards = serializers.IntegerField(help_text="Finished cards that carry a pillar.")
    untagged = serializers.IntegerField(help_text="Finished cards without a pillar (left out).")
    preset = serializers.CharField(allow_null=True, help_text="The preset the target is, if any.")


class AllocationView(KPIAPIView):
    """The strategy split against the work done (contract section 7a)."""

    renderer_classes = [JSONRenderer, AllocationCSVRenderer]

    @extend_schema(
        tags=TAG,
        summary="The budget split in force against the share of finished work per pillar",
        parameters=[QUARTER_PARAM],
        responses={
            200: AllocationSerializer,
            400: OpenApiResponse(description="A malformed quarter (`quarter`)."),
            401: UNAUTHENTICATED,
        },
    )
    def get(self, request: Request) -> Response:
        quarter = parse_quarter(request.query_params.get("quarter"))
        allocation = _allocation(quarter)
        response = Response(allocation)
        if getattr(request.accepted_renderer, "format", "json") == "csv":
            response["Content-Disposition"] = attachment_header(f"strategy-split-{quarter}.csv")
            record("export", actor=request.user, target=f"strategy-split-{quarter}.csv")
        return response


class ReviewActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    quarter = serializers.CharField(help_text="The review that decided it.")
    title = serializers.CharField()
    department = serializers.CharField()
    due_date = serializers.DateField()
    owner = serializers.CharField(allow_null=True)
    metric = serializers.CharField(allow_null=True, help_text="The metric it aims at.")
    card = serializers.IntegerField(allow_null=True, help_text="Its card on the kanban.")
    status = serializers.ChoiceField(
        choices=["open", "done", "overdue"],
        help_text="Read from its card: done when finished, overdue after the due date.",
    )
    done_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class ReviewActionInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    department = serializers.CharField(max_length=16)
    due_date = serializers.DateField()
    owner = serializers.CharField(required=False, allow_blank=True, max_length=150)
    metric = serializers.CharField(required=False, allow_blank=True, max_length=64)


class ReviewActionsView(KPIAPIView):
    """A review's decisions (contract section 7a): department heads and managers record them."""

    permission_classes = [CanEditOrRead]
    renderer_classes = [JSONRenderer, ActionsCSVRenderer]

    @extend_schema(
        tags=TAG,
        summary="The actions a quarter's review decided, each with its status from its card",
        responses={
            200: ReviewActionSerializer(many=True),
            400: OpenApiResponse(description="A malformed quarter (`quarter`)."),
            401: UNAUTHENTICATED,
        },
    )
    def get(self, request: Request, quarter: str) -> Response:
        from metrics.kpi.actions import actions_of

        review = parse_quarter(quarter)
        response = Response(actions_of(review))
        if getattr(request.accepted_renderer, "format", "json") == "csv":
            response["Content-Disposition"] = attachment_header(f"review-actions-{review}.csv")
            record("export", actor=request.user, target=f"review-actions-{review}.csv")
        return response

    @extend_schema(
        tags=TAG,
        summary="Record an action the review decided; its card opens in the department's lane",
        request=ReviewActionInputSerializer,
        responses={
            201: ReviewActionSerializer,
            400: OpenApiResponse(description="A bad field (named)."),
            401: UNAUTHENTICATED,
            403: OpenApiResponse(description="Viewers may not."),
        },
    )
    def post(self, request: Request, quarter: str) -> Response:
        from metrics.kpi.actions import action_data, action_record, cards_of

        form = ReviewActionInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        action = action_record(
            user=request.user, quarter=parse_quarter(quarter), **form.validated_data
        )
        return Response(action_data(action, cards_of([action.card_id])), status=201)
