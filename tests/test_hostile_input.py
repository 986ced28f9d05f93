"""No bad input reaches a 500 (issue 14, point 3): every endpoint of the OpenAPI schema gets the
class of inputs that used to, built from the schema so that a new endpoint is covered without
being named here:

- JSON nested past any sensible depth, numbers too large for a float, NaN and Infinity, and NUL
  characters in text, on every endpoint that takes a body;
- NUL characters in every query parameter;
- the ends of the calendar (0001-01-01, 9999-12-31) in every date parameter.

Each must answer a 4xx with a message (or succeed), never a 5xx.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.factories import make_user, token_for
from tests.test_permission_matrix import _fill, _objects

pytestmark = pytest.mark.django_db

NESTED = "[" * 100_000 + "]" * 100_000
HOSTILE_BODIES = {
    "nested": NESTED,
    "nested object": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "huge integer": '{"value": 1' + "0" * 400 + ', "version": 1, "quarter": 1' + "0" * 400 + "}",
    "huge float": '{"value": 1e400, "version": 1}',
    "NaN": '{"value": NaN, "version": 1}',
    "Infinity": '{"value": -Infinity, "version": 1}',
    "long digits": '{"value": ' + "9" * 5000 + "}",
}
CALENDAR_ENDS = ("0001-01-01", "9999-12-31")


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return sorted(
        (method.upper(), path, operation)
        for path, operations in _schema()["paths"].items()
        for method, operation in operations.items()
        if method in {"get", "post", "put", "patch", "delete"}
    )


def _string_fields(operation: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """The text fields of an operation's JSON body (by its schema), or [] when it takes none."""
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].split("/")[-1]]
    properties = body.get("properties", {})
    return [name for name, prop in properties.items() if prop.get("type") == "string"] or ["x"]


@pytest.fixture
def manager_client() -> tuple[APIClient, User]:

    manager = make_user("hostile_manager", "manager")
    client = APIClient(raise_request_exception=False)  # a 500 is an answer to count here
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(manager)}")
    return client, manager


def _send(client: APIClient, method: str, url: str, body: str) -> int:
    return getattr(client, method.lower())(
        url, data=body, content_type="application/json"
    ).status_code


def test_hostile_json_bodies_are_4xx_everywhere(manager_client: tuple[APIClient, User]) -> None:
    client, manager = manager_client
    objects = _objects(manager)
    schema = _schema()
    failures = []
    for method, path, operation in _operations():
        if method == "GET":
            continue
        url = _fill(path, objects)
        bodies = dict(HOSTILE_BODIES)
        for field in _string_fields(operation, schema):
            bodies[f"NUL in {field}"] = json.dumps({field: "a\x00b", "version": 1})
        for name, body in bodies.items():
            status = _send(client, method, url, body)
            if status >= 500:
                failures.append(f"{method} {path} with {name}: {status}")
    # The anonymous token endpoint too.
    assert (
        _send(APIClient(raise_request_exception=False), "POST", "/api/auth/token/", NESTED) == 400
    )
    assert not failures, "\n".join(failures)


