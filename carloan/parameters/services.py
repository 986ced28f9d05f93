"""Changes of the live parameters: the one writer, with validation, versions, history and
four-eyes approval of risk thresholds.

Every change goes through `_change`, in one transaction:

1. coerce each value to its type and bounds (400, nothing stored);
2. lock the rows of the changed keys and of every key sharing a cross-field rule with them
   (`SELECT ... FOR UPDATE`, in key order), storing never-changed ones at version 1 first;
3. compare the versions the client sent (409 with the current state when stale);
4. check the cross-field rules on the would-be state (400, nothing stored);
5. a change touching a `risk.*` key becomes a pending ChangeRequest (unless it is the approval
   of one); anything else is applied: version + 1 per changed key, one history row each, all
   sharing one change-set id;
6. on commit: the parameter cache's generation moves on, then `parameter.changed` (one per key)
   or `change_request.created` is broadcast to `/ws/parameters/`, and the domain signal
   `parameters_changed` (keys, change_set) is sent for listeners in higher rooms.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from carloan.errors import Conflict
from carloan.parameters.events import (
    PARAMETERS_GROUP,
    ChangeRequestEvent,
    ParameterChanged,
)
from carloan.parameters.models import ChangeRequest, Parameter
from carloan.parameters.presets import PRESETS
from carloan.parameters.registry import (
    REGISTRY,
    InvalidValue,
    Value,
    check_rules,
    coerce,
    related_keys,
)
from carloan.parameters.selectors import (
    WROTE_FLAG,
    change_request_data,
    parameter_cache_invalidate,
    parameters_state,
    state_at_version,
)
from carloan.realtime import broadcast, broadcast_many
from carloan.roles import is_manager
from carloan.signals import parameters_changed

Action = Literal["set", "revert", "preset", "approval"]

__all__ = [
    "ChangeOutcome",
    "Conflict",
    "change_request_approve",
    "change_request_file",
    "change_request_reject",
    "parameter_revert",
    "parameters_change",
    "preset_apply",
    "require_manager",
]


@dataclass
class ChangeOutcome:
    """What a change did: the keys it applied (one change set), or the request it filed."""

    change_set: uuid.UUID | None = None
    changed: list[str] = field(default_factory=list)
    request: ChangeRequest | None = None
    # The applied rows as committed, and the pending requests naming them when known: the
    # answer is built from these, not read back.
    rows: dict[str, Parameter] = field(default_factory=dict)
    pending_requests: dict[str, list[int]] | None = None

    @property
    def pending(self) -> bool:
        """True when the change waits for a second manager."""
        return self.request is not None and self.request.status == ChangeRequest.Status.PENDING


def require_manager(user: Any, what: str = "change parameters") -> None:
    if user is None or not is_manager(user):
        raise PermissionDenied(f"Only managers may {what}.")


def _coerce_all(changes: Mapping[str, Any]) -> dict[str, Value]:
    errors: dict[str, list[str]] = {}
    typed: dict[str, Value] = {}
    for key, raw in changes.items():
        spec = REGISTRY.get(key)
        if spec is None:
            errors[key] = [f"There is no parameter {key}."]
            continue
        try:
            typed[key] = coerce(spec, raw)
        except InvalidValue as exc:
            errors[key] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    if not typed:
        raise ValidationError({"changes": ["Name at least one parameter to change."]})
    return typed


# The write path runs on every change a manager saves and every socket waits on it, so its two
# statements are plain SQL on this module's own tables (prepared by the connection after its
# first uses) instead of ORM queries compiled afresh each time: the lock, and the update of the
# current values together with their history rows (one round trip instead of two).
_LOCK_SQL = (
    "SELECT p.key, p.value::text, p.version, p.updated_by_id, p.updated_at, "
    # The pending requests naming each key, for the answer (rows locked: none is filed meanwhile).
    "ARRAY(SELECT r.id FROM parameters_change_request AS r "
    "WHERE r.status = 'pending' AND r.changes ? p.key ORDER BY r.id) "
    "FROM parameters_parameter AS p WHERE p.key = ANY(%s) ORDER BY p.key FOR UPDATE OF p"
)
_LOCK_FIELDS = ["key", "value", "version", "updated_by_id", "updated_at"]
_APPLY_SQL = """
WITH changed (key, value, old_value, version) AS (
    SELECT key, value::jsonb, old_value::jsonb, version
    FROM unnest(%(keys)s::text[], %(values)s::text[], %(olds)s::text[], %(versions)s::integer[])
        AS c (key, value, old_value, version)
), updated AS (
    UPDATE parameters_parameter AS p
    SET value = c.value, version = c.version, updated_by_id = %(user)s::integer,
        updated_at = %(at)s::timestamptz
    FROM changed AS c
    WHERE p.key = c.key
)
INSERT INTO parameters_change
    (key, version, old_value, new_value, reason, changed_by_id, changed_at, change_set, action,
     request_id)
