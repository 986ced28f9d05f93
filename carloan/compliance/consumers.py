"""`/ws/compliance/`: scripts, flagged calls, verdicts and library edits, live."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from carloan.compliance.events import COMPLIANCE_GROUP, compliance_snapshot
from carloan.realtime import LiveConsumer


class ComplianceConsumer(LiveConsumer):
    async def groups_for(self, user: Any) -> list[str]:
        return [COMPLIANCE_GROUP]

    async def snapshot(self, user: Any) -> dict[str, Any]:
        return await database_sync_to_async(compliance_snapshot)()
