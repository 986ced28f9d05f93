"""`/ws/kanban/{board_id}/` through the real ASGI application and the real Redis channel layer:
who may subscribe (4401, 4403), the snapshot first, events after commit only with the board's
sequence numbers, resync, several sockets of one process, and another server process."""

from __future__ import annotations

import asyncio
import json
import os
import socket as sockets
import subprocess
import sys
import textwrap
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
from carloan.realtime import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from kanban.events import CardData
from kanban.models import Board, Column
from tests.dburl import this_test_database_url
from tests.factories import make_user, token_for
from tests.test_kanban_support import column, lane, new_card, shared_board

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 5.0
QUIET = 0.5


@pytest.fixture(autouse=True)
def layer_prefix() -> Iterator[str]:
    """The real Redis channel layer under a prefix of this test's own."""
    prefix = f"carloan-test-{uuid.uuid4().hex[:12]}"
    base = settings.CHANNEL_LAYERS["default"]
    assert base["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    layers = {"default": {**base, "CONFIG": {**base["CONFIG"], "prefix": prefix}}}
    with override_settings(CHANNEL_LAYERS=layers):
        yield prefix


@pytest.fixture(autouse=True)
async def flush_layer(layer_prefix: str) -> AsyncIterator[None]:
    yield
    await get_channel_layer().flush()


@pytest.fixture
def board(db: Any) -> Board:
    return shared_board()


def headers(key: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Token {key}".encode())]


@asynccontextmanager
async def board_socket(user: User, board_id: int) -> AsyncIterator[tuple[Any, dict[str, Any]]]:
    key = await database_sync_to_async(token_for)(user)
    communicator = WebsocketCommunicator(
        application, f"/ws/kanban/{board_id}/", headers=headers(key)
    )
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    try:
        snapshot = await communicator.receive_json_from(timeout=WAIT)
        assert snapshot["type"] == "board.snapshot"
        yield communicator, snapshot
    finally:
        await communicator.disconnect()


async def closed_with(communicator: WebsocketCommunicator) -> int:
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    message = await communicator.receive_output(timeout=WAIT)
    assert message["type"] == "websocket.close"
    return int(message["code"])


def api(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def api_move(user: User, card_id: int, department: str, name: str, version: int) -> Any:
    board = shared_board()
    return api(user).post(
        f"/api/kanban/cards/{card_id}/move/",
        {
            "lane": lane(board, department).pk,
            "column": column(board, name).pk,
            "position": 0,
            "version": version,
        },
        format="json",
    )


# --- who may subscribe -----------------------------------------------------------------------


async def test_anonymous_sockets_are_closed_with_4401(board: Board) -> None:
    communicator = WebsocketCommunicator(application, f"/ws/kanban/{board.pk}/")
    assert await closed_with(communicator) == CLOSE_UNAUTHENTICATED


async def test_a_board_one_may_not_see_is_refused_with_4403(viewer: User) -> None:
    def private() -> int:
        shared_board()
        return Board.objects.create(
            name="Collections", slug="collections", visibility="departments", departments=["risk"]
        ).pk

    board_id = await database_sync_to_async(private)()
    key = await database_sync_to_async(token_for)(viewer)
    for url in (f"/ws/kanban/{board_id}/", "/ws/kanban/987654/"):
        communicator = WebsocketCommunicator(application, url, headers=headers(key))
        assert await closed_with(communicator) == CLOSE_FORBIDDEN
    risk = await database_sync_to_async(make_user)("rosa_risk", "department_head", "risk")
    async with board_socket(risk, board_id) as (_, snapshot):
        assert snapshot["id"] == board_id


# --- snapshot, events, seq -------------------------------------------------------------------


async def test_the_snapshot_comes_first_then_each_change_with_the_next_seq(
    board: Board, viewer: User, marketing_head: User, risk_head: User
) -> None:
    card = await database_sync_to_async(new_card)(marketing_head, "Lead 7 appraisal")
    async with board_socket(viewer, board.pk) as (communicator, snapshot):
        assert snapshot["seq"] == 1
        assert [c["title"] for c in snapshot["cards"]] == ["Lead 7 appraisal"]
        assert {lane["department"] for lane in snapshot["lanes"]} == {"marketing", "risk", "tech"}

        answer = await database_sync_to_async(api_move)(
            marketing_head, card["id"], "risk", "Waiting for another department", 1
        )
        assert answer.status_code == 200
        moved = await communicator.receive_json_from(timeout=WAIT)
        assert (moved["type"], moved["seq"], moved["version"], moved["handoff"]) == (
            "card.moved",
            2,
            2,
            True,
        )
        # The event carries the card as the API answered it (ages aside, taken moments apart).
        ageless = {"age_days", "warnings", "handoff", "rebalanced"}
        assert {k: v for k, v in moved["card"].items() if k not in ageless} == {
            k: v for k, v in answer.json().items() if k not in ageless
        }

        patched = await database_sync_to_async(
            lambda: api(risk_head).patch(
                f"/api/kanban/cards/{card['id']}/", {"version": 2, "title": "x"}, format="json"
            )
        )()
        assert patched.status_code == 200
        updated = await communicator.receive_json_from(timeout=WAIT)
        assert (updated["type"], updated["seq"], updated["card"]["title"]) == (
            "card.updated",
            3,
            "x",
        )

        deleted = await database_sync_to_async(
            lambda: api(risk_head).delete(f"/api/kanban/cards/{card['id']}/")
        )()
        assert deleted.status_code == 200
        gone = await communicator.receive_json_from(timeout=WAIT)
        assert (gone["type"], gone["seq"], gone["card"]["archived"]) == ("card.deleted", 4, True)


async def test_a_refused_or_stale_change_sends_nothing(
    board: Board, viewer: User, marketing_head: User
) -> None:
    def hard_limit() -> CardData:
        Column.objects.filter(board=board, name="Review").update(wip_limit=0, wip_policy="hard")
        return new_card(marketing_head, "Blocked")

    card = await database_sync_to_async(hard_limit)()
    async with board_socket(viewer, board.pk) as (communicator, snapshot):
        refused = await database_sync_to_async(api_move)(
            marketing_head, card["id"], "marketing", "Review", 1
        )
        assert refused.status_code == 400
        stale = await database_sync_to_async(api_move)(
            marketing_head, card["id"], "marketing", "In progress", 5
        )
        assert stale.status_code == 409
        assert await communicator.receive_nothing(timeout=QUIET)
        ok = await database_sync_to_async(api_move)(
            marketing_head, card["id"], "marketing", "In progress", 1
        )
        assert ok.status_code == 200
        event = await communicator.receive_json_from(timeout=WAIT)
        assert event["seq"] == snapshot["seq"] + 1  # refused changes gave their number back


async def test_resync_sends_a_fresh_snapshot_with_the_current_seq(
    board: Board, viewer: User, marketing_head: User
) -> None:
    async with board_socket(viewer, board.pk) as (communicator, snapshot):
        assert snapshot["seq"] == 0 and snapshot["cards"] == []
        await database_sync_to_async(new_card)(marketing_head, "Missed one")
        created = await communicator.receive_json_from(timeout=WAIT)
        assert created["seq"] == 1
        # A client that saw a gap asks for the state again.
        await communicator.send_json_to({"type": "resync"})
        fresh = await communicator.receive_json_from(timeout=WAIT)
    assert fresh["type"] == "board.snapshot"
    assert fresh["seq"] == 1
    assert [c["title"] for c in fresh["cards"]] == ["Missed one"]


async def test_every_socket_of_the_process_gets_each_event_once(
    board: Board, viewer: User, risk_head: User, marketing_head: User
) -> None:
    async with (
        board_socket(viewer, board.pk) as (first, _),
        board_socket(risk_head, board.pk) as (second, _),
        board_socket(marketing_head, board.pk) as (third, _),
    ):
        await database_sync_to_async(new_card)(marketing_head, "Everyone sees this")
        for communicator in (first, second, third):
            event = await communicator.receive_json_from(timeout=WAIT)
            assert event["type"] == "card.created"
            assert await communicator.receive_nothing(timeout=0.2)
    # The last socket gone, a new one still gets events (the board's relay starts again).
    async with board_socket(viewer, board.pk) as (again, _):
        await database_sync_to_async(new_card)(marketing_head, "And this")
        assert (await again.receive_json_from(timeout=WAIT))["card"]["title"] == "And this"


# --- two server processes --------------------------------------------------------------------

SERVER = textwrap.dedent(
    """
    import sys

    import django
    from django.conf import settings

    django.setup()
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = sys.argv[1]

    import uvicorn

    from carloan.asgi import application

    uvicorn.run(application, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
    """
)


def _free_port() -> int:
    with sockets.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def other_server(layer_prefix: str, db: Any) -> Iterator[str]:
    """Another server process (uvicorn) on the test database and this test's channel layer."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carloan.settings",
        "DATABASE_URL": this_test_database_url(),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, layer_prefix, str(port)],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            sockets.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                _, err = process.communicate()
                message = f"the other server did not start: {err.decode()[-2000:]}"
                raise RuntimeError(message) from None
            time.sleep(0.1)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_a_move_here_reaches_a_socket_held_by_another_process(
    other_server: str, board: Board, viewer: User, marketing_head: User
) -> None:
    from websockets.asyncio.client import connect

    card = await database_sync_to_async(new_card)(marketing_head, "Cross-process")
    key = await database_sync_to_async(token_for)(viewer)
    async with connect(
        f"ws://{other_server}/ws/kanban/{board.pk}/",
        additional_headers={"Authorization": f"Token {key}"},
    ) as remote:
        snapshot = json.loads(await asyncio.wait_for(remote.recv(), WAIT))
        assert snapshot["type"] == "board.snapshot" and snapshot["seq"] == 1
        answer = await database_sync_to_async(api_move)(
            marketing_head, card["id"], "tech", "In progress", 1
        )
        assert answer.status_code == 200
        event = json.loads(await asyncio.wait_for(remote.recv(), WAIT))
    assert (event["type"], event["seq"], event["card"]["id"]) == ("card.moved", 2, card["id"])
