"""`/ws/parameters/`: every signed-in user sees parameter changes and change requests live.

Every socket of this page gets every event, so the process's relay is the one member of the
`parameters` group (`carloan.realtime.RelayedLiveConsumer`): with one member per socket, a change
seen by 1,000 open pages meant 1,000 Redis messages and dispatches per process (bench/README.md).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from carloan.parameters.events import PARAMETERS_GROUP
from carloan.parameters.selectors import parameters_snapshot
from carloan.realtime import RelayedLiveConsumer


class ParametersConsumer(RelayedLiveConsumer):
    """Sends `parameters.snapshot` first (and on `resync`), then `parameter.changed`,
    `change_request.created` and `change_request.decided` as they commit."""

    def relay_group(self) -> str:
        return PARAMETERS_GROUP

    async def relayed_snapshot(self, user: Any) -> dict[str, Any]:
        return dict(await database_sync_to_async(parameters_snapshot)())
