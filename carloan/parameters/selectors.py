"""Reads of the live parameters, and THE cached accessor all server code uses.

`parameter_value(key)` reads one snapshot of every value from the shared Redis cache, filled
from the database on a miss. Every committed change replaces the cache's generation token (in
the same on-commit hook that broadcasts `parameter.changed`), so a snapshot taken before the
change is never read again, by any process: a stale value is never served. Inside a transaction
that changed parameters itself, reads go to the database (they see that transaction's writes,
and an uncommitted value never reaches the cache).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from carloan.cache import source_version
from carloan.parameters import registry as registry_module
from carloan.parameters.events import ChangeRequestData, ParameterData, ParametersSnapshot
from carloan.parameters.models import ChangeRequest, Parameter, ParameterChange
from carloan.parameters.registry import REGISTRY, Value, defaults, related_keys

logger = logging.getLogger(__name__)

# Set on the connection by the change service; see `parameter_values`.
WROTE_FLAG = "carloan_parameters_written"
# A snapshot lives this long at most: the bound on staleness should a change's invalidation be
# lost (Redis down at commit and back with its data, while the writing process reads nothing).
SNAPSHOT_TIMEOUT = 60
# This process committed a change but could not move the generation token (Redis was down):
# until it can, it reads the database, and it moves the token before trusting the cache again.
_invalidation_owed = False


def _cache_keys() -> tuple[str, str]:
    # Per database: a test database, the dev database and a bench database never share values.
    name = connection.settings_dict["NAME"]
    return f"parameters:{name}:generation", f"parameters:{name}:snapshot"


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


# --- values -----------------------------------------------------------------------------------


def _values_from_db() -> dict[str, Value]:
    values = defaults()
    stored = Parameter.objects.filter(key__in=REGISTRY).values_list("key", "value")
    values.update(dict(stored))
    return values


def parameter_values() -> dict[str, Value]:
    """Every parameter's current value (committed), through the shared cache.

    1. Inside a transaction that changed parameters: read the database (read your writes).
    2. Else read the generation token and the snapshot in one round trip; the snapshot serves
       when it was taken under the current token.
    3. On a miss, read the token first, then the database, and store the snapshot under that
       token: if a change commits meanwhile, the token moves on and this snapshot is ignored.
    """
    if connection.in_atomic_block and getattr(connection, WROTE_FLAG, False):
        return _values_from_db()
    if not connection.in_atomic_block:
        setattr(connection, WROTE_FLAG, False)
    if _invalidation_owed and not parameter_cache_invalidate():
        return _values_from_db()
    generation_key, snapshot_key = _cache_keys()
    try:
        cached = cache.get_many([generation_key, snapshot_key])
        generation = cached.get(generation_key)
        snapshot = cached.get(snapshot_key)
        if generation is not None and snapshot and snapshot.get("generation") == generation:
            return dict(snapshot["values"])
        if generation is None:
            cache.add(generation_key, uuid.uuid4().hex, timeout=None)
            generation = cache.get(generation_key)
    except Exception:  # the cache is down: the database still answers, never a stale value
        logger.warning("parameter cache unavailable; reading the database", exc_info=True)
        return _values_from_db()
    values = _values_from_db()
    try:
        cache.set(
            snapshot_key, {"generation": generation, "values": values}, timeout=SNAPSHOT_TIMEOUT
        )
    except Exception:
        logger.warning("could not store the parameter snapshot", exc_info=True)
    return values


def parameters_generation() -> str | None:
    """The token that every committed change of a parameter or a change request replaces: what
    is built from the parameters and cached under it is current while it stays. None when the
    cache cannot say (down, or this process owes an invalidation): then build afresh."""
    if _invalidation_owed or (
        connection.in_atomic_block and getattr(connection, WROTE_FLAG, False)
    ):
        return None
    generation_key, _ = _cache_keys()
    try:
        generation = cache.get(generation_key)
        if generation is None:
            cache.add(generation_key, uuid.uuid4().hex, timeout=None)
            generation = cache.get(generation_key)
    except Exception:
        return None
    return str(generation) if generation is not None else None


def parameter_value(key: str) -> Value:
    """The current value of one parameter (its default when never changed). KeyError if unknown."""
    if key not in REGISTRY:
        raise KeyError(f"no parameter {key!r}")
    return parameter_values()[key]


def parameter_cache_invalidate() -> bool:
    """Make every process read the parameters afresh (called on commit of every change).

    False when Redis is down: this process then owes the invalidation and pays it at its next
    read; other processes' snapshots expire within SNAPSHOT_TIMEOUT at worst."""
    global _invalidation_owed
    generation_key, _ = _cache_keys()
    try:
        cache.set(generation_key, uuid.uuid4().hex, timeout=None)
    except Exception:
        if not _invalidation_owed:
            logger.error("could not invalidate the parameter cache; will retry", exc_info=True)
        _invalidation_owed = True
        return False
    if _invalidation_owed:
        logger.warning("parameter cache invalidated after an outage")
    _invalidation_owed = False
    return True


