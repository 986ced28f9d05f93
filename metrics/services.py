"""Writes of the metrics app: recomputing values, evaluating statuses, raising and resolving
alerts, recording samples, and linking an alert to its kanban card.

`metrics_refresh(start=, end=)` is the one writer of metric values. In one transaction:

1. take a transaction-level advisory lock, so two refreshes never interleave;
2. run each formula family as ONE statement over the range and every region, upserting into
   metrics_metricvalue with ON CONFLICT ... WHERE IS DISTINCT FROM (unchanged rows are not
   rewritten) and noting the rows that changed in a temporary table;
3. evaluate baselines, deviations and statuses (one UPDATE) for the days whose value or baseline
   could have changed: the range itself and the month after its last day (the baseline of a day
   is the mean of the previous calendar month);
4. raise alerts for warn/critical rows of a current episode (once per metric, region, day and
   level; not for a business metric whose denominator is under `alert.min_denominator`) and
   resolve the open alerts whose episode ended (two statements; see "Alert episodes" below);
5. on commit: `panel.updated` for the changed panels (newest days first, at most
   MAX_PANEL_EVENTS), `alert.raised` / `alert.resolved`, and the domain signals `alerts_raised` /
   `alerts_resolved` (the kanban opens cards for critical alerts).

A change of the alert thresholds re-evaluates statuses only (`metrics_statuses_refresh`): no
value is recomputed.

Alert episodes. An episode of a metric and region is a run of days that are not ok; it ends on
the first later day whose status is ok. The open alerts answer "what is wrong now", so:

- an open alert for (metric, region, day d) is resolved when d itself returns to ok, or when a
  LATER day of the same metric and region is ok (its episode ended);
- an alert is raised only for a warn/critical day of the current episode, i.e. a day after the
  metric and region's last ok day (a finished episode of the past raises nothing: it is history,
  shown by the statuses, not news);
- still raised once per (metric, region, day, level): a resolved alert whose episode comes back
  (the later ok day turns warn again) is reopened with the same id, never duplicated.

Both rules read the whole values table of the evaluated metrics (one `max(day) ... GROUP BY`
over the ok rows), so the open alerts are a function of the statuses, whatever range was
refreshed.
"""

from __future__ import annotations

import calendar
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from carloan.realtime import broadcast_many
from metrics import signals
from metrics.events import (
    ALERTS_GROUP,
    alert_event,
    panel_group,
    panel_updated,
)
from metrics.formulas import (
    WINDOW_DAYS,
    Frame,
    family_sql,
    loanbook_regions,
    prepare_family,
    tune_session,
)
from metrics.models import Alert, MetricValue, RefreshFailure
from metrics.periods import advance_generations
from metrics.registry import FAMILIES, METRICS, Family, keys_of_families
from metrics.samples import SampleRow, business_days, samples_upsert
from metrics.selectors import (
    advance_read_generations,
    alert_modes,
    alerts_by_id,
    business_today,
    min_denominator,
    panels_for_keys,
    thresholds,
)

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_PANEL_EVENTS",
    "RefreshResult",
    "alert_card_attach",
    "families_for_kind",
    "metrics_refresh",
    "metrics_refresh_later",
    "metrics_refresh_pending",
    "metrics_refresh_pending_requeue",
    "metrics_statuses_refresh",
    "refresh_range_for",
    "samples_record",
]

# A refresh of months of data changes thousands of panels; clients watch a few (today's, mostly).
# Events go out newest day first, up to this many; a client on an older day resyncs on reconnect.
MAX_PANEL_EVENTS = 500
MAX_ALERT_EVENTS = 200
CHANGED = "pg_temp.metrics_changed"
LOCK_KEY = 0x6D657472  # "metr": one refresh at a time
# A deviation "reaches" a threshold even when floating point leaves it a hair under.
EPSILON = 1e-9


@dataclass
class RefreshResult:
    """What one refresh did."""

    start: date
    end: date
    families: list[str]
    seconds: dict[str, float] = field(default_factory=dict)
    values_changed: int = 0
    statuses_changed: int = 0
    alerts_raised: int = 0
    alerts_resolved: int = 0
    panel_events: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # family → why it was not recomputed

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "families": self.families,
            "seconds": self.seconds,
            "values_changed": self.values_changed,
            "statuses_changed": self.statuses_changed,
            "alerts_raised": self.alerts_raised,
            "alerts_resolved": self.alerts_resolved,
            "panel_events": self.panel_events,
            "failed": self.failed,
        }


