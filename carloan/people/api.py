"""HTTP API of people and access: one's API tokens (contract section 12); saved views."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
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


# ---- saved views ---------------------------------------------------------------------------------

VIEWS_TAG = ["saved views"]


class SavedViewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    path = serializers.CharField(help_text="The page, e.g. `/kanban/`.")
    query = serializers.CharField(help_text="Its query string, without `?` (may be empty).")
    url = serializers.CharField(help_text="Where it opens: path and query string.")
    share_url = serializers.CharField(
        help_text="Its link, `/v/<slug>/`: opens it for anyone signed in when shared, else only "
        "for its owner."
    )
    shared = serializers.BooleanField()
    mine = serializers.BooleanField(help_text="The caller's own (else shared with them).")
    owner = serializers.CharField(help_text="The owner's user name.")
    pinned = serializers.BooleanField(help_text="The caller's start page (what `/` opens).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# Types only: the service checks every rule (lengths, pages, unique names) and answers every
# field's problems at once.
NAME_HELP = f"1 to {services.VIEW_NAME_MAX} characters, unique among one's views (any case)."
PATH_HELP = (
    f"A page of this site, its path only (e.g. `/kanban/`, at most {services.VIEW_PATH_MAX} "
    "characters): not the API, the admin or the sign-in pages, never another host."
)
QUERY_HELP = (
    f"The page's query string (a leading `?` is dropped), at most {services.VIEW_QUERY_MAX} "
    f"characters and {services.VIEW_QUERY_FIELDS_MAX} fields."
)


class SavedViewInputSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text=NAME_HELP)
    path = serializers.CharField(allow_blank=True, help_text=PATH_HELP)
    query = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False, help_text=QUERY_HELP
    )
    shared = serializers.BooleanField(
        required=False, default=False, help_text="Every colleague sees it and may open its link."
    )
    pinned = serializers.BooleanField(
        required=False, default=False, help_text="Make it my start page at once."
    )


class SavedViewChangeSerializer(serializers.Serializer):
    name = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text=NAME_HELP
    )
    path = serializers.CharField(required=False, allow_blank=True, help_text=PATH_HELP)
    query = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text=QUERY_HELP
    )
    shared = serializers.BooleanField(
        required=False, help_text="Unshared, it stops being colleagues' start page."
    )


def _messages() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), required=False)


# What a 400 says: each bad field with its messages (a body that is not JSON: `detail`, text).
SAVED_VIEW_ERRORS = inline_serializer(
    "SavedViewErrors",
    {
        "name": _messages(),
        "path": _messages(),
        "query": _messages(),
        "shared": _messages(),
        "pinned": _messages(),
        "non_field_errors": _messages(),
        "detail": serializers.JSONField(
            required=False, help_text="A message, or a list of them (too many views)."
        ),
    },
)
_400 = OpenApiResponse(SAVED_VIEW_ERRORS, description="Bad input: field errors; nothing stored.")
_403 = OpenApiResponse(description="A colleague's shared view: only its owner may change it.")
_404 = OpenApiResponse(description="No such view, or not shared with you.")


class SavedViewsView(APIView):
    """Everyone signed in keeps their own views and sees those shared with them."""

    permission_classes = [CanRead]
    allow_any_signed_in_write = True

    @extend_schema(
        tags=VIEWS_TAG,
        summary="My saved views, then those colleagues share",
        responses={200: SavedViewSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.saved_views_for(request.user))

    @extend_schema(
        tags=VIEWS_TAG,
        summary="Save a page's state under a name (maybe shared, maybe my start page)",
        request=SavedViewInputSerializer,
        responses={201: SavedViewSerializer, 400: _400},
    )
    def post(self, request: Request) -> Response:
        form = SavedViewInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        view = services.saved_view_create(owner=request.user, **form.validated_data)
        pinned = view.pk if form.validated_data["pinned"] else None
        data = selectors.saved_view_data(view, user=request.user, pinned_id=pinned)
        return Response(data, status=201)


class SavedViewDetailView(APIView):
    """Its owner renames, re-points, shares or deletes a view."""

    permission_classes = [CanRead]
    allow_any_signed_in_write = True

    @extend_schema(
        tags=VIEWS_TAG,
        summary="Rename a saved view, change its page state, share or unshare it (its owner)",
        request=SavedViewChangeSerializer,
        responses={200: SavedViewSerializer, 400: _400, 403: _403, 404: _404},
    )
    def patch(self, request: Request, view_id: int) -> Response:
        form = SavedViewChangeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        view = services.saved_view_update(user=request.user, view_id=view_id, **form.validated_data)
        pinned = selectors.start_view_id(request.user)
        return Response(selectors.saved_view_data(view, user=request.user, pinned_id=pinned))

    @extend_schema(
        tags=VIEWS_TAG,
        summary="Delete a saved view (its owner)",
        responses={204: OpenApiResponse(description="Deleted."), 403: _403, 404: _404},
    )
    def delete(self, request: Request, view_id: int) -> Response:
        services.saved_view_delete(user=request.user, view_id=view_id)
        return Response(status=204)


class SavedViewPinView(APIView):
    """One's start page: a view of one's own or one shared with one."""

    permission_classes = [CanRead]
    allow_any_signed_in_write = True

    @extend_schema(
        tags=VIEWS_TAG,
        summary="Make a saved view my start page (what `/` opens)",
        request=None,
        responses={200: SavedViewSerializer, 404: _404},
    )
    def post(self, request: Request, view_id: int) -> Response:
        view = services.saved_view_pin(user=request.user, view_id=view_id)
        return Response(selectors.saved_view_data(view, user=request.user, pinned_id=view.pk))

    @extend_schema(
        tags=VIEWS_TAG,
        summary="Stop a saved view being my start page (`/` opens the dashboard)",
        request=None,
        responses={200: SavedViewSerializer, 404: _404},
    )
    def delete(self, request: Request, view_id: int) -> Response:
        view = services.saved_view_unpin(user=request.user, view_id=view_id)
        return Response(selectors.saved_view_data(view, user=request.user, pinned_id=None))
