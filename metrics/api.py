"""HTTP API of the metrics (contract section 4): definitions, panels, series, samples, alerts.

Thin views: they parse the query, call a selector or a service, and shape the answer. Every read
comes from the materialised values table (`metrics.selectors`).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
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
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carloan.departments import DEPARTMENTS
from carloan.exports import (
    EXPORT_FORMAT_PARAMETER,
    ExportAPIView,
    attachment_header,
    escape_row,
    export_response,
    export_responses,
)
from carloan.inputs import SafeJSONParser
from carloan.people.audit import record
from carloan.roles import TOKEN_FIRST, CanEditOrRead, CanRead
from metrics import periods, selectors
from metrics.formulas import ALL, loanbook_regions
from metrics.models import AlertLevel, AlertStatus, Status
from metrics.registry import METRIC_KEYS
from metrics.samples import MAX_SAMPLES, parse_samples
from metrics.services import samples_record

MAX_SPAN_DAYS = 3660
DEFAULT_SPAN_DAYS = 90
DEFAULT_PERIOD_DAYS = 30
DETAIL = inline_serializer("MetricsDetail", {"detail": serializers.CharField()})


class CSVRenderer(BaseRenderer):
    """`?format=csv`: a list of flat objects as CSV (header = the first object's keys)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        # Text that a spreadsheet would run as a formula is escaped (carloan.exports).
        if isinstance(data, dict):  # an error: one line per message
            writer.writerow(["field", "message"])
            for key, messages in data.items():
                for message in messages if isinstance(messages, list) else [messages]:
                    writer.writerow(escape_row([str(key), str(message)]))
        elif data:
            header = list(data[0])
            writer.writerow(escape_row(header))
            for row in data:
                writer.writerow(escape_row(["" if row[k] is None else row[k] for k in header]))
        return out.getvalue().encode("utf-8")


class MetricsAPIView(APIView):
    # Token first, so that an anonymous call is answered 401 (with WWW-Authenticate), not 403.
    authentication_classes = TOKEN_FIRST
    permission_classes = [CanRead]


# --- query parameters ----------------------------------------------------------------------------


def _check_region(region: str) -> str:
    if not selectors.region_exists(region):
        raise serializers.ValidationError(
            f"Unknown region {region!r}: use 'all' or a region of the loan book "
            "(GET /api/metrics/regions/)."
        )
    return region


class PanelsQuery(serializers.Serializer):
    date = serializers.DateField(required=False, help_text="Business day (default today).")
    region = serializers.CharField(required=False, default=ALL, max_length=32)

    def validate_region(self, value: str) -> str:
        return _check_region(value)


class SeriesQuery(serializers.Serializer):
    metric = serializers.ChoiceField(choices=list(METRIC_KEYS))
    region = serializers.CharField(required=False, default=ALL, max_length=32)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate_region(self, value: str) -> str:
        return _check_region(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        end = attrs.get("end") or selectors.business_today()
        start = attrs.get("start") or end - timedelta(days=DEFAULT_SPAN_DAYS - 1)
        if end < start:
            raise serializers.ValidationError({"end": "end is before start."})
        if (end - start).days + 1 > MAX_SPAN_DAYS:
            raise serializers.ValidationError(
                {"start": f"At most {MAX_SPAN_DAYS} days per request."}
            )
        return {**attrs, "start": start, "end": end}


class SummaryQuery(serializers.Serializer):
    preset = serializers.ChoiceField(choices=list(periods.PRESETS), required=False)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    region = serializers.CharField(required=False, default=ALL, max_length=32)
    compare = serializers.ChoiceField(
        choices=list(periods.COMPARES), required=False, default="previous_period"
    )
    breakdown = serializers.ChoiceField(choices=["region"], required=False)

    def validate_region(self, value: str) -> str:
        # The loan book's regions count too: a period may be asked before any refresh.
        if value in loanbook_regions():
            return value
        return _check_region(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        preset = attrs.get("preset")
        today = selectors.business_today()
        if preset and preset != "custom":
            if "start" in attrs or "end" in attrs:
                raise serializers.ValidationError(
                    {"preset": "Give either a preset or start and end, not both."}
                )
            period = periods.preset_period(preset, today)
        else:
            end = attrs.get("end") or today
            start = attrs.get("start") or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
            if end < start:
                raise serializers.ValidationError({"end": "end is before start."})
            period = periods.Period(start, end)
        if period.days > MAX_SPAN_DAYS:
            raise serializers.ValidationError({"start": f"At most {MAX_SPAN_DAYS} days."})
        return {**attrs, "period": period}


class CompareQuery(serializers.Serializer):
    metric = serializers.ChoiceField(choices=list(METRIC_KEYS))
    date = serializers.DateField(required=False, help_text="Business day (default today).")


class AlertsQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertStatus.choices, required=False)
    region = serializers.CharField(required=False, max_length=32)
    metric = serializers.ChoiceField(choices=list(METRIC_KEYS), required=False)
    level = serializers.ChoiceField(choices=AlertLevel.choices, required=False)
    date = serializers.DateField(required=False, help_text="Only alerts of this business day.")
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=200)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


# --- answers (for the schema) --------------------------------------------------------------------


class DefinitionSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField(help_text="English name.")
    name_zh = serializers.CharField(help_text="Simplified Chinese name.")
    category = serializers.ChoiceField(choices=["technical", "business"])
    unit = serializers.CharField()
    direction = serializers.ChoiceField(choices=["higher_is_better", "lower_is_better"])
    description = serializers.CharField(help_text="The exact formula (contract section 3).")
    department = serializers.ChoiceField(
        choices=list(DEPARTMENTS), help_text="Owning department (alert cards)."
    )
    sample_metric = serializers.CharField(
        allow_null=True, help_text="Technical metrics: the sample series they read."
    )
    warn_pct = serializers.FloatField(help_text="Live parameter alert.<key>.warn_pct.")
    critical_pct = serializers.FloatField(help_text="Live parameter alert.<key>.critical_pct.")
    threshold_mode = serializers.ChoiceField(
        choices=["relative", "absolute"],
        help_text="Live parameter alert.<key>.mode: relative (deviation from the baseline, "
        "warn_pct / critical_pct) or absolute (service levels warn_at / critical_at).",
    )
    warn_at = serializers.FloatField(help_text="Live alert.<key>.warn_at, in the metric's unit.")
    critical_at = serializers.FloatField(
        help_text="Live alert.<key>.critical_at, in the metric's unit."
    )


class PointSerializer(serializers.Serializer):
    date = serializers.DateField()
    value = serializers.FloatField(allow_null=True)


class PanelSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    name_zh = serializers.CharField()
    category = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.CharField()
    department = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text="Not rounded; null: no data.")
    baseline = serializers.FloatField(
        allow_null=True, help_text="Mean of the previous calendar month's daily values."
    )
    delta_pct = serializers.FloatField(
        allow_null=True, help_text="100 × (value − baseline) / |baseline|."
    )
    status = serializers.ChoiceField(choices=Status.choices)
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(
        allow_null=True, help_text="For percentiles and medians: the number of values."
    )
    warn_pct = serializers.FloatField()
    critical_pct = serializers.FloatField()
    threshold_mode = serializers.ChoiceField(choices=["relative", "absolute"])
    warn_at = serializers.FloatField()
    critical_at = serializers.FloatField()
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When this value was last recomputed."
    )
    series = PointSerializer(many=True, help_text="The 30 days ending on the date.")