# --- states for the API and the sockets ---------------------------------------------------------


def _pending_by_key(keys: list[str] | None = None) -> dict[str, list[int]]:
    pending: dict[str, list[int]] = defaultdict(list)
    rows = ChangeRequest.objects.filter(status=ChangeRequest.Status.PENDING).order_by("id")
    if keys is not None and len(keys) < len(REGISTRY):
        rows = rows.filter(changes__has_any_keys=keys)
    for request_id, changes in rows.values_list("id", "changes"):
        for key in changes:
            pending[key].append(request_id)
    return pending


def _state(key: str, row: Parameter | None, pending: list[int]) -> ParameterData:
    spec = REGISTRY[key]
    return {
        "key": key,
        "value": row.value if row else spec.default,
        "type": spec.type,
        "category": spec.category,
        "unit": spec.unit,
        "min": spec.min,
        "max": spec.max,
        "choices": list(spec.choices) or None,
        "decimal_places": spec.decimal_places,
        "default": spec.default,
        "description": {"en": spec.description_en, "zh": spec.description_zh},
        "four_eyes": spec.needs_four_eyes,
        "version": row.version if row else 1,
        "updated_by": _username(row.updated_by) if row else None,
        "updated_at": row.updated_at.isoformat() if row and row.updated_at else None,
        "pending_requests": pending,
    }


def parameters_state(
    keys: list[str] | None = None,
    *,
    rows: Mapping[str, Parameter] | None = None,
    pending: Mapping[str, list[int]] | None = None,
) -> list[ParameterData]:
    """Every parameter (or those of `keys`) as the API shows it, in registry order. Two queries;
    none when `rows` (just written, their `updated_by` loaded) and `pending` (the pending
    requests naming each key) cover every key wanted."""
    wanted = [key for key in REGISTRY if keys is None or key in keys]
    known = dict(rows or {})
    missing = [key for key in wanted if key not in known]
    if missing:
        stored = Parameter.objects.filter(key__in=missing).select_related("updated_by")
        known.update({p.key: p for p in stored})
    if pending is None or any(key not in pending for key in wanted):
        pending = _pending_by_key(wanted)
    return [_state(key, known.get(key), list(pending.get(key, []))) for key in wanted]


# The code that shapes the state (see carloan.cache.source_version).
_STATE_VERSION = source_version(__file__, registry_module.__file__)


def parameters_state_json() -> str:
    """`parameters_state()` of every parameter as JSON text (GET /api/parameters/, which every
    open parameters page reads), kept in the cache under the token of `parameters_generation`
    it was built at: one entry, replaced after every change."""
    token = parameters_generation()
    key = f"parameters:{connection.settings_dict['NAME']}:state-json:{_STATE_VERSION}"
    if token is not None:
        try:
            cached = cache.get(key)
        except Exception:
            logger.warning("could not read the parameters' state from the cache", exc_info=True)
            cached = None
        if cached is not None and cached[0] == token:
            return str(cached[1])
    text = json.dumps(
        parameters_state(), cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False
    )
    if token is not None and not connection.in_atomic_block:
        try:
            cache.set(key, (token, text), SNAPSHOT_TIMEOUT)
        except Exception:
            logger.warning("could not keep the parameters' state in the cache", exc_info=True)
    return text


