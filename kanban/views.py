"""The `/kanban/` page (the shared board, live) and `/kanban/flow/` (its flow view).

The board page renders the frame (head, filters kept in the URL, the new-card dialog, the card
drawer) and the scripts of `static/js/kanban/` (entry `main.js`) build the board once from the
socket's `board.snapshot`, then apply each event to the one card it names. The flow page
computes the board's flow statistics for the period in the URL and hands the Plotly figures of
`kanban.charts` to `static/js/kanban_flow.js`, which only draws them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carloan.departments import department_labels
from carloan.i18n import is_chinese
from carloan.roles import can_edit, department_of
from kanban import charts, flow, selectors
from kanban.models import Board, CardType, Column, Pillar

# The pillar as a card shows it (the drawer names it in full).
PILLAR_SHORT: dict[str, Any] = {
    "data_platform": _("Data"),
    "risk_collaboration": _("Risk collab."),
    "agile_platform": _("Agile"),
}
TYPE_NAMES: dict[str, Any] = {
    "task": _("Task"),
    "request": _("Request"),
    "incident": _("Incident"),
    "alert": _("Alert"),
}
# The default board's columns (data, in English) as people read them.
COLUMN_NAMES: dict[str, Any] = {
    "Backlog": _("Backlog"),
    "In progress": _("In progress"),
    "Waiting for another department": _("Waiting for another department"),
    "Review": _("Review"),
    "Done": _("Done"),
}
FILTERS = ("department", "assignee", "label", "type", "overdue", "q")
DONE_SHOWN = 8  # Done cells show the latest few cards, then "show more"
PERIODS = (7, 30, 90, 180)
USER_LIMIT = 500

# What static/js/kanban/ shows, in the reader's language ({placeholders} filled in by it).
JS_TEXT: dict[str, Any] = {
    "loading": _("Loading the board…"),
    "offlineFallback": _("The live connection is not up: showing the board as loaded."),
    "lane": _("Lane"),
    "column": _("Column"),
    "cards": _("cards"),
    "wipOf": _("{count} of {limit}"),
    "wipSoftOver": _("Over the soft WIP limit of {limit}"),
    "wipHardFull": _("At the hard WIP limit of {limit}: moves in are refused"),
    "wipNone": _("No WIP limit"),
    "wipPerLane": _("WIP limit {limit} per lane"),
    "wipBoard": _("WIP limit {limit} across the lanes"),
    "hard": _("hard"),
    "soft": _("soft"),
    "showMore": _("Show {n} more"),
    "showLess": _("Show fewer"),
    "emptyCell": _("No cards"),
    "noMatch": _("No card matches the filters."),
    "showing": _("{shown} of {total} cards shown"),
    "total": _("{total} cards"),
    "due": _("Due {date}"),
    "overdue": _("Overdue since {date}"),
    "checklist": _("Checklist {done}/{total}"),
    "comments": _("{n} comments"),
    "handoffs": _("{n} hand-offs"),
    "ageing": _("{days} days in this column; usually {median}"),
    "ageNoMedian": _("{days} days in this column"),
    "ageingFlag": _("Ageing"),
    "unassigned": _("Unassigned"),
    "owner": _("Owner: {department}"),
    "openCard": _("Open card #{id}"),
    "cardLabel": _(
        "{type} #{id}: {title}. {department}. {column}, position {position} of {count}."
    ),
    "sparkline": _("{metric}, last 30 days"),
    "pickedUp": _(
        "Picked up card #{id}, {title}. Arrow keys move it, Space drops it, Escape cancels."
    ),
    "movedTo": _("{lane} · {column}, position {position} of {count}."),
    "dropped": _("Dropped card #{id} in {lane} · {column}, position {position}."),
    "cancelled": _("Move of card #{id} cancelled; it is back where it was."),
    "saving": _("Saving…"),
    "moveRefused": _("Move refused: {message}"),
    "moveConflict": _("{who} changed card #{id} first; the board shows it as it is now."),
    "someone": _("Someone"),
    "softWarning": _("Moved, but over the soft WIP limit: {message}"),
    "handedOff": _("Card #{id} handed off to {department}."),
    "liveMoved": _("{who} moved “{title}” to {lane} · {column}"),
    "liveHandoff": _("{who} handed “{title}” off to {lane} · {column}"),
    "liveCreated": _("{who} added “{title}”"),
    "liveUpdated": _("{who} changed “{title}”"),
    "liveDeleted": _("{who} archived “{title}”"),
    "system": _("The metrics"),
    "queued": _("{n} changes by others are waiting: they apply when you drop the card."),
    "created": _("Card #{id} added."),
    "saved": _("Saved."),
    "merged": _("Saved; merged with changes others made meanwhile."),
    "conflictTitle": _("Someone changed this card while you were editing"),
    "conflictBody": _("{who} changed {fields}. Their values are shown; yours are kept below."),
    "yourValue": _("Your value: {value}"),
    "keepTheirs": _("Keep theirs"),
    "applyMine": _("Apply mine on top"),
    "changedWhileEditing": _(
        "{who} changed {fields} while you were editing. Your input is kept; saving merges "
        "what does not clash and asks about the rest."
    ),
    "reloadFields": _("Show their values"),
    "deletedWhileOpen": _("This card was archived by {who}."),
    "forbidden": _("Only department heads and managers may change cards."),
    "signedOut": _("Your session has ended. Sign in again."),
    "network": _("The server could not be reached. Check your connection and try again."),
    "unexpected": _("Unexpected answer from the server (HTTP {status})."),
    "badInput": _("Check the fields: {message}"),
    "history": _("History"),
    "historyEmpty": _("No history yet."),
    "created_": _("Created in {lane} · {column}"),
    "moved": _("Moved {from} → {to}"),
    "handoff": _("Hand-off"),
    "edited": _("Changed {fields}"),
    "deleted": _("Archived"),
    "by": _("by {who}"),
    "comments_": _("Comments"),
    "noComments": _("No comments yet."),
    "addComment": _("Add comment"),
    "commentPlaceholder": _("Write a comment…"),
    "links": _("Links"),
    "noLinks": _("No links."),
    "blocks": _("blocks"),
    "relates": _("relates to"),
    "removeLink": _("Remove"),
    "addLink": _("Link"),
    "linkTo": _("Card number"),
    "unknownCard": _("card #{id} (not on the board)"),
    "checklistAdd": _("Add item"),
    "checklistEmpty": _("No checklist items."),
    "save": _("Save changes"),
    "cancel": _("Cancel"),
    "close": _("Close"),
    "archive": _("Archive card"),
    "archiveConfirm": _("Archive this card? It leaves the board; its history stays."),
    "archived": _("Card #{id} archived."),
    "timeInColumns": _("Time in columns"),
    "hours": _("{n} h"),
    "days": _("{n} d"),
    "cycleTime": _("Cycle time: {n} days"),
    "version": _("Version {n}"),
    "createdBy": _("Opened by {who} on {date}"),
    "alertOf": _("Opened for alert #{id} of {metric}"),
    "acknowledgeAlert": _("Acknowledge the alert"),
    "alertTakenBy": _("The alert is taken by {who}."),
    "region": _("Region {region}"),
    "allRegions": _("all regions"),
    "noData": _("No data"),
    "readOnly": _("Read only"),
    "fieldTitle": _("title"),
    "fieldDescription": _("description"),
    "fieldType": _("type"),
    "fieldDepartment": _("owning department"),
    "fieldAssignees": _("assignees"),
    "fieldDue_date": _("due date"),
    "fieldLabels": _("labels"),
    "fieldChecklist": _("checklist"),
    "fieldMetric": _("metric"),
    "fieldRegion": _("region"),
    "fieldLane": _("lane"),
    "fieldColumn": _("column"),
    "fieldRank": _("position"),
    "fieldComments": _("comments"),
    "fieldLinks": _("links"),
    "listJoin": _(", "),
    "addCard": _("Add a card to this lane"),
    "statOverdue": _("overdue"),
    "statAgeing": _("ageing"),
    "statAlerts": _("open alerts"),
    "statElsewhere": _("in another department's lane"),
    "open": _("open"),
    "owner_": _("Owner"),
    "laneLabel": _("Lane"),
    "dueLabel": _("Due date"),
    "ageLabel": _("In this column"),
    "createdLabel": _("Created"),
    "titleLabel": _("Title"),
    "typeLabel": pgettext_lazy("card", "Type"),
    "pillarLabel": _("Strategy pillar"),
    "noPillar": _("No pillar"),
    "departmentLabel": _("Owning department"),
    "labelsLabel": _("Labels"),
    "assigneesLabel": _("Assignees"),
    "descriptionLabel": _("Description"),
    "detailsLabel": _("Details"),
    "checklistLabel": _("Checklist"),
}

FLOW_LABELS: dict[str, Any] = {
    "cards": _("Cards"),
    "days": _("days"),
    "lanes": _("lanes"),
    "cycleDays": _("Cycle time (days)"),
    "p50": _("50th percentile"),
    "p85": _("85th percentile"),
    "median": _("median"),
    "waitingNow": _("waiting now"),
    "handoffs": _("Hand-offs"),
    "waitsFor": _("Waits for"),
    "handsOff": _("Hands off"),
    "hourUnit": _("h"),
    "dayUnit": _("days"),
}


def _names(mapping: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in mapping.items()}


def _board_for(request: HttpRequest) -> tuple[Board | None, list[Board]]:
    """The board the URL names (`?board=`) among those the user sees, else the shared one."""
    boards = list(selectors.visible_boards(request.user).order_by("id"))
    wanted = request.GET.get("board", "")
    if re.fullmatch(r"[0-9]{1,18}", wanted):
        for board in boards:
            if board.pk == int(wanted):
                return board, boards
    # The shared board (selectors.default_board) when the user sees it, else their first: the
    # same choice, without another query.
    shared = next((b for b in boards if b.slug == selectors.DEFAULT_BOARD_SLUG), None)
    return (shared or (boards[0] if boards else None)), boards


def _board_labels(board: Board) -> list[str]:
    """Distinct labels of the board's live cards (the label filter's choices)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT unnest(labels) AS label FROM kanban_card "
            "WHERE board_id = %s AND NOT archived ORDER BY label LIMIT 200",
            [board.pk],
        )
        return [row[0] for row in cursor.fetchall()]