class PanelsSerializer(serializers.Serializer):
    date = serializers.DateField()
    region = serializers.CharField()
    panels = PanelSerializer(many=True)


class SeriesRowSerializer(serializers.Serializer):
    date = serializers.DateField()
    value = serializers.FloatField(allow_null=True)
    baseline = serializers.FloatField(allow_null=True)
    delta_pct = serializers.FloatField(allow_null=True)
    status = serializers.ChoiceField(choices=Status.choices)
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)


class CompareRowSerializer(serializers.Serializer):
    region = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    baseline = serializers.FloatField(allow_null=True)
    delta_pct = serializers.FloatField(allow_null=True)
    status = serializers.ChoiceField(choices=Status.choices)
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    metric = serializers.CharField()
    region = serializers.CharField()
    day = serializers.DateField()
    level = serializers.ChoiceField(choices=AlertLevel.choices)
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    value = serializers.FloatField(allow_null=True)
    baseline = serializers.FloatField(allow_null=True)
    delta_pct = serializers.FloatField(allow_null=True)
    raised_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    card = serializers.IntegerField(allow_null=True, help_text="The kanban card, once opened.")
    department = serializers.CharField(help_text="The metric's owning department.")
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.CharField(allow_null=True, help_text="Who took it.")
    escalated_at = serializers.DateTimeField(
        allow_null=True, help_text="When it reached the managers' channels, unacknowledged."
    )


class SummaryPanelSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text="Over the period; null: no data.")
    compare_value = serializers.FloatField(allow_null=True, help_text="Over the comparison period.")
    delta_pct = serializers.FloatField(
        allow_null=True,
        help_text="100 × (value − compare_value) / |compare_value|; null when either is null "
        "or compare_value is 0.",
    )
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(
        allow_null=True, help_text="For percentiles and medians: the number of values."
    )
    compare_numerator = serializers.FloatField(allow_null=True)
    compare_denominator = serializers.FloatField(allow_null=True)


class SummaryRegionSerializer(serializers.Serializer):
    region = serializers.CharField()
    panels = SummaryPanelSerializer(many=True)


class SummarySerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    region = serializers.CharField()
    compare = serializers.ChoiceField(choices=list(periods.COMPARES))
    compare_start = serializers.DateField()
    compare_end = serializers.DateField()
    panels = SummaryPanelSerializer(many=True)
    by_region = SummaryRegionSerializer(
        many=True, required=False, help_text="With `breakdown=region`: `all`, then every region."
    )


class SampleSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(
        choices=[
            "api_response_time",
            "availability",
            "credit_query_latency",
            "data_sync_lag",
            "data_consistency",
            "incident_response_time",
        ]
    )
    ts = serializers.CharField(
        help_text="ISO 8601 timestamp; without an offset it is in the business time zone."
    )
    value = serializers.FloatField()
    region = serializers.CharField(required=False, help_text="Region code; omit for none.")
    source = serializers.CharField(required=False, help_text="Who measured it.")


class BadItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="0-based position in the array; -1: the request.")
    field = serializers.CharField(help_text="The field at fault, or '' for the whole item.")
    reason = serializers.CharField()


class SamplesRejectedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = BadItemSerializer(many=True, help_text="The first 100 bad items.")
    total_errors = serializers.IntegerField()


class SamplesAcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Samples taken (all of them).")
    created = serializers.IntegerField(help_text="New samples.")
    updated = serializers.IntegerField(help_text="Known samples whose value changed.")
    first_day = serializers.DateField(allow_null=True)
    last_day = serializers.DateField(allow_null=True)


def _region_param(text: str = "Region code or `all` (default).") -> OpenApiParameter:
    return OpenApiParameter("region", str, description=text)


UNAUTHENTICATED = OpenApiResponse(DETAIL, description="Not signed in.")


# --- views ---------------------------------------------------------------------------------------


