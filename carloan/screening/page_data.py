"""Reads of the `/risk/` page (contract sections 4a and 10): the queue of flagged applications with
their failed checks explained in words, an application's ring (the applications sharing its
phone, device or VIN, and theirs one step further), the blacklist and the page's figures.

Nothing here writes. Identifiers leave this module only masked (`identifiers.masked`: `****8000`):
the stored keyed hashes are compared in SQL and never answered.

- `explanations(ids)`: for each application, its failed checks in words, in the active language
  ("Phone ****8000 shared by 4 applicants within 90 days (at most 2 allowed)"), counted as
  `checks.py` counts them, with today's thresholds.
- `queue(status=…)`: `selectors.flags` with those explanations.
- `ring(id)`: the application, the applications sharing its phone, device or VIN (depth 1) and
  those sharing one with a depth-1 application (depth 2), at most `MAX_RING` in all, the nearest
  in time first; the identifier groups they share and the edges that draw them (a star around
  each group's first application: the focus when it is in the group).
- `blacklist(type=…, active=…)`: the entries, masked, newest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from carloan.i18n import is_chinese
from carloan.parameters.selectors import parameter_values
from carloan.screening import charts, selectors
from carloan.screening.identifiers import masked
from carloan.screening.models import CHECK_KEYS, ApplicationCheck, BlacklistEntry

MAX_RING = 60
LINK_TYPES = ("phone", "device", "vin")  # what a ring is made of, in drawing order
LINK_COLUMNS = {"phone": "phone", "device": "device_id", "vin": "vin"}

THRESHOLDS = (
    "risk.xcheck.window_days",
    "risk.xcheck.max_applicants_per_phone",
    "risk.xcheck.max_applicants_per_device",
    "risk.xcheck.max_dti_pct",
    "risk.max_ltv_pct",
    "risk.min_credit_score",
    "marketing.lead_score_cutoff",
)

CHECK_LABELS: dict[str, Any] = {
    "blacklist": gettext_lazy("Blacklist"),
    "shared_phone": gettext_lazy("Shared phone"),
    "vin_reuse": gettext_lazy("VIN reuse"),
    "ltv": gettext_lazy("Loan-to-value"),
    "debt_to_income": gettext_lazy("Debt-to-income"),
    "shared_device": gettext_lazy("Shared device"),
}
RESULT_LABELS: dict[str, Any] = {
    "pass": gettext_lazy("Pass"),
    "fail": gettext_lazy("Fail"),
    "not_applicable": gettext_lazy("Not applicable"),
}
KIND_LABELS: dict[str, Any] = {
    "applicant": gettext_lazy("Applicant"),
    "phone": gettext_lazy("Phone"),
    "vin": gettext_lazy("VIN"),
    "device": gettext_lazy("Device"),
    "dealer": gettext_lazy("Dealer"),
}

# The person an application belongs to, as checks.py counts people: its applicant key, or the
# application itself when it has none. (`b.x <> ''` lets the planner use the partial indexes.)
_PERSON = "coalesce(nullif({t}.applicant_key, ''), 'application:' || {t}.application_id)"
_WINDOW = (
    "b.applied_at BETWEEN a.applied_at - make_interval(days => %(window)s) "
    "AND a.applied_at + make_interval(days => %(window)s)"
)
_SHARED_COUNT = (
    "CASE WHEN c.{check} = 'fail' AND a.{column} <> '' THEN (SELECT count(DISTINCT {person_b}) "
    "FROM loanbook_application b "
    "WHERE b.{column} <> '' AND b.{column} = a.{column} AND {window}) END"
)
_FACTS_SQL = """
SELECT a.application_id, c.blacklist, c.ltv, c.debt_to_income,
       a.phone, a.device_id, a.vin, a.amount_requested, a.vehicle_value, a.monthly_income,
       {phone_people} AS phone_people,
       {device_people} AS device_people,
       CASE WHEN c.vin_reuse = 'fail' AND a.vin <> '' THEN (
           SELECT count(DISTINCT {person_b}) FROM loanbook_application b
           WHERE b.vin <> '' AND b.vin = a.vin AND {person_b} <> {person_a} AND {window})
       END AS vin_others,
       c.shared_phone, c.vin_reuse, c.shared_device
