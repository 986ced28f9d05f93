"""The OpenAPI schema and its docs (contract section 4): valid OpenAPI 3, for signed-in users only,
and Swagger UI served entirely from this server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from drf_spectacular.validation import validate_schema

SCHEMA = "/api/schema/"
DOCS = "/api/docs/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def schema(viewer: User) -> dict[str, Any]:
    response = signed_in(viewer).get(SCHEMA, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.mark.django_db
def test_schema_is_valid_openapi_3(schema: dict[str, Any]) -> None:
    validate_schema(schema)  # raises on any breach of the OpenAPI 3 JSON schema

    assert schema["openapi"].startswith("3")
    assert schema["info"]["title"] == settings.SPECTACULAR_SETTINGS["TITLE"]


@pytest.mark.django_db
def test_schema_describes_the_token_endpoint_and_imports(schema: dict[str, Any]) -> None:
    paths = schema["paths"]

    assert "post" in paths["/api/auth/token/"]
    assert "post" in paths["/api/imports/"]
    token_request = paths["/api/auth/token/"]["post"]["requestBody"]["content"]
    assert "application/json" in token_request
    # The token endpoint is the one call that needs no credentials.
    assert {} in paths["/api/auth/token/"]["post"].get("security", [{}])


@pytest.mark.django_db
def test_schema_declares_token_and_session_auth(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]

    assert schemes["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }
    assert schemes["cookieAuth"]["in"] == "cookie"


@pytest.mark.django_db
def test_schema_is_served_as_yaml_too(viewer: User) -> None:
    response = signed_in(viewer).get(SCHEMA)

    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3")


@pytest.mark.django_db
def test_schema_needs_a_signed_in_user() -> None:
    response = Client().get(SCHEMA, HTTP_ACCEPT="application/json")

    assert response.status_code == 401
    assert b"openapi" not in response.content


@pytest.mark.django_db
def test_docs_send_a_signed_out_visitor_to_the_login_form() -> None:
    response = Client().get(DOCS)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={DOCS}"


@pytest.mark.django_db
def test_spectacular_command_validates_without_warnings() -> None:
    """`manage.py spectacular --validate --fail-on-warn`: no warning or error in our views."""
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn"],
        cwd=Path(settings.BASE_DIR),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Warning" not in result.stderr
    assert yaml.safe_load(result.stdout)["openapi"].startswith("3")


# --- Swagger UI from our own static files ---------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self._in_script = found.get("src") is None
        for name in ("src", "href"):
            if found.get(name) and tag in {"script", "link", "img", "iframe"}:
                self.urls.append(str(found[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline.append(data)


def is_outside(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://", "//"))


@pytest.mark.django_db
def test_docs_load_swagger_ui_from_this_server_only(viewer: User) -> None:
    client = signed_in(viewer)
    response = client.get(DOCS)
    assert response.status_code == 200
    html = response.content.decode()
    assets = _Assets()
    assets.feed(html)

    assert assets.urls, "the page should load Swagger UI's script and style"
    assert not [url for url in assets.urls if is_outside(url)]
    assert any("swagger-ui-bundle" in url for url in assets.urls)
    assert any(url.endswith(".css") for url in assets.urls)
    for url in assets.urls:  # every asset is really served here
        asset = client.get(url)
        assert asset.status_code == 200, url
        body = b"".join(asset.streaming_content) if asset.streaming else asset.content
        assert body, url


@pytest.mark.django_db
def test_docs_do_not_ask_an_outside_validator(viewer: User) -> None:
    """Swagger UI sends the schema's address to validator.swagger.io unless told not to."""
    client = signed_in(viewer)
    html = client.get(DOCS).content.decode()
    assets = _Assets()
    assets.feed(html)
    scripts = list(assets.inline)
    for url in assets.urls:
        # Our own init script, served separately (?script) so that the page needs no inline one.
        if (url.endswith(".js") or "?script" in url) and "swagger-ui" not in url:
            scripts.append(client.get(url).content.decode())
    init = "\n".join(scripts)

    settings_json = re.search(r"const swaggerSettings = (\{.*?\});", init, re.DOTALL)
    assert settings_json, init[:500]
    assert json.loads(settings_json.group(1))["validatorUrl"] is None
    assert not re.findall(r"https?://", init)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "limit"),
    [("accidents", 100), ("repairs", 100), ("violations", 1000), ("owners", 100)],
)
def test_the_quote_schema_documents_the_limits_the_checker_enforces(
    schema: dict[str, Any], client_for, viewer: User, field: str, limit: int
) -> None:
    """One description per input (valuation/inputs.py FIELDS): the schema's maximum is the
    checker's, so a client reading the schema is never surprised by a 400."""
    documented = schema["components"]["schemas"]["QuoteRequestRequest"]["properties"][field]
    assert documented["maximum"] == limit and documented["minimum"] == 0
    body = {
        "make": "Toyota", "model": "Camry", "year": 2022, "new_price": 200_000,
        "mileage_km": 50_000, "region": "EAST-01", "condition_grade": "B", "accidents": 0,
        "repairs": 0, "violations": 0, "owners": 1, "fuel_type": "petrol",
    }  # fmt: skip
    over = client_for(viewer).post(
        "/api/valuations/quote/", {**body, field: limit + 1}, format="json"
    )
    assert over.status_code == 400 and field in over.json()
    at = client_for(viewer).post("/api/valuations/quote/", {**body, field: limit}, format="json")
    assert field not in (at.json() if at.status_code == 400 else {})  # 503 without a model
