"""The realtime plumbing through the real ASGI application and the real Redis channel layer.

Contract section 5: sockets authenticate with the session cookie or an `Authorization: Token`
header, anyone else is closed with 4401, a foreign Origin is refused, the snapshot comes first,
and events are sent after commit to every client of every server process.
"""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import path

from carloan.asgi import application
from carloan.events import IMPORTS_GROUP, import_event
from carloan.models import ImportRun
from carloan.realtime import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    LiveConsumer,
    broadcast,
    origin_allowed,
    socket_application,
)
from tests.dburl import this_test_database_url
from tests.factories import make_user, token_for

pytestmark = pytest.mark.django_db(transaction=True)

Headers = list[tuple[bytes, bytes]]
WAIT = 3.0  # seconds to wait for a message that must come
QUIET = 0.5  # seconds of silence that prove a message does not come


class Rollback(Exception):
    """Raised to roll a transaction back on purpose."""


@pytest.fixture(autouse=True)
def layer_prefix() -> Iterator[str]:
    """The real Redis channel layer, under a prefix of this test's own: tests running at the same
    time (here or in another checkout) never see each other's messages."""
    prefix = f"carloan-test-{uuid.uuid4().hex[:12]}"
    layers = {
        "default": {
            **settings.CHANNEL_LAYERS["default"],
            "CONFIG": {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": prefix},
        }
    }
    assert layers["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    with override_settings(CHANNEL_LAYERS=layers):
        yield prefix


@pytest.fixture(autouse=True)
async def flush_layer(layer_prefix: str) -> AsyncIterator[None]:
    yield
    await get_channel_layer().flush()  # deletes only keys under this test's prefix


@pytest.fixture
def viewer_token(viewer: User) -> str:
    return token_for(viewer)


@pytest.fixture
def deactivated_token(viewer: User) -> str:
    key = token_for(viewer)
    viewer.is_active = False
    viewer.save()
    return key


@pytest.fixture
def viewer_session_cookie(viewer: User) -> bytes:
    """The cookie header of a browser signed in as `viewer` (a real session in the database)."""
    browser = Client()
    browser.force_login(viewer)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={browser.cookies[name].value}".encode()


def token_headers(key: str) -> Headers:
    return [(b"authorization", f"Token {key}".encode())]


@asynccontextmanager
async def socket(headers: Headers, url: str = "/ws/imports/") -> AsyncIterator[Any]:
    """A connected, accepted socket whose snapshot has been checked and read."""
    communicator = WebsocketCommunicator(application, url, headers=headers)
    connected, _ = await communicator.connect(timeout=WAIT)
    try:
        assert connected
        snapshot = await communicator.receive_json_from(timeout=WAIT)
        assert snapshot["type"] == "imports.snapshot"
        yield communicator
    finally:
        await communicator.disconnect()


async def closed_with(communicator: WebsocketCommunicator) -> int:
    """The close code a client sees: accepted, then closed (so the code reaches the browser)."""
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected, "the handshake must complete for the client to see the close code"
    message = await communicator.receive_output(timeout=WAIT)
    assert message["type"] == "websocket.close"
    return int(message["code"])


def committed_import(file_name: str) -> int:
    """What an import does: store the run and broadcast it, in one transaction."""
    with transaction.atomic():
        run = ImportRun.objects.create(kind="loans", file_name=file_name, status="succeeded")
        broadcast(IMPORTS_GROUP, import_event(run, "import.completed"))
    return run.id


def rolled_back_import(file_name: str) -> None:
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(kind="loans", file_name=file_name, status="succeeded")
            broadcast(IMPORTS_GROUP, import_event(run, "import.completed"))
            raise Rollback
    except Rollback:
        pass


# --- who may connect ------------------------------------------------------------------------


async def test_anonymous_socket_is_closed_with_4401() -> None:
    communicator = WebsocketCommunicator(application, "/ws/imports/")

    assert await closed_with(communicator) == CLOSE_UNAUTHENTICATED
    await communicator.wait()


async def test_unknown_token_is_closed_with_4401() -> None:
    communicator = WebsocketCommunicator(
        application, "/ws/imports/", headers=token_headers("not-a-token")
    )

    assert await closed_with(communicator) == CLOSE_UNAUTHENTICATED


async def test_token_of_a_deactivated_user_is_closed_with_4401(deactivated_token: str) -> None:
    communicator = WebsocketCommunicator(
        application, "/ws/imports/", headers=token_headers(deactivated_token)
    )

    assert await closed_with(communicator) == CLOSE_UNAUTHENTICATED


async def test_token_header_is_accepted_and_the_snapshot_comes_first(viewer_token: str) -> None:
    run_id = await database_sync_to_async(committed_import)("before.csv")
    communicator = WebsocketCommunicator(
        application, "/ws/imports/", headers=token_headers(viewer_token)
    )

    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    first = await communicator.receive_json_from(timeout=WAIT)
    assert first["type"] == "imports.snapshot"
    assert [run["id"] for run in first["imports"]] == [run_id]
    assert first["imports"][0]["file_name"] == "before.csv"
    # An event from before the connection is in the snapshot, not sent again.
    assert await communicator.receive_nothing(timeout=QUIET)
    await communicator.disconnect()


async def test_session_cookie_is_accepted(viewer_session_cookie: bytes) -> None:
    async with socket([(b"cookie", viewer_session_cookie), (b"origin", b"http://localhost")]):
        pass


@pytest.mark.parametrize(
    ("url", "snapshot"),
    [("/ws/imports/", "imports.snapshot"), ("/ws/parameters/", "parameters.snapshot")],
)
async def test_signing_out_closes_the_sessions_sockets_and_no_others(
    viewer: User, url: str, snapshot: str
) -> None:
    """Sign-out ends the session everywhere: its open sockets (whatever the page) are closed
    with 4401 at once; a socket of the same person's API token stays."""
    browser = Client()
    await database_sync_to_async(browser.force_login)(viewer)
    name = settings.SESSION_COOKIE_NAME
    cookie = f"{name}={browser.cookies[name].value}".encode()
    token = await database_sync_to_async(lambda: token_for(viewer))()
    session_socket = WebsocketCommunicator(
        application, url, headers=[(b"cookie", cookie), (b"origin", b"http://localhost")]
    )
    assert (await session_socket.connect(timeout=WAIT))[0]
    assert (await session_socket.receive_json_from(timeout=WAIT))["type"] == snapshot

    async with socket(token_headers(token)) as token_socket:
        signed_out = await database_sync_to_async(browser.post)("/logout/")
        assert signed_out.status_code == 302

        closed = await session_socket.receive_output(timeout=WAIT)
        assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_UNAUTHENTICATED)
        await token_socket.send_json_to({"type": "ping"})
        assert await token_socket.receive_json_from(timeout=WAIT) == {"type": "pong"}
    # And the cookie no longer opens one.
    again = WebsocketCommunicator(application, url, headers=[(b"cookie", cookie)])
    assert await closed_with(again) == CLOSE_UNAUTHENTICATED


async def test_session_cookie_that_is_not_a_session_is_closed_with_4401() -> None:
    headers = [(b"cookie", f"{settings.SESSION_COOKIE_NAME}=forged".encode())]
    communicator = WebsocketCommunicator(application, "/ws/imports/", headers=headers)

    assert await closed_with(communicator) == CLOSE_UNAUTHENTICATED


# --- origin ---------------------------------------------------------------------------------


async def test_foreign_origin_is_refused_at_the_handshake(viewer_token: str) -> None:
    headers = [*token_headers(viewer_token), (b"origin", b"http://evil.example")]
    communicator = WebsocketCommunicator(application, "/ws/imports/", headers=headers)

    connected, code = await communicator.connect(timeout=WAIT)

    assert not connected
    assert code == CLOSE_FORBIDDEN


@pytest.mark.parametrize(
    "origin",
    ["http://localhost", "http://127.0.0.1:8000", "https://localhost:8443", "http://[::1]"],
)
async def test_our_own_origin_is_accepted(viewer_token: str, origin: str) -> None:
    async with socket([*token_headers(viewer_token), (b"origin", origin.encode())]):
        pass


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # not a browser
        ("http://localhost:8000", True),
        ("http://127.0.0.1", True),
        ("http://[::1]:8000", True),
        ("http://evil.example", False),
        ("http://localhost.evil.example", False),
        ("http://127.0.0.1.evil.example", False),
        ("null", False),  # sandboxed iframes and file:// pages
        ("", False),
        ("http://[::1", False),  # malformed
    ],
)
def test_origin_allowed(origin: str | None, allowed: bool) -> None:
    assert origin_allowed(origin) is allowed