def _metric_names() -> dict[str, str]:
    from metrics.registry import METRICS

    chinese = is_chinese()
    return {key: (d.name_zh if chinese else d.name_en) for key, d in METRICS.items()}


def _column_names(board: Board | None, columns: list[Column] | None = None) -> dict[str, str]:
    names = _names(COLUMN_NAMES)
    if board is not None:
        for column in board.columns.all() if columns is None else columns:
            names.setdefault(column.name, column.name)
    return names


@login_required
def kanban_page(request: HttpRequest) -> HttpResponse:
    """The shared board: lanes × columns, live; editors drag, drop and edit."""
    board, boards = _board_for(request)
    editor = can_edit(request.user)
    filters = {name: request.GET.get(name, "").strip()[:80] for name in FILTERS}
    users = list(
        get_user_model()
        .objects.filter(is_active=True)
        .order_by("username")
        .values("id", "username")[:USER_LIMIT]
    )
    lanes = list(board.lanes.all()) if board is not None else []
    columns = list(board.columns.all()) if board is not None else []
    column_names = _column_names(board, columns)
    config = {
        "board": board.pk if board is not None else None,
        "canEdit": editor,
        "username": request.user.get_username(),
        "department": department_of(request.user),
        "locale": "zh-CN" if is_chinese() else "en-GB",
        "departments": department_labels(),
        "types": _names(TYPE_NAMES),
        "pillars": {value: str(label) for value, label in Pillar.choices},
        "pillarShort": _names(PILLAR_SHORT),
        "columns": column_names,
        "metrics": _metric_names(),
        "users": users,
        "doneShown": DONE_SHOWN,
        "today": timezone.localdate().isoformat(),
        "plotlyUrl": static("plotly/plotly.min.js"),
    }
    return render(
        request,
        "kanban.html",
        {
            "active": "kanban",
            "board": board,
            "boards": boards,
            "lanes": lanes,
            "columns": columns,
            "can_edit": editor,
            "filters": filters,
            "filtering": any(filters.values()),
            # The CSV/XLSX download of the cards keeps the filters (static/js/export_links.js
            # follows them as they change).
            "export_query": urlencode({name: value for name, value in filters.items() if value}),
            "departments": list(department_labels().items()),
            "types": [(key, TYPE_NAMES[key]) for key in CardType.values],
            "column_names": column_names,
            "labels": _board_labels(board) if board is not None else [],
            "users": users,
            "js_config": config,
            "js_text": _names(JS_TEXT),
        },
    )


