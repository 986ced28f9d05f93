"""The audit trail (contract section 12): `record` writes an event; `trail` reads the events
with the parameter changes and imports (kept in their own tables) as one list, newest first.

Actions: sign_in, sign_in_failed, sign_in_throttled, permission_refused, role_changed,
person_added, person_deactivated, person_reactivated, password_reset, token_created,
token_revoked, export; and, read from their own records, parameter_changed and import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
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


TRAIL_COLUMNS = ("at", "actor", "action", "target", "detail", "ip")


def trail_rows(
    *,
    action: str | None = None,
    actor: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Every event `trail` would list (same filters, no limit), newest first, as rows of
    TRAIL_COLUMNS: the three sources are read in chunks and merged as they come (the export)."""
    import heapq

    from carloan.exports import EXPORT_CHUNK_ROWS
    from carloan.models import ImportRun
    from carloan.parameters.models import ParameterChange

    zone = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=zone) if start else None
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone) if end else None

    def within(rows: Any, field: str, person: str) -> Any:
        if actor:
            rows = rows.filter(**{person: actor})
        if lo:
            rows = rows.filter(**{f"{field}__gte": lo})
        if hi:
            rows = rows.filter(**{f"{field}__lt": hi})
        return rows.order_by(f"-{field}", "-id")

    def changes() -> Iterator[tuple[Any, ...]]:
        rows = within(ParameterChange.objects.all(), "changed_at", "changed_by__username")
        for at, who, key, old, new, version, reason in rows.values_list(
            "changed_at",
            "changed_by__username",
            "key",
            "old_value",
            "new_value",
            "version",
            "reason",
        ).iterator(chunk_size=EXPORT_CHUNK_ROWS):
            detail = f"{old!r} → {new!r} (v{version}) {reason}".strip()
            yield (at, who or "", "parameter_changed", key, detail, "")

    def imports() -> Iterator[tuple[Any, ...]]:
        rows = within(ImportRun.objects.all(), "started_at", "imported_by__username")
        for at, who, kind, name, status, count, created, updated in rows.values_list(
            "started_at",
            "imported_by__username",
            "kind",
            "file_name",
            "status",
            "rows",
            "created",
            "updated",
        ).iterator(chunk_size=EXPORT_CHUNK_ROWS):
            detail = f"{status}, {count} rows ({created} new, {updated} changed)"
            yield (at, who or "", "import", f"{kind}: {name}", detail, "")

    def events() -> Iterator[tuple[Any, ...]]:
        rows = AuditEvent.objects.all()
        if action:
            rows = rows.filter(action=action)
        rows = within(rows, "at", "actor_name")
        yield from rows.values_list(
            "at", "actor_name", "action", "target", "detail", "ip"
        ).iterator(chunk_size=EXPORT_CHUNK_ROWS)

    sources = []
    if action in (None, "", "parameter_changed"):
        sources.append(changes())
    if action in (None, "", "import"):
        sources.append(imports())
    if action not in ("parameter_changed", "import"):
        sources.append(events())
    yield from heapq.merge(*sources, key=lambda row: row[0], reverse=True)