FROM loanbook_application a JOIN screening_application_check c USING (application_id)
WHERE a.application_id = ANY(%(ids)s)
""".format(
    phone_people=_SHARED_COUNT.format(
        check="shared_phone",
        column="phone",
        person_b=_PERSON.format(t="b"),
        window=_WINDOW,
    ),
    device_people=_SHARED_COUNT.format(
        check="shared_device",
        column="device_id",
        person_b=_PERSON.format(t="b"),
        window=_WINDOW,
    ),
    person_a=_PERSON.format(t="a"),
    person_b=_PERSON.format(t="b"),
    window=_WINDOW,
)
# The blacklist entries an application's identifiers are on (as the check reads them: an entry
# without expiry, or one expiring after the application).
_HITS_SQL = """
SELECT a.application_id, e.type, e.value, e.reason
FROM loanbook_application a
CROSS JOIN LATERAL (VALUES ('applicant', a.applicant_key), ('phone', a.phone), ('vin', a.vin),
                           ('device', a.device_id), ('dealer', a.dealer_id)) AS i(type, value)
JOIN screening_blacklist_entry e ON e.type = i.type AND e.value = i.value
WHERE a.application_id = ANY(%(ids)s) AND i.value <> ''
  AND (e.expires_at IS NULL OR e.expires_at > a.applied_at)