# --- which days and families a change touches ----------------------------------------------------

# Which formula families read each loan book kind. A loan's region also places its snapshots, so
# loans feed the portfolio too; vehicle sales feed no metric.
_KIND_FAMILIES: dict[str, tuple[Family, ...]] = {
    "leads": ("funnel",),
    "applications": ("funnel",),
    "loans": ("funnel", "portfolio"),
    "loan_snapshots": ("portfolio",),
    "marketing_spend": ("funnel",),
    "valuations": ("valuation",),
    "complaints": ("portfolio",),
    "samples": ("technical",),
    "vehicle_sales": (),
    "calls": (),  # checked by the compliance app; no daily metric reads them
    "blacklist": (),  # read by the cross-checks (carloan.screening), not by a daily metric
}


def families_for_kind(kind: str) -> tuple[Family, ...]:
    """The formula families that read a loan book kind (all of them for an unknown kind)."""
    return _KIND_FAMILIES.get(kind, FAMILIES)


def last_materialised_day() -> date | None:
    """The last day that has metric values."""
    return MetricValue.objects.order_by("-day").values_list("day", flat=True).first()


def _materialised_span() -> tuple[date | None, date | None]:
    first = MetricValue.objects.order_by("day").values_list("day", flat=True).first()
    return first, last_materialised_day()


def refresh_range_for(kind: str, first_day: date, last_day: date) -> tuple[date, date] | None:
    """The days whose values rows of `kind` on [first_day, last_day] can change.

    - flow rows (leads, applications, loans, spend, valuations, complaints) on day d count in the
      windows of d..d+29;
    - a snapshot on day d holds until the loan's next one, so it can change every day from d to
      the end of the materialised days (or today, if later); loans place their snapshots in their
      region, so they reach as far;
    - samples count on their own day only.
    None when the kind feeds no metric.
    """
    families = families_for_kind(kind)
    if not families:
        return None
    horizon = max(d for d in (business_today(), last_materialised_day(), last_day) if d)
    if kind == "samples":
        return first_day, last_day
    if kind in ("loan_snapshots", "loans"):
        return first_day, horizon
    return first_day, min(last_day + timedelta(days=WINDOW_DAYS - 1), horizon)


# --- the refresh ---------------------------------------------------------------------------------


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _next_month_end(day: date) -> date:
    return _month_end(_month_end(day) + timedelta(days=1))


def _prepare_changed_table(cursor: Any) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {CHANGED}")
    cursor.execute(
        f"CREATE TEMP TABLE {CHANGED} (metric text, region text, day date, kind text) "
        "ON COMMIT DROP"
    )


def _upsert_family(cursor: Any, family: Family, frame: Frame, regions: Sequence[str]) -> int:
    """One statement: compute a family over the frame and upsert what differs. Rows changed."""
    prepare_family(cursor, family, frame, regions)
    cursor.execute(
        f"""
        WITH computed AS ({family_sql(family, frame)}),
        upserted AS (
            INSERT INTO metrics_metricvalue AS t
                (metric, region, day, value, numerator, denominator, status, computed_at)
            SELECT c.metric, c.region, c.day, c.value, c.numerator, c.denominator,
                   CASE WHEN c.value IS NULL THEN 'no_data' ELSE 'ok' END, now()
            FROM computed AS c(metric, region, day, value, numerator, denominator)
            ORDER BY 1, 2, 3
            ON CONFLICT (metric, region, day) DO UPDATE
            SET value = EXCLUDED.value, numerator = EXCLUDED.numerator,
                denominator = EXCLUDED.denominator, computed_at = EXCLUDED.computed_at
            WHERE (t.value, t.numerator, t.denominator)
                  IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.numerator, EXCLUDED.denominator)
            RETURNING t.metric, t.region, t.day
        )
        INSERT INTO {CHANGED} SELECT metric, region, day, 'value' FROM upserted
        """,
        frame.params(regions),
    )
    return cursor.rowcount


