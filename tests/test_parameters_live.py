"""Live parameters on the real stack: the cached accessor across processes, and `/ws/parameters/`
through the real ASGI application and the real Redis channel layer, including a change made in
one server process reaching a socket held by another (issue 3, "Done when")."""

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
from django.core.cache import cache
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from carloan.asgi import application
from carloan.parameters.selectors import (
    _cache_keys,
    parameter_cache_invalidate,
    parameter_value,
)
from carloan.parameters.services import parameters_change
from carloan.realtime import CLOSE_UNAUTHENTICATED
from tests.dburl import this_test_database_url
from tests.factories import make_user, token_for

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 5.0
QUIET = 0.5
KEY = "marketing.lead_score_cutoff"


class Rollback(Exception):
    """Raised to roll a transaction back on purpose."""


@pytest.fixture(autouse=True)
def fresh_parameter_cache() -> Iterator[None]:
    parameter_cache_invalidate()
    yield
    parameter_cache_invalidate()


@pytest.fixture(autouse=True)
def layer_prefix() -> Iterator[str]:
    """The real Redis channel layer under a prefix of this test's own."""
    prefix = f"carloan-test-{uuid.uuid4().hex[:12]}"
    base = settings.CHANNEL_LAYERS["default"]
    layers = {"default": {**base, "CONFIG": {**base["CONFIG"], "prefix": prefix}}}
    with override_settings(CHANNEL_LAYERS=layers):
        yield prefix


@pytest.fixture(autouse=True)
async def flush_layer(layer_prefix: str) -> AsyncIterator[None]:
    yield
    await get_channel_layer().flush()


def child_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carloan.settings",
        "DATABASE_URL": this_test_database_url(),
    }


# --- the cached accessor ------------------------------------------------------------------------


def current_version(key: str) -> int:
    from carloan.parameters.selectors import parameter_state

    return parameter_state(key)["version"]


def set_value(user: User, key: str, value: Any) -> None:
    parameters_change(changes={key: (value, current_version(key))}, user=user)


def test_a_warm_read_costs_no_query_and_a_change_is_seen_after_commit(manager: User) -> None:
    assert parameter_value(KEY) == 50  # fills the cache
    with CaptureQueriesContext(connection) as queries:
        assert parameter_value(KEY) == 50
    assert len(queries) == 0

    set_value(manager, KEY, 70)

    assert parameter_value(KEY) == 70


def test_a_rolled_back_change_is_never_seen(manager: User) -> None:
    assert parameter_value(KEY) == 50
    with pytest.raises(Rollback), transaction.atomic():
        set_value(manager, KEY, 70)
        assert parameter_value(KEY) == 70  # the transaction reads its own write
        raise Rollback

    assert parameter_value(KEY) == 50
    _, snapshot_key = _cache_keys()
    cached = cache.get(snapshot_key)
    assert cached is None or cached["values"][KEY] == 50


def test_an_invalidation_lost_to_a_redis_outage_is_paid_before_the_cache_is_trusted(
    manager: User,
) -> None:
    """Redis is down when the change commits, then comes back with the old snapshot: the writing
    process moves the generation token at its next read, so no process serves the old value."""
    assert parameter_value(KEY) == 50  # a snapshot holding 50 is in Redis
    generation_key, _ = _cache_keys()
    before = cache.get(generation_key)
    with sockets.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{closed}/0"}}
    with override_settings(CACHES=down):
        set_value(manager, KEY, 70)  # commits; the token cannot move
        assert parameter_value(KEY) == 70  # read from the database meanwhile
    # Redis is back, still holding the snapshot of 50 under the old token.
    assert cache.get(generation_key) == before

    assert parameter_value(KEY) == 70
    assert cache.get(generation_key) != before  # paid: every process now reads afresh


def test_a_value_read_before_commit_by_others_is_the_old_one(manager: User) -> None:
    """While a change is open, another connection (any process) still reads the old value."""
    import threading

    opened, may_commit = threading.Event(), threading.Event()

    def slow_change() -> None:
        try:
            with transaction.atomic():
                set_value(manager, KEY, 70)
                opened.set()
                assert may_commit.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=slow_change)
    worker.start()
    assert opened.wait(10)
    assert parameter_value(KEY) == 50
    may_commit.set()
    worker.join(10)

    assert parameter_value(KEY) == 70


READER = textwrap.dedent(
    """
    import sys

    import django

    django.setup()
    from carloan.parameters.selectors import parameter_value

    print(parameter_value(sys.argv[1]), flush=True)  # warms the shared cache
    sys.stdin.readline()
    print(parameter_value(sys.argv[1]), flush=True)
    """
)


def test_another_process_sees_a_change_immediately(manager: User) -> None:
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, KEY],
        env=child_env(),
        cwd=settings.BASE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "50"

        set_value(manager, KEY, 70)
        reader.stdin.write("go\n")
        reader.stdin.flush()

        assert reader.stdout.readline().strip() == "70"
    finally:
        reader.kill()
        reader.wait()