def _period(request: HttpRequest) -> tuple[dt.date, dt.date, list[str]]:
    """[start, end] from `?start=&end=` or `?days=` (default: the last 30 days)."""
    errors: list[str] = []
    today = timezone.localdate()
    end = today
    raw_end = request.GET.get("end", "")
    if raw_end:
        try:
            end = dt.date.fromisoformat(raw_end)
        except ValueError:
            errors.append(str(_("The end is not a date (YYYY-MM-DD): the last 30 days are shown.")))
    days_raw = request.GET.get("days", "")
    plain = re.fullmatch(r"[0-9]{1,3}", days_raw)  # not isdigit(): "²" is one int() refuses
    days = int(days_raw) if plain and 0 < int(days_raw) <= 731 else 30
    start = end - dt.timedelta(days=days - 1)
    raw_start = request.GET.get("start", "")
    if raw_start:
        try:
            start = dt.date.fromisoformat(raw_start)
        except ValueError:
            errors.append(str(_("The start is not a date (YYYY-MM-DD).")))
    if start > end:
        errors.append(str(_("The start was after the end: they were swapped.")))
        start, end = end, start
    if (end - start).days + 1 > flow.MAX_PERIOD_DAYS:
        start = end - dt.timedelta(days=flow.MAX_PERIOD_DAYS - 1)
        errors.append(str(_("At most two years at once: the start was moved.")))
    return start, end, errors