def _reads(manager: User) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Every GET of the schema: (path, a URL with real objects, its query parameters)."""
    objects = _objects(manager)
    return [
        (
            path,
            _fill(path, objects),
            [p for p in op.get("parameters", []) if p.get("in") == "query"],
        )
        for method, path, op in _operations()
        if method == "GET"
    ]


def test_nul_in_any_query_parameter_is_400(manager_client: tuple[APIClient, User]) -> None:
    client, manager = manager_client
    failures = []
    for path, url, parameters in _reads(manager):
        for name in [*(p["name"] for p in parameters), "unknown"]:
            answer = client.get(url, {name: "a\x00b"})
            if answer.status_code != 400:
                failures.append(f"GET {path}?{name}=NUL: {answer.status_code}")
    assert not failures, "\n".join(failures)


def test_the_ends_of_the_calendar_in_every_date_parameter(
    manager_client: tuple[APIClient, User],
) -> None:
    client, manager = manager_client
    failures = []
    for path, url, parameters in _reads(manager):
        dated = [p["name"] for p in parameters if p.get("schema", {}).get("format") == "date"]
        for name in dated:
            for value in CALENDAR_ENDS:
                answer = client.get(url, {name: value, "metric": "overdue_rate"})
                if answer.status_code >= 500:
                    failures.append(f"GET {path}?{name}={value}: {answer.status_code}")
    assert not failures, "\n".join(failures)


def test_cr_lf_in_any_query_parameter_never_breaks_a_header(
    manager_client: tuple[APIClient, User],
) -> None:
    """A value that ends up in a download's file name (a region) must not put CR/LF in a
    header: every query parameter of every endpoint, with the CSV format where one is offered."""
    client, manager = manager_client
    failures = []
    for path, url, parameters in _reads(manager):
        formats = next(
            (p["schema"].get("enum", []) for p in parameters if p["name"] == "format"), []
        )
        for parameter in parameters:
            query = {parameter["name"]: "EAST\r\nX-Evil: 1", "metric": "overdue_rate"}
            if "csv" in formats and parameter["name"] != "format":
                query["format"] = "csv"
            answer = client.get(url, query)
            if answer.status_code >= 500:
                failures.append(f"GET {path}?{parameter['name']}=CRLF: {answer.status_code}")
            disposition = answer.get("Content-Disposition", "")
            if "\r" in disposition or "\n" in disposition:
                failures.append(f"GET {path}?{parameter['name']}=CRLF: {disposition!r}")
    assert not failures, "\n".join(failures)


def test_digits_int_refuses_in_any_query_parameter_are_never_a_500(
    manager_client: tuple[APIClient, User],
) -> None:
    """ "²" is a digit to str.isdigit() but not to int(): every query parameter of every GET,
    downloads read to their end (a streamed one fails while it is sent, after its 200)."""
    client, manager = manager_client
    failures = []
    for path, url, parameters in _reads(manager):
        for parameter in [*(p["name"] for p in parameters), "q"]:
            for value in ("²", "#²", "2²"):
                answer = client.get(url, {parameter: value, "metric": "overdue_rate"})
                try:
                    if getattr(answer, "streaming", False):
                        b"".join(answer.streaming_content)
                    status = answer.status_code
                except Exception as exc:  # the failure to report
                    status = f"{type(exc).__name__} while streaming"
                if not isinstance(status, int) or status >= 500:
                    failures.append(f"GET {path}?{parameter}={value}: {status}")
    assert not failures, "\n".join(failures)


def test_a_download_name_keeps_to_safe_characters() -> None:
    from carloan.exports import attachment_header

    assert attachment_header("overdue_rate-EAST\r\nX: 1.csv") == (
        'attachment; filename="overdue_rate-EAST__X__1.csv"'
    )
    assert attachment_header('../../"etc".csv') == 'attachment; filename="etc_.csv"'


PAGES = (
    "/",
    "/metrics/overdue_rate/",
    "/kanban/",
    "/kanban/flow/",
    "/kpi/",
    "/kpi/review/",
    "/parameters/",
    "/valuation/",
    "/imports/",
)


@pytest.mark.parametrize("value", [*CALENDAR_ENDS, "a\x00b", "2026-02-30", "EAST\r\n", "²", "#²"])
def test_pages_take_any_query_value_without_a_500(value: str) -> None:
    from django.test import Client

    from tests.factories import PASSWORD

    user = make_user("hostile_pages", "manager")
    client = Client(raise_request_exception=False)
    assert client.login(username=user.username, password=PASSWORD)
    failures = []
    for page in PAGES:
        for name in ("date", "start", "end", "quarter", "region", "board", "metric", "days", "q"):
            status = client.get(page, {name: value}).status_code
            if status >= 500:
                failures.append(f"{page}?{name}={value!r}: {status}")
    assert not failures, "\n".join(failures)
