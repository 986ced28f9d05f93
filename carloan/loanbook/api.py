"""HTTP API of the loan book: the token endpoint and file imports."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from carloan import security
from carloan.events import import_run_data
from carloan.loanbook.kinds import KINDS
from carloan.loanbook.services import ImportRejected, loanbook_import
from carloan.models import ImportRun
from carloan.roles import TOKEN_FIRST, CanEditOrRead, is_risk_control

DETAIL = inline_serializer("ImportDetail", {"detail": serializers.CharField()})


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (`Authorization: Token <token>`)."""

    permission_classes = [AllowAny]
    # ObtainAuthToken names its own parsers (DRF's plain JSON one): use the project's.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses={
            200: inline_serializer(
                "TokenResponse",
                {
                    "token": serializers.CharField(
                        help_text="Shown this once: only its hash is kept. Expires in 90 days; "
                        "list and revoke tokens at /api/auth/tokens/."
                    ),
                    "expires_at": serializers.DateTimeField(),
                },
            ),
            400: OpenApiResponse(description="Wrong username or password, or a field missing."),
            429: OpenApiResponse(
                DETAIL,
                description="Too many failed sign-ins for this username from this address "
                "(see `Retry-After`).",
            ),
        },
        auth=[],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        username = str(data.get("username") or "")
        ip = security.client_ip(request)
        wait = security.retry_after(username, ip)
        if wait is not None:
            security.log_throttled(username, ip, "token")
            return Response(
                {"detail": security.THROTTLED_MESSAGE.format(n=wait)},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(wait)},
            )
        # ObtainAuthToken's checks (a 400 for wrong credentials), then a token of our own: kept
        # only as a hash, named and expiring (carloan/people).
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        from carloan.people.services import token_create

        token, key = token_create(
            user=serializer.validated_data["user"], name=f"API sign-in ({ip or 'unknown'})"
        )
        security.clear_failures(username, ip)
        security.log_success(username, ip, "token")
        return Response({"token": key, "expires_at": token.expires_at.isoformat()})


class ImportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=list(KINDS), help_text="Which kind of loan book data the file holds."
    )
    file = serializers.FileField(
        allow_empty_file=True,
        help_text="UTF-8 CSV with a header row; columns in any order (contract section 2).",
    )


class ImportResultSerializer(serializers.Serializer):
    kind = serializers.CharField()
    rows = serializers.IntegerField(help_text="Data rows in the file.")
    created = serializers.IntegerField(help_text="Rows that were new.")
    updated = serializers.IntegerField(help_text="Rows that existed and changed.")
    warnings = serializers.ListField(child=serializers.CharField())
    first_day = serializers.DateField(allow_null=True, help_text="First business day touched.")
    last_day = serializers.DateField(allow_null=True, help_text="Last business day touched.")
    run_id = serializers.IntegerField(help_text="The ImportRun recording this import.")


class BadRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Physical line in the file; the header is line 1.")
    column = serializers.CharField(help_text="The column at fault, or '' for the whole line.")
    reason = serializers.CharField()


class ImportBadRequestSerializer(serializers.Serializer):
    """A 400 of the import: bad rows (`detail`, `errors`, ...), or field errors (`kind`,
    `file`) when the form itself is wrong. Every key is optional for that reason."""

    detail = serializers.CharField(required=False)
    errors = BadRowSerializer(many=True, required=False, help_text="The first 100 bad rows.")
    total_errors = serializers.IntegerField(required=False)
    warnings = serializers.ListField(child=serializers.CharField(), required=False)
    run_id = serializers.IntegerField(allow_null=True, required=False)
    kind = serializers.ListField(child=serializers.CharField(), required=False)
    file = serializers.ListField(child=serializers.CharField(), required=False)


class ImportRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    file_name = serializers.CharField()
    imported_by = serializers.CharField(help_text="Username, or '' (e.g. the command line).")
    started_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=ImportRun.Status.choices)
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.CharField())
    errors = BadRowSerializer(many=True)
    first_day = serializers.DateField(allow_null=True)
    last_day = serializers.DateField(allow_null=True)
    refreshed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the metrics of the touched days were recomputed."
    )
    refresh_error = serializers.CharField(
        help_text="The formula families the recompute could not do, and why ('family: why; "
        "...'); empty when every one was recomputed. They are retried hourly."
    )


class ImportListQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)


# Multipart framing around the file: a request a little over the limit may still hold a file
# under it, so the early check (before reading the body) leaves this much room.
MULTIPART_SLACK = 64 * 1024


def _too_large(size: int) -> Response:
    limit = settings.IMPORT_MAX_BYTES
    return Response(
        {
            "detail": f"The file is too large: {size:,} bytes; an import takes at most "
            f"{limit:,} bytes ({limit / 1024 / 1024:.1f} MB). Split it into several files, or "
            "import it with `manage.py import_loanbook`."
        },
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


class ImportView(APIView):
    """Import loan book files (department heads and managers); list recent imports (everyone)."""

    # Token first, so that an anonymous call is answered 401 (with WWW-Authenticate), not 403.
    authentication_classes = TOKEN_FIRST
    permission_classes = [CanEditOrRead]

    @extend_schema(
        summary="Recent imports",
        description="The latest import runs, newest first, with their counts, warnings and "
        "errors, and when the metrics of their days were recomputed. Any signed-in user.",
        parameters=[
            OpenApiParameter(
                "limit", int, description="How many runs, newest first (1-100, default 20)."
            )
        ],
        responses={
            200: ImportRunSerializer(many=True),
            400: OpenApiResponse(description="`limit` is not a number from 1 to 100."),
            401: OpenApiResponse(DETAIL, description="Not signed in."),
        },
    )
    def get(self, request: Request) -> Response:
        query = ImportListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        runs = ImportRun.objects.select_related("imported_by")[: query.validated_data["limit"]]
        return Response([import_run_data(run) for run in runs])

    @extend_schema(
        summary="Import one loan book file",
        description=(
            "One bad row rejects the whole file: nothing is stored and the answer lists the bad "
            "rows (up to 100). Rows are upserted by their key, so importing the same file twice "
            "changes nothing. The metrics of the touched days are recomputed in the background."
        ),
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            201: ImportResultSerializer,
            400: OpenApiResponse(
                ImportBadRequestSerializer,
                description="Bad rows (`detail`, `errors`, `total_errors`, `warnings`, "
                "`run_id`), or field errors such as an unknown kind or a missing file.",
            ),
            401: OpenApiResponse(DETAIL, description="Not signed in."),
            403: OpenApiResponse(
                DETAIL,
                description="Viewers may not import; the `blacklist` kind is imported by risk "
                "control's head or a manager only (others propose entries).",
            ),
            413: OpenApiResponse(DETAIL, description="The file exceeds IMPORT_MAX_BYTES."),
        },
    )
    def post(self, request: Request) -> Response:
        # Refuse an oversized upload before reading its body.
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.IMPORT_MAX_BYTES + MULTIPART_SLACK:
            return _too_large(declared)
        form = ImportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        if form.validated_data["kind"] == "blacklist" and not is_risk_control(request.user):
            # The list is confirmed by risk control (four-eyes): others propose entries.
            return Response(
                {
                    "detail": "Only risk control's head or a manager may import the blacklist; "
                    "propose entries on the Risk page or with POST /api/risk/blacklist/changes/."
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        if upload.size > settings.IMPORT_MAX_BYTES:
            return _too_large(upload.size)
        try:
            result = loanbook_import(
                kind=form.validated_data["kind"],
                source=upload,
                file_name=upload.name or "",
                user=request.user,
                refresh="background",
            )
        except ImportRejected as exc:
            return Response(
                {
                    "detail": exc.detail,
                    "errors": exc.errors,
                    "total_errors": exc.total_errors,
                    "warnings": exc.warnings,
                    "run_id": exc.run_id,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(result.as_dict(), status=status.HTTP_201_CREATED)
