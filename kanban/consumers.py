"""`/ws/kanban/{board_id}/`: the board live, for everyone allowed to see it.

- Who: signed-in users who may see the board (`kanban.selectors.may_see_board`); anyone else is
  closed with 4401 (not signed in) or 4403 (a board they may not see, or no such board).
- What: `board.snapshot` first (and again on `{"type": "resync"}`), then `card.created`,
  `card.updated`, `card.moved` and `card.deleted` as they commit, each with the board's `seq`.
- Fan-out: every socket of a board gets every event of the board, so a server process joins the
  board's group ONCE (its relay for that board) instead of once per socket, as
  `carloan.parameters.consumers` does for parameters: each event crosses Redis once per
  process and is JSON-encoded once, then queued to each local socket's writer. The relay of a
  board leaves the group when its last local socket closes. Order per socket holds: the socket
  registers with the relay before the snapshot is read, so nothing committed in between is lost
  (events carry versions and `seq` for the overlap).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from carloan.realtime import LiveConsumer
from kanban.models import Board
from kanban.selectors import board_snapshot, may_see_board

logger = logging.getLogger(__name__)

# Group memberships expire in the channel layer (a day by default): the relay renews its own.
REJOIN_SECONDS = 3600
RETRY_SECONDS = 1.0
JOIN_TIMEOUT = 10.0


class _Relay:
    """The one member of a board's group in this server process (this event loop)."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.outboxes: dict[KanbanConsumer, asyncio.Queue[str]] = {}
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
                logger.exception("kanban relay of %s lost the channel layer; rejoining", self.group)
                await asyncio.sleep(RETRY_SECONDS)


_relays: dict[tuple[asyncio.AbstractEventLoop, str], _Relay] = {}


def _relay(group: str) -> _Relay:
    loop = asyncio.get_running_loop()
    relay = _relays.get((loop, group))
    if relay is None:
        for stale in [key for key in _relays if key[0].is_closed()]:
            del _relays[stale]
        relay = _relays[(loop, group)] = _Relay(group)
    relay.start()
    return relay


class KanbanConsumer(LiveConsumer):
    """One board's socket (see the module)."""

    board: Board | None = None
    outbox: asyncio.Queue[str] | None = None
    writer: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await super().connect()
        if self.outbox is not None:  # accepted, registered and snapshot sent
            self.writer = asyncio.get_running_loop().create_task(self._write())

    async def may_connect(self, user: Any) -> bool:
        board_id = self.scope["url_route"]["kwargs"]["board_id"]

        def check() -> Board | None:
            board = Board.objects.filter(pk=board_id).first()
            return board if board is not None and may_see_board(user, board) else None

        self.board = await database_sync_to_async(check)()
        return self.board is not None

    async def groups_for(self, user: Any) -> list[str]:
        return []  # the process's relay of the board is the group member (see the module)

    async def snapshot(self, user: Any) -> dict[str, Any]:
        assert self.board is not None
        if self.outbox is None:
            relay = _relay(self.board.group_name)
            await asyncio.wait_for(relay.joined.wait(), timeout=JOIN_TIMEOUT)
            self.outbox = asyncio.Queue()
            relay.outboxes[self] = self.outbox
        return dict(await database_sync_to_async(board_snapshot)(self.board))

    async def _write(self) -> None:
        assert self.outbox is not None
        while True:
            text = await self.outbox.get()
            await self.send(text_data=text)

    async def disconnect(self, code: int) -> None:
        if self.board is not None:
            key = (asyncio.get_running_loop(), self.board.group_name)
            relay = _relays.get(key)
            if relay is not None:
                relay.outboxes.pop(self, None)
                if not relay.outboxes:
                    del _relays[key]
                    await relay.stop()
        if self.writer is not None:
            self.writer.cancel()
        await super().disconnect(code)
