"""API tokens (contract section 12): several per person, named, expiring, revocable, listed
without the token, and stored only as hashes (a scan of the database finds no token)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from carloan.people.models import ApiToken
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKENS = "/api/auth/tokens/"


def with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_person_makes_named_tokens_lists_them_and_revokes_one(
    client_for: Callable[[Any], APIClient], viewer: User
) -> None:
    me = client_for(viewer)
    made = me.post(TOKENS, {"name": "Grafana reader", "expires_in_days": 30}, format="json")
    assert made.status_code == 201
    key = made.json()["token"]
    assert made.json()["name"] == "Grafana reader" and made.json()["state"] == "active"
    second = me.post(TOKENS, {"name": "Nightly export"}, format="json").json()
    assert with_key(key).get("/api/metrics/").status_code == 200

    listed = me.get(TOKENS)
    used = next(t for t in listed.json() if t["name"] == "Grafana reader")
    assert used["last_used_at"] is not None  # noted by the same query that authenticated it
    names = [t["name"] for t in listed.json()]
    assert "Grafana reader" in names and "Nightly export" in names
    assert key not in listed.content.decode()  # never answered again
    assert all("token" not in t for t in listed.json())

    revoked = me.post(f"{TOKENS}{made.json()['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert with_key(key).get("/api/metrics/").status_code == 401
    assert with_key(second["token"]).get("/api/metrics/").status_code == 200


def test_an_expired_token_authenticates_no_one(viewer: User) -> None:
    from carloan.people.services import token_create

    token, key = token_create(user=viewer, name="short", expires_in_days=1)
    assert with_key(key).get("/api/metrics/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    answer = with_key(key).get("/api/metrics/")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Token"


def test_someone_elses_token_is_revoked_by_a_manager_only(
    client_for: Callable[[Any], APIClient], viewer: User, risk_head: User, manager: User
) -> None:
    made = client_for(viewer).post(TOKENS, {"name": "mine"}, format="json").json()
    assert client_for(risk_head).post(f"{TOKENS}{made['id']}/revoke/").status_code == 403
    assert client_for(manager).post(f"{TOKENS}{made['id']}/revoke/").status_code == 200
    assert client_for(viewer).post(f"{TOKENS}999999/revoke/").status_code == 404


@pytest.mark.parametrize("days", [0, 366, "soon"])
def test_a_bad_expiry_is_a_400(
    client_for: Callable[[Any], APIClient], viewer: User, days: Any
) -> None:
    answer = client_for(viewer).post(TOKENS, {"expires_in_days": days}, format="json")
    assert answer.status_code == 400 and "expires_in_days" in answer.json()


def test_no_token_is_stored_anywhere(viewer: User) -> None:
    """Tokens made both ways; then every column of every table is searched for them."""
    keys = [
        APIClient()
        .post(
            "/api/auth/token/", {"username": viewer.username, "password": PASSWORD}, format="json"
        )
        .json()["token"]
    ]
    client = with_key(keys[0])
    keys.append(client.post(TOKENS, {"name": "second"}, format="json").json()["token"])
    assert client.get(TOKENS).status_code == 200  # used, so last_used_at is written too
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [name for (name,) in cursor.fetchall()]
        found = {}
        for table in tables:
            cursor.execute(
                f"SELECT x::text FROM {connection.ops.quote_name(table)} x "
                "WHERE x::text LIKE ANY(%s) LIMIT 1",
                [[f"%{key}%" for key in keys] + [f"%{key[7:]}%" for key in keys]],
            )
            if cursor.fetchone():
                found[table] = True
    assert "people_api_token" in tables
    assert found == {}


def test_the_account_page_makes_shows_once_and_revokes_a_token(viewer: User) -> None:
    from django.test import Client

    client = Client()
    client.force_login(viewer)
    made = client.post("/account/", {"action": "token", "name": "Grafana", "expires_in_days": "30"})
    assert made.status_code == 200
    html = made.content.decode()
    key = html.split('id="new-token-value">')[1].split("<")[0]
    assert key.startswith("cl_")
    assert with_key(key).get("/api/metrics/").status_code == 200
    again = client.get("/account/").content.decode()
    assert key not in again and "Grafana" in again  # listed, never shown again
    token_id = ApiToken.objects.get(name="Grafana").pk
    assert client.post("/account/", {"action": "revoke", "token": token_id}).status_code == 302
    assert with_key(key).get("/api/metrics/").status_code == 401


def test_a_person_changes_their_password_with_djangos_rules(viewer: User) -> None:
    from django.test import Client

    client = Client()
    client.force_login(viewer)
    weak = client.post(
        "/account/",
        {
            "action": "password",
            "old_password": PASSWORD,
            "new_password1": "123",
            "new_password2": "123",
        },
    )
    assert weak.status_code == 200 and b"field__error" in weak.content
    good = "a-much-longer-pass-2026"
    done = client.post(
        "/account/",
        {
            "action": "password",
            "old_password": PASSWORD,
            "new_password1": good,
            "new_password2": good,
        },
    )
    assert done.status_code == 302
    viewer.refresh_from_db()
    assert viewer.check_password(good)
    assert client.get("/account/").status_code == 200  # still signed in here
