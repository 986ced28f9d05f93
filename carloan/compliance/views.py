"""The `/compliance/` page: risk collaboration between marketing and risk control.

The server renders the figures (script–parameter discrepancy rate, flagged calls per 100 calls),
the two Plotly figures (`charts`), the library and the scripts, and hands the state to
`static/js/compliance/main.js`, which keeps it live over `/ws/compliance/` and does everything
else through `/api/compliance/`. What a person may do comes from `services.may_*` (the API checks
again): controls a role cannot use are not rendered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carloan.compliance import charts, selectors, services
from carloan.compliance.checker import MAX_TEXT
from carloan.compliance.events import SNAPSHOT_CALLS
from carloan.compliance.library import BY_KEY
from carloan.i18n import is_chinese
from carloan.parameters.registry import REGISTRY
from carloan.parameters.selectors import parameter_values
from carloan.parameters.views import label_for, unit_suffix

PERIOD_DAYS = 30

STATE_LABELS: dict[str, Any] = {
    "draft": _("Draft"),
    "in_review": _("In review"),
    "approved": _("Approved"),
    "needs_review": _("Needs review"),
    "retired": _("Retired"),
}
SEVERITY_LABELS: dict[str, Any] = {
    "high": _("High"),
    "medium": _("Medium"),
    "low": _("Low"),
}
CHART_LABELS: dict[str, Any] = {
    "per100": _("Flagged per 100 calls"),
    "calls": _("calls"),
    "flagged": _("Flagged"),
    "overall": _("30-day rate"),
    "noCalls": _("No checked calls in the last 30 days."),
    "noFindings": _("No findings in these calls."),
    "script": _("Script"),
    "agent": _("Agent"),
    "complaints": _("Complaints"),
    "noScript": _("(no script)"),
}

# Text the script shows, in the reader's language ({name} placeholders are filled in by it).
JS_TEXT: dict[str, Any] = {
    **{f"state_{key}": label for key, label in STATE_LABELS.items()},
    **{f"sev_{key}": label for key, label in SEVERITY_LABELS.items()},
    # Actions on a script, their confirmation buttons and what is said when done.
    "act_edit": _("Edit"),
    "act_submit": _("Submit for review"),
    "act_approve": _("Approve"),
    "act_request_changes": _("Ask for changes"),
    "act_send_to_review": _("Send back to review"),
    "act_retire": _("Retire"),
    "confirm_submit": _("Submit"),
    "confirm_approve": _("Approve"),
    "confirm_request_changes": _("Send to marketing"),
    "confirm_send_to_review": _("Send back to review"),
    "confirm_retire": _("Retire the script"),
    "done_submit": _("Submitted: risk control reviews it now."),
    "done_approve": _("Approved."),
    "done_request_changes": _("Sent back to marketing with your note."),
    "done_send_to_review": _("Sent back to review."),
    "done_retire": _("Retired."),
    "action_create": _("Written"),
    "action_edit": _("Edited"),
    "action_submit": _("Submitted"),
    "action_approve": _("Approved"),
    "action_request_changes": _("Changes asked for"),
    "action_send_to_review": _("Sent back to review"),
    "action_retire": _("Retired"),
    "action_recheck": _("Re-checked after a change"),
    "retiredNote": _("A retired script is not edited: write a new one."),
    "waitingMarketing": _("A draft: marketing submits it for review."),
    "waitingRisk": _("Waiting for risk control's review."),
    "readOnlyScripts": _(
        "Read only: marketing's head writes and submits scripts; risk control's head reviews them."
    ),
    "needsReviewNote": _(
        "A parameter or library change made this approved script inconsistent: risk control "
        "must review it again."
    ),
    "reviewNote": _("Risk control's note:"),
    "approveNotCompliant": _(
        "The check finds this script not compliant: approving it needs a note saying why."
    ),
    "submitNotCompliant": _(
        "The check finds this script not compliant: risk control will see the findings."
    ),
    "requestChangesHint": _("Say what marketing should change."),
    "noteRequired": _("Required: why"),
    "noteOptional": _("Optional"),
    "noteLabel": _("Note"),
    "noteRequiredLabel": _("Note (required)"),
    "noteForApproval": _("Say in a note why it may be approved as it is."),
    "noteForChanges": _("Say what marketing should change."),
    "movedBy": _("Now {state}: changed by {who}."),
    "recheckedNow": _("Re-checked after a parameter or library change: now {state}."),
    "chooseScript": _("Choose a script in the list to read it with its findings."),
    "noScripts": _("No script yet."),
    "noScriptMatch": _("No script in this state."),
    "noSuchScript": _("There is no script #{id}."),
    "newScript": _("New script"),
    "editScript": _("Edit script #{id}"),
    "editBackToDraft": _(
        "Changing the words sends the script back to draft: it must be submitted again."
    ),
    "title": _("Title"),
    "channel": _("Channel"),
    "scriptText": _("Text"),
    "saveScript": _("Save"),
    "createScript": _("Create and check"),
    "scriptCreated": _("Script created and checked."),
    "scriptSaved": _("Script saved and checked again."),
    "fieldRequired": _("Give the {field}."),
    "changedWhileEditing": _(
        "{who} changed this script (now version {version}) while you were editing. Your text "
        "is kept: saving will tell you and let you choose."
    ),
    "conflictTitle": _("Changed meanwhile"),
    "conflictBody": _(
        "{who} changed it since you opened it: it is now version {version} ({when})."
    ),
    "nowState": _("It is now:"),
    "reloadCurrent": _("Load the current version"),
    "saveMineAnyway": _("Save mine over it"),
    "reloaded": _("Loaded version {version}."),
    "scriptHistoryTitle": _("History of “{title}”"),
    "createdBy": _("written by {who} {when}"),
    "updatedBy": _("last change by {who} {when}"),
    "checkedAt": _("checked {when}"),
    "checkedAgainst": _("Checked against:"),
    "nFindings": _("{n} finding(s)"),
    "clean": _("No finding"),
    # Findings
    "compliant": _("Compliant"),
    "notCompliant": _("Not compliant"),
    "compliantNone": _("Compliant: the check found nothing."),
    "findingCounts": _("{n} finding(s): {high} high, {medium} medium"),
    "findingsTitle": _("Findings"),
    "noFindings": _("No finding."),
    "contradicts": _("Contradicts the live parameter"),
    "suggestion": _("Say instead:"),
    "emptyText": _("(empty)"),
    "textRequired": _("Give the text to check."),
    "textTooLong": _("The text is longer than {max} characters: check it in parts."),
    "charCount": _("{n} / {max} characters"),
    # Calls
    "chooseCall": _("Choose a call in the list to read its transcript."),
    "noCalls": _("No flagged call."),
    "noSuchCall": _("There is no call {id}."),
    "callTitle": _("Call {id}"),
    "agent": _("Agent"),
    "region": _("Region"),
    "time": _("Time"),
    "script": _("Script"),
    "lead": _("Lead"),
    "direction_outbound": _("Outbound"),
    "direction_inbound": _("Inbound"),
    "judged": _("{n} of {total} judged"),
    "verdict": _("Verdict"),
    "verdict_right": _("Right"),
    "verdict_wrong": _("Wrong"),
    "verdict_missed": _("Missed"),
    "judged_right": _("Judged right"),
    "judged_wrong": _("Judged wrong"),
    "verdictsReadOnly": _("Risk control's head and managers judge the findings."),
    "missedHint": _(
        "Did the check miss something? Select the words in the transcript, choose the category "
        "and mark them as missed."
    ),
    "missedLabel": _("Missed"),
    "missedTitle": _("Marked as missed by reviewers"),
    "selected": _("Selected:"),
    "chooseCategory": _("Choose the category…"),
    "chooseCategoryFirst": _("Choose the category first."),
    "markMissed": _("Mark as missed"),
    "missedMarked": _("Marked as missed."),
    "runningPrecision": _("Running precision"),
    "precisionByCategory": _("Precision by category"),
    "noVerdicts": _("No verdict yet."),
    # Library
    "category": _("Category"),
    "severity": _("Severity"),
    "patterns": _("Patterns"),
    "patternsHelp": _(
        "Regular expressions over folded text (full-width folded, lower case); {N} stands for a "
        "number in digits or Chinese numerals."
    ),
    "patternN": _("Pattern {n}"),
    "addPattern": _("Add a pattern"),
    "removePattern": _("Remove this pattern"),
    "nPatterns": _("{n} pattern(s)"),
    "readsNumbers": _("Read from numbers against the parameter"),
    "suggestionZh": _("Suggested rewrite (Chinese)"),
    "suggestionEn": _("Suggested rewrite (English)"),
    "reason": _("Reason"),
    "reasonPlaceholder": _("Why it changes (required)"),
    "reasonOptional": _("Why (optional)"),
    "reasonRequired": _("Say why the library changes."),
    "nothingChanged": _("Nothing was changed."),
    "categorySaved": _("{name} saved as version {version}: every script is checked again."),
    "categoryChangedWhileEditing": _(
        "{who} saved this category (now version {version}) while you were editing. Your edit is "
        "kept: saving will tell you and let you choose."
    ),
    "categoryHistoryTitle": _("History of “{name}”"),
    "editedBy": _("by {who} {when}"),
    "asShipped": _("As shipped"),
    "shippedDefinition": _("The definition the product ships with"),
    "patternsAdded": _("{n} pattern(s) added"),
    "patternsRemoved": _("{n} pattern(s) removed"),
    "suggestionsChanged": _("suggestions changed"),
    "revert": _("Revert to this"),
    "confirmRevert": _("Confirm revert"),
    "revertNote": _("Reverting makes a new version with the definition of that version."),
    "reverted": _("Reverted: now version {version}."),
    "revertStale": _("Someone changed it meanwhile (now version {version}): look again."),
    # Evaluation
    "precision": _("Precision"),
    "recall": _("Recall"),
    "support": _("Examples"),
    "run_rules": _("Rules only"),
    "run_rulesModel": _("Rules and learned model"),
    "evaluationUnavailable": _("The evaluation is unavailable right now."),
    "evaluationNoCategories": _("No per-category figures."),
    "evaluationSize": _("{n} labelled utterances held apart from tuning."),
    # Shared
    "edit": _("Edit"),
    "history": _("History"),
    "save": _("Save"),
    "cancel": _("Cancel"),
    "version": _("Version"),
    "when": _("When"),
    "change": _("Change"),
    "note": _("Note"),
    "why": _("Reason"),
    "current": _("Current"),
    "loading": _("Loading…"),
    "someone": _("someone"),
    "system": _("the system"),
    "network": _("The server could not be reached. Try again."),
    "signedOut": _("You are signed out: sign in again."),
    "forbidden": _("You may not do this."),
    "notFound": _("Not found."),
    "unexpected": _("Unexpected answer from the server ({status})."),
}


def category_names(library: list[dict[str, Any]], *, zh: bool) -> dict[str, str]:
    """A category's name in the reader's language: what the library says is not allowed."""
    names = {}
    for category in library:
        text = category["not_allowed_zh"] if zh else category["not_allowed"]
        names[category["key"]] = text if zh else text[:1].upper() + text[1:]
    return names


def figure_text(figures: dict[str, Any], *, zh: bool) -> dict[str, str]:
    """The two figures as the page shows them (one decimal; '–' without data)."""

    def number(value: float | None) -> str:
        if value is None:
            return "–"
        return f"{value:,.1f}".rstrip("0").rstrip(".")

    rate = figures.get("script_discrepancy_rate")
    return {
        "discrepancy": "–" if rate is None else number(rate) + ("%" if zh else " %"),
        "flagged": number(figures.get("flagged_calls_per_100")),
    }


def permissions(user: Any) -> dict[str, bool]:
    return {
        "writeScripts": services.may_write_scripts(user),
        "reviewScripts": services.may_review_scripts(user),
        "editLibrary": services.may_edit_library(user),
        "giveVerdicts": services.may_give_verdicts(user),
        "postCalls": services.may_post_calls(user),
    }


def _parameters() -> dict[str, dict[str, Any]]:
    """The live parameters the library reads: name, unit and value now."""
    keys = sorted({c.parameter for c in BY_KEY.values() if c.parameter})
    values = parameter_values()
    return {
        key: {
            "label": label_for(key),
            "suffix": unit_suffix(REGISTRY[key].unit) if key in REGISTRY else "",
            "value": values.get(key),
        }
        for key in keys
    }


def page_context(user: Any) -> dict[str, Any]:
    """Everything the template and the script need."""
    zh = is_chinese()
    today = timezone.localdate()
    start = today - dt.timedelta(days=PERIOD_DAYS - 1)
    library = selectors.library_list()
    names = category_names(library, zh=zh)
    labels = {key: str(text) for key, text in CHART_LABELS.items()}
    scripts = selectors.scripts_list()
    calls_count, calls = selectors.calls_list(flagged=True, limit=SNAPSHOT_CALLS)
    figures = selectors.figures()
    perms = permissions(user)
    charts_data = {
        "flagged": charts.flagged_calls_figure(
            selectors.flagged_calls_series(start, today), labels=labels
        ),
        "matrix": charts.risk_matrix_figure(
            selectors.risk_matrix(start=start, end=today), category_names=names, labels=labels
        ),
    }
    _, versions = selectors.live_library()
    return {
        "active": "compliance",
        "may": perms,
        "figure_text": figure_text(figures, zh=zh),
        "read_only": not any(perms.values()),
        "figures": figures,
        "period_start": start,
        "period_end": today,
        "max_text": MAX_TEXT,
        "max_text_display": f"{MAX_TEXT:,}",
        "scripts": [
            {**s, "state_label": STATE_LABELS.get(s["state"], s["state"])} for s in scripts
        ],
        "library": [
            {
                **c,
                "label": names[c["key"]],
                "severity_label": SEVERITY_LABELS.get(c["severity"], c["severity"]),
            }
            for c in library
        ],
        "states": list(STATE_LABELS.items()),
        "calls_count": calls_count,
        "js_state": {
            "scripts": scripts,
            "calls": calls,
            "callsCount": calls_count,
            "library": library,
            "libraryVersions": versions,
            "figures": figures,
            "precision": selectors.running_precision(),
        },
        "js_config": {
            "perms": perms,
            "username": user.get_username(),
            "lang": "zh" if zh else "en",
            "locale": "zh-CN" if zh else "en-US",
            "timeZone": timezone.get_current_timezone_name(),
            "maxText": MAX_TEXT,
            "parameters": _parameters(),
        },
        "js_text": {key: str(text) for key, text in JS_TEXT.items()},
        "js_charts": charts_data,
    }


@login_required
def compliance_page(request: HttpRequest) -> HttpResponse:
    """Compliant scripts and call checks: figures, the check, scripts, calls, library,
    evaluation (see the module)."""
    return render(request, "compliance.html", page_context(request.user))
