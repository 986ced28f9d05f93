"""`/ws/metrics/` through the real ASGI application and the real Redis channel layer (contract
section 5): the snapshot first, `panel.updated` after samples arrive through the API, alerts
pushed to every dashboard, a threshold change shown at once, and a real Celery worker doing the
refresh."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.test import override_settings
from rest_framework.test import APIClient

from carloan.asgi import application
from carloan.parameters.selectors import parameter_cache_invalidate, parameters_state
from carloan.parameters.services import parameters_change
from metrics.consumers import CLOSE_BAD_VIEW
from metrics.models import MetricValue
from metrics.services import metrics_refresh
from tests.factories import token_for
from tests.test_metrics_support import day, sample

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("relative_modes")]

WAIT = 5.0
QUIET = 0.7
D = "2026-03-31"
P95 = "api_response_time_p95"


@pytest.fixture
def layer_prefix(request: pytest.FixtureRequest) -> Iterator[None]:
    """A channel layer prefix of this test's own (not for the worker test: the worker process
    sends under the settings' prefix)."""
    if request.node.get_closest_marker("worker"):
        yield
        return
    config = settings.CHANNEL_LAYERS["default"]
    prefix = f"carloan-test-{uuid.uuid4().hex[:12]}"
    layers = {"default": {**config, "CONFIG": {**config["CONFIG"], "prefix": prefix}}}
    with override_settings(CHANNEL_LAYERS=layers):
        yield


@pytest.fixture(autouse=True)
async def flush_layer(layer_prefix: None) -> AsyncIterator[None]:
    yield
    await get_channel_layer().flush()


@pytest.fixture(autouse=True)
def fresh_parameter_cache() -> Iterator[None]:
    parameter_cache_invalidate()
    yield
    parameter_cache_invalidate()


@pytest.fixture
def tech_token(tech_head: User) -> str:
    return token_for(tech_head)


@pytest.fixture
def book() -> None:
    """EAST and WEST with API latency in February (baseline 100) and on D (100: ok)."""
    sample("api_response_time", "2026-02-10T10:00", 100, region="EAST")
    sample("api_response_time", "2026-02-10T10:00", 100, region="WEST")
    sample("api_response_time", f"{D}T08:00", 100, region="EAST")
    metrics_refresh(start=day("2026-02-01"), end=day(D))


@asynccontextmanager
async def metrics_socket(token: str, query: str) -> AsyncIterator[tuple[Any, dict[str, Any]]]:
    communicator = WebsocketCommunicator(
        application,
        f"/ws/metrics/?{query}",
        headers=[(b"authorization", f"Token {token}".encode())],
    )
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    try:
        snapshot = await communicator.receive_json_from(timeout=WAIT)
        yield communicator, snapshot
    finally:
        await communicator.disconnect()


def post_samples(token: str, items: list[dict[str, Any]]) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    answer = client.post(
        "/api/metrics/samples/", data=json.dumps(items), content_type="application/json"
    )
    return answer.status_code


