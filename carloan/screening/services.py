"""Writes of screening: the cross-checks re-made for exactly what a change affects, and the
lead pre-screen (contract section 10).

- applications imported → their checks and those of the applications sharing a phone, device or
  VIN with them (`checks.for_applications`);
- blacklist entries imported → the applications holding a listed identifier;
- a threshold changed (`risk.xcheck.*`, `risk.max_ltv_pct`) → every application, in the worker.

An application that fails `blacklist`, or two checks or more, is sent on (`applications_flagged`)
for the kanban to open one card in risk control's lane.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from carloan.departments import DEPARTMENTS
from carloan.errors import Conflict
from carloan.parameters.selectors import parameter_values
from carloan.roles import can_edit, is_risk_control
from carloan.screening import checks
from carloan.screening.identifiers import BLACKLIST_TYPES, InvalidIdentifier, stored
from carloan.screening.models import BlacklistChange, BlacklistEntry, PrescreenDecision
from carloan.signals import applications_flagged

logger = logging.getLogger(__name__)

Changed = list[tuple[str, bool, int, str]]


def _send_cards(changed: Changed) -> None:
    serious = [
        {"application_id": app_id, "failed": failed, "blacklist": blacklist == "fail"}
        for app_id, flagged, failed, blacklist in changed
        if flagged and (blacklist == "fail" or failed >= 2)
    ]
    if serious:
        transaction.on_commit(
            lambda: applications_flagged.send(sender=BlacklistEntry, applications=serious),
            robust=True,
        )


# An application that changed its phone, device or VIN leaves its old neighbours with one
# applicant fewer: only those failing a shared check can turn (a count that falls can only
# clear a fail), so they are re-checked too. The same for a blacklist entry whose value was
# corrected or that was shortened: only applications failing the blacklist check can clear.
FAILING_SHARED = (
    "SELECT application_id FROM screening_application_check "
    "WHERE shared_phone = 'fail' OR shared_device = 'fail' OR vin_reuse = 'fail'"
)
FAILING_BLACKLIST = (
    "SELECT application_id FROM screening_application_check WHERE blacklist = 'fail'"
)


def recheck_applications(ids: Sequence[str]) -> Changed:
    parameters = parameter_values()
    changed = checks.for_applications(ids, parameters)
    changed += checks.run(FAILING_SHARED, parameters)
    _send_cards(changed)
    return changed


def recheck_days(first_day: dt.date, last_day: dt.date) -> Changed:
    """The applications applied or decided on [first_day, last_day] (an import's span), and their
    neighbours."""
    from carloan.models import LoanApplication

    start = timezone.make_aware(dt.datetime.combine(first_day, dt.time()))
    end = timezone.make_aware(dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time()))
    ids = list(
        LoanApplication.objects.filter(applied_at__gte=start, applied_at__lt=end).values_list(
            "application_id", flat=True
        )
    ) + list(
        LoanApplication.objects.filter(decided_at__gte=start, decided_at__lt=end).values_list(
            "application_id", flat=True
        )
    )
    return recheck_applications(sorted(set(ids))) if ids else []


def recheck_blacklist_days(first_day: dt.date, last_day: dt.date) -> Changed:
    """The applications holding an identifier of the entries added on [first_day, last_day]."""
    start = timezone.make_aware(dt.datetime.combine(first_day, dt.time()))
    end = timezone.make_aware(dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time()))
    pairs = list(
        BlacklistEntry.objects.filter(added_at__gte=start, added_at__lt=end).values_list(
            "type", "value"
        )
    )
    parameters = parameter_values()
    changed = checks.for_identifiers(pairs, parameters) if pairs else []
    changed += checks.run(FAILING_BLACKLIST, parameters)
    _send_cards(changed)
    return changed


def recheck_all() -> Changed:
    changed = checks.for_all(parameter_values())
    _send_cards(changed)
    return changed


# --- lead pre-screening -------------------------------------------------------------------------

IDENTIFIER_FIELDS = {
    "applicant_key": "applicant",
    "phone": "phone",
    "device_id": "device",
    "vin": "vin",
}


def identifier_problems(data: Mapping[str, Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for name, kind in IDENTIFIER_FIELDS.items():
        value = data.get(name)
        if value:
            try:
                stored(kind, value)
            except InvalidIdentifier as exc:
                problems[name] = [str(exc)]
    return problems


def prescreen(data: Mapping[str, Any], at: dt.datetime | None = None) -> dict[str, Any]:
    """invite, review or decline a lead (contract section 10), with the reasons: decline on a
    blacklist hit or a credit score below `risk.min_credit_score`; review when the lead score is
    below `marketing.lead_score_cutoff`; invite otherwise."""
    at = at or timezone.now()
    parameters = parameter_values()
    minimum = int(parameters["risk.min_credit_score"])
    cutoff = int(parameters["marketing.lead_score_cutoff"])
    used = {"risk.min_credit_score": minimum, "marketing.lead_score_cutoff": cutoff}
    details: list[dict[str, Any]] = [
        {"code": "blacklist", "kind": kind}
        for kind in _blacklist_hits(
            (kind, data[name]) for name, kind in IDENTIFIER_FIELDS.items() if data.get(name)
        )
    ]
    credit = data.get("credit_score")
    if credit is not None and credit < minimum:
        details.append(
            {
                "code": "credit_score",
                "value": credit,
                "threshold": minimum,
                "parameter": "risk.min_credit_score",
            }
        )
    if details:
        return _decided(data, at, "decline", details, used)
    score = data.get("lead_score")
    if score is not None and score < cutoff:
        detail = {
            "code": "lead_score",
            "value": score,
            "threshold": cutoff,
            "parameter": "marketing.lead_score_cutoff",
        }
        return _decided(data, at, "review", [detail], used)
    return _decided(data, at, "invite", [], used)


def reason_text(detail: Mapping[str, Any]) -> str:
    """A reason in words (English, stable: marketing systems may log it)."""
    if detail["code"] == "blacklist":
        return f"blacklist: the {detail['kind']} is on the blacklist"
    return (
        f"{detail['code']}: {detail['value']} is below {detail['parameter']} "
        f"({detail['threshold']})"
    )


def _decided(
    data: Mapping[str, Any],
    at: dt.datetime,
    decision: str,
    details: list[dict[str, Any]],
    used: dict[str, int],
) -> dict[str, Any]:
    """Keep the decision (identifiers hashed) for the false-invitation rate, and answer it."""
    PrescreenDecision.objects.create(
        at=at,
        region=str(data.get("region", ""))[:32],
        channel=str(data.get("channel", ""))[:64],
        applicant_key=stored("applicant", data["applicant_key"])
        if data.get("applicant_key")
        else "",
        phone=stored("phone", data["phone"]) if data.get("phone") else "",
        decision=decision,
        lead_score=data.get("lead_score"),
        credit_score=data.get("credit_score"),
    )
    return {
        "decision": decision,
        "reasons": [reason_text(detail) for detail in details],
        "details": details,
        "thresholds": used,
    }


def _blacklist_hits(identifiers: Iterable[tuple[str, str]]) -> list[str]:
    pairs = [(kind, stored(kind, value)) for kind, value in identifiers]
    if not pairs:
        return []
    from django.db.models import Q

    now = timezone.now()
    match = Q()
    for kind, value in pairs:
        match |= Q(type=kind, value=value)
    found = (
        BlacklistEntry.objects.filter(match)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("type", flat=True)
        .distinct()
    )
    return sorted(set(found))


def on_parameters_changed(sender: Any, *, keys: Sequence[str], **kwargs: Any) -> None:
    if set(keys) & set(checks.PARAMETERS):
        from carloan.tasks import screening_recheck_all

        screening_recheck_all.delay()


def on_loanbook_changed(
    sender: Any, *, kind: str, first_day: dt.date | None, last_day: dt.date | None, **kwargs: Any
) -> dict[str, str]:
    if first_day is None or last_day is None:
        return {}
    if kind == "applications":
        recheck_days(first_day, last_day)
    elif kind == "blacklist":
        recheck_blacklist_days(first_day, last_day)
    return {}


def may_clear_flags(user: Any) -> bool:
    return user is not None and is_risk_control(user)


def flag_clear(*, application_id: str, user: Any) -> bool:
    """Risk control reviewed a flagged application and lets it through; False when there is
    no such flag. It opens again if a later change makes more checks fail."""
    from carloan.screening.models import ApplicationCheck

    return bool(
        ApplicationCheck.objects.filter(application_id=application_id, flagged=True).update(
            status="cleared", cleared_by=user
        )
    )


# --- the blacklist: proposed by department heads, confirmed by risk control ---------------------

MAX_REASON = 500
_KEEP = object()  # a field a change proposal leaves as it is


def may_propose_blacklist(user: Any) -> bool:
    """Any department head, and managers."""
    return user is not None and can_edit(user)


def may_confirm_blacklist(user: Any) -> bool:
    """Risk control's heads and managers (never for their own proposal)."""
    return user is not None and is_risk_control(user)


def entry_state(entry: BlacklistEntry) -> dict[str, Any]:
    """An entry as a change records it (`before`): the value in its stored form only."""
    return {
        "type": entry.type,
        "value": entry.value,
        "reason": entry.reason,
        "added_at": entry.added_at.isoformat(),
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        "department": entry.department or None,
    }


def _in_force_from(now: dt.datetime) -> Any:
    from django.db.models import Q

    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


def _listed_as(kind: str, value: str, now: dt.datetime, *, besides: str = "") -> str | None:
    """The entry in force now (or later) listing this value, if any: a value is listed once."""
    found = (
        BlacklistEntry.objects.filter(type=kind, value=value)
        .filter(_in_force_from(now))
        .exclude(entry_id=besides)
        .values_list("entry_id", flat=True)
        .first()
    )
    return found


def _clean_reason(reason: str, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError({field: ["Say why, in a few words."]})
    if len(text) > MAX_REASON:
        raise ValidationError({field: [f"At most {MAX_REASON} characters."]})
    return text


def _clean_department(department: str | None, user: Any) -> str | None:
    from carloan.roles import department_of

    chosen = department or department_of(user) or None
    if chosen is not None and chosen not in DEPARTMENTS:
        raise ValidationError({"department": [f"One of {', '.join(DEPARTMENTS)}."]})
    return chosen


def _require_proposer(user: Any) -> None:
    if not may_propose_blacklist(user):
        raise PermissionDenied("Only department heads and managers may propose blacklist changes.")


def _pending_for_entry(entry_id: str) -> BlacklistChange | None:
    return BlacklistChange.objects.filter(
        entry_id=entry_id, status=BlacklistChange.Status.PENDING
    ).first()


def blacklist_propose_add(
    *,
    user: Any,
    type: str,
    value: str,
    reason: str,
    expires_at: dt.datetime | None = None,
    department: str | None = None,
    entry_id: str = "",
    note: str = "",
) -> BlacklistChange:
    """Propose listing a value: pending until risk control confirms it. ValidationError (400)
    for a malformed value, a value already listed or proposed, an expiry not ahead."""
    _require_proposer(user)
    now = timezone.now()
    if type not in BLACKLIST_TYPES:
        raise ValidationError({"type": [f"One of {', '.join(BLACKLIST_TYPES)}."]})
    try:
        hashed = stored(type, value or "")
    except InvalidIdentifier as exc:
        raise ValidationError({"value": [f"The {type} {exc}."]}) from None
    reason = _clean_reason(reason)
    if expires_at is not None and expires_at <= now:
        raise ValidationError(
            {"expires_at": ["Is not after the entry is added (now): it would never be in force."]}
        )
    entry_id = (entry_id or "").strip() or f"BL-{uuid.uuid4().hex[:10].upper()}"
    if len(entry_id) > 64:
        raise ValidationError({"entry_id": ["At most 64 characters."]})
    if BlacklistEntry.objects.filter(entry_id=entry_id).exists() or _pending_for_entry(entry_id):
        raise ValidationError({"entry_id": [f"Entry {entry_id} already exists or is proposed."]})
    listed = _listed_as(type, hashed, now)
    if listed:
        raise ValidationError(
            {"value": [f"This {type} is already listed (entry {listed}): change that entry."]}
        )
    proposed = BlacklistChange.objects.filter(
        type=type, value=hashed, action="add", status=BlacklistChange.Status.PENDING
    ).first()
    if proposed:
        raise ValidationError(
            {
                "value": [
                    f"This {type} is already proposed (change #{proposed.pk}): decide it first."
                ]
            }
        )
    return BlacklistChange.objects.create(
        action=BlacklistChange.Action.ADD,
        entry_id=entry_id,
        type=type,
        value=hashed,
        reason=reason,
        expires_at=expires_at,
        department=_clean_department(department, user),
        note=(note or "").strip()[:MAX_REASON],
        proposed_by=user,
        proposed_at=now,
    )


def _entry_for_proposal(entry_id: str) -> BlacklistEntry:
    entry = BlacklistEntry.objects.filter(entry_id=entry_id).first()
    if entry is None:
        raise Http404(f"There is no blacklist entry {entry_id!r}.")
    pending = _pending_for_entry(entry_id)
    if pending is not None:
        raise ValidationError(
            {
                "entry_id": [
                    f"Entry {entry_id} has a pending change (#{pending.pk}): decide it first."
                ]
            }
        )
    return entry


def blacklist_propose_change(
    *,
    user: Any,
    entry_id: str,
    note: str,
    reason: Any = _KEEP,
    expires_at: Any = _KEEP,
    department: Any = _KEEP,
) -> BlacklistChange:
    """Propose a new reason, expiry (None: never) or department for an entry."""
    _require_proposer(user)
    entry = _entry_for_proposal(entry_id)
    after = {
        "reason": entry.reason if reason is _KEEP else _clean_reason(reason),
        "expires_at": entry.expires_at if expires_at is _KEEP else expires_at,
        "department": entry.department if department is _KEEP else department or None,
    }
    if after["department"] is not None and after["department"] not in DEPARTMENTS:
        raise ValidationError({"department": [f"One of {', '.join(DEPARTMENTS)}."]})
    if after["expires_at"] is not None and after["expires_at"] <= entry.added_at:
        raise ValidationError({"expires_at": ["Is not after the entry was added."]})
    if (after["reason"], after["expires_at"], after["department"]) == (
        entry.reason,
        entry.expires_at,
        entry.department or None,
    ):
        raise ValidationError({"detail": ["This changes nothing in the entry."]})
    return BlacklistChange.objects.create(
        action=BlacklistChange.Action.CHANGE,
        entry_id=entry.entry_id,
        type=entry.type,
        value=entry.value,
        before=entry_state(entry),
        note=_clean_reason(note, "note"),
        proposed_by=user,
        proposed_at=timezone.now(),
        **after,
    )


def blacklist_propose_remove(*, user: Any, entry_id: str, note: str) -> BlacklistChange:
    """Propose taking an entry off the list (a listing made in error): its holders clear."""
    _require_proposer(user)
    entry = _entry_for_proposal(entry_id)
    return BlacklistChange.objects.create(
        action=BlacklistChange.Action.REMOVE,
        entry_id=entry.entry_id,
        type=entry.type,
        value=entry.value,
        reason=entry.reason,
        expires_at=entry.expires_at,
        department=entry.department,
        before=entry_state(entry),
        note=_clean_reason(note, "note"),
        proposed_by=user,
        proposed_at=timezone.now(),
    )


def _locked_change(change_id: int) -> BlacklistChange:
    change = (
        BlacklistChange.objects.select_for_update(of=("self",))
        .select_related("proposed_by", "decided_by")
        .filter(pk=change_id)
        .first()
    )
    if change is None:
        raise Http404(f"There is no blacklist change #{change_id}.")
    return change


def _require_pending(change: BlacklistChange) -> None:
    from carloan.screening.selectors import blacklist_change_data

    if change.status != BlacklistChange.Status.PENDING:
        who = change.decided_by.get_username() if change.decided_by else "someone"
        raise Conflict(
            f"Change #{change.pk} was already {change.status} by {who}.",
            blacklist_change_data(change),
        )


def blacklist_confirm(*, change_id: int, user: Any, note: str = "") -> BlacklistChange:
    """Risk control confirms a proposal (not their own): the entry is written and the
    applications it touches are re-checked, in one transaction. Conflict (409) when the change
    was decided meanwhile, or the entry changed or the value got listed since it was proposed."""
    from carloan.screening.selectors import blacklist_change_data

    if not may_confirm_blacklist(user):
        raise PermissionDenied(
            "Only risk control's head or a manager may confirm blacklist changes."
        )
    with transaction.atomic():
        change = _locked_change(change_id)
        _require_pending(change)
        if change.proposed_by_id is not None and change.proposed_by_id == user.pk:
            raise PermissionDenied(
                "You proposed this change: another person of risk control must confirm it "
                "(four-eyes)."
            )
        now = timezone.now()
        stale = _apply_change(change, now)
        if stale:
            raise Conflict(f"Change #{change.pk} is stale: {stale}", blacklist_change_data(change))
        change.status = BlacklistChange.Status.CONFIRMED
        change.decided_by = user
        change.decided_at = now
        change.decision_note = (note or "").strip()[:MAX_REASON]
        change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return change


def _apply_change(change: BlacklistChange, now: dt.datetime) -> str:
    """Write the confirmed change and re-check its holders; '' or why it is stale."""
    parameters = parameter_values()
    if change.action == BlacklistChange.Action.ADD:
        if BlacklistEntry.objects.filter(entry_id=change.entry_id).exists():
            return f"entry {change.entry_id} was added meanwhile."
        listed = _listed_as(change.type, change.value, now)
        if listed:
            return f"the {change.type} was listed meanwhile (entry {listed})."
        BlacklistEntry.objects.create(
            entry_id=change.entry_id,
            type=change.type,
            value=change.value,
            reason=change.reason,
            added_at=now,
            expires_at=change.expires_at,
            department=change.department,
        )
        changed = checks.for_identifiers([(change.type, change.value)], parameters)
    else:
        entry = BlacklistEntry.objects.select_for_update().filter(entry_id=change.entry_id).first()
        if entry is None:
            return f"entry {change.entry_id} was removed meanwhile."
        if entry_state(entry) != change.before:
            return f"entry {change.entry_id} changed since it was proposed."
        if change.action == BlacklistChange.Action.REMOVE:
            entry.delete()
            changed = checks.run(FAILING_BLACKLIST, parameters)
        else:
            entry.reason = change.reason
            entry.expires_at = change.expires_at
            entry.department = change.department
            entry.save(update_fields=["reason", "expires_at", "department"])
            changed = checks.for_identifiers([(entry.type, entry.value)], parameters)
            changed += checks.run(FAILING_BLACKLIST, parameters)
    _send_cards(changed)
    return ""


def blacklist_reject(*, change_id: int, user: Any, note: str = "") -> BlacklistChange:
    """Risk control rejects a proposal, or its proposer withdraws it: nothing is listed."""
    with transaction.atomic():
        change = _locked_change(change_id)
        own = change.proposed_by_id is not None and change.proposed_by_id == user.pk
        if not own and not may_confirm_blacklist(user):
            raise PermissionDenied(
                "Only risk control's head or a manager may reject blacklist changes (the "
                "proposer may withdraw their own)."
            )
        _require_pending(change)
        change.status = BlacklistChange.Status.WITHDRAWN if own else BlacklistChange.Status.REJECTED
        change.decided_by = user
        change.decided_at = timezone.now()
        change.decision_note = (note or "").strip()[:MAX_REASON]
        change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return change


# --- the blacklist import: one value listed once, every imported row in the history -----------


def blacklist_staged_problems(cursor: Any, staging: str, line: str) -> tuple[list[dict], int]:
    """Rows of a staged blacklist file listing a value that another entry (earlier in the file,
    or stored and not replaced by the file) lists over an overlapping period: a value is listed
    once. Answered as the import's line errors."""
    cursor.execute(
        f"""
        WITH found AS (
            SELECT s.{line} AS line, 'line ' || o.{line} AS other
            FROM {staging} s JOIN {staging} o
              ON o.type = s.type AND o.value = s.value AND o.{line} < s.{line}
             AND o.entry_id <> s.entry_id
             AND tstzrange(o.added_at, o.expires_at) && tstzrange(s.added_at, s.expires_at)
            UNION ALL
            SELECT s.{line}, 'entry ' || t.entry_id
            FROM {staging} s JOIN screening_blacklist_entry t
              ON t.type = s.type AND t.value = s.value AND t.entry_id <> s.entry_id
             AND tstzrange(t.added_at, t.expires_at) && tstzrange(s.added_at, s.expires_at)
            WHERE NOT EXISTS (SELECT 1 FROM {staging} r WHERE r.entry_id = t.entry_id)
        )
        SELECT line, min(other), count(*) OVER () FROM found GROUP BY line ORDER BY line LIMIT 100
        """
    )
    rows = cursor.fetchall()
    errors = [
        {
            "line": number,
            "column": "value",
            "reason": f"is already listed ({other}) over an overlapping period: a value is "
            "listed once; change that entry instead",
        }
        for number, other, _total in rows
    ]
    return errors, rows[0][2] if rows else 0


def blacklist_staged_history(cursor: Any, staging: str, user: Any, file_name: str) -> None:
    """One confirmed change (source import) per staged row that adds or changes an entry."""
    user_id = user.pk if user is not None and user.is_authenticated else None
    cursor.execute(
        f"""
        INSERT INTO screening_blacklist_change (
            action, source, entry_id, type, value, reason, expires_at, department, before, note,
            proposed_by_id, proposed_at, status, decided_by_id, decided_at, decision_note)
        SELECT CASE WHEN t.entry_id IS NULL THEN 'add' ELSE 'change' END, 'import',
               s.entry_id, s.type, s.value, s.reason, s.expires_at, s.department,
               CASE WHEN t.entry_id IS NULL THEN NULL ELSE jsonb_build_object(
                   'type', t.type, 'value', t.value, 'reason', t.reason,
                   'added_at', t.added_at, 'expires_at', t.expires_at,
                   'department', t.department) END,
               %(note)s, %(user)s, now(), 'confirmed', %(user)s, now(), ''
        FROM {staging} s LEFT JOIN screening_blacklist_entry t ON t.entry_id = s.entry_id
        WHERE t.entry_id IS NULL
           OR (t.type, t.value, t.reason, t.added_at, t.expires_at, t.department)
              IS DISTINCT FROM
              (s.type, s.value, s.reason, s.added_at, s.expires_at, s.department)
        """,
        {
            "note": f"Imported from {file_name}"[:MAX_REASON] if file_name else "Imported",
            "user": user_id,
        },
    )
