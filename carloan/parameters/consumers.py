"""`/ws/parameters/`: every signed-in user sees parameter changes and change requests live."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from carloan.parameters.events import PARAMETERS_GROUP
from carloan.parameters.selectors import parameters_snapshot
from carloan.realtime import LiveConsumer


class ParametersConsumer(LiveConsumer):
    """Sends `parameters.snapshot` first (and on `resync`), then `parameter.changed`,
    `change_request.created` and `change_request.decided` as they commit."""

    async def groups_for(self, user: Any) -> list[str]:
        return [PARAMETERS_GROUP]

    async def snapshot(self, user: Any) -> dict[str, Any]:
        return dict(await database_sync_to_async(parameters_snapshot)())
