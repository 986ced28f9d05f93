"""`/healthz` and the 503 promise: a dependency that is down gives a clear 503, never a trace."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.factories import make_user, token_for


def closed_port() -> int:
    """A local TCP port with nothing listening on it (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def unreachable_database() -> Iterator[None]:
    """Point the default connection at a closed port. The connection pool is built from the
    settings, so it is closed before (rebuilt on the closed port, waiting 1 s, not 5, for a
    connection that never comes) and after (rebuilt on the real server)."""
    connection.close()
    connection.close_pool()
    patched: dict[str, Any] = {"HOST": "127.0.0.1", "PORT": str(closed_port())}
    pool = connection.settings_dict["OPTIONS"].get("pool")
    if pool:
        patched["OPTIONS"] = {**connection.settings_dict["OPTIONS"], "pool": {**pool, "timeout": 1}}
    try:
        with mock.patch.dict(connection.settings_dict, patched):
            try:
                yield
            finally:
                connection.close()
                connection.close_pool()
    finally:
        connection.close()


@pytest.fixture
def database_down() -> Iterator[None]:
    with unreachable_database():
        yield


def assert_no_trace(body: str) -> None:
    assert "Traceback" not in body
    assert "OperationalError" not in body
    assert "connection failed" not in body


@pytest.mark.django_db
def test_healthz_reports_ok_when_database_and_redis_answer() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_says_redis_down_quickly_when_redis_is_unreachable() -> None:
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        started = time.monotonic()
        response = Client().get("/healthz")
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "ok", "redis": "down"}
    assert_no_trace(response.content.decode())
    assert elapsed < 2


@pytest.mark.django_db
def test_healthz_does_not_hang_when_redis_never_answers() -> None:
    """A server that accepts but never replies (a hung Redis) is "down" within the timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with override_settings(REDIS_URL=f"redis://127.0.0.1:{port}/0"):
            started = time.monotonic()
            response = Client().get("/healthz")
            elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["redis"] == "down"
    assert elapsed < 2.5


@pytest.mark.django_db(transaction=True)
def test_healthz_says_database_down_when_postgres_is_unreachable(database_down: None) -> None:
    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "down", "redis": "ok"}
    assert_no_trace(response.content.decode())


@pytest.mark.django_db(transaction=True)
def test_healthz_recovers_once_the_database_is_back() -> None:
    with unreachable_database():
        assert Client().get("/healthz").status_code == 503

    assert Client().get("/healthz").status_code == 200


class _RedisNeedingView(APIView):
    def get(self, request: Any) -> Response:
        from redis.exceptions import ConnectionError as RedisConnectionError

        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


urlpatterns = [
    path("api/needs-redis/", _RedisNeedingView.as_view()),
    path("", include("carloan.urls")),
]


@pytest.mark.django_db(transaction=True)
def test_api_answers_503_json_when_the_database_is_down(request: Any) -> None:
    key = token_for(make_user("dora_down", "viewer"))
    request.getfixturevalue("database_down")

    response = Client(raise_request_exception=False).get(
        "/api/schema/", HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert "unavailable" in response.json()["detail"]
    assert_no_trace(response.content.decode())


@pytest.mark.django_db(transaction=True)
def test_api_answers_503_json_for_a_browser_session_when_the_database_is_down(
    request: Any,
) -> None:
    """The session lookup itself fails: still a 503, not a 500."""
    client = Client(raise_request_exception=False)
    client.force_login(make_user("sam_session", "viewer"))
    request.getfixturevalue("database_down")

    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_pages_answer_503_text_when_the_database_is_down(request: Any) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(make_user("pia_page", "viewer"))
    request.getfixturevalue("database_down")

    response = client.get("/imports/")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")
    assert "unavailable" in response.content.decode()


@pytest.mark.urls("tests.test_health")
def test_api_answers_503_json_when_redis_is_down(client_for: Any, db: Any) -> None:
    user = make_user("rita_redis", "viewer")
    response = client_for(user).get("/api/needs-redis/")

    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]
