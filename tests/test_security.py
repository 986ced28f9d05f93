"""Security promises (issue 8): the deployment checklist, security headers with a Content Security
Policy that allows no inline script, throttled sign-in failures with a security log, a clear 413
for oversized uploads, and exports that a spreadsheet cannot run as formulas."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from carloan import security
from carloan.exports import escape_formula
from carloan.middleware import BodySizeLimit
from tests.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parent.parent


# --- the deployment checklist --------------------------------------------------------------------


def test_check_deploy_is_clean_with_https_and_without_debug() -> None:
    env = {
        **os.environ,
        "HTTPS": "1",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "kpi.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_https_settings_secure_cookies_hsts_and_redirect() -> None:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, list(s.SECURE_PROXY_SSL_HEADER or [])]))"
    )
    env = {**os.environ, "HTTPS": "1", "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "carloan.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    secure_session, secure_csrf, redirect, hsts, proxy = json.loads(out.strip().splitlines()[-1])
    assert secure_session and secure_csrf and redirect
    assert hsts >= 31536000
    assert proxy == ["HTTP_X_FORWARDED_PROTO", "https"]


# --- headers -------------------------------------------------------------------------------------


def _csp(response: Any) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/", "/parameters/", "/api/docs/", "/healthz"])
def test_every_answer_carries_the_security_headers(viewer: User, path: str) -> None:
    client = Client()
    if path != "/login/":
        client.force_login(viewer)
    response = client.get(path)
    assert response.status_code < 500

    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert "ws://testserver" in csp["connect-src"]
    assert "wss://testserver" in csp["connect-src"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_api_docs_page_has_no_inline_script(viewer: User) -> None:
    client = Client()
    client.force_login(viewer)
    html = client.get("/api/docs/").content.decode()
    assert "<script>" not in html  # the start-up script is a separate file (?script)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


# --- throttled sign-in ---------------------------------------------------------------------------


@pytest.fixture
def clean_throttle() -> Iterator[list[tuple[str, str]]]:
    """Pairs (username, ip) a test counted failures for, cleared afterwards (the cache is the
    real shared Redis)."""
    pairs: list[tuple[str, str]] = []
    yield pairs
    for username, ip in pairs:
        security.clear_failures(username, ip)


def _token(client: APIClient, username: str, password: str, ip: str) -> Any:
    return client.post(
        "/api/auth/token/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


@pytest.mark.django_db
def test_token_endpoint_throttles_failures_per_username_and_address(
    clean_throttle: list[tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    user = make_user("tina_throttled", "viewer")
    ip, other_ip = "10.9.8.7", "10.9.8.6"
    clean_throttle += [(user.username, ip), (user.username, other_ip), ("nobody", ip)]
    client = APIClient()
    caplog.set_level(logging.INFO, logger="carloan.security")

    for _ in range(5):
        assert _token(client, user.username, "wrong", ip).status_code == 400
    refused = _token(client, user.username, PASSWORD, ip)  # even the right password now
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many failed sign-ins" in refused.json()["detail"]

    # Another address, or another username from the same address, is not affected.
    assert _token(client, user.username, PASSWORD, other_ip).status_code == 200
    assert _token(client, "nobody", "x", ip).status_code == 400

    messages = [r.getMessage() for r in caplog.records if r.name == "carloan.security"]
    assert sum("sign-in refused" in m and "tina_throttled" in m and ip in m for m in messages) == 5
    assert any("sign-in throttled" in m and ip in m for m in messages)
    assert any("sign-in ok" in m and other_ip in m and "via=token" in m for m in messages)
    assert not any(PASSWORD in m for m in messages)


@pytest.mark.django_db
def test_a_success_clears_the_count(clean_throttle: list[tuple[str, str]]) -> None:
    user = make_user("sam_success", "viewer")
    ip = "10.1.1.1"
    clean_throttle.append((user.username, ip))
    client = APIClient()
    for _ in range(4):
        _token(client, user.username, "wrong", ip)
    assert _token(client, user.username, PASSWORD, ip).status_code == 200
    for _ in range(4):
        assert _token(client, user.username, "wrong", ip).status_code == 400
    assert _token(client, user.username, PASSWORD, ip).status_code == 200


@pytest.mark.django_db
def test_login_form_throttles_failures_and_logs(
    clean_throttle: list[tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    user = make_user("lena_login", "viewer")
    ip = "10.2.2.2"
    clean_throttle.append((user.username, ip))
    caplog.set_level(logging.INFO, logger="carloan.security")
    client = Client()

    for _ in range(5):
        response = client.post(
            "/login/", {"username": user.username, "password": "nope"}, REMOTE_ADDR=ip
        )
        assert response.status_code == 200  # the form again, with its error
    response = client.post(
        "/login/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR=ip
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session

    security.clear_failures(user.username, ip)
    response = client.post(
        "/login/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR=ip
    )
    assert response.status_code == 302
    messages = [r.getMessage() for r in caplog.records if r.name == "carloan.security"]
    assert sum("sign-in refused" in m and "via=form" in m for m in messages) == 5
    assert any("sign-in throttled" in m and "via=form" for m in messages)
    assert any("sign-in ok" in m and "lena_login" in m and "via=form" in m for m in messages)


def test_failures_are_counted_in_the_shared_redis_cache(
    clean_throttle: list[tuple[str, str]],
) -> None:
    """The count lives in Redis, so another web process (another connection) sees it."""
    import redis
    from django.conf import settings

    clean_throttle.append(("shared_user", "10.3.3.3"))
    for _ in range(3):
        security.record_failure("shared_user", "10.3.3.3")
    other = redis.Redis.from_url(settings.REDIS_URL)
    keys = [k for k in other.scan_iter("carloan:*signin-failures:*")]
    values = {int(other.get(k) or 0) for k in keys}
    assert 3 in values
    assert security.failures("shared_user", "10.3.3.3") == 3


# --- uploads -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_import_over_the_limit_is_refused_with_a_clear_413(
    risk_head: User, client_for: Any, settings: Any
) -> None:
    settings.IMPORT_MAX_BYTES = 2_000
    upload = io.BytesIO(b"lead_id,created_at,region,channel\n" + b"L1,2026-01-01,E,web\n" * 200)
    upload.name = "leads.csv"
    response = client_for(risk_head).post(
        "/api/imports/", {"kind": "leads", "file": upload}, format="multipart"
    )
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert "2,000 bytes" in response.json()["detail"]


def _asgi_post(path: str, length: int) -> tuple[int, bytes, bool]:
    """Send a request declaring `length` bytes through the ASGI guard; answer the status, the body
    and whether the application behind it was reached."""
    reached = False

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal reached
        reached = True
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(b"content-length", str(length).encode())],
    }
    asyncio.run(BodySizeLimit(app)(scope, receive, send))
    return sent[0]["status"], sent[-1].get("body", b""), reached


def test_oversized_bodies_are_refused_before_they_are_read(settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 1_000_000
    settings.REQUEST_MAX_BYTES = 10_000
    status, body, reached = _asgi_post("/api/imports/", 5_000_000)
    assert (status, reached) == (413, False)
    assert b"import_loanbook" in body
    assert _asgi_post("/api/imports/", 900_000)[0] == 201
    status, body, reached = _asgi_post("/api/metrics/samples/", 20_000)
    assert (status, reached) == (413, False)
    assert b"too large" in body
    assert _asgi_post("/api/metrics/samples/", 9_000)[0] == 201


# --- exports -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("EAST-01", "EAST-01"),
        ("", ""),
        (-3.5, -3.5),
        (7, 7),
        (None, None),
    ],
)
def test_escape_formula(cell: Any, escaped: Any) -> None:
    assert escape_formula(cell) == escaped


@pytest.mark.django_db
def test_metrics_csv_export_escapes_formula_like_text(viewer: User, client_for: Any) -> None:
    """The values CSV holds dates and numbers; an error answer echoes what was sent, so a
    formula in a query parameter must come back escaped."""
    response = client_for(viewer).get(
        "/api/metrics/values/",
        {"metric": '=HYPERLINK("http://x")', "format": "csv"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["field", "message"]
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), text


def test_metrics_csv_renderer_escapes_text_cells_and_keeps_numbers() -> None:
    from metrics.api import CSVRenderer

    rows = [{"date": "2026-01-01", "region": "=cmd|' /C calc'!A0", "value": -1.5}]
    text = CSVRenderer().render(rows).decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ["date", "region", "value"],
        ["2026-01-01", "'=cmd|' /C calc'!A0", "-1.5"],
    ]
    errors = CSVRenderer().render({"metric": ["@SUM(1)"]}).decode()
    assert list(csv.reader(io.StringIO(errors)))[1] == ["metric", "'@SUM(1)"]


@pytest.mark.django_db
def test_one_address_trying_many_usernames_is_throttled(settings: Any) -> None:
    """A password spray (one address, many usernames) is stopped by the per-address count."""
    settings.SIGNIN_MAX_FAILURES_PER_ADDRESS = 20
    ip = "10.4.4.4"
    real = make_user("pia_spray", "viewer")
    client = APIClient()
    for index in range(20):
        assert _token(client, f"guess{index}", "wrong", ip).status_code == 400
    refused = _token(client, real.username, PASSWORD, ip)  # a fresh username, right password
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    # Another address is not affected.
    assert _token(client, real.username, PASSWORD, "10.4.4.5").status_code == 200


@pytest.mark.django_db
def test_admin_sign_in_is_throttled_like_the_login_form(
    clean_throttle: list[tuple[str, str]],
) -> None:
    admin = make_user("ada_admin", "manager")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    ip = "10.5.5.5"
    clean_throttle.append((admin.username, ip))
    client = Client()
    for _ in range(5):
        failed = client.post(
            "/admin/login/", {"username": admin.username, "password": "nope"}, REMOTE_ADDR=ip
        )
        assert failed.status_code == 200
    refused = client.post(
        "/admin/login/", {"username": admin.username, "password": PASSWORD}, REMOTE_ADDR=ip
    )
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session

    security.clear_failures(admin.username, ip)
    ok = client.post(
        "/admin/login/", {"username": admin.username, "password": PASSWORD}, REMOTE_ADDR=ip
    )
    assert ok.status_code == 302 and ok["Location"] == "/admin/"


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not our proxy: the header is ignored
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),  # our proxy names the client
        ("127.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # a spoofed first hop is skipped
        ("10.0.0.2", "198.51.100.1, 10.0.0.3", "198.51.100.1"),  # a chain of our proxies
        ("127.0.0.1", "", "127.0.0.1"),
    ],
)
def test_the_client_address_is_read_from_trusted_proxies_only(
    settings: Any, remote: str, forwarded: str, expected: str
) -> None:
    from django.test import RequestFactory

    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1", "10.0.0.0/24"]
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert security.client_ip(request) == expected
