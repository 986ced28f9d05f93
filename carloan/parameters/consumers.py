"""`/ws/parameters/`: every signed-in user sees parameter changes and change requests live.

Every socket of this page gets every event, so a server process joins the `parameters` group
ONCE (its relay) instead of once per socket: each event crosses Redis once per process, is
encoded once, and is queued to each local socket's writer. With a group member per socket, a
change seen by 1,000 open pages meant 1,000 Redis messages and 1,000 consumer dispatches in
each process (see bench/README.md). Order per socket holds: the snapshot goes first, then the
events queued since the socket registered (registration comes before the snapshot is read, so
nothing committed in between is lost; events carry versions for any overlap).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer

from carloan.parameters.events import PARAMETERS_GROUP
from carloan.parameters.selectors import parameters_snapshot
from carloan.realtime import LiveConsumer

logger = logging.getLogger(__name__)

# Group memberships expire in the channel layer (a day by default): the relay renews its own.
REJOIN_SECONDS = 3600
RETRY_SECONDS = 1.0


class _Relay:
    """The one `parameters` group member of a server process (of one event loop)."""

    def __init__(self) -> None:
        self.outboxes: dict[ParametersConsumer, asyncio.Queue[str]] = {}
        self.joined = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.joined.clear()
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def _join(self, layer: BaseChannelLayer, channel: str) -> float:
        await layer.group_add(PARAMETERS_GROUP, channel)
        self.joined.set()
        return time.monotonic()

    async def _run(self) -> None:
        layer = get_channel_layer()
        assert layer is not None
        while True:
            try:
                channel = await layer.new_channel()
                joined_at = await self._join(layer, channel)
                while True:
                    message = await layer.receive(channel)
                    if time.monotonic() - joined_at > REJOIN_SECONDS:
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
                logger.exception("parameters relay lost the channel layer; rejoining")
                await asyncio.sleep(RETRY_SECONDS)


_relays: dict[asyncio.AbstractEventLoop, _Relay] = {}


def _relay() -> _Relay:
    loop = asyncio.get_running_loop()
    relay = _relays.get(loop)
    if relay is None:
        for stale in [other for other in _relays if other.is_closed()]:
            del _relays[stale]
        relay = _relays[loop] = _Relay()
    relay.start()
    return relay


class ParametersConsumer(LiveConsumer):
    """Sends `parameters.snapshot` first (and on `resync`), then `parameter.changed`,
    `change_request.created` and `change_request.decided` as they commit."""

    outbox: asyncio.Queue[str] | None = None
    writer: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await super().connect()
        if self.outbox is not None:  # accepted, registered and snapshot sent
            self.writer = asyncio.get_running_loop().create_task(self._write())

    async def groups_for(self, user: Any) -> list[str]:
        return []  # the process's relay is the group member (see the module)

    async def snapshot(self, user: Any) -> dict[str, Any]:
        if self.outbox is None:
            relay = _relay()
            await asyncio.wait_for(relay.joined.wait(), timeout=10)
            self.outbox = asyncio.Queue()
            relay.outboxes[self] = self.outbox
        return dict(await database_sync_to_async(parameters_snapshot)())

    async def _write(self) -> None:
        assert self.outbox is not None
        while True:
            text = await self.outbox.get()
            await self.send(text_data=text)

    async def disconnect(self, code: int) -> None:
        relay = _relays.get(asyncio.get_running_loop())
        if relay is not None:
            relay.outboxes.pop(self, None)
        if self.writer is not None:
            self.writer.cancel()
        await super().disconnect(code)
