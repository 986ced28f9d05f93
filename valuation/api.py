"""The valuation API (contract section 6): quotes, batch quotes, collateral checks, models.

Views only parse, call the engine or a service, and shape the answer. Input is checked by
`valuation.inputs` (fast enough for 5,000 vehicles); the serializers here describe the same
fields for the OpenAPI schema.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carloan.exports import (
    EXPORT_FORMAT_PARAMETER,
    ExportAPIView,
    export_response,
    export_responses,
)
from carloan.roles import CanRead
from valuation import engine, selectors
from valuation.charts import waterfall_figure
from valuation.inputs import parse_vehicle, quote_request_serializer
from valuation.services import valuation_record
from valuation.support import support_rows

BATCH_LIMIT = 5000
ERRORS_SHOWN = 100
COLLATERAL_LIMIT = 5000


# The request's fields and limits come from valuation/inputs.py, the checker itself.
QuoteRequestSerializer = quote_request_serializer()


class FactorSerializer(serializers.Serializer):
    factor = serializers.CharField()
    label = serializers.CharField()
    effect_cny = serializers.FloatField(help_text="The effects add up to value − baseline")
    effect_pct = serializers.FloatField(help_text="100 × (multiplicative effect − 1)")


class FallbackSerializer(serializers.Serializer):
    factor = serializers.ChoiceField(
        choices=[
            "age",
            "mileage",
            "accidents",
            "repairs",
            "violations",
            "owners",
            "condition_grade",
            "fuel_type",
            "region",
            "make_curves",
            "model_curves",
        ]
    )
    label = serializers.CharField()
    reason = serializers.ChoiceField(
        choices=["not_estimated", "pooled", "unseen"],
        help_text=(
            "not_estimated: no effect applied; pooled: too few sales, valued as the make, the"
            " market or the next better grade; unseen: no sale at all"
        ),
    )
    sales = serializers.IntegerField(help_text="Sales that carry it")
    needed = serializers.IntegerField(help_text="Sales needed to estimate it")
    note = serializers.CharField(help_text="The same in words, in the reader's language")


class QuoteSerializer(serializers.Serializer):
    value = serializers.FloatField()
    low = serializers.FloatField(help_text="The price is within [low, high] ~80 % of the time")
    high = serializers.FloatField()
    currency = serializers.CharField()
    baseline = serializers.FloatField(help_text="The new price the factors start from")
    factors = FactorSerializer(many=True)
    model_version = serializers.IntegerField()
    valuation_date = serializers.DateField()
    ltv_pct = serializers.FloatField(required=False)
    appraisal_excess_pct = serializers.FloatField(required=False)
    flags = inline_serializer(
        "QuoteFlags",
        {
            "ltv_above_limit": serializers.BooleanField(allow_null=True),
            "inflated_appraisal": serializers.BooleanField(allow_null=True),
        },
        required=False,
    )
    limits = inline_serializer(
        "QuoteLimits",
        {
            "max_ltv_pct": serializers.FloatField(),
            "appraisal_tolerance_pct": serializers.FloatField(),
        },
        required=False,
    )
    fallbacks = FallbackSerializer(
        many=True,
        help_text=(
            "The factors of this vehicle the sales were too thin to estimate, and what was used"
            " instead (empty when every factor was estimated)"
        ),
    )
    valuation_id = serializers.CharField(required=False, help_text="When recorded")
    chart = serializers.DictField(required=False, help_text="With ?chart=1: a Plotly waterfall")


def no_model_response() -> Response:
    return Response(
        {"detail": str(engine.NoModel()), "code": "no_model"},
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
    )


def waterfall_for(quote: dict[str, Any]) -> dict[str, Any]:
    return waterfall_figure(quote, baseline_label=_("New price"), value_label=_("Model value"))


class QuoteView(APIView):
    """Value one vehicle from the twelve factors, with its range and each factor's effect."""

    permission_classes = [CanRead]
    allow_any_signed_in_write = True  # any signed-in user quotes; recording checks its role

    @extend_schema(
        request=QuoteRequestSerializer,
        parameters=[OpenApiParameter("chart", bool, description="Add a Plotly waterfall")],
        responses={
            200: QuoteSerializer,
            201: QuoteSerializer,
            400: None,
            403: None,
            503: None,
        },
        description=(
            "Contract section 6. With `application_id` (department heads and managers) the quote "
            "is recorded as a valuation of that application: 201 with `valuation_id`. 503 with "
            '`code: "no_model"` until `fit_valuation` has run.'
        ),
    )
    def post(self, request: Request) -> Response:
        fields, errors = parse_vehicle(request.data, timezone.localdate())
        if fields is None:
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            if fields["application_id"]:
                quote, _record = valuation_record(user=request.user, fields=fields)
                code = status.HTTP_201_CREATED
            else:
                quote = engine.quotes([fields])[0]
                code = status.HTTP_200_OK
        except engine.NoModel:
            return no_model_response()
        if request.query_params.get("chart") in ("1", "true"):
            quote["chart"] = waterfall_for(quote)
        return Response(quote, status=code)


