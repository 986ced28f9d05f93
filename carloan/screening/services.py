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
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from carloan.parameters.selectors import parameter_values
from carloan.screening import checks
from carloan.screening.identifiers import InvalidIdentifier, stored
from carloan.screening.models import BlacklistEntry, PrescreenDecision
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
    reasons: list[str] = []
    hits = _blacklist_hits(
        (kind, data[name]) for name, kind in IDENTIFIER_FIELDS.items() if data.get(name)
    )
    for kind in hits:
        reasons.append(f"blacklist: the {kind} is on the blacklist")
    minimum = int(parameters["risk.min_credit_score"])
    credit = data.get("credit_score")
    if credit is not None and credit < minimum:
        reasons.append(f"credit_score: {credit} is below risk.min_credit_score ({minimum})")
    if reasons:
        return _decided(data, at, "decline", reasons)
    cutoff = int(parameters["marketing.lead_score_cutoff"])
    score = data.get("lead_score")
    if score is not None and score < cutoff:
        reason = f"lead_score: {score} is below marketing.lead_score_cutoff ({cutoff})"
        return _decided(data, at, "review", [reason])
    return _decided(data, at, "invite", [])


def _decided(
    data: Mapping[str, Any], at: dt.datetime, decision: str, reasons: list[str]
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
    return {"decision": decision, "reasons": reasons}


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
    from carloan.roles import DEPARTMENT_HEAD, _groups, department_of, is_manager

    return is_manager(user) or bool(
        user is not None
        and user.is_authenticated
        and DEPARTMENT_HEAD in _groups(user)
        and department_of(user) == "risk"
    )


def flag_clear(*, application_id: str, user: Any) -> bool:
    """Risk control reviewed a flagged application and lets it through; False when there is
    no such flag. It opens again if a later change makes more checks fail."""
    from carloan.screening.models import ApplicationCheck

    return bool(
        ApplicationCheck.objects.filter(application_id=application_id, flagged=True).update(
            status="cleared", cleared_by=user
        )
    )