class MetricListView(MetricsAPIView):
    """The fourteen metric definitions."""

    @extend_schema(
        summary="Metric definitions",
        description="The fourteen metrics of contract section 3: key, names, category, unit, "
        "direction, the exact formula, owning department and current alert thresholds.",
        responses={200: DefinitionSerializer(many=True), 401: UNAUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.definitions())


class RegionListView(MetricsAPIView):
    """The regions that have metric values."""

    @extend_schema(
        summary="Regions",
        description="`all`, then every region of the loan book that has metric values.",
        responses={200: {"type": "array", "items": {"type": "string"}}, 401: UNAUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.region_list())


class PanelsView(MetricsAPIView):
    """The dashboard's fourteen panels for one region and day."""

    @extend_schema(
        summary="Panels of a region on a day",
        description="Each metric's value, baseline, relative deviation, status, thresholds and "
        "series of the last 30 days, read from the computed daily values (nothing is "
        "recomputed). A day without a computed value shows `no_data`.",
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, description="Business day; default today."),
            _region_param(),
        ],
        responses={
            200: PanelsSerializer,
            400: OpenApiResponse(description="A bad date or an unknown region."),
            401: UNAUTHENTICATED,
        },
    )
    def get(self, request: Request) -> Response:
        query = _valid(PanelsQuery, request)
        day = query.get("date") or selectors.business_today()
        region = query["region"]
        return Response(
            {
                "date": day.isoformat(),
                "region": region,
                "panels": selectors.panels_for_day(day, region),
            }
        )


SERIES_PARAMETERS = [
    OpenApiParameter("metric", str, required=True, enum=list(METRIC_KEYS)),
    _region_param(),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day; default end − 89."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day; default today."),
    OpenApiParameter(
        "format", str, enum=["json", "csv"], description="`csv` downloads the series as CSV."
    ),
]


def _attachment(response: Response, request: Request, name: str) -> Response:
    if getattr(request, "accepted_renderer", None) and request.accepted_renderer.format == "csv":
        response["Content-Disposition"] = attachment_header(f"{name}.csv")
        record("export", actor=request.user, target=f"{name}.csv")
    return response


class ValuesView(MetricsAPIView):
    """A metric's daily values for a region over a range of days."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        summary="Daily values of a metric",
        description="`[{date, value}]` for every day of [start, end] (null where there is no "
        "value). At most 3660 days. `?format=csv` downloads the same as CSV.",
        parameters=SERIES_PARAMETERS,
        responses={
            (200, "application/json"): PointSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            400: OpenApiResponse(description="A bad metric, region or date."),
            401: UNAUTHENTICATED,
        },
    )
    def get(self, request: Request) -> Response:
        query = _valid(SeriesQuery, request)
        rows = selectors.metric_series(
            query["metric"], query["region"], query["start"], query["end"]
        )
        response = Response([{"date": r["date"], "value": r["value"]} for r in rows])
        name = f"{query['metric']}-{query['region']}-{query['start']}-{query['end']}"
        return _attachment(response, request, name)


class SeriesView(MetricsAPIView):
    """A metric's daily values with baseline, deviation, status and parts (the metric page)."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        summary="Daily values with baseline and status",
        description="Like `/api/metrics/values/`, with each day's baseline, delta_pct, status, "
        "numerator and denominator, for charting the baseline band and the thresholds. "
        "`?format=csv` downloads it as CSV.",
        parameters=SERIES_PARAMETERS,
        responses={
            (200, "application/json"): SeriesRowSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            400: OpenApiResponse(description="A bad metric, region or date."),
            401: UNAUTHENTICATED,
        },
    )
    def get(self, request: Request) -> Response:
        query = _valid(SeriesQuery, request)
        rows = selectors.metric_series(
            query["metric"], query["region"], query["start"], query["end"]
        )
        name = f"{query['metric']}-{query['region']}-{query['start']}-{query['end']}"
        return _attachment(Response(rows), request, name)


