"""Reads of risk collaboration: the live library, scripts, calls, verdicts, the script × risk
matrix and the two figures (script–parameter discrepancy rate, flagged calls per 100 calls)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from carloan.compliance.library import BY_KEY, CATEGORIES, Category, make_category
from carloan.compliance.models import (
    Call,
    FindingVerdict,
    PhraseCategory,
    PhraseCategoryChange,
    Script,
    ScriptRevision,
    ScriptState,
    Severity,
    Verdict,
)

LIVE_STATES = (ScriptState.APPROVED, ScriptState.NEEDS_REVIEW)

# --- the library -------------------------------------------------------------------------------

_compiled: dict[tuple[str, int], Category] = {}
_compiled_lock = threading.Lock()


def _from_row(row: PhraseCategory) -> Category:
    """The category as risk control last saved it (compiled once per process and version)."""
    with _compiled_lock:
        found = _compiled.get((row.key, row.version))
    if found is None:
        shipped = BY_KEY[row.key]
        found = make_category(
            row.key,
            row.severity,
            (shipped.not_allowed_en, shipped.not_allowed_zh),
            (row.suggestion_en, row.suggestion_zh),
            tuple(row.patterns),
            shipped.parameter,
        )
        with _compiled_lock:
            _compiled[(row.key, row.version)] = found
    return found


def live_library() -> tuple[tuple[Category, ...], dict[str, int]]:
    """The 23 categories as they stand (an edited one as saved, the others as shipped), and
    each one's version. One small query."""
    rows = {row.key: row for row in PhraseCategory.objects.filter(key__in=BY_KEY)}
    categories = tuple(_from_row(rows[c.key]) if c.key in rows else c for c in CATEGORIES)
    versions = {c.key: rows[c.key].version if c.key in rows else 1 for c in CATEGORIES}
    return categories, versions


def category_data(category: Category, row: PhraseCategory | None) -> dict[str, Any]:
    return {
        "key": category.key,
        "severity": category.severity,
        "not_allowed": category.not_allowed_en,
        "not_allowed_zh": category.not_allowed_zh,
        "patterns": list(category.patterns),
        "suggestion_en": category.suggestion_en,
        "suggestion_zh": category.suggestion_zh,
        "parameter": category.parameter,
        "version": row.version if row else 1,
        "edited": row is not None and row.version > 1,
        "updated_by": row.updated_by.get_username() if row and row.updated_by else None,
        "updated_at": row.updated_at.isoformat() if row and row.updated_at else None,
    }


def library_list() -> list[dict[str, Any]]:
    rows = {r.key: r for r in PhraseCategory.objects.select_related("updated_by")}
    categories, _ = live_library()
    return [category_data(c, rows.get(c.key)) for c in categories]


def library_category(key: str) -> dict[str, Any]:
    row = PhraseCategory.objects.select_related("updated_by").filter(key=key).first()
    category = _from_row(row) if row else BY_KEY[key]
    return category_data(category, row)


def library_history(key: str) -> list[dict[str, Any]]:
    return [
        {
            "version": change.version,
            "old": change.old,
            "new": change.new,
            "reason": change.reason,
            "changed_by": change.changed_by.get_username() if change.changed_by else None,
            "changed_at": change.changed_at.isoformat(),
        }
        for change in PhraseCategoryChange.objects.filter(key=key).select_related("changed_by")
    ]


# --- scripts -----------------------------------------------------------------------------------