@override_settings(ALLOWED_HOSTS=["kpi.lender.example"])
def test_origin_follows_allowed_hosts() -> None:
    assert origin_allowed("https://kpi.lender.example")
    assert not origin_allowed("http://localhost")


# --- after connecting -----------------------------------------------------------------------


async def test_resync_sends_a_fresh_snapshot(viewer_token: str) -> None:
    async with socket(token_headers(viewer_token)) as communicator:
        # A row that appears without an event (e.g. while the client was away).
        run = await database_sync_to_async(ImportRun.objects.create)(
            kind="leads", file_name="quiet.csv", status="succeeded"
        )
        await communicator.send_json_to({"type": "resync"})

        fresh = await communicator.receive_json_from(timeout=WAIT)

    assert fresh["type"] == "imports.snapshot"
    assert [r["id"] for r in fresh["imports"]] == [run.id]


async def test_ping_is_answered_and_garbage_is_ignored(viewer_token: str) -> None:
    async with socket(token_headers(viewer_token)) as communicator:
        # A frame that is not JSON, or that no request may carry, is answered with an error
        # message, and the socket stays open.
        for bad in ("{not json", "[" * 10_000 + "]" * 10_000, '{"type": "x\\u0000"}', "NaN"):
            await communicator.send_to(text_data=bad)
            answer = await communicator.receive_json_from(timeout=WAIT)
            assert answer["type"] == "error" and answer["detail"], bad
        await communicator.send_to(bytes_data=b"\x00\x01")
        await communicator.send_json_to({"type": "no.such.thing"})
        await communicator.send_json_to(["not", "an", "object"])
        assert await communicator.receive_nothing(timeout=QUIET)

        await communicator.send_json_to({"type": "ping"})

        assert await communicator.receive_json_from(timeout=WAIT) == {"type": "pong"}