class BatchQuoteView(APIView):
    """Value many vehicles at once (one vectorised prediction)."""

    permission_classes = [CanRead]
    allow_any_signed_in_write = True

    @extend_schema(
        request=inline_serializer(
            "BatchQuoteRequest", {"vehicles": QuoteRequestSerializer(many=True)}
        ),
        responses={
            200: inline_serializer(
                "BatchQuoteAnswer",
                {
                    "model_version": serializers.IntegerField(),
                    "count": serializers.IntegerField(),
                    "results": QuoteSerializer(many=True),
                },
            ),
            400: None,
            503: None,
        },
        description=(
            f"Up to {BATCH_LIMIT} vehicles; answers in the same order. Quotes only: record "
            "application valuations one at a time. 400 lists the bad vehicles by index."
        ),
    )
    def post(self, request: Request) -> Response:
        vehicles = request.data.get("vehicles") if isinstance(request.data, dict) else None
        if not isinstance(vehicles, list) or not vehicles:
            return Response(
                {"vehicles": [_("Send a non-empty list of vehicles.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if len(vehicles) > BATCH_LIMIT:
            return Response(
                {"vehicles": [_("At most %(n)d vehicles per request.") % {"n": BATCH_LIMIT}]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        today = timezone.localdate()
        parsed: list[dict[str, Any]] = []
        bad: dict[str, Any] = {}
        for i, item in enumerate(vehicles):
            fields, errors = parse_vehicle(item, today)
            if fields is not None and fields["application_id"]:
                errors = {"application_id": [_("Record application valuations one at a time.")]}
            if errors:
                bad[str(i)] = errors
                if len(bad) >= ERRORS_SHOWN:
                    break
            elif fields is not None:
                parsed.append(fields)
        if bad:
            return Response({"vehicles": bad}, status=status.HTTP_400_BAD_REQUEST)
        try:
            model = engine.active_model()
        except engine.NoModel:
            return no_model_response()
        results = engine.quotes(parsed, model=model)
        return Response({"model_version": model.version, "count": len(results), "results": results})


def _flag(value: str | None) -> bool | None:
    if value in (None, ""):
        return None
    return value.lower() in ("1", "true", "yes")


class CollateralView(APIView):
    """The latest collateral check of each active loan: LTV against the limit, appraisal flags."""

    permission_classes = [CanRead]

    @extend_schema(
        parameters=[
            OpenApiParameter("over_limit", bool, description="Only loans above risk.max_ltv_pct"),
            OpenApiParameter("inflated", bool, description="Only inflated appraisals"),
            OpenApiParameter("region", str),
            OpenApiParameter("branch", str),
            OpenApiParameter("limit", int, description=f"Default 500, at most {COLLATERAL_LIMIT}"),
        ],
        responses={200: None},
        description=(
            "`over_limit=1&inflated=1` lists the loans with either flag. Answers `count`, "
            "`totals` (per region and branch) and `results` (highest LTV first)."
        ),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        try:
            limit = min(max(int(params.get("limit", 500)), 1), COLLATERAL_LIMIT)
        except ValueError:
            return Response({"limit": [_("Give a whole number.")]}, status=400)
        region, branch = params.get("region", ""), params.get("branch", "")
        rows = selectors.collateral_checks(
            over_limit=_flag(params.get("over_limit")),
            inflated=_flag(params.get("inflated")),
            region=region,
            branch=branch,
        )
        return Response(
            {
                "count": rows.count(),
                "totals": selectors.collateral_totals(region=region, branch=branch),
                "results": [selectors.check_data(row) for row in rows[:limit]],
            }
        )


class CollateralExportView(ExportAPIView):
    """The collateral checks as a table (the valuation page's two lists, or any)."""

    permission_classes = [CanRead]

    @extend_schema(
        summary="Collateral checks as CSV or XLSX",
        description="Every check `GET /api/valuations/collateral/` lists under the same filters "
        "(without its limit), highest LTV first, with all its fields: outstanding, model value "
        "and range, value at funding, appraisal and its excess, LTV, both flags and the limits "
        "they were judged against. `over_limit=1&inflated=1` (the valuation page's link) gives "
        "the loans with either flag. Times are in the business time zone. Recorded in the audit "
        "trail.",
        parameters=[
            EXPORT_FORMAT_PARAMETER,
            OpenApiParameter("over_limit", bool, description="Only loans above risk.max_ltv_pct"),
            OpenApiParameter("inflated", bool, description="Only inflated appraisals"),
            OpenApiParameter("region", str),
            OpenApiParameter("branch", str),
        ],
        responses=export_responses(),
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        fmt = self.format_of(request)
        params = request.query_params
        rows = selectors.collateral_export_rows(
            over_limit=_flag(params.get("over_limit")),
            inflated=_flag(params.get("inflated")),
            region=params.get("region", ""),
            branch=params.get("branch", ""),
        )
        return export_response(
            request,
            fmt,
            f"collateral-checks-{timezone.localdate():%Y-%m-%d}",
            selectors.COLLATERAL_EXPORT_COLUMNS,
            rows,
            sheet_title=_("Collateral checks"),
        )


class ModelsView(APIView):
    """The active valuation model's held-out accuracy, what its sales could carry (`support`:
    each factor estimated, partly pooled or not estimated, with the sales behind it) and the
    latest fits."""

    permission_classes = [CanRead]

    @extend_schema(responses={200: None})
    def get(self, request: Request) -> Response:
        row = selectors.active_model_row()
        active = selectors.model_summary(row) if row else None
        if active is not None:
            with contextlib.suppress(engine.NoModel):
                params = engine.active_model().maths.params
                active["support"] = support_rows(params)
                active["downweighted_sales"] = params.get("downweighted_sales")
        return Response(
            {
                "active": active,
                "history": selectors.model_history(),
            }
        )