def _name(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def script_data(script: Script) -> dict[str, Any]:
    return {
        "id": script.pk,
        "title": script.title,
        "channel": script.channel,
        "text": script.text,
        "state": script.state,
        "version": script.version,
        "compliant": script.compliant,
        "findings": script.findings,
        "checked_at": script.checked_at.isoformat() if script.checked_at else None,
        "checked_against": script.checked_against,
        "review_note": script.review_note,
        "created_by": _name(script.created_by),
        "created_at": script.created_at.isoformat(),
        "updated_by": _name(script.updated_by),
        "updated_at": script.updated_at.isoformat(),
    }


def scripts_list(*, state: str | None = None) -> list[dict[str, Any]]:
    scripts = Script.objects.select_related("created_by", "updated_by")
    if state:
        scripts = scripts.filter(state=state)
    return [script_data(s) for s in scripts]


def scripts_by_id(script_id: int) -> dict[str, Any] | None:
    script = Script.objects.select_related("created_by", "updated_by").filter(pk=script_id).first()
    return script_data(script) if script else None


def script_history(script_id: int) -> list[dict[str, Any]]:
    return [
        {
            "version": r.version,
            "action": r.action,
            "state": r.state,
            "title": r.title,
            "text": r.text,
            "note": r.note,
            "by": _name(r.by),
            "at": r.at.isoformat(),
        }
        for r in ScriptRevision.objects.filter(script_id=script_id).select_related("by")
    ]


# --- calls -------------------------------------------------------------------------------------


def call_data(call: Call, verdicts: Iterable[FindingVerdict] = ()) -> dict[str, Any]:
    given = {
        (v.category, v.start, v.end): v.verdict for v in verdicts if v.verdict != Verdict.MISSED
    }
    findings = [
        {**f, "verdict": given.get((f["category"], f["start"], f["end"]))}
        for f in (call.findings or [])
    ]
    return {
        "call_id": call.call_id,
        "started_at": call.started_at.isoformat(),
        "region": call.region,
        "agent": call.agent,
        "lead_id": call.lead_id,
        "script_id": call.script_id,
        "direction": call.direction,
        "transcript": call.transcript,
        "checked_at": call.checked_at.isoformat() if call.checked_at else None,
        "flagged": call.flagged,
        "findings": findings,
        "missed": [
            {"category": v.category, "start": v.start, "end": v.end, "excerpt": v.excerpt}
            for v in verdicts
            if v.verdict == Verdict.MISSED
        ],
    }


def calls_list(
    *,
    flagged: bool | None = None,
    region: str | None = None,
    agent: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """(count, page) of checked calls, newest first."""
    calls = Call.objects.exclude(checked_hash="")
    if flagged is not None:
        calls = calls.filter(flagged=flagged)
    if region:
        calls = calls.filter(region=region)
    if agent:
        calls = calls.filter(agent=agent)
    if start:
        calls = calls.filter(started_at__gte=_day_start(start))
    if end:
        calls = calls.filter(started_at__lt=_day_start(end + dt.timedelta(days=1)))
    count = calls.count()
    page = list(calls.order_by("-started_at", "call_id")[offset : offset + limit])
    verdicts: dict[str, list[FindingVerdict]] = defaultdict(list)
    for verdict in FindingVerdict.objects.filter(call__in=[c.call_id for c in page]):
        verdicts[verdict.call_id].append(verdict)
    return count, [call_data(c, verdicts[c.call_id]) for c in page]


CALL_EXPORT_COLUMNS = (
    "call_id",
    "started_at",
    "region",
    "agent",
    "lead_id",
    "script_id",
    "direction",
    "checked_at",
    "flagged",
    "findings",
    "high",
    "medium",
    "low",
    "categories",
    "excerpts",
    "judged_right",
    "judged_wrong",
    "missed",
)


def calls_export_rows(
    *,
    flagged: bool | None = None,
    region: str | None = None,
    agent: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Every checked call `calls_list` would list (no page), newest first, as rows of
    CALL_EXPORT_COLUMNS: its findings counted by severity, their categories and excerpts
    (`category: excerpt`, joined by ` | `), and what reviewers said of them. Read in chunks;
    each chunk's verdicts in one query."""
    from carloan.exports import EXPORT_CHUNK_ROWS, batched

    calls = Call.objects.exclude(checked_hash="")
    if flagged is not None:
        calls = calls.filter(flagged=flagged)
    if region:
        calls = calls.filter(region=region)
    if agent:
        calls = calls.filter(agent=agent)
    if start:
        calls = calls.filter(started_at__gte=_day_start(start))
    if end:
        calls = calls.filter(started_at__lt=_day_start(end + dt.timedelta(days=1)))
    ordered = (
        calls.order_by("-started_at", "call_id")
        .defer("transcript")
        .iterator(chunk_size=EXPORT_CHUNK_ROWS)
    )
    for chunk in batched(ordered, EXPORT_CHUNK_ROWS):
        verdicts: dict[str, Counter[str]] = defaultdict(Counter)
        for call_id, verdict, n in (
            FindingVerdict.objects.filter(call__in=[c.call_id for c in chunk])
            .values("call_id", "verdict")
            .annotate(n=Count("id"))
            .values_list("call_id", "verdict", "n")
        ):
            verdicts[call_id][verdict] += n
        for call in chunk:
            findings = [f for f in (call.findings or []) if isinstance(f, dict)]
            severities = Counter(str(f.get("severity")) for f in findings)
            said = verdicts[call.call_id]
            yield (
                call.call_id,
                call.started_at,
                call.region,
                call.agent,
                call.lead_id,
                call.script_id,
                call.direction,
                call.checked_at,
                call.flagged,
                len(findings),
                severities[Severity.HIGH],
                severities[Severity.MEDIUM],
                severities[Severity.LOW],
                list(dict.fromkeys(str(f.get("category")) for f in findings)),
                " | ".join(f"{f.get('category')}: {f.get('excerpt', '')}" for f in findings),
                said[Verdict.RIGHT],
                said[Verdict.WRONG],
                said[Verdict.MISSED],
            )


def call_detail(call_id: str) -> dict[str, Any] | None:
    call = Call.objects.filter(call_id=call_id).first()
    if call is None:
        return None
    return call_data(call, FindingVerdict.objects.filter(call=call))


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def running_precision() -> dict[str, Any]:
    """What reviewers said of the calls' findings: precision = right / (right + wrong), overall
    and per category, and how many findings they said the check missed."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in FindingVerdict.objects.values("category", "verdict").annotate(n=Count("id")):
        counts[row["category"]][row["verdict"]] += row["n"]
    total: Counter[str] = sum(counts.values(), Counter())

    def figures(c: Mapping[str, int]) -> dict[str, Any]:
        judged = c.get(Verdict.RIGHT, 0) + c.get(Verdict.WRONG, 0)
        return {
            "right": c.get(Verdict.RIGHT, 0),
            "wrong": c.get(Verdict.WRONG, 0),
            "missed": c.get(Verdict.MISSED, 0),
            "precision": round(100 * c.get(Verdict.RIGHT, 0) / judged, 1) if judged else None,
        }

    return {
        **figures(total),
        "categories": {key: figures(counts[key]) for key in BY_KEY if key in counts},
    }


# --- the matrix and the figures ----------------------------------------------------------------


def _period(start: dt.date, end: dt.date) -> Q:
    return Q(
        started_at__gte=_day_start(start), started_at__lt=_day_start(end + dt.timedelta(days=1))
    )


def risk_matrix(*, start: dt.date, end: dt.date, region: str | None = None) -> dict[str, Any]:
    """Which scripts and which agents produce which categories, how often, and the complaints
    received in the same regions and period.

    Each row (a script, or an agent): calls, flagged calls, findings per category, and
    `complaints`: the complaints received in the period in the regions the row's calls were
    made in (a region counts for every row that called there)."""
    from carloan.models import Complaint

    calls = Call.objects.filter(_period(start, end)).exclude(checked_hash="")
    if region:
        calls = calls.filter(region=region)
    complaints_q = Complaint.objects.filter(
        received_at__gte=_day_start(start), received_at__lt=_day_start(end + dt.timedelta(days=1))
    )
    if region:
        complaints_q = complaints_q.filter(region=region)
    complaints = dict(
        complaints_q.values("region").annotate(n=Count("complaint_id")).values_list("region", "n")
    )
    titles = dict(Script.objects.values_list("pk", "title"))
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for call in calls.values("script_id", "agent", "region", "flagged", "findings").iterator():
        script_key = call["script_id"] or ""
        for kind, key in (("script", script_key), ("agent", call["agent"])):
            row = rows.setdefault(
                (kind, key),
                {
                    "kind": kind,
                    "key": key,
                    "calls": 0,
                    "flagged": 0,
                    "categories": Counter(),
                    "regions": set(),
                },
            )
            row["calls"] += 1
            row["flagged"] += bool(call["flagged"])
            row["regions"].add(call["region"])
            for finding in call["findings"] or []:
                row["categories"][finding["category"]] += 1
    out: dict[str, list[dict[str, Any]]] = {"scripts": [], "agents": []}
    for (kind, key), row in sorted(rows.items(), key=lambda item: (-item[1]["flagged"], item[0])):
        label = key
        if kind == "script":
            label = titles.get(int(key), key) if key.isdigit() else (key or "(no script)")
        out["scripts" if kind == "script" else "agents"].append(
            {
                "key": key,
                "label": label,
                "calls": row["calls"],
                "flagged": row["flagged"],
                "categories": dict(row["categories"]),
                "regions": sorted(row["regions"]),
                "complaints": sum(complaints.get(r, 0) for r in row["regions"]),
            }
        )
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "region": region or "all",
        "categories": list(BY_KEY),
        "complaints_by_region": complaints,
        **out,
    }


def flagged_calls_per_100(start: dt.date, end: dt.date, region: str | None = None) -> float | None:
    """100 × flagged calls / checked calls started in [start, end]; None with no call."""
    calls = Call.objects.filter(_period(start, end)).exclude(checked_hash="")
    if region:
        calls = calls.filter(region=region)
    counts = calls.aggregate(
        total=Count("call_id"), flagged=Count("call_id", filter=Q(flagged=True))
    )
    if not counts["total"]:
        return None
    return round(100 * counts["flagged"] / counts["total"], 2)


def script_discrepancy_rate(as_of: dt.date | None = None) -> float | None:
    """The share (%) of live scripts (approved, or approved and now waiting for review) whose
    text contradicts a live parameter, as they stood at the end of `as_of` (today by default):
    the seed's "22 % gap between approval parameters and sales wording". None with no live
    script."""
    if as_of is None or as_of >= timezone.localdate():
        states = list(
            Script.objects.filter(state__in=LIVE_STATES).values_list("findings", flat=True)
        )
    else:
        last = (
            ScriptRevision.objects.filter(at__lt=_day_start(as_of + dt.timedelta(days=1)))
            .order_by("script_id", "-version")
            .distinct("script_id")
            .values_list("state", "findings")
        )
        states = [findings for state, findings in last if state in LIVE_STATES]
    if not states:
        return None
    discrepant = sum(1 for findings in states if any(f.get("parameter") for f in findings or []))
    return round(100 * discrepant / len(states), 2)


def figures(*, days: int = 30) -> dict[str, Any]:
    """The two figures of the page: the discrepancy rate now, and flagged calls per 100 calls
    over the last `days` days."""
    today = timezone.localdate()
    return {
        "script_discrepancy_rate": script_discrepancy_rate(),
        "flagged_calls_per_100": flagged_calls_per_100(today - dt.timedelta(days=days - 1), today),
        "days": days,
        "live_scripts": Script.objects.filter(state__in=LIVE_STATES).count(),
        "needs_review": Script.objects.filter(state=ScriptState.NEEDS_REVIEW).count(),
    }


def flagged_calls_series(
    start: dt.date, end: dt.date, region: str | None = None
) -> list[dict[str, Any]]:
    """Per day of [start, end]: checked calls, flagged calls, and flagged per 100 (None on a
    day without calls)."""
    from django.db.models.functions import TruncDate

    calls = Call.objects.filter(_period(start, end)).exclude(checked_hash="")
    if region:
        calls = calls.filter(region=region)
    rows = {
        row["day"]: row
        for row in calls.annotate(
            day=TruncDate("started_at", tzinfo=timezone.get_current_timezone())
        )
        .values("day")
        .annotate(total=Count("call_id"), flagged=Count("call_id", filter=Q(flagged=True)))
    }
    out = []
    day = start
    while day <= end:
        row = rows.get(day)
        total = row["total"] if row else 0
        flagged = row["flagged"] if row else 0
        out.append(
            {
                "day": day.isoformat(),
                "calls": total,
                "flagged": flagged,
                "per_100": round(100 * flagged / total, 2) if total else None,
            }
        )
        day += dt.timedelta(days=1)
    return out
