"""Authentication and roles (contract section 4): tokens, sessions, and who may change what."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.test import Client
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from carloan.people.models import ApiToken
from carloan.people.services import hash_key
from carloan.roles import (
    DEPARTMENT_HEAD,
    MANAGER,
    VIEWER,
    CanEditOrRead,
    CanRead,
    ManagerOrRead,
    can_edit,
    department_of,
    is_manager,
    role_of,
    user_with_roles,
)
from tests.factories import PASSWORD, make_user, token_for

# --- a tiny API guarded by each permission class (urlconf override: this module) --------------


class _Guarded(APIView):
    def get(self, request: Request) -> Response:
        return Response({"read": True})

    def post(self, request: Request) -> Response:
        return Response({"written": True}, status=201)

    def patch(self, request: Request) -> Response:
        return Response({"written": True})


class ReadOnlyView(_Guarded):
    permission_classes = [CanRead]


class SignedInWriteView(_Guarded):
    permission_classes = [CanRead]
    allow_any_signed_in_write = True


class EditView(_Guarded):
    permission_classes = [CanEditOrRead]


class ManagerView(_Guarded):
    permission_classes = [ManagerOrRead]


class DefaultView(_Guarded):
    """No permission_classes: the project default applies."""


urlpatterns = [
    path("api/t/read/", ReadOnlyView.as_view()),
    path("api/t/signed-in-write/", SignedInWriteView.as_view()),
    path("api/t/edit/", EditView.as_view()),
    path("api/t/manager/", ManagerView.as_view()),
    path("api/t/default/", DefaultView.as_view()),
    path("", include("carloan.urls")),
]

guarded = pytest.mark.urls("tests.test_auth")


@pytest.fixture
def superuser(db: Any) -> User:
    return make_user("sue_super", "", superuser=True)


@pytest.fixture
def person(request: pytest.FixtureRequest) -> Callable[[str], User]:
    """The named person of conftest (`viewer`, `risk_head`, ..., `superuser`), made on demand."""

    def get(who: str) -> User:
        return request.getfixturevalue(who)

    return get


# --- the token endpoint ---------------------------------------------------------------------


@pytest.mark.django_db
def test_token_for_good_credentials(viewer: User) -> None:
    response = APIClient().post(
        "/api/auth/token/", {"username": "vic_viewer", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    key = response.json()["token"]
    assert key.startswith("cl_") and len(key) > 40
    # Only its hash is kept; it expires in 90 days; it works.
    stored = ApiToken.objects.get(user=viewer)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest() and stored.prefix == key[:7]
    assert 89 <= (stored.expires_at - stored.created_at).days <= 90
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/metrics/").status_code == 200


@pytest.mark.django_db
def test_each_sign_in_makes_its_own_token_and_both_work(viewer: User) -> None:
    credentials = {"username": "vic_viewer", "password": PASSWORD}
    first = APIClient().post("/api/auth/token/", credentials, format="json").json()["token"]
    second = APIClient().post("/api/auth/token/", credentials).json()["token"]  # form-encoded

    assert first != second
    for key in (first, second):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert client.get("/api/metrics/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "vic_viewer", "password": "wrong"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "VIC_VIEWER", "password": PASSWORD},
    ],
)
def test_token_refused_for_bad_credentials(viewer: User, credentials: dict[str, str]) -> None:
    response = APIClient().post("/api/auth/token/", credentials, format="json")

    assert response.status_code == 400
    body = response.json()
    assert "token" not in body
    assert body["non_field_errors"] == ["Unable to log in with provided credentials."]
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_token_refused_for_a_deactivated_user(viewer: User) -> None:
    viewer.is_active = False
    viewer.save()

    response = APIClient().post(
        "/api/auth/token/", {"username": "vic_viewer", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert "token" not in response.json()


@pytest.mark.django_db
def test_token_endpoint_names_the_missing_fields() -> None:
    response = APIClient().post("/api/auth/token/", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


@pytest.mark.django_db
def test_token_endpoint_answers_400_for_malformed_json() -> None:
    response = APIClient().post("/api/auth/token/", "{not json", content_type="application/json")

    assert response.status_code == 400


@pytest.mark.django_db
def test_token_endpoint_needs_no_csrf_token_and_no_session() -> None:
    make_user("nina_new", "viewer")
    client = APIClient(enforce_csrf_checks=True)

    response = client.post("/api/auth/token/", {"username": "nina_new", "password": PASSWORD})

    assert response.status_code == 200


@pytest.mark.django_db
def test_the_token_signs_api_calls_in(viewer: User) -> None:
    key = (
        APIClient()
        .post("/api/auth/token/", {"username": "vic_viewer", "password": PASSWORD})
        .json()["token"]
    )
    client = APIClient()

    assert client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 200


@pytest.mark.django_db
def test_an_unknown_token_is_401_with_a_challenge() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Invalid token."}


# --- browser sessions -----------------------------------------------------------------------


@pytest.mark.django_db
def test_session_login_through_the_form_signs_api_calls_in(viewer: User) -> None:
    browser = Client()
    assert browser.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 401

    response = browser.post("/login/", {"username": "vic_viewer", "password": PASSWORD})

    assert response.status_code == 302
    assert browser.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 200


@pytest.mark.django_db
def test_session_login_with_a_wrong_password_signs_nobody_in(viewer: User) -> None:
    browser = Client()

    response = browser.post("/login/", {"username": "vic_viewer", "password": "wrong"})

    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in browser.session
    assert browser.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 401


@guarded
@pytest.mark.django_db
def test_session_writes_need_the_csrf_token(risk_head: User) -> None:
    """A session is a browser's: its writes are CSRF-checked (a token client's are not)."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(risk_head)

    refused = browser.post("/api/t/edit/", {}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    browser.get("/login/")  # any page that sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/t/edit/", {}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert accepted.status_code == 201


# --- roles as functions ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "edit", "manage", "role", "department"),
    [
        ("viewer", False, False, VIEWER, ""),
        ("risk_head", True, False, DEPARTMENT_HEAD, "risk"),
        ("marketing_head", True, False, DEPARTMENT_HEAD, "marketing"),
        ("tech_head", True, False, DEPARTMENT_HEAD, "tech"),
        ("manager", True, True, MANAGER, ""),
        ("superuser", True, True, MANAGER, ""),
    ],
)
def test_roles(
    person: Callable[[str], User], who: str, edit: bool, manage: bool, role: str, department: str
) -> None:
    user = User.objects.get(pk=person(who).pk)  # fresh, as a request would load it

    assert can_edit(user) is edit
    assert is_manager(user) is manage
    assert role_of(user) == role
    assert department_of(user) == department