def _drop_vanished_regions(
    cursor: Any, metrics: Sequence[str], start: date, end: date, regions: Sequence[str]
) -> int:
    """Rows of regions no longer in the loan book (a region code corrected by a re-import)."""
    cursor.execute(
        f"""
        WITH gone AS (
            DELETE FROM metrics_metricvalue
            WHERE metric = ANY(%s) AND day BETWEEN %s AND %s
              AND region <> 'all' AND NOT (region = ANY(%s::text[]))
            RETURNING metric, day
        )
        INSERT INTO {CHANGED} SELECT metric, 'all', day, 'status' FROM gone
        """,
        [list(metrics), start, end, list(regions)],
    )
    return cursor.rowcount


def metrics_refresh(
    *,
    start: date,
    end: date,
    families: Iterable[Family] | None = None,
) -> RefreshResult:
    """Recompute the metric values of [start, end] for every region, then statuses and alerts.

    `families` limits the work to some formula families (default: all four). Safe to repeat:
    unchanged values are not rewritten and nothing is broadcast for them.
    """
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    chosen = [f for f in FAMILIES if families is None or f in set(families)]
    result = RefreshResult(start=start, end=end, families=list(chosen))
    if not chosen:
        return result
    metrics = keys_of_families(chosen)
    frame = Frame.daily(start, end)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        # Periods cached while the data refreshed here were being written are dropped.
        transaction.on_commit(
            lambda: advance_generations(
                business=any(f != "technical" for f in chosen), technical="technical" in chosen
            ),
            robust=True,
        )

        tune_session(cursor)
        began = time.monotonic()
        regions = loanbook_regions()
        _prepare_changed_table(cursor)
        result.seconds["regions"] = time.monotonic() - began
        for family in chosen:
            began = time.monotonic()
            try:
                # One family's bad row must not stop the others: each runs in a savepoint.
                with transaction.atomic():
                    result.values_changed += _upsert_family(cursor, family, frame, regions)
            except (OperationalError, InterfaceError):
                raise  # the connection, not the data: the task retries
            except DatabaseError as exc:
                result.failed[family] = _first_line(exc)
                logger.exception("metrics refresh %s..%s: %s failed", start, end, family)
            result.seconds[family] = time.monotonic() - began
        _record_failures(start, end, chosen, result.failed)
        if result.failed:
            metrics = keys_of_families([f for f in chosen if f not in result.failed])
        dropped = _drop_vanished_regions(cursor, metrics, start, end, regions)
        began = time.monotonic()
        evaluated = _evaluate(cursor, metrics, start, _next_month_end(end))
        result.seconds["statuses"] = time.monotonic() - began
        result.statuses_changed = evaluated.statuses_changed
        result.alerts_raised = len(evaluated.raised)
        result.alerts_resolved = len(evaluated.resolved)
        _retire_read_caches(result, dropped)
        began = time.monotonic()
        result.panel_events = _announce(cursor, evaluated)
        result.seconds["events"] = time.monotonic() - began
        if result.values_changed and any(f != "technical" for f in chosen):
            # The book changed: the Period picker's common periods are computed ahead.
            transaction.on_commit(_queue_periods_warm, robust=True)
    logger.info("metrics refresh %s..%s %s: %s", start, end, ",".join(chosen), result.as_dict())
    return result


def _queue_periods_warm() -> None:
    from django.conf import settings

    if int(getattr(settings, "METRICS_SUMMARY_CACHE_SECONDS", 0)) <= 0:
        return
    from metrics.tasks import metrics_periods_warm

    metrics_periods_warm.delay()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:500]


def _record_failures(
    start: date, end: date, families: Sequence[str], failed: Mapping[str, str]
) -> None:
    """Keep what failed (widening a family's failed days), and forget the failures of the
    families that succeeded over days covering them."""
    now = timezone.now()
    for family in families:
        if family in failed:
            row, created = RefreshFailure.objects.get_or_create(
                family=family,
                defaults={
                    "first_day": start,
                    "last_day": end,
                    "error": failed[family],
                    "first_failed_at": now,
                    "last_failed_at": now,
                },
            )
            if not created:
                RefreshFailure.objects.filter(family=family).update(
                    first_day=min(row.first_day, start),
                    last_day=max(row.last_day, end),
                    error=failed[family],
                    last_failed_at=now,
                    attempts=F("attempts") + 1,
                )
        else:
            RefreshFailure.objects.filter(
                family=family, first_day__gte=start, last_day__lte=end
            ).delete()


