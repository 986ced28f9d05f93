"""`POST /api/compliance/check/` (contract section 9): a text checked against the library and
the live parameters."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carloan.compliance.checker import MAX_TEXT, check_text
from carloan.compliance.library import CATEGORIES
from carloan.parameters.selectors import parameter_values
from carloan.roles import CanRead


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
    category = serializers.ChoiceField(choices=[c.key for c in CATEGORIES])
    start = serializers.IntegerField(help_text="Offset of the first character, in `text`.")
    end = serializers.IntegerField(help_text="Offset after the last character, in `text`.")
    excerpt = serializers.CharField()
    severity = serializers.ChoiceField(choices=["high", "medium", "low"])
    suggestion = serializers.CharField(
        help_text="A compliant way to say it, in the text's language."
    )
    parameter = serializers.CharField(
        allow_null=True, help_text="The live parameter the finding contradicts, if any."
    )


class CheckView(APIView):
    """Check a sales script or call transcript."""

    permission_classes = [CanRead]
    allow_any_signed_in_write = True  # checking a text changes nothing

    @extend_schema(
        tags=["compliance"],
        summary="Check a text against the sensitive-phrase library and the live parameters",
        description="Answers every finding (category, offsets into `text`, excerpt, severity, "
        "suggested rewrite, the live parameter it contradicts) and `compliant`: false when any "
        'finding is `high` or `medium`. A text that negates or warns against a thing ("我们不能'
        '保证一定通过审批", "this is not a zero-interest product") has no finding for it. '
        "Numbers are read against the live parameters: a down payment below what "
        "`risk.max_ltv_pct` allows, a loan share above it, a discount above "
        "`marketing.max_promo_discount_pct`, a monthly or daily rate without an annual one.",
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
        data = CheckRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        text = data.validated_data["text"]
        if not text.strip():
            raise serializers.ValidationError({"text": ["Give the text to check."]})
        return Response(check_text(text, parameters=parameter_values()).as_dict())
