"""The audit trail (contract section 12): `record` writes an event; `trail` reads the events
with the parameter changes and imports (kept in their own tables) as one list, newest first.

Actions: sign_in, sign_in_failed, sign_in_throttled, permission_refused, role_changed,
person_added, person_deactivated, person_reactivated, password_reset, token_created,
token_revoked, export; and, read from their own records, parameter_changed and import.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from carloan.people.models import AuditEvent


def record(
    action: str,
    *,
    actor: Any = None,
    actor_name: str = "",
    target: str = "",
    detail: str = "",
    ip: str = "",
) -> None:
    """Write one event (its own statement: a refused request's rollback must not erase it)."""
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    AuditEvent.objects.create(
        at=timezone.now(),
        actor=user,
        actor_name=(actor_name or (user.get_username() if user else ""))[:150],
        action=action[:40],
        target=target[:200],
        detail=detail[:500],
        ip=ip[:64],
    )


ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_in_throttled",
    "permission_refused",
    "role_changed",
    "person_added",
    "person_deactivated",
    "person_reactivated",
    "password_reset",
    "password_reset_asked",
    "token_created",
    "token_revoked",
    "export",
    "parameter_changed",
    "import",
)


def trail(
    *,
    action: str | None = None,
    actor: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Events newest first, filtered by action, actor (user name) and days [start, end]."""
    from carloan.models import ImportRun
    from carloan.parameters.models import ParameterChange

    zone = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=zone) if start else None
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone) if end else None
    rows: list[dict[str, Any]] = []
    if action in (None, "", "parameter_changed"):
        changes = ParameterChange.objects.select_related("changed_by")
        if actor:
            changes = changes.filter(changed_by__username=actor)
        if lo:
            changes = changes.filter(changed_at__gte=lo)
        if hi:
            changes = changes.filter(changed_at__lt=hi)
        rows += [
            {
                "at": c.changed_at,
                "actor": c.changed_by.get_username() if c.changed_by else "",
                "action": "parameter_changed",
                "target": c.key,
                "detail": f"{c.old_value!r} → {c.new_value!r} (v{c.version}) {c.reason}".strip(),
                "ip": "",
            }
            for c in changes.order_by("-changed_at")[:limit]
        ]
    if action in (None, "", "import"):
        runs = ImportRun.objects.select_related("imported_by")
        if actor:
            runs = runs.filter(imported_by__username=actor)
        if lo:
            runs = runs.filter(started_at__gte=lo)
        if hi:
            runs = runs.filter(started_at__lt=hi)
        rows += [
            {
                "at": r.started_at,
                "actor": r.imported_by.get_username() if r.imported_by else "",
                "action": "import",
                "target": f"{r.kind}: {r.file_name}",
                "detail": f"{r.status}, {r.rows} rows ({r.created} new, {r.updated} changed)",
                "ip": "",
            }
            for r in runs.order_by("-started_at")[:limit]
        ]
    if action not in ("parameter_changed", "import"):
        events = AuditEvent.objects.all()
        if action:
            events = events.filter(action=action)
        if actor:
            events = events.filter(actor_name=actor)
        if lo:
            events = events.filter(at__gte=lo)
        if hi:
            events = events.filter(at__lt=hi)
        rows += [
            {
                "at": e.at,
                "actor": e.actor_name,
                "action": e.action,
                "target": e.target,
                "detail": e.detail,
                "ip": e.ip,
            }
            for e in events[:limit]
        ]
    rows.sort(key=lambda r: r["at"], reverse=True)
    return [{**r, "at": r["at"].isoformat()} for r in rows[:limit]]