@login_required
def kanban_flow_page(request: HttpRequest) -> HttpResponse:
    """Cumulative flow, cycle times with p50/p85, hand-offs between departments and the two
    collaboration metrics of the board over the period in the URL."""
    board, boards = _board_for(request)
    start, end, errors = _period(request)
    context: dict[str, Any] = {
        "active": "kanban",
        "board": board,
        "boards": boards,
        "start": start,
        "end": end,
        "errors": errors,
        "periods": PERIODS,
        "period_days": (end - start).days + 1,
    }
    if board is not None:
        data = flow.board_flow(board, start, end)
        departments = department_labels()
        labels = _names(FLOW_LABELS)
        done = [c.pk for c in board.columns.all() if c.is_done]
        figures = {
            "cfd": charts.cumulative_flow_figure(
                data["cumulative_flow"],
                column_names=_column_names(board),
                done_columns=done,
                labels=labels,
            ),
            "cycle": charts.cycle_time_figure(
                data["cycle_times"], department_names=departments, labels=labels
            ),
            "handoffs": charts.handoff_figure(
                data["handoffs"], department_names=departments, labels=labels
            ),
        }
        cycle = data["cycle_times"]
        handoffs = [
            {
                **row,
                "from_name": departments.get(row["from_department"], row["from_department"]),
                "to_name": departments.get(row["to_department"], row["to_department"]),
            }
            for row in data["handoffs"]
        ]
        context.update(
            {
                "flow": data,
                "figures": figures,
                "metrics": data["metrics"],
                "cycle": cycle,
                "done_count": len(cycle["cards"]),
                "cross_count": sum(1 for c in cycle["cards"] if c["lanes"] >= 2),
                "handoffs": handoffs,
                "handoff_total": sum(row["count"] for row in handoffs),
                "waiting_total": sum(row["waiting_now"] for row in handoffs),
            }
        )
    return render(request, "kanban_flow.html", context)