def parameter_state(
    key: str, *, row: Parameter | None = None, pending: list[int] | None = None
) -> ParameterData:
    """One parameter as the API shows it (from `row` and `pending` when given). KeyError if
    unknown."""
    if key not in REGISTRY:
        raise KeyError(f"no parameter {key!r}")
    return parameters_state(
        [key],
        rows={key: row} if row is not None else None,
        pending={key: pending} if pending is not None else None,
    )[0]


def change_request_data(request: ChangeRequest) -> ChangeRequestData:
    """A change request as the API and the sockets show it."""
    return {
        "id": request.pk,
        "status": request.status,
        "source": request.source,
        "action": request.action,
        "changes": dict(request.changes),
        "base_versions": dict(request.base_versions),
        "reason": request.reason,
        "requested_by": _username(request.requested_by),
        "requested_at": request.requested_at.isoformat(),
        "decided_by": _username(request.decided_by),
        "decided_at": request.decided_at.isoformat() if request.decided_at else None,
        "decision_note": request.decision_note,
        "evidence": request.evidence,
    }


def change_requests(status: str | None = None, limit: int = 100) -> list[ChangeRequestData]:
    """Change requests, newest first, optionally of one status."""
    rows = ChangeRequest.objects.select_related("requested_by", "decided_by")
    if status:
        rows = rows.filter(status=status)
    return [change_request_data(r) for r in rows[:limit]]


def parameters_snapshot() -> ParametersSnapshot:
    """What a socket gets first: every parameter and the pending change requests."""
    return {
        "type": "parameters.snapshot",
        "parameters": parameters_state(),
        "requests": change_requests(ChangeRequest.Status.PENDING),
    }


def parameter_history(key: str, limit: int = 100) -> list[dict[str, Any]]:
    """Every change of `key`, newest first: who, when, old, new, why, and how (set, revert...)."""
    rows = (
        ParameterChange.objects.filter(key=key)
        .select_related("changed_by", "request__requested_by")
        .order_by("-version")[:limit]
    )
    return [
        {
            "version": row.version,
            "action": row.action,
            "old_value": row.old_value,
            "new_value": row.new_value,
            "reason": row.reason,
            "changed_by": _username(row.changed_by),
            "changed_at": row.changed_at.isoformat(),
            "change_set": str(row.change_set),
            "request": row.request_id,
            "requested_by": _username(row.request.requested_by) if row.request else None,
        }
        for row in rows
    ]


def state_at_version(key: str, version: int) -> dict[str, Value] | None:
    """What reverting `key` to `version` restores: its value then, and the values then of the keys
    that share a cross-field rule with it (so a reverted budget share brings the whole split of
    that moment back, always a valid state). None when `key` never had that version."""
    changes = ParameterChange.objects.filter(key=key)
    if version == 1:
        first = changes.filter(version=2).values_list("id", flat=True).first()
        if first is None:
            row = Parameter.objects.filter(key=key).first()
            return (
                {key: row.value if row else REGISTRY[key].default}
                if not row or row.version == 1
                else None
            )
        anchor, inclusive = first, False
    else:
        made = changes.filter(version=version).values_list("id", flat=True).first()
        if made is None:
            return None
        anchor, inclusive = made, True
    state: dict[str, Value] = {}
    for other in sorted(related_keys([key])):
        rows = ParameterChange.objects.filter(key=other)
        before = rows.filter(id__lte=anchor) if inclusive else rows.filter(id__lt=anchor)
        latest = before.order_by("-id").values_list("new_value", flat=True).first()
        if latest is not None:  # values are never JSON null
            state[other] = latest
            continue
        earliest = rows.order_by("id").values_list("old_value", flat=True)[:1]
        if earliest:
            state[other] = earliest[0]
            continue
        row = Parameter.objects.filter(key=other).values_list("value", flat=True).first()
        state[other] = row if row is not None else REGISTRY[other].default
    return state