ORDER BY a.application_id, e.added_at, e.entry_id
"""


def pct(value: float | Decimal | int | None) -> str:
    """'92.5 %' (English) / '92.5%' (Chinese), one decimal at most."""
    if value is None:
        return "–"
    text = f"{float(value):,.1f}".rstrip("0").rstrip(".")
    return text + ("%" if is_chinese() else " %")


def thresholds() -> dict[str, Any]:
    """The live values the checks and the pre-screen read."""
    values = parameter_values()
    return {key: values.get(key) for key in THRESHOLDS}


# --- explanations ------------------------------------------------------------------------------


def _blacklist_text(hits: Sequence[tuple[str, str, str]]) -> str:
    if not hits:
        return _("An identifier or the dealer is on the blacklist.")
    parts = []
    for kind, value, reason in hits:
        parts.append(
            _("{kind} {value} is on the blacklist ({reason})").format(
                kind=KIND_LABELS.get(kind, kind), value=masked(value) or "", reason=reason
            )
        )
    return "; ".join(parts)


def _explain_row(
    row: Mapping[str, Any], hits: Sequence[tuple[str, str, str]], values: Mapping[str, Any]
) -> dict[str, str]:
    days = int(values["risk.xcheck.window_days"])
    out: dict[str, str] = {}
    if row["blacklist"] == "fail":
        out["blacklist"] = _blacklist_text(hits)
    if row["shared_phone"] == "fail":
        out["shared_phone"] = _(
            "Phone {value} shared by {n} applicants within {days} days (at most {max} allowed)"
        ).format(
            value=masked(row["phone"]),
            n=row["phone_people"] or 0,
            days=days,
            max=values["risk.xcheck.max_applicants_per_phone"],
        )
    if row["vin_reuse"] == "fail":
        others = int(row["vin_others"] or 0)
        out["vin_reuse"] = ngettext(
            "VIN {value} also on an application of another applicant within {days} days",
            "VIN {value} also on applications of {n} other applicants within {days} days",
            others,
        ).format(value=masked(row["vin"]), n=others, days=days)
    if row["ltv"] == "fail" and row["vehicle_value"]:
        ratio = 100 * Decimal(row["amount_requested"]) / Decimal(row["vehicle_value"])
        out["ltv"] = _("Loan-to-value {ratio} is above the {max} limit").format(
            ratio=pct(ratio), max=pct(values["risk.max_ltv_pct"])
        )
    if row["debt_to_income"] == "fail" and row["monthly_income"]:
        ratio = 100 * (Decimal(row["amount_requested"]) / 36) / Decimal(row["monthly_income"])
        out["debt_to_income"] = _(
            "Monthly repayment (amount ÷ 36) is {ratio} of the monthly income, above the {max} "
            "limit"
        ).format(ratio=pct(ratio), max=pct(values["risk.xcheck.max_dti_pct"]))
    if row["shared_device"] == "fail":
        out["shared_device"] = _(
            "Device {value} shared by {n} applicants within {days} days (at most {max} allowed)"
        ).format(
            value=masked(row["device_id"]),
            n=row["device_people"] or 0,
            days=days,
            max=values["risk.xcheck.max_applicants_per_device"],
        )
    return out


def explanations(ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """{application_id: {check: why it failed, in words}} for the checked applications of `ids`
    (an application that failed nothing maps to {})."""
    wanted = sorted({str(i) for i in ids})
    if not wanted:
        return {}
    values = thresholds()
    bind = {"ids": wanted, "window": int(values["risk.xcheck.window_days"])}
    with connection.cursor() as cursor:
        cursor.execute(_FACTS_SQL, bind)
        names = [c.name for c in cursor.description]
        facts = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        hits: dict[str, list[tuple[str, str, str]]] = {}
        if any(row["blacklist"] == "fail" for row in facts):
            failing = [row["application_id"] for row in facts if row["blacklist"] == "fail"]
            cursor.execute(_HITS_SQL, {"ids": failing})
            for app_id, kind, value, reason in cursor.fetchall():
                hits.setdefault(app_id, []).append((kind, value, reason))
    return {
        row["application_id"]: _explain_row(row, hits.get(row["application_id"], []), values)
        for row in facts
    }


def queue(
    *, status: str | None = "open", limit: int = 200, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """(count, page) of flagged applications as `GET /api/risk/flags/` answers them, each with
    `explanations` ({check: words})."""
    count, rows = selectors.flags(status=status, limit=limit, offset=offset)
    words = explanations(row["application_id"] for row in rows)
    return count, [{**row, "explanations": words.get(row["application_id"], {})} for row in rows]


def figures() -> dict[str, int]:
    """Open and cleared flags, and the blacklist entries in force now."""
    flagged = ApplicationCheck.objects.filter(flagged=True)
    return {
        "open": flagged.filter(status="open").count(),
        "cleared": flagged.filter(status="cleared").count(),
        "blacklist_active": BlacklistEntry.objects.filter(_active(timezone.now())).count(),
    }


# --- the ring ----------------------------------------------------------------------------------

_NODE_COLUMNS = (
    "application_id, region, applied_at, applicant_key, phone, device_id, vin, dealer_id"
)
_GAP = "abs(extract(epoch FROM b.applied_at - %(at)s))"


def _neighbours(
    cursor: Any,
    *,
    values: Mapping[str, Sequence[str]],
    known: Sequence[str],
    at: dt.datetime,
    limit: int,
) -> list[dict[str, Any]]:
    """Applications (not in `known`) holding one of `values` ({link type: stored values}), the
    nearest in time to `at` first, at most `limit`."""
    clauses = []
    bind: dict[str, Any] = {"known": list(known), "at": at, "limit": limit}
    for kind, stored_values in values.items():
        present = sorted({v for v in stored_values if v})
        if present:
            column = LINK_COLUMNS[kind]
            clauses.append(f"(b.{column} <> '' AND b.{column} = ANY(%({kind})s))")
            bind[kind] = present
    if not clauses or limit <= 0:
        return []
    cursor.execute(
        f"SELECT {_NODE_COLUMNS}, {_GAP} AS gap FROM loanbook_application b "  # fixed names only
        f"WHERE ({' OR '.join(clauses)}) AND NOT (b.application_id = ANY(%(known)s)) "
        f"ORDER BY gap, b.application_id LIMIT %(limit)s",
        bind,
    )
    names = [c.name for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _node(app: Mapping[str, Any], depth: int, check: ApplicationCheck | None) -> dict[str, Any]:
    return {
        "application_id": app["application_id"],
        "depth": depth,
        "region": app["region"],
        "applied_at": app["applied_at"].isoformat(),
        "checked": check is not None,
        "flagged": bool(check and check.flagged),
        "status": check.status if check else None,
        "failed_checks": [k for k in CHECK_KEYS if check and getattr(check, k) == "fail"],
        "identifiers": {
            "applicant_key": masked(app["applicant_key"]),
            "phone": masked(app["phone"]),
            "vin": masked(app["vin"]),
            "device_id": masked(app["device_id"]),
            "dealer_id": masked(app["dealer_id"]),
        },
    }


def _links(
    apps: Sequence[Mapping[str, Any]], order: Mapping[str, tuple[Any, ...]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(groups, edges): every phone, device or VIN held by two applications or more of `apps`,
    and the edges drawing each as a star around its first application (`order`)."""
    groups = []
    pairs: dict[tuple[str, str], list[dict[str, str]]] = {}
    for kind in LINK_TYPES:
        holders: dict[str, list[str]] = {}
        for app in apps:
            value = app[LINK_COLUMNS[kind]]
            if value:
                holders.setdefault(value, []).append(app["application_id"])
        for value, ids in holders.items():
            if len(ids) < 2:
                continue
            ids = sorted(ids, key=lambda i: order[i])
            label = masked(value) or ""
            groups.append({"type": kind, "masked": label, "applications": ids})
            hub = ids[0]
            for other in ids[1:]:
                pairs.setdefault((hub, other), []).append({"type": kind, "masked": label})
    groups.sort(key=lambda g: (order[g["applications"][0]], LINK_TYPES.index(g["type"])))
    edges = [
        {"source": source, "target": target, "links": links}
        for (source, target), links in sorted(
            pairs.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])
        )
    ]
    return groups, edges


