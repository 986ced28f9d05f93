"""The `/risk/` page: risk screening of credit applications (contract sections 4a and 10).

The server renders the queue of flagged applications (their failed checks explained in words,
`page_data.explanations`), the blacklist's first page and the pre-screen form, and hands the same
state to `static/js/screening/main.js`, which reads the queue again from `GET /api/risk/flags/`
(on demand and every 30 s: there is no socket for screening), opens an application's checks and
ring from `GET /api/risk/applications/{id}/ring/` (the Plotly figure built by `charts`), filters
the blacklist through `GET /api/risk/blacklist/` and posts the pre-screen to
`POST /api/leads/prescreen/`. The blacklist's four-eyes (`static/js/screening/changes.js`):
department heads propose through `POST /api/risk/blacklist/changes/`, risk control confirms or
rejects what others proposed; the form and the buttons appear for those who may use them, the
state is the same for everyone. The pre-screen's figures (its decisions and the false-invitation
rate per region and channel, last 90 days) are rendered here. Identifiers are shown masked only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carloan.departments import DEPARTMENT_LABELS
from carloan.i18n import is_chinese
from carloan.models import Lead
from carloan.parameters.registry import REGISTRY
from carloan.parameters.views import label_for, unit_suffix
from carloan.screening import page_data, selectors, services
from carloan.screening.identifiers import BLACKLIST_TYPES
from carloan.screening.models import CHECK_KEYS

QUEUE_LIMIT = 200
BLACKLIST_PAGE = 100
CHANGES_PAGE = 100
HISTORY_PAGE = 30
REFRESH_SECONDS = 30
SUGGESTIONS = 50

STATUS_LABELS: dict[str, Any] = {
    "open": _("Open"),
    "cleared": _("Cleared"),
    "all": _("All"),
}
DECISION_LABELS: dict[str, Any] = {
    "invite": _("Invite"),
    "review": _("Review"),
    "decline": _("Decline"),
}

# Text the script shows, in the reader's language ({name} placeholders are filled in by it).
JS_TEXT: dict[str, Any] = {
    **{f"check_{key}": label for key, label in page_data.CHECK_LABELS.items()},
    **{f"result_{key}": label for key, label in page_data.RESULT_LABELS.items()},
    **{f"kind_{key}": label for key, label in page_data.KIND_LABELS.items()},
    **{f"link_{key}": page_data.KIND_LABELS[key] for key in page_data.LINK_TYPES},
    **{f"dept_{key}": label for key, label in DEPARTMENT_LABELS.items()},
    **{f"decision_{key}": label for key, label in DECISION_LABELS.items()},
    "status_open": _("Open"),
    "status_cleared": _("Cleared"),
    # The queue
    "nFailed": _("{n} failed"),
    "appliedOn": _("applied {date}"),
    "nFlagged": _("{n} flagged"),
    "showingOf": _("the first {shown} of {total}"),
    "noFlags_open": _(
        "No open flag: every checked application passes, or risk control cleared it."
    ),
    "noFlags_cleared": _("No flag was cleared yet."),
    "noFlags_all": _("No application is flagged."),
    "updatedAt": _("Updated {time}"),
    "refreshFailed": _("The queue could not be refreshed: {why}"),
    # Fallback explanations (the live thresholds; the exact counts come with the application)
    "why_blacklist": _("An identifier or the dealer is on the blacklist."),
    "why_shared_phone": _(
        "Phone {phone} shared by more than {maxPhone} applicants within {days} days"
    ),
    "why_shared_device": _(
        "Device {device} shared by more than {maxDevice} applicants within {days} days"
    ),
    "why_vin_reuse": _("VIN {vin} also on another applicant's application within {days} days"),
    "why_ltv": _("Loan-to-value above the {maxLtv} limit"),
    "why_debt_to_income": _("Monthly repayment (amount ÷ 36) above {maxDti} of the monthly income"),
    # An application
    "chooseApplication": _(
        "Choose an application in the queue to see its checks and the ring it belongs to."
    ),
    "noSuchApplication": _("There is no application {id}."),
    "notChecked": _("Not checked yet"),
    "notFlagged": _("Not flagged"),
    "region": _("Region"),
    "applied": _("Applied"),
    "check": _("Check"),
    "result": _("Result"),
    "why": _("Why"),
    "naWhy": _("A field it needs is empty."),
    "ringTitle": _("Ring: who shares its phone, device or VIN"),
    "ringSummary": _(
        "{n} other application(s) linked ({flagged} of them flagged) through {shared} shared "
        "identifier(s)."
    ),
    "andMore": _("and {n} more"),
    "ringNone": _("No other application shares its phone, device or VIN."),
    "ringTruncated": _("The ring is larger: the {max} applications nearest in time are drawn."),
    "ringHint": _("Click an application in the graph to open it; drag to move, hover for details."),
    "ringAria": _("Network of the applications linked to {id}"),
    "sharedBy": _("({n} applications):"),
    # The blacklist
    "nEntries": _("{n} entries"),
    "nEntry": _("{n} entry"),
    "noEntries": _("No entry matches."),
    "inForce": _("In force"),
    "expired": _("Expired"),
    # The pre-screen
    "decision": _("Decision"),
    "decisionNote_invite": _("Pass the lead to sales."),
    "decisionNote_review": _("A person looks at the lead before sales calls."),
    "decisionNote_decline": _("Do not invite this lead."),
    "noReasons": _("Nothing stands against the lead."),
    "usedTitle": _("Live thresholds it used"),
    "reason_blacklist": _("On the blacklist: {kind}"),
    "reason_credit": _("Credit score {score} is below the minimum credit score ({min})"),
    "reason_lead": _("Lead score {score} is below the lead score cutoff ({cutoff})"),
    "fieldRequired": _("Required."),
    "range_lead_score": _("A whole number from 0 to 100."),
    "range_credit_score": _("A whole number from 0 to 1000."),
    # The blacklist's changes
    "history": _("History"),
    "changeEntry": _("Change…"),
    "removeEntry": _("Remove…"),
    "action_add": _("List {kind} {value} as {entry}"),
    "action_change": _("Change entry {entry} ({kind} {value})"),
    "action_remove": _("Remove entry {entry} ({kind} {value})"),
    "field_reason": _("Reason"),
    "field_expires_at": _("Expires"),
    "field_department": _("Department"),
    "never": _("never"),
    "none": _("–"),
    "proposedBy": _("Proposed by {who} on {date}"),
    "importedBy": _("Imported by {who} on {date}"),
    "decidedBy_confirmed": _("Confirmed by {who} on {date}"),
    "decidedBy_rejected": _("Rejected by {who} on {date}"),
    "decidedBy_withdrawn": _("Withdrawn by {who} on {date}"),
    "status_pending": _("Waiting"),
    "status_confirmed": _("Confirmed"),
    "status_rejected": _("Rejected"),
    "status_withdrawn": _("Withdrawn"),
    "decide_confirm": _("Confirm"),
    "decide_reject": _("Reject"),
    "decide_withdraw": _("Withdraw"),
    "decisionNotePrompt": _("A note for the record (optional):"),
    "noPending": _("No proposal is waiting."),
    "noHistory": _("No change yet."),
    "historyOf": _("History of entry {entry}"),
    "recentChanges": _("Recent changes to the blacklist"),
    "proposed": _("Proposed as change #{id}: risk control confirms it before it counts."),
    "confirmedNow": _("Change #{id} confirmed: the blacklist and its holders' checks are updated."),
    "decidedNow": _("Change #{id}: {status}."),
    "nothingChanges": _("Give a new reason, expiry or department."),
    "choose": _("Choose one."),
    "stale": _("{detail} The lists were read again."),
    "ownNote": _("yours"),
    # Shared
    "labelled": _("{label}:"),
    "loading": _("Loading…"),
    "network": _("The server could not be reached. Try again."),
    "signedOut": _("You are signed out: sign in again."),
    "forbidden": _("You may not do this."),
    "notFound": _("Not found."),
    "unexpected": _("Unexpected answer from the server ({status})."),
}


def _parameters(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The thresholds the page names: label, unit and value now."""
    return {
        key: {
            "label": label_for(key),
            "suffix": unit_suffix(REGISTRY[key].unit) if key in REGISTRY else "",
            "value": values.get(key),
        }
        for key in page_data.THRESHOLDS
    }