def metrics_refresh_failed_retry() -> dict[str, RefreshResult]:
    """Refresh again the days of every family whose refresh failed (the hourly beat task)."""
    return {
        failure.family: metrics_refresh(
            start=failure.first_day,
            end=failure.last_day,
            families=[failure.family],  # type: ignore[list-item]
        )
        for failure in RefreshFailure.objects.order_by("family")
    }


def metrics_statuses_refresh(
    *, metrics: Iterable[str], start: date | None = None, end: date | None = None
) -> RefreshResult:
    """Re-evaluate statuses and alerts of `metrics` (every day by default) against the current
    thresholds, without recomputing any value; broadcast what changed. For threshold changes."""
    keys = [k for k in METRICS if k in set(metrics)]
    first, last = _materialised_span()
    lo = start or first
    hi = end or last
    if not keys or lo is None or hi is None:
        return RefreshResult(start=lo or business_today(), end=hi or business_today(), families=[])
    result = RefreshResult(start=lo, end=hi, families=[])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        tune_session(cursor)
        _prepare_changed_table(cursor)
        began = time.monotonic()
        # Thresholds show on every panel of these metrics: announce their newest days too.
        evaluated = _evaluate(cursor, keys, lo, hi, thresholds_changed=True)
        result.seconds["statuses"] = time.monotonic() - began
        result.statuses_changed = evaluated.statuses_changed
        result.alerts_raised = len(evaluated.raised)
        result.alerts_resolved = len(evaluated.resolved)
        _retire_read_caches(result)
        result.panel_events = _announce(cursor, evaluated)
    return result


def _retire_read_caches(result: RefreshResult, dropped: int = 0) -> None:
    """Once the refresh commits, and before its events go out (their listeners read), retire
    the panels and alert lists read and cached while it ran, if it changed them (see
    metrics.selectors: the statements advanced the generations before the commit)."""
    values = bool(result.values_changed or result.statuses_changed or dropped)
    alerts = bool(result.alerts_raised or result.alerts_resolved)
    if values or alerts:
        transaction.on_commit(
            lambda: advance_read_generations(values=values, alerts=alerts), robust=True
        )


# --- statuses and alerts -------------------------------------------------------------------------


@dataclass
class _Evaluation:
    metrics: list[str]
    lo: date
    hi: date
    statuses_changed: int = 0
    raised: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    thresholds_changed: bool = False


def _threshold_table(metrics: Sequence[str]) -> tuple[str, list[Any]]:
    limits = thresholds()
    modes = alert_modes()
    defs = [METRICS[k] for k in metrics]
    sql = (
        "SELECT * FROM unnest(%s::text[], %s::int[], %s::float8[], %s::float8[], %s::bool[], "
        "%s::bool[], %s::float8[], %s::float8[]) "
        "AS t(metric, adverse, warn, critical, business, absolute, warn_at, critical_at)"
    )
    params = [
        [d.key for d in defs],
        [1 if d.lower_is_better else -1 for d in defs],
        [limits[d.key][0] for d in defs],
        [limits[d.key][1] for d in defs],
        [d.category == "business" for d in defs],
        [modes[d.key][0] == "absolute" for d in defs],
        [modes[d.key][1] for d in defs],
        [modes[d.key][2] for d in defs],
    ]
    return sql, params