def ring(application_id: str, *, max_nodes: int = MAX_RING) -> dict[str, Any] | None:
    """The application's ring (see the module), or None when there is no such application.

    `{"application_id", "application": {…node, "checks", "explanations"}, "nodes": [...],
    "edges": [{"source", "target", "links": [{"type", "masked"}]}], "groups": [{"type",
    "masked", "applications"}], "truncated", "max_nodes"}`."""
    max_nodes = max(1, max_nodes)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_NODE_COLUMNS}, 0::float AS gap FROM loanbook_application "
            "WHERE application_id = %s",
            [application_id],
        )
        found = cursor.fetchone()
        if found is None:
            return None
        names = [c.name for c in cursor.description]
        focus = dict(zip(names, found, strict=True))
        at = focus["applied_at"]
        depth = {focus["application_id"]: 0}
        apps = [focus]
        room = max_nodes - 1
        first = _neighbours(
            cursor,
            values={kind: [focus[LINK_COLUMNS[kind]]] for kind in LINK_TYPES},
            known=[focus["application_id"]],
            at=at,
            limit=room + 1,
        )
        truncated = len(first) > room
        first = first[:room]
        for app in first:
            depth[app["application_id"]] = 1
        apps += first
        room -= len(first)
        if first and not truncated:
            second = _neighbours(
                cursor,
                values={kind: [app[LINK_COLUMNS[kind]] for app in first] for kind in LINK_TYPES},
                known=list(depth),
                at=at,
                limit=room + 1,
            )
            truncated = len(second) > room
            for app in second[:room]:
                depth[app["application_id"]] = 2
                apps.append(app)
    checks = {
        c.application_id: c for c in ApplicationCheck.objects.filter(application_id__in=depth)
    }
    order = {
        app["application_id"]: (
            depth[app["application_id"]],
            float(app["gap"] or 0),
            app["applied_at"],
            app["application_id"],
        )
        for app in apps
    }
    groups, edges = _links(apps, order)
    nodes = [
        _node(app, depth[app["application_id"]], checks.get(app["application_id"])) for app in apps
    ]
    focus_check = checks.get(focus["application_id"])
    application = {
        **nodes[0],
        "checks": {k: getattr(focus_check, k) for k in CHECK_KEYS} if focus_check else None,
        "checked_at": focus_check.checked_at.isoformat() if focus_check else None,
        "explanations": explanations([focus["application_id"]]).get(focus["application_id"], {}),
    }
    return {
        "application_id": focus["application_id"],
        "application": application,
        "nodes": nodes,
        "edges": edges,
        "groups": groups,
        "truncated": truncated,
        "max_nodes": max_nodes,
    }


# --- the blacklist -----------------------------------------------------------------------------


def _active(now: dt.datetime) -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


