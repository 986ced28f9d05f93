"""`/ws/metrics/`: the live dashboard's socket (contract section 5).

Every dashboard gets the alerts and one region's panels; each server process takes them from
the channel layer once, through its relays (`carloan.realtime.RelayedLiveConsumer`), however
many dashboards it serves: a refresh every second under live samples would otherwise be a Redis
message per dashboard per panel.

The socket shows one region on one day: `?region=&date=` in the URL (default `all` and today).
It gets `panels.snapshot` first, then `panel.updated` for that region and day, and every
`alert.raised` / `alert.resolved`. A client may switch without reconnecting by sending
`{"type": "view", "region": "...", "date": "YYYY-MM-DD"}` (answered by a new snapshot), and ask
for a fresh snapshot with `{"type": "resync"}`. A bad date or an unknown region closes the socket
with 4400 (after the handshake and an `{"type": "error", "detail"}` message, so the browser
sees why).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from carloan.inputs import date_problem
from carloan.realtime import RelayedLiveConsumer
from metrics import selectors
from metrics.events import ALERTS_GROUP, panel_group
from metrics.formulas import ALL

CLOSE_BAD_VIEW = 4400


class BadView(ValueError):
    """A region or date the socket cannot show."""


def _view(region: Any, day: Any) -> tuple[str, date]:
    region = region or ALL
    if not isinstance(region, str) or not selectors.region_exists(region):
        raise BadView(f"unknown region {region!r}")
    if not day:
        return region, selectors.business_today()
    problem = date_problem(str(day))
    if problem:
        raise BadView(problem)
    try:
        return region, date.fromisoformat(str(day))
    except ValueError:
        raise BadView(f"{day!r} is not a date written YYYY-MM-DD") from None


class MetricsConsumer(RelayedLiveConsumer):
    async def may_connect(self, user: Any) -> bool:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        try:
            self.region, self.day = await database_sync_to_async(_view)(
                query.get("region", [""])[0], query.get("date", [""])[0]
            )
        except BadView as exc:
            self.bad_view = str(exc)
        return True

    def relay_groups(self) -> list[str]:
        if self.bad_view:
            return []
        return [ALERTS_GROUP, panel_group(self.region, self.day)]

    async def relayed_snapshot(self, user: Any) -> dict[str, Any]:
        if self.bad_view:
            return {"type": "error", "detail": self.bad_view}
        return dict(await database_sync_to_async(selectors.panels_snapshot)(self.day, self.region))

    async def connect(self) -> None:
        self.bad_view = ""
        await super().connect()
        if self.bad_view and self.outbox is not None:  # accepted, told why: now close
            await self.close(code=CLOSE_BAD_VIEW)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "view":
            try:
                region, day = await database_sync_to_async(_view)(
                    content.get("region"), content.get("date")
                )
            except BadView as exc:
                await self.send_json({"type": "error", "detail": str(exc)})
                return
            old = panel_group(self.region, self.day)
            self.region, self.day = region, day
            await self.relay_switch(old, panel_group(region, day))
            return
        await super().receive_json(content, **kwargs)