async def test_broadcast_in_a_committed_transaction_arrives(viewer_token: str) -> None:
    async with socket(token_headers(viewer_token)) as communicator:
        run_id = await database_sync_to_async(committed_import)("committed.csv")

        event = await communicator.receive_json_from(timeout=WAIT)

    assert event["type"] == "import.completed"
    assert event["run"]["id"] == run_id
    assert event["run"]["file_name"] == "committed.csv"


async def test_broadcast_in_a_rolled_back_transaction_never_arrives(viewer_token: str) -> None:
    async with socket(token_headers(viewer_token)) as communicator:
        await database_sync_to_async(rolled_back_import)("rolled-back.csv")
        assert await communicator.receive_nothing(timeout=QUIET)

        # The socket still works: the next committed change is the next message.
        await database_sync_to_async(committed_import)("after.csv")
        event = await communicator.receive_json_from(timeout=WAIT)

    assert event["run"]["file_name"] == "after.csv"


async def test_broadcast_waits_for_the_outer_transaction(viewer_token: str) -> None:
    """Nothing is sent while the transaction is still open, even from a nested block."""
    inner_block_done = threading.Event()
    may_commit = threading.Event()

    def import_in_two_steps() -> None:
        # A thread of its own, like another request: the consumer's event loop stays free (the
        # shared thread of database_sync_to_async would hold up the consumer too).
        try:
            with transaction.atomic():
                with transaction.atomic():
                    run = ImportRun.objects.create(
                        kind="loans", file_name="slow.csv", status="succeeded"
                    )
                    broadcast(IMPORTS_GROUP, import_event(run, "import.completed"))
                inner_block_done.set()
                assert may_commit.wait(timeout=10)
        finally:
            connection.close()

    async with socket(token_headers(viewer_token)) as communicator:
        worker = asyncio.ensure_future(asyncio.to_thread(import_in_two_steps))
        assert await asyncio.to_thread(inner_block_done.wait, 10)
        assert await communicator.receive_nothing(timeout=QUIET)
        may_commit.set()
        await worker

        event = await communicator.receive_json_from(timeout=WAIT)

    assert event["run"]["file_name"] == "slow.csv"