def _evaluate(
    cursor: Any, metrics: Sequence[str], lo: date, hi: date, *, thresholds_changed: bool = False
) -> _Evaluation:
    """Baselines, deviations and statuses of `metrics` on [lo, hi]; then raise and resolve alerts.

    1. baseline of day d = mean of the metric's non-null daily values in d's previous calendar
       month (same metric and region); delta_pct = 100 × (value − baseline) / |baseline|, null
       when the baseline is null or 0;
    2. status: no_data when the value is null; in the absolute mode (`alert.<key>.mode`), critical
       / warn when the value is at or beyond critical_at / warn_at on the worse side, else ok; in
       the relative mode, ok when delta_pct is null, else critical / warn when the adverse
       deviation (delta_pct, negated for higher-is-better metrics) reaches the critical / warn
       threshold, else ok. Rows whose status, baseline or delta changed are noted;
    3. alerts: see `_raise_alerts` and `_resolve_alerts`.
    """
    evaluation = _Evaluation(list(metrics), lo, hi, thresholds_changed=thresholds_changed)
    table, params = _threshold_table(metrics)
    base_lo = (_month_start(lo) - timedelta(days=1)).replace(day=1)
    cursor.execute(
        f"""
        WITH t AS ({table}),
        months AS (
            SELECT v.metric, v.region, date_trunc('month', v.day::timestamp)::date AS month,
                   avg(v.value::numeric)::float8 AS mean
            FROM metrics_metricvalue AS v JOIN t ON t.metric = v.metric
            WHERE v.day >= %s AND v.day < %s AND v.value IS NOT NULL
            GROUP BY 1, 2, 3
        ),
        evaluated AS (
            SELECT v.id, b.mean AS baseline, d.delta_pct,
                   CASE
                       WHEN v.value IS NULL THEN 'no_data'
                       -- absolute: a service level in the metric's unit (adverse -1 flips a
                       -- higher-is-better metric, so "at or below" reads as "at or above")
                       WHEN t.absolute AND t.adverse * v.value >= t.adverse * t.critical_at - %s
                           THEN 'critical'
                       WHEN t.absolute AND t.adverse * v.value >= t.adverse * t.warn_at - %s
                           THEN 'warn'
                       WHEN t.absolute THEN 'ok'
                       WHEN d.delta_pct IS NULL THEN 'ok'
                       WHEN t.adverse * d.delta_pct >= t.critical - %s THEN 'critical'
                       WHEN t.adverse * d.delta_pct >= t.warn - %s THEN 'warn'
                       ELSE 'ok'
                   END AS status
            FROM metrics_metricvalue AS v
            JOIN t ON t.metric = v.metric
            LEFT JOIN months AS b
              ON b.metric = v.metric AND b.region = v.region
             AND b.month = (date_trunc('month', v.day::timestamp) - interval '1 month')::date
            CROSS JOIN LATERAL (
                SELECT CASE WHEN v.value IS NULL OR b.mean IS NULL OR b.mean = 0 THEN NULL
                            ELSE 100 * (v.value - b.mean) / abs(b.mean) END AS delta_pct
            ) AS d
            WHERE v.day BETWEEN %s AND %s
        ),
        updated AS (
            UPDATE metrics_metricvalue AS v
            SET baseline = e.baseline, delta_pct = e.delta_pct, status = e.status
            FROM evaluated AS e
            WHERE v.id = e.id
              AND (v.baseline, v.delta_pct, v.status)
                  IS DISTINCT FROM (e.baseline, e.delta_pct, e.status)
            RETURNING v.metric, v.region, v.day
        )
        INSERT INTO {CHANGED} SELECT metric, region, day, 'status' FROM updated
        """,
        [*params, base_lo, _month_start(hi), EPSILON, EPSILON, EPSILON, EPSILON, lo, hi],
    )
    evaluation.statuses_changed = cursor.rowcount
    evaluation.raised = _raise_alerts(cursor, table, params)
    evaluation.resolved = _resolve_alerts(cursor, metrics)
    return evaluation


_LAST_OK = """
    last_ok AS (
        SELECT v.metric, v.region, max(v.day) AS day
        FROM metrics_metricvalue AS v
        WHERE v.metric = ANY(%s) AND v.status = 'ok'
        GROUP BY v.metric, v.region
    )
"""


