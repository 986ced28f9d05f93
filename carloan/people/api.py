"""HTTP API of people and access: one's API tokens (contract section 12)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carloan.people import selectors, services
from carloan.roles import CanRead

TAG = ["people"]
TOKEN_STATES = ["active", "expired", "revoked"]


class ApiTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="Its first characters, to recognise it.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    state = serializers.ChoiceField(choices=TOKEN_STATES)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text="The token itself: shown this once, never again.")


class ApiTokenInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    expires_in_days = serializers.IntegerField(
        min_value=1, max_value=services.MAX_DAYS, required=False, default=services.DEFAULT_DAYS
    )


class TokensView(APIView):
    """Every signed-in person manages their own tokens (a viewer's script reads with one)."""

    permission_classes = [CanRead]
    allow_any_signed_in_write = True

    @extend_schema(
        tags=TAG, summary="My API tokens", responses={200: ApiTokenSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.tokens_of(request.user))

    @extend_schema(
        tags=TAG,
        summary="Make an API token: named, expiring; the token is shown this once",
        request=ApiTokenInputSerializer,
        responses={
            201: ApiTokenCreatedSerializer,
            400: OpenApiResponse(description="A bad field, or too many tokens in use."),
        },
    )
    def post(self, request: Request) -> Response:
        form = ApiTokenInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token, key = services.token_create(user=request.user, **form.validated_data)
        return Response({**selectors.token_data(token), "token": key}, status=201)


class TokenRevokeView(APIView):
    permission_classes = [CanRead]
    allow_any_signed_in_write = True

    @extend_schema(
        tags=TAG,
        summary="Revoke an API token (one's own; managers anyone's)",
        request=None,
        responses={
            200: ApiTokenSerializer,
            403: OpenApiResponse(description="Another person's token."),
            404: OpenApiResponse(description="No such token."),
        },
    )
    def post(self, request: Request, token_id: int) -> Response:
        token = services.token_revoke(user=request.user, token_id=token_id)
        return Response(selectors.token_data(token))


class PersonDeactivateView(APIView):
    permission_classes = [CanRead]
    allow_any_signed_in_write = True  # the service refuses anyone but a manager (403)

    @extend_schema(
        tags=TAG,
        summary="Deactivate a person: signed out everywhere at once (managers)",
        description="Sessions are deleted, every API token is revoked and every open socket is "
        "closed (4401); the account and its history stay.",
        request=None,
        responses={
            200: OpenApiResponse(description='`{"id", "username", "is_active": false}`'),
            400: OpenApiResponse(description="Oneself."),
            403: OpenApiResponse(description="Not a manager."),
            404: OpenApiResponse(description="No such person."),
        },
    )
    def post(self, request: Request, user_id: int) -> Response:
        user = services.person_deactivate(by=request.user, user_id=user_id)
        return Response({"id": user.pk, "username": user.get_username(), "is_active": False})