def blacklist(
    *, type: str | None = None, active: bool | None = None, limit: int = 100, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """(count, page) of blacklist entries, newest first; `active`: in force now (no expiry, or
    one still ahead) or not. Values masked."""
    now = timezone.now()
    rows = BlacklistEntry.objects.all()
    if type:
        rows = rows.filter(type=type)
    if active is True:
        rows = rows.filter(_active(now))
    elif active is False:
        rows = rows.exclude(_active(now))
    count = rows.count()
    page = rows.order_by("-added_at", "entry_id")[offset : offset + limit]
    return count, [
        {
            "entry_id": e.entry_id,
            "type": e.type,
            "masked_value": masked(e.value),
            "reason": e.reason,
            "added_at": e.added_at.isoformat(),
            "expires_at": e.expires_at.isoformat() if e.expires_at else None,
            "department": e.department or None,
            "active": e.expires_at is None or e.expires_at > now,
        }
        for e in page
    ]


# --- the ring's figure -------------------------------------------------------------------------

RING_LABELS: dict[str, Any] = {
    "phone": gettext_lazy("Phone"),
    "device": gettext_lazy("Device"),
    "vin": gettext_lazy("VIN"),
    "flagged": gettext_lazy("Flagged"),
    "cleared": gettext_lazy("Flag cleared"),
    "clear": gettext_lazy("Not flagged"),
    "unchecked": gettext_lazy("Not checked yet"),
    "region": gettext_lazy("Region"),
    "applied": gettext_lazy("Applied"),
    "noRing": gettext_lazy("No other application shares its phone, device or VIN."),
    "truncated": gettext_lazy(
        "Showing the {shown} nearest in time: the ring goes on (at most {max} are drawn)."
    ),
}


def ring_labels() -> dict[str, Any]:
    """The figure's texts in the active language."""
    return {
        **{key: str(text) for key, text in RING_LABELS.items()},
        "checkNames": {key: str(text) for key, text in CHECK_LABELS.items()},
    }


def ring_with_figure(application_id: str, *, max_nodes: int = MAX_RING) -> dict[str, Any] | None:
    """`ring` and its Plotly figure (`figure`), texts in the active language."""
    found = ring(application_id, max_nodes=max_nodes)
    if found is None:
        return None
    return {**found, "figure": charts.ring_figure(found, labels=ring_labels())}


FLAG_EXPORT_COLUMNS = (
    "application_id",
    "status",
    "failed",
    "failed_checks",
    *CHECK_KEYS,
    "why",
    "region",
    "applied_at",
    "checked_at",
    "applicant",
    "phone",
    "vin",
    "device",
    "dealer",
)


def flags_export_rows(*, status: str | None = "open") -> Iterator[tuple[Any, ...]]:
    """Every flagged application of `status` (None: all) in the queue's order (most failed
    first), as rows of FLAG_EXPORT_COLUMNS: the six results, why each failed one failed in
    words, and the identifiers masked. Read in chunks; each chunk's applications and
    explanations in one query each."""
    from carloan.exports import EXPORT_CHUNK_ROWS, batched
    from carloan.models import LoanApplication

    rows = ApplicationCheck.objects.filter(flagged=True)
    if status:
        rows = rows.filter(status=status)
    ordered = rows.order_by("-failed", "-checked_at", "application_id").iterator(
        chunk_size=EXPORT_CHUNK_ROWS
    )
    for chunk in batched(ordered, EXPORT_CHUNK_ROWS):
        ids = [row.application_id for row in chunk]
        apps = {a.application_id: a for a in LoanApplication.objects.filter(application_id__in=ids)}
        words = explanations(ids)
        for row in chunk:
            app = apps.get(row.application_id)
            failed = [key for key in CHECK_KEYS if getattr(row, key) == "fail"]
            why = words.get(row.application_id, {})
            yield (
                row.application_id,
                row.status,
                row.failed,
                failed,
                *(getattr(row, key) for key in CHECK_KEYS),
                "; ".join(why[key] for key in failed if why.get(key)),
                app.region if app else None,
                app.applied_at if app else None,
                row.checked_at,
                *(
                    masked(getattr(app, field)) if app else None
                    for field in ("applicant_key", "phone", "vin", "device_id", "dealer_id")
                ),
            )
