"""The realtime plumbing, once: socket authentication, the origin check, the broadcast helper and
the base consumer every app's consumers build on.

- `broadcast(group, event)` is the one way to send an event: it is registered with
  `transaction.on_commit`, so nothing is sent for a change that is rolled back, and every
  server process's clients get it through the Redis channel layer.
- Sockets authenticate with the session cookie (browsers) or an `Authorization: Token <key>`
  header (other clients); anyone else is closed with 4401. A foreign `Origin` is refused (4403).
  The 4401/4403 closes for users come after the handshake is accepted: a close before acceptance
  is an HTTP 403 that browsers report as 1006, so the client could not tell "sign in" from
  "server down". A foreign Origin is refused at the handshake itself: no socket is ever opened.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from asgiref.sync import async_to_sync
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http.request import validate_host

from carloan import inputs

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def _layer_message(event: Mapping[str, Any]) -> dict[str, Any]:
    # The channel layer dispatches on "type"; our event's own type travels as "event".
    return {"type": "event.forward", "event": dict(event)}


def broadcast(group: str, event: Mapping[str, Any]) -> None:
    """Send `event` to every socket in `group` once the current transaction commits."""
    broadcast_many([(group, event)])


def broadcast_many(messages: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Send (group, event) pairs once the current transaction commits, in one batch: one event
    loop and one Redis connection for all of them (a metrics refresh announces hundreds)."""
    if not messages:
        return
    batch = [(group, _layer_message(event)) for group, event in messages]
    transaction.on_commit(lambda: _send(batch), robust=True)