SELECT key, version, old_value, value, %(reason)s::text, %(user)s::integer, %(at)s::timestamptz,
    %(change_set)s::uuid, %(action)s::text, %(request)s::bigint
FROM changed
"""


def _lock(keys: set[str]) -> tuple[dict[str, Parameter], dict[str, list[int]]]:
    """The rows of `keys`, locked for this transaction (never-changed ones are stored first),
    and the pending change requests naming each key."""

    def locked() -> tuple[dict[str, Parameter], dict[str, list[int]]]:
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_SQL, [sorted(keys)])
            found = cursor.fetchall()
        rows = {
            key: Parameter.from_db(connection.alias, _LOCK_FIELDS, (key, json.loads(value), *rest))
            for key, value, *rest, _ in found
        }
        return rows, {row[0]: list(row[-1]) for row in found}

    rows, pending = locked()
    missing = sorted(keys - set(rows))
    if not missing:
        return rows, pending
    Parameter.objects.bulk_create(
        [Parameter(key=key, value=REGISTRY[key].default, version=1) for key in missing],
        ignore_conflicts=True,  # another change may store the same default row meanwhile
    )
    return locked()


def _values_with(locked: Mapping[str, Parameter], changes: Mapping[str, Value]) -> dict[str, Value]:
    """The would-be values of the locked keys (every key a rule on the changed ones reads)."""
    return {**{key: row.value for key, row in locked.items()}, **changes}


def _change(
    *,
    changes: Mapping[str, tuple[Any, int | None]],
    user: Any,
    reason: str,
    action: Action,
    request: ChangeRequest | None = None,
    force_request: bool = False,
    source: str = ChangeRequest.Source.MANUAL,
    evidence: Any = None,
    request_action: str = ChangeRequest.Action.SET,
) -> ChangeOutcome:
    """Validate, version-check and apply (or file as a request) one change set. See the module."""
    typed = _coerce_all({key: value for key, (value, _) in changes.items()})
    with transaction.atomic():
        rows, pending = _lock(related_keys(typed))
        stale = sorted(
            key
            for key, (_, version) in changes.items()
            if version is not None and rows[key].version != version
        )
        if stale:
            raise Conflict(
                f"{', '.join(stale)} changed since you loaded "
                f"{'it' if len(stale) == 1 else 'them'}: "
                + "; ".join(
                    f"{key} is now {rows[key].value!r} (version {rows[key].version})"
                    for key in stale
                )
                + ". Review the current value and try again.",
                current=parameters_state(stale),
                request=None,
            )
        effective = {key: value for key, value in typed.items() if rows[key].value != value}
        errors = check_rules(_values_with(rows, effective), effective)
        if errors:
            raise ValidationError(errors)
        if not effective:
            return ChangeOutcome()
        four_eyes = any(REGISTRY[key].needs_four_eyes for key in effective)
        if force_request or (request is None and four_eyes):
            filed = ChangeRequest.objects.create(
                changes=effective,
                base_versions={key: rows[key].version for key in effective},
                action=request_action,
                reason=reason,
                requested_by=user,
                source=source,
                evidence=evidence,
            )
            _announce_request(filed, "change_request.created")
            return ChangeOutcome(request=filed)
        outcome = _apply(rows, effective, user=user, reason=reason, action=action, request=request)
        if request is None:  # an approval decides its request after this: read afresh then
            outcome.pending_requests = {key: pending.get(key, []) for key in outcome.changed}
        return outcome


def _apply(
    rows: Mapping[str, Parameter],
    effective: Mapping[str, Value],
    *,
    user: Any,
    reason: str,
    action: Action,
    request: ChangeRequest | None,
) -> ChangeOutcome:
    now = timezone.now()
    change_set = uuid.uuid4()
    # The cache moves on before any event goes out: a client reacting to the event reads anew.
    transaction.on_commit(parameter_cache_invalidate, robust=True)
    transaction.on_commit(lambda: setattr(connection, WROTE_FLAG, False), robust=True)
    setattr(connection, WROTE_FLAG, True)
    keys = sorted(effective)
    olds = {key: rows[key].value for key in keys}
    for key in keys:
        row = rows[key]
        row.value = effective[key]
        row.version += 1
        row.updated_by = user
        row.updated_at = now
    with connection.cursor() as cursor:
        cursor.execute(
            _APPLY_SQL,
            {
                "keys": keys,
                "values": [json.dumps(rows[key].value) for key in keys],
                "olds": [json.dumps(olds[key]) for key in keys],
                "versions": [rows[key].version for key in keys],
                "user": user.pk if user is not None else None,
                "at": now,
                "reason": reason,
                "change_set": change_set,
                "action": action,
                "request": request.pk if request is not None else None,
            },
        )
    changed_by = user.get_username() if user is not None else None
    broadcast_many(
        [
            (
                PARAMETERS_GROUP,
                ParameterChanged(
                    type="parameter.changed",
                    key=key,
                    value=rows[key].value,
                    old_value=olds[key],
                    version=rows[key].version,
                    changed_by=changed_by,
                    changed_at=now.isoformat(),
                    reason=reason,
                    change_set=str(change_set),
                    action=action,
                    request=request.pk if request is not None else None,
                ),
            )
            for key in keys
        ]
    )
    keys = sorted(effective)
    # Listeners in higher rooms (metrics re-evaluates alert statuses) react after commit.
    transaction.on_commit(
        lambda: parameters_changed.send(sender=Parameter, keys=keys, change_set=change_set),
        robust=True,
    )
    return ChangeOutcome(change_set=change_set, changed=keys, rows={key: rows[key] for key in keys})


def _request_event(
    request: ChangeRequest, type_: Literal["change_request.created", "change_request.decided"]
) -> ChangeRequestEvent:
    return {"type": type_, "request": change_request_data(request)}


def _announce_request(
    request: ChangeRequest, type_: Literal["change_request.created", "change_request.decided"]
) -> None:
    """Push a filed or decided request to every open page, and (on commit) retire what was
    cached under the parameters' token: the parameters page shows the pending requests."""
    transaction.on_commit(parameter_cache_invalidate, robust=True)
    broadcast(PARAMETERS_GROUP, _request_event(request, type_))


