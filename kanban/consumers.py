"""`/ws/kanban/{board_id}/`: the board live, for everyone allowed to see it.

- Who: signed-in users who may see the board (`kanban.selectors.may_see_board`); anyone else is
  closed with 4401 (not signed in) or 4403 (a board they may not see, or no such board).
- What: `board.snapshot` first (and again on `{"type": "resync"}`), then `card.created`,
  `card.updated`, `card.moved` and `card.deleted` as they commit, each with the board's `seq`.
- Fan-out: every socket of a board gets every event of the board, so a server process joins the
  board's group once, through its relay (`carloan.realtime.RelayedLiveConsumer`).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from carloan.realtime import RelayedLiveConsumer
from kanban.models import Board
from kanban.selectors import board_snapshot, may_see_board


class KanbanConsumer(RelayedLiveConsumer):
    """One board's socket (see the module)."""

    board: Board | None = None

    async def may_connect(self, user: Any) -> bool:
        board_id = self.scope["url_route"]["kwargs"]["board_id"]

        def check() -> Board | None:
            board = Board.objects.filter(pk=board_id).first()
            return board if board is not None and may_see_board(user, board) else None

        self.board = await database_sync_to_async(check)()
        return self.board is not None

    def relay_group(self) -> str:
        assert self.board is not None
        return self.board.group_name

    async def relayed_snapshot(self, user: Any) -> dict[str, Any]:
        assert self.board is not None
        return dict(await database_sync_to_async(board_snapshot)(self.board))