def session_group(session_key: str) -> str:
    """The group of every socket a browser session opened (hashed: the key is a secret)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:32]


def session_sockets_close(session_key: str) -> None:
    """Close every socket of a session (it signed out), on every server process, after commit:
    each is closed with 4401, as a socket that was never signed in."""
    message = {"type": "session.ended"}
    transaction.on_commit(lambda: _send([(session_group(session_key), message)]), robust=True)


def user_group(user_id: Any) -> str:
    """The group of every socket a person has open (session or token)."""
    return f"user.{user_id}"


def user_sockets_close(user_id: Any) -> None:
    """Close every socket of a person (deactivated), on every server process, after commit."""
    message = {"type": "session.ended"}
    transaction.on_commit(lambda: _send([(user_group(user_id), message)]), robust=True)


def broadcast_now_outside_transaction(group: str, event: Mapping[str, Any]) -> None:
    """Send at once. Only for code that changed nothing in the database (e.g. a task's progress)."""
    _send([(group, _layer_message(event))])


def _send(batch: Sequence[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group, message in batch:
            await layer.group_send(group, message)

    async_to_sync(send_all)()


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    from carloan.roles import user_for_token

    return user_for_token(key) or AnonymousUser()


class TokenHeaderAuthMiddleware:
    """Sets scope["user"] from an `Authorization: Token <key>` header, when one is sent."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers", []))
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.lower().startswith("token "):
            # The token wins over a session cookie: this socket is not the session's.
            scope = dict(scope, user=await _user_for_token(auth[6:].strip()), auth_via="token")
        return await self.app(scope, receive, send)


def origin_allowed(origin: str | None) -> bool:
    """Browsers always send an Origin: it must name one of our hosts. Other clients send none."""
    if origin is None:
        return True
    try:
        host = urlparse(origin).hostname
    except ValueError:  # e.g. "http://[::1" : not a URL at all
        return False
    if not host:
        return False
    if ":" in host:  # IPv6 literals are bracketed in ALLOWED_HOSTS, as in the Host header
        host = f"[{host}]"
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return validate_host(host, allowed)


def socket_application(url_router: Any) -> Any:
    """Wrap the WebSocket router: session cookie auth, then token header auth (which wins)."""
    return AuthMiddlewareStack(TokenHeaderAuthMiddleware(url_router))


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Base for every live socket: checks origin and user, joins groups, sends the snapshot first,
    then forwards events. Subclasses define `groups_for`, `snapshot` and optionally `may_see`."""

    async def connect(self) -> None:
        headers = dict(self.scope.get("headers", []))
        origin = headers.get(b"origin")
        if not origin_allowed(origin.decode("latin-1") if origin else None):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        if not await self.may_connect(user):
            await self._refuse(CLOSE_FORBIDDEN)
            return
        self.joined: list[str] = []
        # A socket signed in by its session cookie ends with the session (sign-out).
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None)
        if self.scope.get("auth_via") != "token" and session_key:
            await self.channel_layer.group_add(session_group(session_key), self.channel_name)
            self.joined.append(session_group(session_key))
        # Every socket of a person ends when the person is deactivated.
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        self.joined.append(user_group(user.pk))
        # Join before taking the snapshot, so no event committed in between is lost; a client
        # may see an event it already has in the snapshot, and events carry versions for that.
        for group in await self.groups_for(user):
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.accept()
        await self.send_json(await self.snapshot(user))

    async def _refuse(self, code: int) -> None:
        # Accept, then close: only a close after the handshake carries its code to the client.
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        # A malformed frame must not kill its socket (nor log a trace): the client is told
        # why, by the rules every JSON body follows (carloan/inputs.py), and the socket stays.
        if text_data is None:
            return
        try:
            content = inputs.loads(text_data)
        except inputs.BadInput as exc:
            await self.send_json({"type": "error", "detail": str(exc)})
            return
        except ValueError:
            await self.send_json({"type": "error", "detail": "a message must be a JSON object"})
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Clients may ask for a fresh snapshot at any time (e.g. after a gap in sequence numbers).
        if isinstance(content, dict) and content.get("type") == "resync":
            await self.send_json(await self.snapshot(self.scope["user"]))
        elif isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def session_ended(self, message: dict[str, Any]) -> None:
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def event_forward(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if await self.may_see(self.scope["user"], event):
            await self.send_json(event)

    # To be defined by each consumer.
    async def may_connect(self, user: Any) -> bool:
        return True

    async def groups_for(self, user: Any) -> list[str]:
        raise NotImplementedError

    async def snapshot(self, user: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def may_see(self, user: Any, event: dict[str, Any]) -> bool:
        return True


# --- per-process fan-out ------------------------------------------------------------------

# Group memberships expire in the channel layer (a day by default): a relay renews its own.
RELAY_REJOIN_SECONDS = 3600
RELAY_RETRY_SECONDS = 1.0
RELAY_JOIN_TIMEOUT = 10.0


class GroupRelay:
    """The one member of a group in this server process (this event loop).

    Where every socket of a page gets every event of a group (all parameters, one board), one
    group member per socket costs one Redis message and one consumer dispatch per socket per
    event. A relay joins the group once, JSON-encodes each event once and queues it to every
    local socket's writer (bench/README.md measures the difference at 1,000 sockets).
    """

    def __init__(self, group: str) -> None:
        self.group = group
        self.outboxes: dict[Any, asyncio.Queue[str]] = {}
        self.joined = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.channel: str | None = None

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.joined.clear()
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
        layer = get_channel_layer()
        if layer is not None and self.channel is not None:
            await layer.group_discard(self.group, self.channel)

    async def _join(self, layer: Any, channel: str) -> float:
        await layer.group_add(self.group, channel)
        self.joined.set()
        return time.monotonic()

    async def _run(self) -> None:
        layer = get_channel_layer()
        assert layer is not None
        while True:
            try:
                self.channel = channel = await layer.new_channel()
                joined_at = await self._join(layer, channel)
                while True:
                    message = await layer.receive(channel)
                    if time.monotonic() - joined_at > RELAY_REJOIN_SECONDS:
                        joined_at = await self._join(layer, channel)
                    event = message.get("event") if isinstance(message, dict) else None
                    if event is None:
                        continue
                    text = json.dumps(event)
                    for outbox in self.outboxes.values():
                        outbox.put_nowait(text)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis away: say so, and join again once it is back
                logger.exception("relay of %s lost the channel layer; rejoining", self.group)
                await asyncio.sleep(RELAY_RETRY_SECONDS)


_relays: dict[tuple[asyncio.AbstractEventLoop, str], GroupRelay] = {}


def group_relay(group: str) -> GroupRelay:
    """This process's relay of `group`, started if need be."""
    loop = asyncio.get_running_loop()
    relay = _relays.get((loop, group))
    if relay is None:
        for stale in [key for key in _relays if key[0].is_closed()]:
            del _relays[stale]
        relay = _relays[(loop, group)] = GroupRelay(group)
    relay.start()
    return relay


def relay_of(group: str) -> GroupRelay | None:
    """This process's relay of `group`, if it has one."""
    return _relays.get((asyncio.get_running_loop(), group))


class RelayedLiveConsumer(LiveConsumer):
    """A LiveConsumer whose sockets get every event of some groups through the process's
    `GroupRelay`s: one Redis message per process and event, JSON-encoded once, instead of one per
    socket. Order per socket holds: the socket registers with its relays before its snapshot is
    read, so nothing committed in between is lost (events carry versions or a whole state for the
    overlap), and the snapshot goes out before the queued events. A relay leaves its group when
    its last local socket closes.

    Subclasses define `relayed_snapshot` and either `relay_group` (one group) or `relay_groups`
    (several, e.g. alerts and one region's panels); `relay_switch` moves the socket from one group
    to another (a dashboard changing region without reconnecting)."""

    outbox: asyncio.Queue[str] | None = None
    writer: asyncio.Task[None] | None = None

    def relay_group(self) -> str:
        raise NotImplementedError

    def relay_groups(self) -> list[str]:
        return [self.relay_group()]

    async def relayed_snapshot(self, user: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def connect(self) -> None:
        await super().connect()
        if self.outbox is not None:  # accepted, registered and snapshot sent
            self.writer = asyncio.get_running_loop().create_task(self._write())

    async def groups_for(self, user: Any) -> list[str]:
        return []  # the process's relays are the group members

    async def snapshot(self, user: Any) -> dict[str, Any]:
        if self.outbox is None:
            self.outbox = asyncio.Queue()
            self.relayed: list[str] = []
            for group in self.relay_groups():
                await self._register(group)
        return await self.relayed_snapshot(user)

    async def _register(self, group: str) -> None:
        assert self.outbox is not None
        relay = group_relay(group)
        await asyncio.wait_for(relay.joined.wait(), timeout=RELAY_JOIN_TIMEOUT)
        relay.outboxes[self] = self.outbox
        self.relayed.append(group)

    async def _unregister(self, group: str) -> None:
        self.relayed.remove(group)
        relay = relay_of(group)
        if relay is not None:
            relay.outboxes.pop(self, None)
            if not relay.outboxes:
                _relays.pop((asyncio.get_running_loop(), group), None)
                await relay.stop()

    async def relay_switch(self, old: str, new: str) -> None:
        """Get `new`'s events instead of `old`'s (joined first: no gap), then send a fresh
        snapshot after whatever was queued."""
        if new != old:
            await self._register(new)
            if old in self.relayed:
                await self._unregister(old)
        assert self.outbox is not None
        snapshot = await self.relayed_snapshot(self.scope["user"])
        self.outbox.put_nowait(json.dumps(snapshot))

    async def _write(self) -> None:
        assert self.outbox is not None
        while True:
            await self.send(text_data=await self.outbox.get())

    async def disconnect(self, code: int) -> None:
        if self.outbox is not None:
            for group in list(getattr(self, "relayed", [])):
                await self._unregister(group)
        if self.writer is not None:
            self.writer.cancel()
        await super().disconnect(code)
