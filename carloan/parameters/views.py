"""The `/parameters/` page: every live parameter by category, edited in place by managers.

The server renders the tables (names, descriptions in the reader's language, values, bounds,
last change, pending requests) so the page reads well before any script runs;
the scripts of `static/js/parameters/` (entry `main.js`) then keep them live over
`/ws/parameters/` and add the editors, the pending-changes panel, presets, history, what-if and
calibration, all through the API.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import json_script
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from carloan.cache import source_version
from carloan.i18n import is_chinese
from carloan.parameters import registry, selectors
from carloan.parameters.events import ParameterData
from carloan.parameters.models import ChangeRequest
from carloan.parameters.presets import PRESETS
from carloan.parameters.registry import BUDGET_KEYS, METRICS, REGISTRY
from carloan.parameters.whatif import WHAT_IF_KEYS
from carloan.roles import is_manager

# People read names, not keys; the key is shown beside the name for those who script.
LABELS: dict[str, Any] = {
    "strategy.budget.data_platform_pct": _("Data platform"),
    "strategy.budget.risk_collaboration_pct": _("Risk-control collaboration"),
    "strategy.budget.agile_platform_pct": _("Agile delivery platform"),
    "marketing.max_promo_discount_pct": _("Largest promotional discount"),
    "marketing.lead_score_cutoff": _("Lead score cutoff"),
    "marketing.target_cac": _("Target customer acquisition cost"),
    "marketing.promotions_enabled": _("Promotions enabled"),
    "risk.max_ltv_pct": _("Maximum loan-to-value"),
    "risk.min_credit_score": _("Minimum credit score"),
    "risk.appraisal_tolerance_pct": _("Appraisal tolerance"),
    "risk.xcheck.window_days": _("Cross-checks: window"),
    "risk.xcheck.max_applicants_per_phone": _("Cross-checks: applicants per phone"),
    "risk.xcheck.max_applicants_per_device": _("Cross-checks: applicants per device"),
    "risk.xcheck.max_dti_pct": _("Cross-checks: maximum debt-to-income"),
    "risk.calibration.target_bad_rate_pct": _("Calibration: target bad rate"),
    "risk.calibration.min_sample": _("Calibration: minimum sample"),
    "risk.calibration.max_step": _("Calibration: maximum step"),
    "risk.calibration.lookback_days": _("Calibration: look-back period"),
    "risk.calibration.mode": _("Calibration: schedule"),
    "kpi.min_collaboration_weight_pct": _("Minimum collaboration weight"),
    "alert.min_denominator": _("Smallest sample that may alert"),
}
UNITS: dict[str, Any] = {
    "%": _("%"),
    "points": _("points"),
    "CNY": _("CNY"),
    "loans": _("loans"),
    "days": _("days"),
    "cases": _("cases"),
    "minutes": _("minutes"),
    "ms": _("ms"),
    "s": _("s"),
    "h": _("h"),
    "per 10k loans": _("per 10k loans"),
}
CHOICE_LABELS: dict[str, Any] = {
    "propose": _("Propose daily"),
    "relative": _("Relative to the baseline"),
    "absolute": _("Absolute (service level)"),
    "off": _("Off"),
    "true": _("On"),
    "false": _("Off"),
}
CATEGORY_TITLES: dict[str, Any] = {
    "strategy": _("Strategy and marketing"),
    "risk": _("Risk thresholds"),
    "alert": _("Alert thresholds"),
    "kpi": _("KPI rules"),
}

# What static/js/parameters/ shows, in the reader's language ({placeholders} filled in by it).
JS_TEXT: dict[str, Any] = {
    "edit": _("Edit"),
    "save": _("Save"),
    "saving": _("Saving…"),
    "cancel": _("Cancel"),
    "history": _("History"),
    "close": _("Close"),
    "reason": _("Reason (optional)"),
    "reasonPlaceholder": _("Why? Kept in the history"),
    "newValue": _("New value"),
    "hintRange": _("Between {min} and {max}"),
    "hintDecimals": _("up to {n} decimal places"),
    "hintWhole": _("a whole number"),
    "listJoin": _(", "),
    "currentValue": _("Current: {value}"),
    "errNumber": _("Enter a number."),
    "errWhole": _("Enter a whole number."),
    "errDecimals": _("At most {n} decimal places."),
    "errRange": _("Must be between {min} and {max}."),
    "errWarnBelow": _("The warn threshold must stay below the critical threshold ({value})."),
    "errCriticalAbove": _("The critical threshold must stay above the warn threshold ({value})."),
    "errUnchanged": _("This is the current value already."),
    "fourEyesNote": _(
        "Risk thresholds need a second manager: saving files a change request, and the value "
        "changes only when another manager approves it."
    ),
    "sendForApproval": _("Send for approval"),
    "filed": _("Sent for approval as request #{id}. Another manager must approve it."),
    "saved": _("Saved: now {value} (version {version})."),
    "changedBy": _("changed by {who} {when}"),
    "changedByShort": _("by {who}"),
    "justNow": _("just now"),
    "neverChanged": _("Default, never changed"),
    "system": _("the system"),
    "theirChange": _(
        "{who} changed this to {value} {when} while you were editing. Your input is kept: "
        "saving will ask you which value wins."
    ),
    "conflictTitle": _("Someone else changed this first"),
    "conflictBody": _("{who} set it to {value} (version {version}) {when}. Your value was {mine}."),
    "keepTheirs": _("Keep theirs"),
    "applyMine": _("Apply mine on top"),
    "forbidden": _("Only managers may change parameters."),
    "signedOut": _("Your session has ended. Sign in again."),
    "network": _("The server could not be reached. Check your connection and try again."),
    "unexpected": _("Unexpected answer from the server (HTTP {status})."),
    "pendingBadge": _("Pending #{id}: {value}"),
    "pendingTitle": _("Waiting for a second manager's approval"),
    "noPending": _("No changes are waiting for approval."),
    "requestedBy": _("Requested by {who}"),
    "autoCalibration": _("Auto-calibration"),
    "approve": _("Approve"),
    "reject": _("Reject"),
    "withdraw": _("Withdraw"),
    "notePlaceholder": _("Note (optional)"),
    "waitingOther": _("Waiting for another manager to approve your request."),
    "waitingManager": _("Waiting for a manager's approval."),
    "approvedBy": _("Request #{id} was approved by {who}."),
    "rejectedBy": _("Request #{id} was rejected by {who}."),
    "withdrawnBy": _("Request #{id} was withdrawn by {who}."),
    "current": _("Current"),
    "proposed": _("Proposed"),
    "difference": _("Difference"),
    "evidence": _("Evidence"),
    "showEvidence": _("Show the evidence"),
    "applyPreset": _("Apply"),
    "currentPreset": _("Current"),
    "confirmPreset": _("Apply “{name}”? The three budget shares change at once, for everyone."),
    "confirm": _("Confirm"),
    "presetApplied": _("Preset “{name}” applied."),
    "presetAlready": _("These are the current shares already."),
    "total": _("Total"),
    "sumMustBe100": _("The three shares must sum to 100 % (now {total} %)."),
    "sumOk": _("Sums to 100 %"),
    "editSplit": _("Edit split"),
    "saveSplit": _("Save split"),
    "splitSaved": _("Budget split saved."),
    "splitChanged": _(
        "{who} changed the budget split {when} while you were editing. Your input is kept: "
        "saving will ask you which split wins."
    ),
    "historyTitle": _("History of {name}"),
    "historyEmpty": _("Never changed: the value is the default."),
    "version": _("Version"),
    "when": _("When"),
    "who": _("Who"),
    "change": _("Change"),
    "why": _("Reason"),
    "revert": _("Revert to this"),
    "confirmRevert": _("Confirm revert"),
    "reverted": _("Reverted: a new version was made."),
    "revertFiled": _("Revert filed as request #{id} for a second manager."),
    "revertNote": _("Reverting makes a new version with the value of that version."),
    "revertBudgetNote": _("Reverting a budget share restores the whole split of that moment."),
    "initialVersion": _("Initial value"),
    "loading": _("Loading…"),
    "action_set": _("Changed"),
    "action_revert": _("Reverted"),
    "action_preset": _("Preset"),
    "action_approval": _("Approved request"),
    "approvedRequestOf": _("requested by {who}"),
    "whatIfTitle": _("What-if backtest"),
    "whatIfHint": _(
        "Type a proposed value to see how the last 90 days of applications would have fared."
    ),
    "whatIfWindow": _(
        "Applications decided {start} to {end} ({population} approved, {unmeasured} without "
        "the measure, not judged); loans as of {snapshot}."
    ),
    "whatIfNoData": _("The loan book has no decided applications yet."),
    "whatIfCaveat": _(
        "Only approved applications have a repayment history: a looser value cannot show the "
        "loans it would add."
    ),
    "approvals": _("Approvals that pass"),
    "eligible": _("Decided applications that pass"),
    "activeLoans": _("Their active loans"),
    "overdueRate": _("Overdue rate of remaining loans"),
    "value": _("Value"),
    "pp": _("{value} pp"),
    "calibrationRunning": _("Running the calibration…"),
    "calibrationProposed": _(
        "Proposal filed as request #{id}: move the cutoff from {current} to {proposed} points."
    ),
    "calibrationNone": _("No proposal this time."),
    "calibrationSummary": _(
        "{rate} of the {loans} recent loans at or above the cutoff {current} went 30+ days "
        "past due (target {target}); proposed cutoff: {proposed}."
    ),
    "calibrationDetails": _("Details: {reason}"),
    "scoreBand": _("Score band"),
    "loans": _("Loans"),
    "bad": _("Bad"),
    "badRate": _("Bad rate"),
    "loansAtOrAbove": _("Loans at or above"),
    "badRateAtOrAbove": _("Bad rate at or above"),
    "currentCutoff": _("Current cutoff"),
    "target": _("Target bad rate"),
    "sample": _("Recent loans"),
    "rateAtCutoff": _("Bad rate at the cutoff"),
    "proposedCutoff": _("Proposed cutoff"),
    "badDefinition": _(
        "Loans funded {from} to {to}; bad = 30+ days past due or charged off, on any snapshot."
    ),
    "approvedDone": _("Approved: the new value is in effect."),
    "rejectedDone": _("Rejected."),
    "withdrawnDone": _("Withdrawn."),
    "stale": _("This request is stale: {detail}"),
    "on": _("On"),
    "off": _("Off"),
}


logger = logging.getLogger(__name__)


def _when(iso: str | None) -> datetime | None:
    return timezone.localtime(parse_datetime(iso)) if iso else None


# The alert table's columns per metric: the threshold mode, the relative thresholds and the
# absolute service levels (contract section 3).
ALERT_COLUMNS = ("mode", "warn_pct", "critical_pct", "warn_at", "critical_at")
ALERT_LABELS: dict[str, Any] = {
    "mode": _("Threshold mode: {metric}"),
    "warn_pct": _("Warn threshold: {metric}"),
    "critical_pct": _("Critical threshold: {metric}"),
    "warn_at": _("Warn level: {metric}"),
    "critical_at": _("Critical level: {metric}"),
}


def label_for(key: str) -> str:
    """A parameter's name in the reader's language (alert thresholds: metric and level)."""
    if key in LABELS:
        return str(LABELS[key])
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "alert" and parts[1] in METRICS:
        metric = METRICS[parts[1]][1 if is_chinese() else 0]
        if parts[2] in ALERT_LABELS:
            return str(ALERT_LABELS[parts[2]]).format(metric=metric)
    return key


def _number(value: float | int, places: int | None) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if places is not None and places > 0:
        text = f"{value:,.{places}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{value:,}"


def unit_suffix(unit: str) -> str:
    """The unit as it follows a number: ' %' / '%' (zh), ' points', ' 分'..."""
    if not unit:
        return ""
    label = str(UNITS.get(unit, unit))
    if unit == "%":
        return "%" if is_chinese() else " %"
    return f" {label}"


def value_text(state: ParameterData, value: Any | None = None) -> str:
    """A value as people read it: '80 %', '600 points', '2,500 CNY', 'On', 'Propose daily'."""
    raw = state["value"] if value is None else value
    if state["type"] == "boolean":
        return str(CHOICE_LABELS["true" if raw else "false"])
    if state["type"] == "choice":
        return str(CHOICE_LABELS.get(str(raw), raw))
    if isinstance(raw, int | float):
        if state["type"] == "decimal" and state["decimal_places"]:
            number = f"{float(raw):,.{state['decimal_places']}f}"
        else:
            number = _number(raw, state["decimal_places"])
        return f"{number}{unit_suffix(state['unit'])}"
    return str(raw)


def bounds_text(state: ParameterData) -> str:
    """Bounds or choices: '0 – 100 %', 'Propose daily / Off', 'On / Off'."""
    if state["type"] == "boolean":
        return f"{CHOICE_LABELS['true']} / {CHOICE_LABELS['false']}"
    if state["choices"]:
        return " / ".join(str(CHOICE_LABELS.get(c, c)) for c in state["choices"])
    low, high = state["min"], state["max"]
    if low is None and high is None:
        return ""

    def fmt(number: float | None) -> str:
        if number is None:
            return "…"
        return _number(int(number) if float(number).is_integer() else number, None)

    return f"{fmt(low)} – {fmt(high)}{unit_suffix(state['unit'])}"


def _row(state: ParameterData, pending: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "key": state["key"],
        "label": label_for(state["key"]),
        "description": state["description"]["zh" if is_chinese() else "en"],
        "value": value_text(state),
        "bounds": bounds_text(state),
        "version": state["version"],
        "updated_by": state["updated_by"],
        "updated_at": _when(state["updated_at"]),
        "updated_iso": state["updated_at"] or "",
        "four_eyes": state["four_eyes"],
        "what_if": state["key"] in WHAT_IF_KEYS,
        "pending": pending.get(state["key"], []),
    }


def _pending_by_key(
    requests: list[Any], states: dict[str, ParameterData]
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for request in requests:
        for key, value in request["changes"].items():
            if key in states:
                found.setdefault(key, []).append(
                    {"id": request["id"], "value": value_text(states[key], value)}
                )
    return found


def page_context(user: Any) -> dict[str, Any]:
    """Everything the template and the script need, read in a handful of queries."""
    states = {state["key"]: state for state in selectors.parameters_state()}
    requests = selectors.change_requests(ChangeRequest.Status.PENDING)
    pending = _pending_by_key(list(requests), states)
    rows = {key: _row(state, pending) for key, state in states.items()}
    by_category: dict[str, list[dict[str, Any]]] = {}
    for key, row in rows.items():
        by_category.setdefault(states[key]["category"], []).append(row)

    alert_rows: list[dict[str, Any]] = []
    for metric, (name_en, name_zh) in METRICS.items():
        keys = [f"alert.{metric}.{name}" for name in ALERT_COLUMNS]
        if all(key in rows for key in keys):
            alert_rows.append(
                {
                    "metric": metric,
                    "name": name_zh if is_chinese() else name_en[:1].upper() + name_en[1:],
                    "keys": " ".join(keys),
                    "cells": [rows[key] for key in keys],
                }
            )
    paired = {cell["key"] for row in alert_rows for cell in row["cells"]}
    budget = [rows[key] for key in BUDGET_KEYS if key in rows]
    strategy_other = [r for r in by_category.get("strategy", []) if r["key"] not in BUDGET_KEYS]
    risk_rows = by_category.get("risk", [])
    budget_total = sum(float(states[key]["value"]) for key in BUDGET_KEYS if key in states)
    manager = is_manager(user)
    zh = is_chinese()
    config = {
        "isManager": manager,
        "username": user.get_username(),
        "lang": "zh" if zh else "en",
        "locale": "zh-CN" if zh else "en-US",
        "timeZone": timezone.get_current_timezone_name(),
        "labels": {key: label_for(key) for key in REGISTRY},
        "units": {unit: unit_suffix(unit) for unit in UNITS},
        "choices": {name: str(label) for name, label in CHOICE_LABELS.items()},
        "budgetKeys": list(BUDGET_KEYS),
        "whatIfKeys": list(WHAT_IF_KEYS),
    }
    return {
        "active": "parameters",
        "is_manager": manager,
        "titles": CATEGORY_TITLES,
        "budget": budget,
        "budget_total": _number(round(budget_total, 2), 2) + unit_suffix("%"),
        "budget_ok": abs(budget_total - 100) <= 1e-6,
        "strategy_rows": strategy_other,
        "risk_rows": risk_rows,
        "risk_what_if": [rows[key] for key in WHAT_IF_KEYS if key in rows],
        "alert_rows": alert_rows,
        "alert_other": [r for r in by_category.get("alert", []) if r["key"] not in paired],
        "kpi_rows": by_category.get("kpi", []),
        "pending_count": len(requests),
        "presets_count": len(PRESETS),
        "time_zone": timezone.get_current_timezone_name(),
        "js_state": {
            "parameters": list(states.values()),
            "requests": list(requests),
            "presets": [preset.as_dict() for preset in PRESETS.values()],
        },
        "js_config": config,
        "js_text": {key: str(text) for key, text in JS_TEXT.items()},
    }


def shared_page(user: Any) -> dict[str, Any]:
    """What /parameters/ shows alike to everyone of a role (manager or not) in one language:
    the sections' HTML, the state script, the script's words and configuration, the number of
    pending requests. Built once per state of the parameters and their change requests (the
    token `selectors.parameters_generation` that each commit of either replaces) and kept in
    the cache: every open browser reloads this page, the rows take most of its time."""
    manager = is_manager(user)
    token = selectors.parameters_generation()
    # One entry per language and role, holding the token it was built under.
    key = (
        f"parameters:page:{connection.settings_dict['NAME']}:{_PAGE_VERSION}:{get_language()}:"
        f"{int(manager)}:{timezone.get_current_timezone_name()}"
    )
    if token is not None:
        try:
            cached = cache.get(key)
        except Exception:
            logger.warning("could not read the parameters page from the cache", exc_info=True)
            cached = None
        if cached is not None and cached[0] == token:
            return dict(cached[1])
    # Read after the token: a change committing meanwhile replaces it, so nothing built from
    # the rows before that change outlives it under the new token.
    context = page_context(user)
    shared = {
        "is_manager": manager,
        "pending_count": context["pending_count"],
        "sections": render_to_string("parameters_sections.html", context),
        "state_script": json_script(context["js_state"], "parameters-state"),
        "js_config": context["js_config"],
        "js_text": context["js_text"],
    }
    if token is not None and not connection.in_atomic_block:
        try:
            cache.set(key, (token, shared), PAGE_CACHE_SECONDS)
        except Exception:
            logger.warning("could not keep the parameters page in the cache", exc_info=True)
    return shared


# How long a built page part may be kept at most (the token retires it at the next change).
PAGE_CACHE_SECONDS = 300
# The code that shapes it: a process of another release never reads it (a rolling deploy).
_PAGE_VERSION = source_version(
    __file__,
    registry.__file__,
    *(
        settings.BASE_DIR / "templates" / name
        for name in (
            "parameters_sections.html",
            "parameters_row.html",
            "parameters_meta.html",
            "partials/params_table.html",
        )
    ),
)


@login_required
def parameters_page(request: HttpRequest) -> HttpResponse:
    """Every live parameter, live; managers edit in place (see the module)."""
    shared = shared_page(request.user)
    config = {**shared["js_config"], "username": request.user.get_username()}
    return render(
        request,
        "parameters.html",
        {**shared, "active": "parameters", "titles": CATEGORY_TITLES, "js_config": config},
    )