class SummaryView(MetricsAPIView):
    """The fourteen metrics over any period, against a comparison period."""

    @extend_schema(
        summary="Any period, and a comparison",
        description="Every metric computed over [start, end] from the loan book with the "
        "formulas of contract section 3 (flow metrics: what falls in the period; stock metrics: "
        "the state on `end`; technical metrics: the samples whose business day falls in the "
        "period), never averaged from daily values, and the same over the comparison period: "
        "`previous_period` (as many days just before `start`, the default) or `previous_year` "
        "(the same dates a year earlier; 29 February becomes the 28th). `preset` (today, 7d, "
        "30d, this_month, last_month, this_quarter) gives the days instead of start and end, "
        "ending today in the business time zone (`last_month`: the whole previous month). "
        "Without either: the 30 days ending on `end` (default today). At most 3660 days. "
        "`breakdown=region` adds every region's panels (`by_region`) from the same computation.",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description="First day of the period."),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last day; default today."),
            OpenApiParameter("preset", str, enum=list(periods.PRESETS)),
            _region_param(),
            OpenApiParameter(
                "compare", str, enum=list(periods.COMPARES), description="Default previous_period."
            ),
            OpenApiParameter("breakdown", str, enum=["region"]),
        ],
        responses={
            200: SummarySerializer,
            400: OpenApiResponse(description="A bad date, preset, comparison or region."),
            401: UNAUTHENTICATED,
        },
    )
    def get(self, request: Request) -> Response:
        query = _valid(SummaryQuery, request)
        return Response(
            periods.period_summary(
                query["period"],
                query["compare"],
                query["region"],
                by_region=query.get("breakdown") == "region",
            )
        )


class CompareView(MetricsAPIView):
    """One metric on one day in every region."""

    @extend_schema(
        summary="Regions compared on a day",
        description="The metric's value, baseline, deviation and status on the day for `all` "
        "and every region.",
        parameters=[
            OpenApiParameter("metric", str, required=True, enum=list(METRIC_KEYS)),
            OpenApiParameter("date", OpenApiTypes.DATE, description="Business day; default today."),
        ],
        responses={
            200: CompareRowSerializer(many=True),
            400: OpenApiResponse(description="A bad metric or date."),
            401: UNAUTHENTICATED,
        },
    )
    def get(self, request: Request) -> Response:
        query = _valid(CompareQuery, request)
        day = query.get("date") or selectors.business_today()
        return Response(selectors.region_comparison(query["metric"], day))