# --- the socket ---------------------------------------------------------------------------------


@asynccontextmanager
async def parameters_socket(key: str) -> AsyncIterator[tuple[WebsocketCommunicator, Any]]:
    communicator = WebsocketCommunicator(
        application, "/ws/parameters/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    try:
        snapshot = await communicator.receive_json_from(timeout=WAIT)
        yield communicator, snapshot
    finally:
        await communicator.disconnect()


def api_patch(user: User, key: str, value: Any, version: int) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client.patch(
        f"/api/parameters/{key}/", {"value": value, "version": version}, format="json"
    )


async def test_the_snapshot_comes_first_with_every_parameter_and_pending_request(
    viewer: User, manager: User
) -> None:
    response = await database_sync_to_async(api_patch)(manager, "risk.max_ltv_pct", 75, 1)
    assert response.status_code == 202
    key = await database_sync_to_async(token_for)(viewer)

    async with parameters_socket(key) as (communicator, snapshot):
        assert snapshot["type"] == "parameters.snapshot"
        values = {p["key"]: p for p in snapshot["parameters"]}
        assert values[KEY]["value"] == 50 and values[KEY]["version"] == 1
        assert values["risk.max_ltv_pct"]["pending_requests"] == [response.json()["id"]]
        assert [r["id"] for r in snapshot["requests"]] == [response.json()["id"]]
        assert await communicator.receive_nothing(timeout=QUIET)


async def test_anonymous_sockets_are_closed_with_4401() -> None:
    communicator = WebsocketCommunicator(application, "/ws/parameters/")
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    message = await communicator.receive_output(timeout=WAIT)
    assert message == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_a_patch_reaches_the_socket_as_parameter_changed(viewer: User, manager: User) -> None:
    key = await database_sync_to_async(token_for)(viewer)
    async with parameters_socket(key) as (communicator, _):
        response = await database_sync_to_async(api_patch)(manager, KEY, 65, 1)
        assert response.status_code == 200

        event = await communicator.receive_json_from(timeout=WAIT)

    assert event["type"] == "parameter.changed"
    assert (event["key"], event["value"], event["old_value"], event["version"]) == (KEY, 65, 50, 2)
    assert event["changed_by"] == manager.username
    assert event["changed_at"]
    assert event["action"] == "set"
    assert uuid.UUID(event["change_set"])


async def test_a_preset_sends_one_event_per_key_with_one_change_set(
    viewer: User, manager: User
) -> None:
    def apply() -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(manager)}")
        listed = client.get("/api/parameters/presets/").json()
        versions = next(p["versions"] for p in listed if p["name"] == "emerging_market")
        return client.post(
            "/api/parameters/presets/emerging_market/apply/",
            {"versions": versions},
            format="json",
        ).status_code

    key = await database_sync_to_async(token_for)(viewer)
    async with parameters_socket(key) as (communicator, _):
        assert await database_sync_to_async(apply)() == 200
        events = [await communicator.receive_json_from(timeout=WAIT) for _ in range(3)]
        assert await communicator.receive_nothing(timeout=QUIET)

    assert {e["key"]: e["value"] for e in events} == {
        "strategy.budget.data_platform_pct": 60,
        "strategy.budget.risk_collaboration_pct": 20,
        "strategy.budget.agile_platform_pct": 20,
    }
    assert len({e["change_set"] for e in events}) == 1


async def test_a_refused_or_rolled_back_change_sends_nothing(viewer: User, manager: User) -> None:
    def rolled_back() -> None:
        with pytest.raises(Rollback), transaction.atomic():
            parameters_change(changes={KEY: (70, 1)}, user=manager)
            raise Rollback

    key = await database_sync_to_async(token_for)(viewer)
    async with parameters_socket(key) as (communicator, _):
        bad = await database_sync_to_async(api_patch)(manager, KEY, 500, 1)
        stale = await database_sync_to_async(api_patch)(manager, KEY, 60, 9)
        forbidden = await database_sync_to_async(api_patch)(viewer, KEY, 60, 1)
        await database_sync_to_async(rolled_back)()
        assert [bad.status_code, stale.status_code, forbidden.status_code] == [400, 409, 403]

        assert await communicator.receive_nothing(timeout=QUIET)

        # The socket still works: the next committed change is the next message.
        await database_sync_to_async(api_patch)(manager, KEY, 60, 1)
        event = await communicator.receive_json_from(timeout=WAIT)
    assert (event["value"], event["version"]) == (60, 2)