def _raise_alerts(cursor: Any, table: str, params: list[Any]) -> list[int]:
    """Open an alert for each warn/critical day of a current episode that has none open at its
    level.

    1. the current episode of a metric and region is its days after its last ok day (every day
       when it never was ok); only its warn/critical days are candidates, whatever [lo, hi] is,
       so an episode lengthened backwards (a later ok day turned warn) reopens its earlier days;
    2. once per (metric, region, day, level): a resolved alert that turns warn/critical again
       is reopened (same id), never duplicated;
    3. a warn day under an open critical alert of the same day raises nothing (the day has been
       worse already);
    4. business metrics whose denominator is under `alert.min_denominator` raise nothing (noise
       guard); their status still shows.
    """
    metrics = list(params[0])
    cursor.execute(
        f"""
        WITH t AS ({table}),
        {_LAST_OK},
        candidates AS (
            SELECT v.metric, v.region, v.day, v.status AS level, v.value, v.baseline, v.delta_pct
            FROM metrics_metricvalue AS v
            JOIN t ON t.metric = v.metric
            LEFT JOIN last_ok AS l ON l.metric = v.metric AND l.region = v.region
            WHERE v.status IN ('warn', 'critical')
              AND (l.day IS NULL OR v.day > l.day)
              AND NOT (t.business AND coalesce(v.denominator, 0) < %s)
              AND NOT (v.status = 'warn' AND EXISTS (
                  SELECT 1 FROM metrics_alert AS c
                  WHERE c.metric = v.metric AND c.region = v.region AND c.day = v.day
                    AND c.level = 'critical' AND c.status = 'open'))
        )
        INSERT INTO metrics_alert AS a
            (metric, region, day, level, status, value, baseline, delta_pct, raised_at)
        SELECT metric, region, day, level, 'open', value, baseline, delta_pct, now()
        FROM candidates ORDER BY metric, region, day, level
        ON CONFLICT (metric, region, day, level) DO UPDATE
        SET status = 'open', resolved_at = NULL, value = EXCLUDED.value,
            baseline = EXCLUDED.baseline, delta_pct = EXCLUDED.delta_pct,
            raised_at = EXCLUDED.raised_at
        WHERE a.status = 'resolved'
        RETURNING a.id
        """,
        [*params, metrics, min_denominator()],
    )
    return [row[0] for row in cursor.fetchall()]


def _resolve_alerts(cursor: Any, metrics: Sequence[str]) -> list[int]:
    """Resolve the open alerts of `metrics` whose episode ended: their own day is back to ok, or
    a later day of the same metric and region is ok. Every day counts, not only [lo, hi] (a day
    turning ok ends the episodes of the days before it, which lie outside the refreshed range).
    """
    cursor.execute(
        f"""
        WITH {_LAST_OK}
        UPDATE metrics_alert AS a SET status = 'resolved', resolved_at = now()
        FROM last_ok AS l
        WHERE a.status = 'open' AND a.metric = ANY(%s)
          AND l.metric = a.metric AND l.region = a.region AND l.day >= a.day
        RETURNING a.id
        """,
        [list(metrics), list(metrics)],
    )
    return [row[0] for row in cursor.fetchall()]


# --- events --------------------------------------------------------------------------------------


def _changed_panels(cursor: Any, evaluation: _Evaluation) -> list[tuple[str, str, date]]:
    """The panels to announce, newest day first, at most MAX_PANEL_EVENTS.

    A value changed on day x changes the panels of x..x+29 (their 30-day series); a status or
    baseline change changes its own panel; a threshold change changes every panel of the metric.
    Spans are taken per metric and region (a superset: an extra panel event is harmless).
    """
    if evaluation.thresholds_changed:
        cursor.execute(
            """
            SELECT metric, region, day FROM metrics_metricvalue
            WHERE metric = ANY(%s) AND day BETWEEN %s AND %s
            ORDER BY day DESC, region, metric LIMIT %s
            """,
            [evaluation.metrics, evaluation.lo, evaluation.hi, MAX_PANEL_EVENTS],
        )
        return [tuple(row) for row in cursor.fetchall()]  # type: ignore[misc]
    cursor.execute(
        f"""
        WITH spans AS (
            SELECT metric, region, min(day) AS lo,
                   max(day) + CASE WHEN bool_or(kind = 'value') THEN %s ELSE 0 END AS hi
            FROM {CHANGED} GROUP BY metric, region
        )
        SELECT v.metric, v.region, v.day
        FROM spans AS s JOIN metrics_metricvalue AS v
          ON v.metric = s.metric AND v.region = s.region AND v.day BETWEEN s.lo AND s.hi
        ORDER BY v.day DESC, v.region, v.metric LIMIT %s
        """,
        [WINDOW_DAYS - 1, MAX_PANEL_EVENTS],
    )
    return [tuple(row) for row in cursor.fetchall()]  # type: ignore[misc]