class SamplesView(MetricsAPIView):
    """Technical samples from monitoring agents (department heads and managers)."""

    permission_classes = [CanEditOrRead]
    # A JSON array only (a form cannot hold one; the schema then documents JSON alone).
    parser_classes = [SafeJSONParser]

    @extend_schema(
        summary="Record technical samples",
        description=(
            f"A JSON array of at most {MAX_SAMPLES:,} samples `{{metric, ts, value, region?, "
            "source?}}`, checked with the rules of the `samples` import (contract section 2). "
            "One bad item rejects the request: nothing is stored and the answer lists the bad "
            "items (index, field, reason; the first 100). Samples are measurements: items alike "
            "(two gateways reporting one series at the same instant) are each kept and each "
            "count; a sample is identified by all it says and its occurrence among identical "
            "items of the batch, so sending the same batch again stores nothing twice "
            "(`created` 0; `updated` is always 0). The technical metrics of "
            "the days they fall on are recomputed in the background, and open dashboards get "
            "`panel.updated`. Department heads and managers may post: give a monitoring agent "
            "such an account and a token."
        ),
        request=SampleSerializer(many=True),
        responses={
            201: SamplesAcceptedSerializer,
            400: OpenApiResponse(SamplesRejectedSerializer, description="Bad items."),
            401: UNAUTHENTICATED,
            403: OpenApiResponse(DETAIL, description="Viewers may not post samples."),
        },
    )
    def post(self, request: Request) -> Response:
        try:
            items = request.data
        except exceptions.ParseError as exc:  # not JSON, or JSON no request may carry
            return Response(
                {
                    "detail": "The body could not be read: nothing was stored.",
                    "errors": [{"index": -1, "field": "", "reason": str(exc.detail)}],
                    "total_errors": 1,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        parsed = parse_samples(items)
        if parsed.total_errors:
            return Response(
                {
                    "detail": f"{parsed.total_errors} problem(s) found: nothing was stored.",
                    "errors": parsed.errors,
                    "total_errors": parsed.total_errors,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        result = samples_record(rows=parsed.rows, refresh="background")
        return Response(
            {
                "accepted": result.accepted,
                "created": result.created,
                "updated": result.updated,
                "first_day": result.first_day.isoformat() if result.first_day else None,
                "last_day": result.last_day.isoformat() if result.last_day else None,
            },
            status=status.HTTP_201_CREATED,
        )


class AlertListView(MetricsAPIView):
    """Alerts raised when a metric drifted from its baseline."""

    @extend_schema(
        summary="Alerts",
        description="Alerts, newest raised first: metric, region, day, level (warn, critical), "
        "status (open, resolved), the value, baseline and delta_pct when raised, and the kanban "
        "card opened for it.\n\n"
        "**Episodes.** An episode of a metric and region is a run of days that are not `ok`; it "
        "ends on the first later day whose status is `ok` (a day without data ends nothing). "
        "An alert is raised once per (metric, region, day, level), and only for a warn or "
        "critical day of the current episode (a finished episode of the past raises nothing). "
        "An open alert for day d is resolved when d returns to `ok` or when a later day of the "
        "same metric and region is `ok`: the episode ended. So `status=open` lists what is "
        "wrong now; an episode that comes back (the later ok day turns warn) reopens its "
        "alerts with the same ids. Dashboards group open alerts by (metric, region): the "
        "earliest day is when the episode began.",
        parameters=[
            OpenApiParameter("status", str, enum=list(AlertStatus.values)),
            OpenApiParameter("region", str),
            OpenApiParameter("metric", str, enum=list(METRIC_KEYS)),
            OpenApiParameter("level", str, enum=list(AlertLevel.values)),
            OpenApiParameter("date", OpenApiTypes.DATE, description="Only this business day."),
            OpenApiParameter("limit", int, description="1-1000, default 200."),
        ],
        responses={
            200: AlertSerializer(many=True),
            400: OpenApiResponse(description="A bad filter."),
            401: UNAUTHENTICATED,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        query = _valid(AlertsQuery, request)
        day: date | None = query.get("date")
        # The list's JSON text, kept with the cached list (every dashboard reads it).
        _rows, text = selectors.alerts_with_json(
            status=query.get("status"),
            region=query.get("region"),
            metric=query.get("metric"),
            level=query.get("level"),
            day=day,
            limit=query["limit"],
        )
        return HttpResponse(text, content_type="application/json")


class AlertsExportQuery(AlertsQuery):
    limit = None  # an export holds every alert that matches


class AlertExportView(ExportAPIView):
    """The alerts as a table (the dashboard's and the metric pages' open alerts, or any)."""

    authentication_classes = TOKEN_FIRST
    permission_classes = [CanRead]

    @extend_schema(
        summary="Alerts as CSV or XLSX",
        description="One row per alert that `GET /api/alerts/` lists under the same filters, "
        "without its limit, newest raised first: the metric (and its name in the reader's "
        "language), its department, region, day, level, status, value, baseline, delta_pct, "
        "when it was raised, resolved, acknowledged (and by whom) and escalated, and its card. "
        "The dashboard's link asks for `status=open` and its region. Times are in the business "
        "time zone. Recorded in the audit trail.",
        parameters=[
            EXPORT_FORMAT_PARAMETER,
            OpenApiParameter("status", str, enum=list(AlertStatus.values)),
            OpenApiParameter("region", str),
            OpenApiParameter("metric", str, enum=list(METRIC_KEYS)),
            OpenApiParameter("level", str, enum=list(AlertLevel.values)),
            OpenApiParameter("date", OpenApiTypes.DATE, description="Only this business day."),
        ],
        responses=export_responses(),
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        fmt = self.format_of(request)
        query = _valid(AlertsExportQuery, request)
        rows = selectors.alerts_export_rows(
            status=query.get("status"),
            region=query.get("region"),
            metric=query.get("metric"),
            level=query.get("level"),
            day=query.get("date"),
        )
        stem = f"alerts-{timezone.localdate():%Y-%m-%d}"
        return export_response(
            request,
            fmt,
            stem,
            selectors.ALERT_EXPORT_COLUMNS,
            rows,
            sheet_title=gettext("Alerts"),
        )