# --- the public writers -------------------------------------------------------------------------


def parameters_change(
    *,
    changes: Mapping[str, tuple[Any, int]],
    user: Any,
    reason: str = "",
    action: Action = "set",
) -> ChangeOutcome:
    """Change parameters together: `changes` maps each key to (new value, version the client
    saw). Applied at once as one change set, or filed as a pending request when a `risk.*` key
    is among them. Raises PermissionDenied (not a manager), ValidationError (bad value, unknown
    key or broken cross-field rule; nothing stored) or Conflict (a version is stale)."""
    require_manager(user)
    return _change(changes=changes, user=user, reason=reason.strip(), action=action)


def parameter_revert(
    *, key: str, version: int, user: Any, reason: str = "", base_version: int | None = None
) -> ChangeOutcome:
    """Make a new version of `key` with the value it had at `version` (an earlier version).

    Keys that share a cross-field rule with it go back to their values of that moment too
    (reverting one budget share restores that split). Risk keys need a second manager.
    """
    require_manager(user)
    if key not in REGISTRY:
        raise ValidationError({"key": [f"There is no parameter {key}."]})
    state = state_at_version(key, version)
    if state is None:
        current = parameters_state([key])[0]["version"]
        raise ValidationError(
            {"version": [f"{key} has no version {version}: its versions are 1 to {current}."]}
        )
    return _change(
        # `base_version`: the version the manager saw; a change made since is a Conflict.
        changes={k: (v, base_version if k == key else None) for k, v in state.items()},
        user=user,
        reason=reason.strip() or f"Revert {key} to version {version}",
        action="revert",
        request_action=ChangeRequest.Action.REVERT,
    )


