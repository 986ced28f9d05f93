"""`/ws/compliance/` through the real ASGI application and the real Redis channel layer: the
snapshot first, then a manager's parameter change reaching an open page as `script.updated`
(approved → needs_review) the moment it is saved, and a flagged call arriving live."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from carloan.asgi import application
from carloan.parameters.selectors import parameter_cache_invalidate
from tests.factories import make_user, token_for

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 5.0


@pytest.fixture(autouse=True)
def layer_prefix() -> Iterator[str]:
    prefix = f"carloan-test-{uuid.uuid4().hex[:12]}"
    base = settings.CHANNEL_LAYERS["default"]
    layers = {"default": {**base, "CONFIG": {**base["CONFIG"], "prefix": prefix}}}
    parameter_cache_invalidate()
    with override_settings(CHANNEL_LAYERS=layers):
        yield prefix
    parameter_cache_invalidate()


@pytest.fixture(autouse=True)
async def flush_layer(layer_prefix: str) -> AsyncIterator[None]:
    yield
    await get_channel_layer().flush()


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


async def _until(communicator: WebsocketCommunicator, wanted: str) -> dict[str, Any]:
    while True:
        message = await communicator.receive_json_from(timeout=WAIT)
        if message["type"] == wanted:
            return message


async def test_a_parameter_change_reaches_an_open_page_as_needs_review() -> None:
    marketing = await database_sync_to_async(make_user)("live_mkt", "department_head", "marketing")
    risk = await database_sync_to_async(make_user)("live_risk", "department_head", "risk")
    manager = await database_sync_to_async(make_user)("live_mgr", "manager")
    viewer = await database_sync_to_async(make_user)("live_viewer", "viewer")

    def approved_script() -> dict[str, Any]:
        _client(manager).patch(
            "/api/parameters/marketing.max_promo_discount_pct/",
            {"value": 10, "version": 1},
            format="json",
        )
        created = (
            _client(marketing)
            .post(
                "/api/compliance/scripts/",
                {"title": "九折", "channel": "sms", "text": "服务费九折，年化利率6%。"},
                format="json",
            )
            .json()
        )
        submitted = (
            _client(marketing)
            .patch(
                f"/api/compliance/scripts/{created['id']}/",
                {"version": created["version"], "state": "in_review"},
                format="json",
            )
            .json()
        )
        answer = _client(risk).patch(
            f"/api/compliance/scripts/{created['id']}/",
            {"version": submitted["version"], "state": "approved"},
            format="json",
        )
        assert answer.status_code == 200, answer.json()
        return answer.json()

    script = await database_sync_to_async(approved_script)()
    token = await database_sync_to_async(lambda: token_for(viewer))()
    communicator = WebsocketCommunicator(
        application, "/ws/compliance/", headers=[(b"authorization", f"Token {token}".encode())]
    )
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    try:
        snapshot = await communicator.receive_json_from(timeout=WAIT)
        assert snapshot["type"] == "compliance.snapshot"
        assert [(s["id"], s["state"]) for s in snapshot["scripts"]] == [(script["id"], "approved")]

        def tighten() -> Any:
            return _client(manager).patch(
                "/api/parameters/marketing.max_promo_discount_pct/",
                {"value": 5, "version": 2},
                format="json",
            )

        answer = await database_sync_to_async(tighten)()
        assert answer.status_code == 200, answer.json()
        event = await _until(communicator, "script.updated")
        assert event["script"]["id"] == script["id"]
        assert event["script"]["state"] == "needs_review"
        assert [f["category"] for f in event["script"]["findings"]] == ["excess_discount"]
        figures = await _until(communicator, "figures.updated")
        assert figures["figures"]["script_discrepancy_rate"] == 100.0

        def post_call() -> Any:
            return _client(risk).post(
                "/api/compliance/calls/",
                {
                    "call_id": "LIVE-1",
                    "started_at": "2026-11-05T10:00:00+08:00",
                    "region": "EAST-01",
                    "agent": "agent_live",
                    "transcript": "坐席：不查征信，当天放款。",
                },
                format="json",
            )

        assert (await database_sync_to_async(post_call)()).status_code == 201
        checked = await _until(communicator, "call.checked")
        assert checked["call"]["call_id"] == "LIVE-1"
        assert checked["call"]["flagged"] is True
    finally:
        await communicator.disconnect()


async def test_a_stranger_is_refused() -> None:
    communicator = WebsocketCommunicator(application, "/ws/compliance/")
    connected, _ = await communicator.connect(timeout=WAIT)
    if connected:
        closed = await communicator.receive_output(timeout=WAIT)
        assert closed["type"] == "websocket.close"
        assert closed["code"] == 4401
    await communicator.disconnect()