def _announce(cursor: Any, evaluation: _Evaluation) -> int:
    """Broadcast (after commit) the changed panels and the raised / resolved alerts, and send the
    domain signals. Returns the number of panel events."""
    keys = _changed_panels(cursor, evaluation)
    panels = panels_for_keys(keys)
    messages: list[tuple[str, Mapping[str, Any]]] = [
        (panel_group(region, day), panel_updated(region, day, panel))
        for (_metric, region, day), panel in panels.items()
    ]
    raised = alerts_by_id(evaluation.raised)
    resolved = alerts_by_id(evaluation.resolved)
    # Newest days first, at most MAX_ALERT_EVENTS each (the snapshot lists the open ones).
    for alerts, type_ in ((raised, "alert.raised"), (resolved, "alert.resolved")):
        newest = sorted(alerts, key=lambda a: (a["day"], a["id"]), reverse=True)
        messages += [
            (ALERTS_GROUP, alert_event(a, type_))  # type: ignore[arg-type]
            for a in newest[:MAX_ALERT_EVENTS]
        ]
    broadcast_many(messages)
    if raised:
        # One message per alert and channel (or a digest), queued for the worker on commit.
        from metrics.notify.services import alerts_raised as notify_raised

        notify_raised(raised)
        transaction.on_commit(
            lambda: signals.alerts_raised.send(sender=Alert, alerts=raised), robust=True
        )
    if resolved:
        transaction.on_commit(
            lambda: signals.alerts_resolved.send(sender=Alert, alerts=resolved), robust=True
        )
    return len(panels)


# --- the kanban's side ---------------------------------------------------------------------------


def alert_card_attach(*, alert_id: int, card_id: int | None) -> bool:
    """Record the kanban card opened for an alert (None detaches it). False when no such alert."""
    with transaction.atomic():  # the after-commit step must follow the write, in or out of one
        attached = Alert.objects.filter(pk=alert_id).update(card_id=card_id) == 1
        transaction.on_commit(lambda: advance_read_generations(values=False), robust=True)
    return attached


# --- helpers for callers -------------------------------------------------------------------------


def loanbook_first_day() -> date | None:
    """The first business day of the loan book (any kind that feeds a metric)."""
    sql = """
        SELECT least(
            (SELECT min(created_at AT TIME ZONE %(tz)s)::date FROM loanbook_lead),
            (SELECT min(decided_at AT TIME ZONE %(tz)s)::date FROM loanbook_application),
            (SELECT min(funded_at AT TIME ZONE %(tz)s)::date FROM loanbook_loan),
            (SELECT min(as_of) FROM loanbook_snapshot),
            (SELECT min(date) FROM loanbook_marketing_spend),
            (SELECT min(completed_at AT TIME ZONE %(tz)s)::date FROM loanbook_valuation),
            (SELECT min(received_at AT TIME ZONE %(tz)s)::date FROM loanbook_complaint),
            (SELECT min(ts AT TIME ZONE %(tz)s)::date FROM loanbook_sample)
        )
    """
    from django.conf import settings

    with connection.cursor() as cursor:
        cursor.execute(sql, {"tz": settings.TIME_ZONE})
        return cursor.fetchone()[0]


# --- samples -------------------------------------------------------------------------------------

RefreshMode = Literal["background", "now", "none"]


@dataclass
class SamplesResult:
    """What one batch of samples did."""

    accepted: int
    created: int
    updated: int
    first_day: date | None
    last_day: date | None


def samples_record(*, rows: list[SampleRow], refresh: RefreshMode = "background") -> SamplesResult:
    """Upsert validated samples (see `metrics.samples.parse_samples`) in one statement, then
    recompute the technical metrics of the days they fall on: in the worker after commit
    ("background"), here ("now"), or not at all ("none")."""
    span = business_days(rows)
    with transaction.atomic():
        created, updated = samples_upsert(rows)
        if created or updated:
            # Periods' technical figures cached before these samples are dropped once they are in.
            transaction.on_commit(lambda: advance_generations(business=False), robust=True)
        if span is not None and (created or updated) and refresh == "background":
            metrics_refresh_later(start=span[0], end=span[1], families=["technical"])
    if span is not None and (created or updated) and refresh == "now":
        metrics_refresh(start=span[0], end=span[1], families=["technical"])
    return SamplesResult(
        accepted=len(rows),
        created=created,
        updated=updated,
        first_day=span[0] if span else None,
        last_day=span[1] if span else None,
    )


