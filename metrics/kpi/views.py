"""The KPI pages: `/kpi/` (scorecards, trends, the KPI set editor, the change log, closing) and
`/kpi/review/` (the full-screen quarterly review), plus the print rendering the PDF is made from.

The pages are rendered on the server with their figures as JSON (`json_script`); small ES
modules (`static/js/kpi.js`, `static/js/kpi_review.js`) draw the charts, run the editor and the
review's keyboard navigation. Nothing is loaded from outside this server.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carloan.departments import DEPARTMENTS, department_label, department_labels
from carloan.i18n import is_chinese
from carloan.roles import can_edit, is_manager
from metrics.kpi import charts, exports, selectors, strategy
from metrics.kpi.pillars import PILLAR_LABELS
from metrics.kpi.quarters import Quarter
from metrics.kpi.scoring import band

PICKER_QUARTERS = 8

# What kpi.js and kpi_review.js show, in the reader's language ({placeholders} filled in there).
JS_TEXT: dict[str, Any] = {
    "weightsSum": gettext_lazy("Weights sum to {sum} of 100"),
    "collaborationShare": gettext_lazy("Collaboration {share} (minimum {min})"),
    "saved": gettext_lazy("Saved: the {department} KPI set is now version {version}."),
    "refused": gettext_lazy("The KPI set was refused; nothing was stored:"),
    "conflict": gettext_lazy(
        "Someone changed this KPI set meanwhile. Reload the page and edit it again."
    ),
    "forbidden": gettext_lazy("Only managers may change this."),
    "signedOut": gettext_lazy("Your session has ended. Sign in again."),
    "network": gettext_lazy(
        "The server could not be reached. Check your connection and try again."
    ),
    "unexpected": gettext_lazy("Unexpected answer from the server (HTTP {status})."),
    "remove": gettext_lazy("Remove"),
    "reasonReopen": gettext_lazy("Why is the quarter reopened?"),
    "reasonClose": gettext_lazy("A note for the record (optional):"),
    "confirmClose": gettext_lazy("Close {quarter}? Its scorecards will be frozen as they are now."),
    "reasonRequired": gettext_lazy("A reason is required."),
    "pdfQueued": gettext_lazy("The PDF is waiting for the printer…"),
    "pdfRendering": gettext_lazy("Printing the PDF…"),
    "pdfReady": gettext_lazy("The PDF is ready ({pages} pages): downloading."),
    "pdfFailed": gettext_lazy("The PDF could not be printed: {error}"),
    "pdfSlow": gettext_lazy("The PDF is taking long: is the worker running? Try again later."),
    "handoffs": gettext_lazy("Hand-offs between departments"),
    "handoffFrom": gettext_lazy("From"),
    "handoffTo": gettext_lazy("To"),
    "handoffCount": gettext_lazy("Hand-offs"),
    "handoffWait": gettext_lazy("Median wait (h)"),
    "handoffWaiting": gettext_lazy("Waiting now"),
    "noHandoffs": gettext_lazy("No hand-offs between departments in this quarter."),
    "kanbanUnavailable": gettext_lazy("The kanban's hand-off statistics are not available."),
    "board": gettext_lazy("Board"),
    "handoffWaitMetric": gettext_lazy("Median hand-off wait"),
    "crossCycleMetric": gettext_lazy("Median cross-department cycle time"),
    "hours": gettext_lazy("h"),
    "days": gettext_lazy("days"),
}


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def metric_name(key: str, language: str | None = None) -> str:
    info = selectors.metric_info(key)
    return str(info["name_zh"] if is_chinese(language or _language()) else info["name"])


def fmt(value: float | None) -> str:
    """A number as people read it: about four significant digits, thousands separated."""
    if value is None or not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    if magnitude == 0:
        return "0"
    return f"{value:.3f}"


def _unit(key: str) -> str:
    return str(selectors.metric_info(key)["unit"])


def _card(card: dict[str, Any], language: str) -> dict[str, Any]:
    """A scorecard decorated for the templates: labels, bands, formatted numbers, links."""
    kpis = []
    for kpi in card["kpis"]:
        info = selectors.metric_info(kpi["metric"])
        kpis.append(
            {
                **kpi,
                "name": metric_name(kpi["metric"], language),
                "unit": info["unit"],
                "url": info["url"],
                "band": band(kpi["score"], kpi["missing"]),
                "actual_text": fmt(kpi["actual"]),
                "target_text": fmt(kpi["target"]),
                "threshold_text": fmt(kpi["threshold"]),
                "lower_is_better": kpi["target"] < kpi["threshold"],
            }
        )
    return {
        **card,
        "label": department_label(card["department"]),
        "band": band(card["score"]),
        "missing_count": sum(1 for k in kpis if k["missing"]),
        "kpis": kpis,
    }


def _pillar_labels() -> dict[str, str]:
    return {pillar: str(label) for pillar, label in PILLAR_LABELS.items()}


def _strategy(quarter: Quarter) -> dict[str, Any]:
    """The strategy split against the work done (section 7a), with its figure and labels."""
    from carloan.parameters.presets import PRESETS

    split = strategy.strategy_split(quarter)
    pillar_labels = _pillar_labels()
    preset = PRESETS.get(split["preset"] or "")
    zh = is_chinese()
    split["preset_label"] = (preset.label_zh if zh else preset.label_en) if preset else None
    split["rows"] = [
        {
            "pillar": pillar,
            "label": pillar_labels[pillar],
            "target": split["target"][pillar],
            "share": split["done"]["shares"][pillar],
            "count": split["done"]["counts"][pillar],
            "gap": split["gap"][pillar],
            "departments": [
                {
                    "department": department,
                    "share": split["done"]["departments"][department]["shares"][pillar],
                    "count": split["done"]["departments"][department]["counts"][pillar],
                }
                for department in DEPARTMENTS
            ],
        }
        for pillar in strategy.PILLARS
    ]
    split["figure"] = charts.strategy_split(
        split["trend"],
        title=_("Budget split against the work finished, by quarter"),
        pillar_labels=pillar_labels,
        target_label=_("budget"),
        done_label=_("work done"),
    )
    return split


def figures(
    trends: dict[str, Any], sets: dict[str, list[dict[str, Any]]], language: str
) -> dict[str, Any]:
    """Every chart of the page and the review, from the trends (pure figure builders)."""
    quarters = trends["quarters"]
    labels = department_labels()
    kpi_labels = {"actual": _("Actual"), "target": _("Target"), "threshold": _("Threshold")}
    result: dict[str, Any] = {
        "comparison": charts.department_comparison(
            quarters, trends["scores"], title=_("Departments compared"), department_labels=labels
        ),
        "scores": charts.score_trend(
            quarters, trends["scores"], title=_("Department scores"), department_labels=labels
        ),
        "departments": {},
    }
    for department, kpis in sets.items():
        result["departments"][department] = {
            "score": charts.score_trend(
                quarters,
                {department: trends["scores"].get(department, [])},
                title=_("%(department)s score by quarter") % {"department": labels[department]},
                department_labels=labels,
                only=department,
            ),
            "kpis": {
                kpi["metric"]: charts.kpi_trend(
                    quarters,
                    trends["actuals"].get(department, {}).get(kpi["metric"], []),
                    target=kpi["target"],
                    threshold=kpi["threshold"],
                    title=metric_name(kpi["metric"], language),
                    unit=_unit(kpi["metric"]),
                    labels=kpi_labels,
                )
                for kpi in kpis
            },
        }
    return result


def _quarter_or_400(request: HttpRequest) -> Quarter | HttpResponse:
    text = request.GET.get("quarter", "")
    if not text:
        return Quarter.of(timezone.localdate())
    try:
        return Quarter.parse(text)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))


def _programme(request: HttpRequest, quarter: Quarter) -> dict[str, Any]:
    """The seed's reported results as targets, from the baseline quarter picked (`?baseline=`,
    by default two quarters before the one shown)."""
    from metrics.kpi.programme import programme

    try:
        baseline = Quarter.parse(request.GET.get("baseline", ""))
    except ValueError:
        baseline = quarter.previous().previous()
    rows = programme(baseline, quarter)
    units = {"%": " %", "CNY": " CNY", "s": " s", "h": " h", "days": " days", "ms": " ms"}
    for row in rows:
        row["name"] = metric_name(row["metric"], _language())
        suffix = units.get(row["unit"], f" {row['unit']}")
        for field in ("baseline", "target", "current"):
            value = row[field]
            row[f"{field}_text"] = "–" if value is None else f"{value:,.2f}{suffix}"
    return {"programme": rows, "baseline": baseline, "baseline_choices": _quarter_choices(baseline)}


def _quarter_choices(selected: Quarter) -> list[str]:
    current = Quarter.of(timezone.localdate())
    choices = [q.label for q in current.last(PICKER_QUARTERS)][::-1]
    if selected.label not in choices:
        choices.append(selected.label)
    return choices


def review_data(quarter: Quarter, language: str) -> dict[str, Any]:
    """What both pages and the print share: the decorated scorecards, trends and figures."""
    context = selectors.review_context(quarter)
    review = context["review"]
    sets = review["inputs"]["kpi_sets"]
    alerts = context["alerts"]
    for row in alerts["top"]:
        row["name"] = metric_name(row["metric"], language)
        row["value_text"] = fmt(row["value"])
        row["baseline_text"] = fmt(row["baseline"])
    for row in alerts["by_metric"]:
        row["name"] = metric_name(row["metric"], language)
    for row in alerts["groups"]:
        row["name"] = metric_name(row["metric"], language)
    split = _strategy(quarter)
    return {
        "quarter": quarter,
        "review": review,
        "cards": [_card(c, language) for c in review["scorecards"]],
        "trends": context["trends"],
        "figures": {**figures(context["trends"], sets, language), "strategy": split["figure"]},
        "alerts": alerts,
        "parameter_changes": context["parameter_changes"],
        "collaboration_actuals": {
            key: review["inputs"]["actuals"].get(key)
            for key in ("handoff_wait_time", "cross_department_cycle_time")
        },
        "department_labels": department_labels(),
        "strategy": split,
    }


@login_required
def kpi_page(request: HttpRequest) -> HttpResponse:
    """Scorecards of a quarter with trends; managers edit KPI sets and close quarters."""
    quarter = _quarter_or_400(request)
    if isinstance(quarter, HttpResponse):
        return quarter
    from metrics.kpi.actions import actions_of

    language = _language()
    data = review_data(quarter, language)
    states = [selectors.kpi_set_state(d) for d in DEPARTMENTS]
    metric_choices = [
        {
            "key": key,
            "name": metric_name(key, language),
            "unit": info["unit"],
            "collaboration_metric": info["collaboration_metric"],
        }
        for key, info in ((k, selectors.metric_info(k)) for k in selectors.known_metrics())
    ]
    history = selectors.kpi_set_history(limit=50)
    for row in history:
        row["label"] = department_label(row["department"])
        row["summary"] = ", ".join(
            f"{metric_name(k['metric'], language)} {k['weight']:g}" for k in row["new_set"]
        )
    return render(
        request,
        "kpi.html",
        {
            **data,
            "active": "kpi",
            "quarter_choices": _quarter_choices(quarter),
            "is_manager": is_manager(request.user),
            **_programme(request, quarter),
            "actions": actions_of(quarter),
            "may_record": can_edit(request.user),
            "departments": list(DEPARTMENTS),
            "states": states,
            "history": history,
            "closings": selectors.quarter_closings(limit=20),
            "min_collaboration": selectors.min_collaboration_weight(),
            "editor": {
                "states": states,
                "metrics": metric_choices,
                "min_collaboration": selectors.min_collaboration_weight(),
                "labels": department_labels(),
                "quarter": quarter.label,
            },
            "js_text": {k: str(v) for k, v in JS_TEXT.items()},
        },
    )


@login_required
def kpi_review_page(request: HttpRequest) -> HttpResponse:
    """The full-screen quarterly review: one department per screen, arrow keys to move."""
    quarter = _quarter_or_400(request)
    if isinstance(quarter, HttpResponse):
        return quarter
    data = review_data(quarter, _language())
    from metrics.kpi.actions import actions_of, carried_over

    return render(
        request,
        "kpi_review.html",
        {
            **data,
            "actions": actions_of(quarter),
            "carried": carried_over(quarter),
            "may_record": can_edit(request.user),
            "departments": list(DEPARTMENTS),
            "review_meta": {
                "quarter": quarter.label,
                "start": quarter.start.isoformat(),
                "end": quarter.end.isoformat(),
                "labels": department_labels(),
            },
            "js_text": {k: str(v) for k, v in JS_TEXT.items()},
        },
    )


def _file_uri(path: Path | str | None) -> str:
    return Path(path).resolve().as_uri() if path else ""


def print_context(quarter: Quarter, *, user: Any, language: str) -> dict[str, Any]:
    """The context of `kpi_review_print.html`: the review plus the filters it was made with and
    file:// paths to plotly.js, the stylesheet and the chart script."""
    from metrics.kpi.actions import actions_of, carried_over

    with translation.override(language):
        data = review_data(quarter, language)
        data["actions"] = actions_of(quarter)
        data["carried"] = carried_over(quarter)
        css = finders.find("css/app.css")
        script = finders.find("js/kpi_print.js")
        return {
            **data,
            "generated_at": timezone.localtime(),
            "generated_by": user.get_username() if user is not None else "",
            "time_zone": timezone.get_current_timezone_name(),
            "plotly_uri": _file_uri(exports.plotly_js_path()),
            "css_uri": _file_uri(css if isinstance(css, str) else None),
            "script_uri": _file_uri(script if isinstance(script, str) else None),
            "language": language,
        }