def preset_apply(
    *, name: str, user: Any, versions: Mapping[str, int], reason: str = ""
) -> ChangeOutcome:
    """Apply a strategy preset: its whole budget split, as one change set. KeyError if unknown.

    `versions` are the versions of the preset's parameters the manager saw: a change made
    meanwhile by someone else makes the whole preset a `Conflict` (409), as for any change.
    """
    require_manager(user)
    preset = PRESETS[name]
    missing = sorted(key for key in preset.values if key not in versions)
    if missing:
        raise ValidationError(
            {
                "versions": [
                    "Give the version you saw of each parameter the preset sets; missing: "
                    + ", ".join(missing)
                    + "."
                ]
            }
        )
    return _change(
        changes={key: (value, int(versions[key])) for key, value in preset.values.items()},
        user=user,
        reason=reason.strip() or f"Preset {preset.label_en}",
        action="preset",
        request_action=ChangeRequest.Action.PRESET,
    )


def change_request_file(
    *,
    changes: Mapping[str, Any],
    user: Any,
    reason: str,
    source: str = ChangeRequest.Source.MANUAL,
    evidence: Any = None,
) -> ChangeOutcome:
    """File a change request without applying anything (what auto-calibration does).

    `user` may be None for the system. The values are validated against the current state;
    the request records the current versions, so it goes stale if they change.
    """
    return _change(
        changes={key: (value, None) for key, value in changes.items()},
        user=user,
        reason=reason,
        action="set",
        force_request=True,
        source=source,
        evidence=evidence,
    )


def _pending_request(request_id: int) -> ChangeRequest:
    request = (
        ChangeRequest.objects.select_for_update(of=("self",))
        .select_related("requested_by", "decided_by")
        .get(pk=request_id)
    )
    if request.status != ChangeRequest.Status.PENDING:
        who = request.decided_by.get_username() if request.decided_by else "someone"
        raise Conflict(
            f"Change request #{request.pk} was already {request.status} by {who}.",
            current=[],
            request=change_request_data(request),
        )
    return request


def change_request_approve(*, request_id: int, user: Any, note: str = "") -> ChangeOutcome:
    """A second manager approves a pending request: it is re-validated against the current state
    and applied as one change set. Raises ChangeRequest.DoesNotExist, PermissionDenied (not a
    manager, or the requester), Conflict (already decided, or a parameter changed since it was
    filed) or ValidationError (the change would now break a rule)."""
    require_manager(user, "approve change requests")
    with transaction.atomic():
        request = _pending_request(request_id)
        if request.requested_by_id is not None and request.requested_by_id == user.pk:
            raise PermissionDenied(
                "You filed this change request: another manager must approve it (four-eyes)."
            )
        try:
            outcome = _change(
                changes={
                    key: (value, request.base_versions.get(key))
                    for key, value in request.changes.items()
                },
                user=user,
                reason=request.reason,
                action="approval",
                request=request,
            )
        except Conflict as exc:
            raise Conflict(
                f"Change request #{request.pk} is stale: {exc.message} Reject it and file a new "
                "one if it is still wanted.",
                current=exc.current,
                request=change_request_data(request),
            ) from exc
        request.status = ChangeRequest.Status.APPROVED
        request.decided_by = user
        request.decided_at = timezone.now()
        request.decision_note = note.strip()
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        _announce_request(request, "change_request.decided")
        outcome.request = request
    return outcome


def change_request_reject(*, request_id: int, user: Any, note: str = "") -> ChangeRequest:
    """A manager rejects a pending request (the requester may withdraw their own): nothing
    changes. Raises ChangeRequest.DoesNotExist, PermissionDenied or Conflict (already decided)."""
    require_manager(user, "reject change requests")
    with transaction.atomic():
        request = _pending_request(request_id)
        request.status = ChangeRequest.Status.REJECTED
        request.decided_by = user
        request.decided_at = timezone.now()
        request.decision_note = note.strip()
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        _announce_request(request, "change_request.decided")
    return request


def on_person_changed(sender: Any, *, update_fields: Any = None, **kwargs: Any) -> None:
    """A person renamed or removed (not a sign-in's `last_login`): what is cached under the
    parameters' token names who changed each parameter and who filed each request."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    transaction.on_commit(parameter_cache_invalidate, robust=True)
