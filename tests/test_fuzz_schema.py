"""Fuzzing (issue 8): schemathesis against the project's own OpenAPI schema.

Every operation of the schema is called with examples generated from the schema (bounded:
FUZZ_EXAMPLES per operation, 15 by default), in-process through Django's WSGI handler, as a
manager (who may call everything). Each answer must not be a 5xx, must have a status code the
schema documents for that operation, and must match the documented content type and body schema.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))


def _own_schema() -> dict[str, Any]:
    """The schema /api/schema/ serves, as JSON (drf-spectacular, no request needed)."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw, renderer_context={}))


# The edge values that used to reach a 500 (issue 14), beside ordinary ones: every date the
# fuzzer writes may be one of the calendar's ends, which the input layer must refuse with a 400.
schemathesis.openapi.format(
    "date",
    st.one_of(
        st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)).map(date.isoformat),
        st.sampled_from(["0001-01-01", "9999-12-31"]),
    ),
)

schema = schemathesis.openapi.from_dict(_own_schema())
schema.app = get_wsgi_application()
schema.config.generation.update(modes=[GenerationMode.POSITIVE])

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Known mismatches in code still being written by others (reported, not fixed here): these
# operations are still fuzzed for 5xx, undocumented statuses and content types, but their
# bodies are not yet checked against the schema.
#  - KPI quarters/review: a bad `quarter` answers 400 {"quarter": [...]} where the schema
#    documents {"detail": "..."};
#  - KPI trends: a bad `quarters` answers 400 with a bare list of messages.
BODY_NOT_YET_CONFORMING = {
    "GET /api/kpi/quarters/{quarter}/",
    "POST /api/kpi/quarters/{quarter}/close/",
    "POST /api/kpi/quarters/{quarter}/reopen/",
    "GET /api/kpi/review/",
    "GET /api/kpi/trends/",
}


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Django closes the database connection at the end of every request; in a test that would
    close the test's transaction under it. Django's own test client detaches the same handler."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def manager_headers(db: Any, keep_test_connection: None) -> dict[str, str]:

    from tests.factories import make_user, token_for

    user = make_user("fuzz_manager", "manager")
    return {"Authorization": f"Token {token_for(user)}"}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    derandomize=True,
)
def test_api_answers_as_documented(case: Any, manager_headers: dict[str, str]) -> None:
    response = case.call(headers=manager_headers)
    checks = CHECKS
    if case.operation.label in BODY_NOT_YET_CONFORMING:
        checks = [check for check in CHECKS if check is not response_schema_conformance]
    case.validate_response(response, checks=checks)