# A queued refresh task that has not taken its pending row after this long is taken for lost
# (its broker message died with Redis, say) and queued again by the next change.
PENDING_LOST_SECONDS = 60

_PENDING_UPSERT = """
    INSERT INTO metrics_pendingrefresh AS p (family, first_day, last_day, token, queued_at)
    VALUES (%(family)s, %(first)s, %(last)s, gen_random_uuid(), clock_timestamp())
    ON CONFLICT (family) DO UPDATE SET
        first_day = least(p.first_day, excluded.first_day),
        last_day = greatest(p.last_day, excluded.last_day),
        token = excluded.token,
        queued_at = CASE
            WHEN p.queued_at < clock_timestamp() - make_interval(secs => %(lost)s)
            THEN clock_timestamp()
            ELSE p.queued_at
        END
    RETURNING queued_at >= statement_timestamp()  -- new, or queued again: queue a task
"""


def metrics_refresh_later(*, start: date, end: date, families: Sequence[str] | None = None) -> None:
    """Have the worker recompute [start, end] of `families` (default: all) after this commit.

    The days are merged into each family's pending refresh in the caller's transaction; a task
    is queued (after commit) only for a family that had none pending, so a burst of changes
    costs one refresh, not one each."""
    chosen = [f for f in FAMILIES if families is None or f in set(families)]
    to_queue: list[str] = []
    with connection.cursor() as cursor:
        for family in chosen:
            cursor.execute(
                _PENDING_UPSERT,
                {"family": family, "first": start, "last": end, "lost": PENDING_LOST_SECONDS},
            )
            if cursor.fetchone()[0]:
                to_queue.append(family)
    for queued in to_queue:
        transaction.on_commit(lambda f=queued: _queue_pending(f), robust=True)  # type: ignore[misc]


def _queue_pending(family: str, countdown: float = 0) -> None:
    from metrics.tasks import metrics_refresh_pending as task

    task.apply_async(args=[family], countdown=countdown or None)


def metrics_refresh_pending_requeue() -> list[str]:
    """Queue again the pending refreshes whose task looks lost (queued over PENDING_LOST_SECONDS
    ago and still there); the families queued."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE metrics_pendingrefresh SET queued_at = clock_timestamp()
            WHERE queued_at < clock_timestamp() - make_interval(secs => %s)
            RETURNING family
            """,
            [PENDING_LOST_SECONDS],
        )
        families = sorted(family for (family,) in cursor.fetchall())
        for family in families:
            transaction.on_commit(lambda f=family: _queue_pending(f), robust=True)  # type: ignore[misc]
    return families


def metrics_refresh_pending(family: str) -> RefreshResult | None:
    """Recompute the pending days of `family` (the worker's side of `metrics_refresh_later`).

    The row is deleted only if no change came in while the refresh ran; if one did, the row
    (widened) stays and the task is queued again after `METRICS_REFRESH_COALESCE_SECONDS`,
    which gathers the next burst into one refresh. A worker killed mid-way leaves the row for
    the redelivered task (or the next change's), so no change is ever left unrefreshed."""
    from django.conf import settings

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT first_day, last_day, token FROM metrics_pendingrefresh WHERE family = %s",
            [family],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    first, last, token = row
    result = metrics_refresh(start=first, end=last, families=[family])  # type: ignore[list-item]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM metrics_pendingrefresh WHERE family = %s AND token = %s", [family, token]
        )
        if cursor.rowcount == 0:
            cursor.execute(
                "UPDATE metrics_pendingrefresh SET queued_at = clock_timestamp() WHERE family = %s",
                [family],
            )
            pause = float(settings.METRICS_REFRESH_COALESCE_SECONDS)
            transaction.on_commit(lambda: _queue_pending(family, pause), robust=True)
    return result