def _regions() -> list[str]:
    """The regions applications come from (a skip scan of the region index)."""
    sql = """
        WITH RECURSIVE r AS (
            (SELECT region FROM loanbook_application ORDER BY region LIMIT 1)
            UNION ALL
            SELECT n.region FROM r CROSS JOIN LATERAL (
                SELECT a.region FROM loanbook_application a WHERE a.region > r.region
                ORDER BY a.region LIMIT 1) AS n
        )
        SELECT region FROM r LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [SUGGESTIONS])
        return [row[0] for row in cursor.fetchall()]


def _channels() -> list[str]:
    """The channels of the latest leads."""
    recent = Lead.objects.order_by("-created_at").values_list("channel", flat=True)[:2000]
    return sorted(set(recent))[:SUGGESTIONS]


def _local_date(iso: str | None) -> dt.date | None:
    """The day of an ISO time in the business time zone, as the script shows it."""
    return timezone.localtime(dt.datetime.fromisoformat(iso)).date() if iso else None


def _with_labels(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Queue rows as the template draws them: the six checks with their names, the failed ones
    with their explanations, the masked identifiers with their kinds."""
    out = []
    for row in rows:
        checks = row.get("checks") or {}
        ids = row.get("identifiers") or {}
        out.append(
            {
                **row,
                "check_list": [
                    {
                        "key": key,
                        "label": page_data.CHECK_LABELS[key],
                        "result": checks.get(key) or "",
                        "result_label": page_data.RESULT_LABELS.get(checks.get(key) or "", ""),
                    }
                    for key in CHECK_KEYS
                ],
                "why": [
                    {
                        "key": key,
                        "label": page_data.CHECK_LABELS[key],
                        "text": (row.get("explanations") or {}).get(key, ""),
                    }
                    for key in CHECK_KEYS
                    if key in row.get("failed_checks", [])
                ],
                "id_list": [
                    {"kind": kind, "label": page_data.KIND_LABELS[kind], "value": ids.get(field)}
                    for kind, field in (("phone", "phone"), ("device", "device_id"), ("vin", "vin"))
                    if ids.get(field)
                ],
                "applied_date": _local_date(row.get("applied_at")),
            }
        )
    return out