async def test_requests_are_pushed_when_filed_and_decided(viewer: User, manager: User) -> None:
    boss = await database_sync_to_async(make_user)("bob_boss", "manager")

    def approve(request_id: int) -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(boss)}")
        return client.post(f"/api/parameters/requests/{request_id}/approve/").status_code

    key = await database_sync_to_async(token_for)(viewer)
    async with parameters_socket(key) as (communicator, _):
        filed = await database_sync_to_async(api_patch)(manager, "risk.max_ltv_pct", 75, 1)
        created = await communicator.receive_json_from(timeout=WAIT)
        assert await database_sync_to_async(approve)(filed.json()["id"]) == 200
        changed = await communicator.receive_json_from(timeout=WAIT)
        decided = await communicator.receive_json_from(timeout=WAIT)

    assert created["type"] == "change_request.created"
    assert created["request"]["status"] == "pending"
    assert created["request"]["changes"] == {"risk.max_ltv_pct": 75}
    assert changed["type"] == "parameter.changed"
    assert (changed["key"], changed["value"], changed["action"]) == (
        "risk.max_ltv_pct",
        75,
        "approval",
    )
    assert changed["request"] == filed.json()["id"]
    assert decided["type"] == "change_request.decided"
    assert decided["request"]["status"] == "approved"
    assert decided["request"]["decided_by"] == "bob_boss"


async def test_resync_sends_a_fresh_snapshot(viewer: User, manager: User) -> None:
    key = await database_sync_to_async(token_for)(viewer)
    async with parameters_socket(key) as (communicator, _):
        await database_sync_to_async(api_patch)(manager, KEY, 65, 1)
        await communicator.receive_json_from(timeout=WAIT)

        await communicator.send_json_to({"type": "resync"})
        fresh = await communicator.receive_json_from(timeout=WAIT)

    assert fresh["type"] == "parameters.snapshot"
    assert {p["key"]: p["value"] for p in fresh["parameters"]}[KEY] == 65


# --- two server processes ------------------------------------------------------------------------

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


def free_port() -> int:
    with sockets.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def other_server(layer_prefix: str, db: Any) -> Iterator[str]:
    """Another server process (uvicorn) on the test database and this test's channel layer."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, layer_prefix, str(port)],
        env=child_env(),
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
                raise RuntimeError(
                    f"the other server did not start: {err.decode()[-2000:]}"
                ) from None
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


async def test_a_change_in_this_process_reaches_a_socket_held_by_another(
    other_server: str, viewer: User, manager: User
) -> None:
    from websockets.asyncio.client import connect

    key = await database_sync_to_async(token_for)(viewer)
    async with connect(
        f"ws://{other_server}/ws/parameters/",
        additional_headers={"Authorization": f"Token {key}"},
    ) as remote:
        snapshot = json.loads(await asyncio.wait_for(remote.recv(), WAIT))
        assert snapshot["type"] == "parameters.snapshot"

        response = await database_sync_to_async(api_patch)(manager, KEY, 65, 1)
        assert response.status_code == 200
        event = json.loads(await asyncio.wait_for(remote.recv(), WAIT))

    assert event["type"] == "parameter.changed"
    assert (event["key"], event["value"], event["version"]) == (KEY, 65, 2)
    assert event["changed_by"] == manager.username


async def test_a_change_through_another_process_reaches_a_socket_held_here(
    other_server: str, viewer: User, manager: User
) -> None:
    import urllib.request

    manager_key = await database_sync_to_async(token_for)(manager)
    viewer_key = await database_sync_to_async(token_for)(viewer)

    def remote_patch() -> int:
        request = urllib.request.Request(
            f"http://{other_server}/api/parameters/{KEY}/",
            data=json.dumps({"value": 75, "version": 1, "reason": "remote"}).encode(),
            method="PATCH",
            headers={"Authorization": f"Token {manager_key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=WAIT) as answer:  # noqa: S310 - local
            return int(answer.status)

    async with parameters_socket(viewer_key) as (communicator, _):
        # Warm this process's view of the shared cache first.
        assert await database_sync_to_async(parameter_value)(KEY) == 50
        assert await asyncio.to_thread(remote_patch) == 200

        event = await communicator.receive_json_from(timeout=WAIT)

    assert (event["key"], event["value"], event["reason"]) == (KEY, 75, "remote")
    assert await database_sync_to_async(parameter_value)(KEY) == 75


async def test_every_socket_gets_the_event_and_a_closed_one_leaves_the_relay(
    viewer: User, manager: User
) -> None:
    from carloan.parameters.events import PARAMETERS_GROUP
    from carloan.realtime import relay_of

    key = await database_sync_to_async(token_for)(viewer)
    async with parameters_socket(key) as (first, _), parameters_socket(key) as (second, _):
        relay = relay_of(PARAMETERS_GROUP)
        assert relay is not None
        assert len(relay.outboxes) == 2
        await database_sync_to_async(api_patch)(manager, KEY, 65, 1)
        for communicator in (first, second):
            assert (await communicator.receive_json_from(timeout=WAIT))["value"] == 65

    assert relay.outboxes == {}
