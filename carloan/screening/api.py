"""HTTP API of screening (contract section 10): an application's checks, the flagged
applications, and the lead pre-screen for the marketing systems."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carloan.roles import CanRead
from carloan.screening import selectors, services
from carloan.screening.models import CHECK_KEYS, Check

TAG = ["screening"]


class ChecksSerializer(serializers.Serializer):
    application_id = serializers.CharField()
    flagged = serializers.BooleanField(help_text="At least one check failed.")
    checks = serializers.DictField(
        child=serializers.ChoiceField(choices=Check.values),
        help_text=f"Each of {', '.join(CHECK_KEYS)}: pass, fail or not_applicable.",
    )


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


class FlagsQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=["open", "cleared", "all"], default="open")
    limit = serializers.IntegerField(min_value=1, max_value=500, default=200)
    offset = serializers.IntegerField(min_value=0, default=0)


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


class PrescreenAnswerSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["invite", "review", "decline"])
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Why (empty for invite)."
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
        return Response(rows, headers={"X-Total-Count": str(count)})


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