async def receive_until(communicator: Any, wanted: Any, timeout: float = WAIT) -> dict[str, Any]:
    """The first message for which `wanted(message)` holds (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "the expected message did not arrive"
        message = await communicator.receive_json_from(timeout=left)
        if wanted(message):
            return message


def p95_update(message: dict[str, Any]) -> bool:
    return message["type"] == "panel.updated" and message["panel"]["key"] == P95


async def test_the_snapshot_comes_first(book: None, tech_token: str) -> None:
    async with metrics_socket(tech_token, f"region=EAST&date={D}") as (_, snapshot):
        assert snapshot["type"] == "panels.snapshot"
        assert (snapshot["region"], snapshot["date"]) == ("EAST", D)
        assert len(snapshot["panels"]) == 14
        p95 = next(p for p in snapshot["panels"] if p["key"] == P95)
        assert (p95["value"], p95["baseline"], p95["status"]) == (100.0, 100.0, "ok")
        assert snapshot["regions"] == ["all", "EAST", "WEST"]
        assert snapshot["alerts"] == []


async def test_a_bad_view_is_closed_with_4400(book: None, tech_token: str) -> None:
    for query in ("region=NOWHERE", "date=31-03-2026", "date=0001-01-01", "date=9999-12-31"):
        communicator = WebsocketCommunicator(
            application,
            f"/ws/metrics/?{query}",
            headers=[(b"authorization", f"Token {tech_token}".encode())],
        )
        connected, _ = await communicator.connect(timeout=WAIT)
        assert connected
        message = await communicator.receive_json_from(timeout=WAIT)
        assert message["type"] == "error"
        closed = await communicator.receive_output(timeout=WAIT)
        assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_BAD_VIEW)


async def test_anonymous_sockets_are_refused() -> None:
    communicator = WebsocketCommunicator(application, "/ws/metrics/")
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    closed = await communicator.receive_output(timeout=WAIT)
    assert closed["code"] == 4401


async def test_samples_from_the_api_update_the_panel_live(
    book: None, tech_token: str, eager_celery: None
) -> None:
    async with (
        metrics_socket(tech_token, f"region=EAST&date={D}") as (east, _),
        metrics_socket(tech_token, f"region=WEST&date={D}") as (west, _),
    ):
        status = await database_sync_to_async(post_samples)(
            tech_token,
            [
                {
                    "metric": "api_response_time",
                    "ts": f"{D}T09:00:00Z",
                    "value": 300,
                    "region": "EAST",
                }
            ],
        )
        assert status == 201

        update = await receive_until(east, p95_update)
        assert (update["region"], update["date"]) == ("EAST", D)
        panel = update["panel"]
        assert panel["value"] == pytest.approx(100 + 0.95 * 200)  # p95 of 100 and 300
        assert panel["status"] == "critical"
        assert panel["series"][-1] == {"date": D, "value": panel["value"]}
        # Alerts (EAST's and all's) go to every dashboard; the EAST panel only to EAST's.
        alerts = [await west.receive_json_from(timeout=WAIT) for _ in range(2)]
        assert {(a["type"], a["alert"]["region"]) for a in alerts} == {
            ("alert.raised", "EAST"),
            ("alert.raised", "all"),
        }
        assert {(a["alert"]["metric"], a["alert"]["level"]) for a in alerts} == {(P95, "critical")}
        assert await west.receive_nothing(timeout=QUIET)


async def test_a_view_message_switches_region_without_reconnecting(
    book: None, tech_token: str, eager_celery: None
) -> None:
    async with metrics_socket(tech_token, f"region=EAST&date={D}") as (socket, _):
        await socket.send_json_to({"type": "view", "region": "WEST", "date": D})
        snapshot = await socket.receive_json_from(timeout=WAIT)
        assert (snapshot["type"], snapshot["region"]) == ("panels.snapshot", "WEST")

        await database_sync_to_async(post_samples)(
            tech_token,
            [
                {
                    "metric": "api_response_time",
                    "ts": f"{D}T09:00:00Z",
                    "value": 90,
                    "region": "WEST",
                }
            ],
        )
        update = await receive_until(socket, p95_update)
        assert update["region"] == "WEST"

        await socket.send_json_to({"type": "view", "region": "NOWHERE"})
        assert (await socket.receive_json_from(timeout=WAIT))["type"] == "error"


def change_threshold(manager: User, key: str, value: float) -> None:
    version = parameters_state([key])[0]["version"]
    parameters_change(changes={key: (value, version)}, user=manager)


async def test_a_threshold_change_shows_at_once(
    book: None, tech_token: str, manager: User, eager_celery: None
) -> None:
    async with metrics_socket(tech_token, f"region=EAST&date={D}") as (socket, _):
        await database_sync_to_async(change_threshold)(manager, f"alert.{P95}.warn_pct", 3)

        update = await receive_until(socket, p95_update)
        assert update["panel"]["warn_pct"] == 3.0
        assert update["panel"]["status"] == "ok"  # 0 % from the baseline


@pytest.mark.worker
def test_the_worker_recomputes_samples_posted_to_the_api(
    celery_worker_process: str,
    book: None,
    tech_token: str,
) -> None:
    items = [{"metric": "availability", "ts": f"{D}T09:00:00Z", "value": 1, "region": "EAST"}]
    assert post_samples(tech_token, items) == 201

    deadline = time.monotonic() + 30
    found = None
    while found is None and time.monotonic() < deadline:
        time.sleep(0.2)
        found = (
            MetricValue.objects.filter(metric="availability", region="EAST", day=day(D))
            .values_list("value", flat=True)
            .first()
        )
    assert found == 100.0, "the worker did not recompute the samples' day in 30 s"


@pytest.mark.worker
def test_a_burst_of_samples_ends_exact_through_the_gathered_refresh(
    celery_worker_process: str,
    book: None,
    tech_token: str,
) -> None:
    """Twenty batches in quick succession, as monitoring agents send them: the worker gathers
    them (one pending refresh at a time) and the day ends exactly as all twenty say."""
    from metrics.models import PendingRefresh

    for n in range(20):
        # batch n: one sample up (1) and one down (0) for odd n, so 30 up of 40 in the end
        items = [
            {"metric": "availability", "ts": f"{D}T09:{n:02d}:00Z", "value": 1, "region": "EAST"},
            {
                "metric": "availability",
                "ts": f"{D}T10:{n:02d}:00Z",
                "value": n % 2,
                "region": "EAST",
            },
        ]
        assert post_samples(tech_token, items) == 201

    deadline = time.monotonic() + 30
    found = None
    while time.monotonic() < deadline:
        time.sleep(0.2)
        found = (
            MetricValue.objects.filter(metric="availability", region="EAST", day=day(D))
            .values_list("value", flat=True)
            .first()
        )
        if found == 75.0 and not PendingRefresh.objects.exists():
            break
    assert found == 75.0, "the worker did not end on all twenty batches in 30 s"
    assert not PendingRefresh.objects.exists()