INVITATION_DAYS = 90


def _invitations() -> dict[str, Any]:
    """The pre-screen's figures over the last 90 days: its decisions, and the false-invitation
    rate (invited leads whose application was declined) per region and channel, worst first."""
    end = timezone.localdate()
    start = end - dt.timedelta(days=INVITATION_DAYS - 1)
    rows = selectors.false_invitations(start, end)
    decided = sum(row["decided"] for row in rows)
    declined = sum(row["declined"] for row in rows)
    return {
        "days": INVITATION_DAYS,
        "start": start,
        "end": end,
        "counts": selectors.prescreen_counts(start, end),
        "decided": decided,
        "declined": declined,
        "rate": page_data.pct(round(100 * declined / decided, 1)) if decided else None,
        "rows": [
            {**row, "rate_text": page_data.pct(row["rate"]) if row["rate"] is not None else "–"}
            for row in sorted(rows, key=lambda r: (-(r["rate"] or 0), r["region"], r["channel"]))
        ],
    }


def page_context(user: Any) -> dict[str, Any]:
    """Everything the template and the script need."""
    zh = is_chinese()
    count, queue = page_data.queue(status="open", limit=QUEUE_LIMIT)
    blacklist_count, blacklist = page_data.blacklist(limit=BLACKLIST_PAGE)
    pending_count, pending = selectors.blacklist_changes(status="pending", limit=CHANGES_PAGE)
    _history_count, history = selectors.blacklist_changes(limit=HISTORY_PAGE)
    may_propose = services.may_propose_blacklist(user)
    invitations = _invitations()
    may_confirm = services.may_confirm_blacklist(user)
    values = page_data.thresholds()
    parameters = _parameters(values)
    figures = page_data.figures()
    return {
        "active": "risk",
        "figures": figures,
        # grouped by thousands as the script writes them (Intl.NumberFormat), in both languages
        "figure_text": {key: f"{value:,}" for key, value in figures.items()},
        "queue": _with_labels(queue),
        "queue_count": count,
        "blacklist": [
            {
                **entry,
                "type_label": page_data.KIND_LABELS.get(entry["type"], entry["type"]),
                "department_label": DEPARTMENT_LABELS.get(entry["department"] or "", ""),
                "added_date": _local_date(entry["added_at"]),
                "expires_date": _local_date(entry["expires_at"]),
            }
            for entry in blacklist
        ],
        "blacklist_count": blacklist_count,
        "invitations": invitations,
        "pending": pending,
        "pending_count": pending_count,
        "history": history,
        "may_propose": may_propose,
        "may_confirm": may_confirm,
        "departments": list(DEPARTMENT_LABELS.items()),
        "blacklist_types": [(key, page_data.KIND_LABELS[key]) for key in BLACKLIST_TYPES],
        "statuses": list(STATUS_LABELS.items()),
        "parameters": parameters,
        "thresholds": {
            "window": values["risk.xcheck.window_days"],
            "phone": values["risk.xcheck.max_applicants_per_phone"],
            "device": values["risk.xcheck.max_applicants_per_device"],
            "ltv": page_data.pct(values["risk.max_ltv_pct"]),
            "dti": page_data.pct(values["risk.xcheck.max_dti_pct"]),
        },
        "used_parameters": [
            (key, parameters[key])
            for key in ("marketing.lead_score_cutoff", "risk.min_credit_score")
        ],
        "regions": _regions(),
        "channels": _channels(),
        "js_state": {
            "status": "open",
            "queue": queue,
            "queueCount": count,
            "blacklist": blacklist,
            "blacklistCount": blacklist_count,
            "pending": pending,
            "pendingCount": pending_count,
            "history": history,
        },
        "js_config": {
            "username": user.get_username(),
            "lang": "zh" if zh else "en",
            "locale": "zh-CN" if zh else "en-US",
            "timeZone": timezone.get_current_timezone_name(),
            "refreshSeconds": REFRESH_SECONDS,
            "mayPropose": may_propose,
            "mayConfirm": may_confirm,
            "historyPage": HISTORY_PAGE,
            "queueLimit": QUEUE_LIMIT,
            "maxRing": page_data.MAX_RING,
            "thresholds": values,
            "parameters": parameters,
        },
        "js_text": {key: str(text) for key, text in JS_TEXT.items()},
    }


@login_required
def risk_page(request: HttpRequest) -> HttpResponse:
    """Risk screening: the flagged applications, their rings, the blacklist, the pre-screen."""
    return render(request, "screening.html", page_context(request.user))
