"""The core's own socket: `/ws/imports/`, so the imports page sees imports finish and refresh."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from carloan.events import IMPORTS_GROUP, imports_snapshot
from carloan.realtime import LiveConsumer


class ImportsConsumer(LiveConsumer):
    async def groups_for(self, user: Any) -> list[str]:
        return [IMPORTS_GROUP]

    async def snapshot(self, user: Any) -> dict[str, Any]:
        return await database_sync_to_async(imports_snapshot)()