def test_anonymous_has_no_role() -> None:
    anonymous = AnonymousUser()

    assert can_edit(anonymous) is False
    assert is_manager(anonymous) is False
    assert role_of(anonymous) == ""
    assert department_of(anonymous) == ""


@pytest.mark.django_db
def test_a_signed_in_user_without_a_group_or_profile_only_reads() -> None:
    user = User.objects.create_user("gus_groupless", password=PASSWORD)

    assert (can_edit(user), is_manager(user), role_of(user), department_of(user)) == (
        False,
        False,
        VIEWER,
        "",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who, role, department",
    [("viewer", VIEWER, ""), ("risk_head", DEPARTMENT_HEAD, "risk"), ("manager", MANAGER, "")],
)
def test_a_user_loads_with_role_and_department_in_one_query(
    person: Callable[[str], User],
    django_assert_num_queries: Any,
    who: str,
    role: str,
    department: str,
) -> None:
    user = person(who)
    key = token_for(user)

    with django_assert_num_queries(1):  # every API request and socket pays this, and only this
        by_token, its_token = user_with_roles(token_key=key)
        assert (by_token.username, role_of(by_token), department_of(by_token)) == (
            user.username,
            role,
            department,
        )
        assert (its_token.key_hash, its_token.user) == (hash_key(key), by_token)
    with django_assert_num_queries(1):
        by_id, no_token = user_with_roles(user_id=user.pk)
        assert (by_id.username, role_of(by_id), department_of(by_id), no_token) == (
            user.username,
            role,
            department,
            None,
        )


@pytest.mark.django_db
def test_a_user_without_profile_or_group_loads_too_and_an_unknown_token_loads_nobody(
    django_assert_num_queries: Any,
) -> None:
    user = User.objects.create_user("gus_groupless", password=PASSWORD)  # no profile row

    with django_assert_num_queries(1):
        loaded, _ = user_with_roles(user_id=user.pk)
        assert (loaded.username, role_of(loaded), department_of(loaded)) == (
            "gus_groupless",
            VIEWER,
            "",
        )
    assert user_with_roles(token_key="no-such-token") == (None, None)
    assert user_with_roles(user_id=user.pk + 1000) == (None, None)


@pytest.mark.django_db
def test_the_role_groups_exist_after_migration() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "viewer",
        "department_head",
        "manager",
    }


# --- roles over HTTP ------------------------------------------------------------------------

READERS = ["viewer", "risk_head", "marketing_head", "tech_head", "manager", "superuser"]
EDITORS = {"risk_head", "marketing_head", "tech_head", "manager", "superuser"}
MANAGERS = {"manager", "superuser"}


@guarded
@pytest.mark.django_db
@pytest.mark.parametrize("url", ["read", "signed-in-write", "edit", "manager", "default"])
@pytest.mark.parametrize("method", ["get", "post", "patch"])
def test_anonymous_gets_401_with_a_token_challenge(url: str, method: str) -> None:
    response = getattr(APIClient(), method)(f"/api/t/{url}/", {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@guarded
@pytest.mark.django_db
@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("url", ["read", "signed-in-write", "edit", "manager", "default"])
def test_everyone_signed_in_reads(
    person: Callable[[str], User],
    client_for: Callable[[User | None], APIClient],
    who: str,
    url: str,
) -> None:
    response = client_for(person(who)).get(f"/api/t/{url}/")

    assert response.status_code == 200
    assert response.json() == {"read": True}


@guarded
@pytest.mark.django_db
@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize(
    ("url", "writers"),
    [
        ("read", set()),
        ("default", set()),
        ("signed-in-write", set(READERS)),
        ("edit", EDITORS),
        ("manager", MANAGERS),
    ],
)
def test_who_writes(
    person: Callable[[str], User],
    client_for: Callable[[User | None], APIClient],
    who: str,
    url: str,
    writers: set[str],
) -> None:
    client = client_for(person(who))

    created = client.post(f"/api/t/{url}/", {}, format="json")
    changed = client.patch(f"/api/t/{url}/", {}, format="json")

    if who in writers:
        assert (created.status_code, changed.status_code) == (201, 200)
    else:
        assert (created.status_code, changed.status_code) == (403, 403)
        assert created.json()["detail"]  # says why, e.g. "Only managers may change this."


@guarded
@pytest.mark.django_db
def test_refusals_say_who_may(
    viewer: User, risk_head: User, client_for: Callable[[User | None], APIClient]
) -> None:
    assert client_for(viewer).post("/api/t/edit/").json() == {
        "detail": "Only department heads and managers may change this."
    }
    assert client_for(risk_head).post("/api/t/manager/").json() == {
        "detail": "Only managers may change this."
    }