async def test_every_socket_in_the_group_gets_the_event(viewer_token: str, manager: User) -> None:
    manager_key = await database_sync_to_async(lambda: token_for(manager))()
    async with (
        socket(token_headers(viewer_token)) as first,
        socket(token_headers(manager_key)) as second,
    ):
        await database_sync_to_async(committed_import)("both.csv")

        for communicator in (first, second):
            event = await communicator.receive_json_from(timeout=WAIT)
            assert event["run"]["file_name"] == "both.csv"


async def test_a_closed_socket_leaves_its_group(viewer_token: str) -> None:
    async with socket(token_headers(viewer_token)):
        pass
    layer = get_channel_layer()
    members = await layer.connection(0).zcard(layer._group_key(IMPORTS_GROUP))

    assert members == 0


# --- every server process -------------------------------------------------------------------

OTHER_PROCESS = textwrap.dedent(
    """
    import sys

    import django
    from django.conf import settings

    django.setup()
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = sys.argv[1]

    from django.db import transaction

    from carloan.events import IMPORTS_GROUP, import_event
    from carloan.models import ImportRun
    from carloan.realtime import broadcast, broadcast_now_outside_transaction

    try:
        with transaction.atomic():
            broadcast(IMPORTS_GROUP, {"type": "import.completed", "run": {"id": -1}})
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    with transaction.atomic():
        run = ImportRun.objects.create(kind="loans", file_name="elsewhere.csv", status="succeeded")
        broadcast(IMPORTS_GROUP, import_event(run, "import.completed"))
    broadcast_now_outside_transaction(IMPORTS_GROUP, {"type": "import.progress", "done": 1})
    print(run.id)
    """
)


async def test_an_event_from_another_server_process_arrives(
    viewer_token: str, layer_prefix: str
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carloan.settings",
        "DATABASE_URL": await database_sync_to_async(this_test_database_url)(),
    }
    async with socket(token_headers(viewer_token)) as communicator:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            OTHER_PROCESS,
            layer_prefix,
            env=env,
            cwd=settings.BASE_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, err.decode()
        run_id = int(out.decode().split()[-1])

        completed = await communicator.receive_json_from(timeout=WAIT)
        progress = await communicator.receive_json_from(timeout=WAIT)
        assert await communicator.receive_nothing(timeout=QUIET)

        # The other process's row is committed: a resync sees it.
        await communicator.send_json_to({"type": "resync"})
        snapshot = await communicator.receive_json_from(timeout=WAIT)

    assert completed["type"] == "import.completed"
    assert completed["run"]["id"] == run_id  # the rolled-back -1 never came
    assert progress == {"type": "import.progress", "done": 1}
    assert [r["id"] for r in snapshot["imports"]] == [run_id]


# --- the base consumer ----------------------------------------------------------------------


class _MembersOnly(LiveConsumer):
    async def may_connect(self, user: Any) -> bool:
        return bool(user.username.startswith("member"))

    async def groups_for(self, user: Any) -> list[str]:
        return ["members"]

    async def snapshot(self, user: Any) -> dict[str, Any]:
        return {"type": "members.snapshot"}

    async def may_see(self, user: Any, event: dict[str, Any]) -> bool:
        return event.get("for") in (None, user.username)


members_app = socket_application(URLRouter([path("ws/members/", _MembersOnly.as_asgi())]))


def _token_for(username: str) -> str:
    return token_for(make_user(username, "viewer"))


async def test_a_consumer_may_refuse_a_signed_in_user_with_4403() -> None:
    key = await database_sync_to_async(_token_for)("outsider")
    communicator = WebsocketCommunicator(members_app, "/ws/members/", headers=token_headers(key))

    assert await closed_with(communicator) == CLOSE_FORBIDDEN


async def test_a_consumer_forwards_only_what_the_user_may_see() -> None:
    key = await database_sync_to_async(_token_for)("member_ann")
    communicator = WebsocketCommunicator(members_app, "/ws/members/", headers=token_headers(key))
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    assert await communicator.receive_json_from(timeout=WAIT) == {"type": "members.snapshot"}

    def send_both() -> None:
        broadcast("members", {"type": "note", "for": "member_bob"})
        broadcast("members", {"type": "note", "for": "member_ann"})

    await database_sync_to_async(send_both)()

    assert await communicator.receive_json_from(timeout=WAIT) == {
        "type": "note",
        "for": "member_ann",
    }
    assert await communicator.receive_nothing(timeout=QUIET)
    await communicator.disconnect()
