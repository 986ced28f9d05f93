"""Reads of the metric values and alerts: the panels, the series, the regions, the alerts.

Everything here reads the materialised values table (and the live thresholds, from the parameter
cache); nothing recomputes a formula. A panel for (region, day) needs one query whatever the
number of metrics: the rows of that region over [day-29, day].

Every open browser reads a region's panels and the open alerts on each page view, API call and
socket (re)connect, so both are kept in the shared cache under a generation: a sequence that any
statement writing the values (or the alerts) advances, and that a refresh, an acknowledgement
and an escalation advance again once they commit (`advance_read_generations`). An answer is
used only while its generation is current (and, for panels, while the thresholds it was built
with are the live ones), so a change is seen on the next read; METRICS_READ_CACHE_SECONDS bounds
what a writer that forgot the after-commit step could leave.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from carloan.cache import source_version
from carloan.parameters.selectors import parameter_values
from metrics import registry as registry_module
from metrics.events import AlertData, PanelData, PanelsSnapshot, SeriesPoint
from metrics.formulas import ALL, WINDOW_DAYS
from metrics.models import Alert, AlertStatus, MetricValue, Status
from metrics.registry import DEFINITIONS, METRICS

logger = logging.getLogger(__name__)

PanelKey = tuple[str, str, date]  # (metric, region, day)
MIN_DENOMINATOR_KEY = "alert.min_denominator"


def business_today() -> date:
    """Today in the business time zone (settings.TIME_ZONE)."""
    return timezone.localdate()


def thresholds(values: dict[str, Any] | None = None) -> dict[str, tuple[float, float]]:
    """(warn_pct, critical_pct) of every metric, from the live parameters (one cache read)."""
    values = parameter_values() if values is None else values
    return {d.key: (float(values[d.warn_key]), float(values[d.critical_key])) for d in DEFINITIONS}


def alert_modes(values: dict[str, Any] | None = None) -> dict[str, tuple[str, float, float]]:
    """(mode, warn_at, critical_at) of every metric: `relative` (deviation from the baseline,
    warn_pct / critical_pct) or `absolute` (a service level in the metric's unit)."""
    values = parameter_values() if values is None else values
    return {
        d.key: (
            str(values[d.mode_key]),
            float(values[d.warn_at_key]),
            float(values[d.critical_at_key]),
        )
        for d in DEFINITIONS
    }


def min_denominator() -> float:
    """Below this denominator a business metric shows its status but raises no alert."""
    return float(parameter_values()[MIN_DENOMINATOR_KEY])


def definitions() -> list[dict[str, Any]]:
    """The fourteen definitions, with their current thresholds."""
    limits = thresholds()
    modes = alert_modes()
    return [
        {
            **d.as_dict(),
            "warn_pct": limits[d.key][0],
            "critical_pct": limits[d.key][1],
            "threshold_mode": modes[d.key][0],
            "warn_at": modes[d.key][1],
            "critical_at": modes[d.key][2],
        }
        for d in DEFINITIONS
    ]


def region_list() -> list[str]:
    """`all`, then every region that has metric values, sorted (a skip scan of the index)."""
    sql = """
        WITH RECURSIVE r AS (
            (SELECT region FROM metrics_metricvalue ORDER BY region LIMIT 1)
            UNION ALL
            SELECT n.region FROM r CROSS JOIN LATERAL (
                SELECT v.region FROM metrics_metricvalue v WHERE v.region > r.region
                ORDER BY v.region LIMIT 1) AS n
        )
        SELECT region FROM r WHERE region <> %s ORDER BY region
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [ALL])
        return [ALL, *(row[0] for row in cursor.fetchall())]


def region_exists(region: str) -> bool:
    """`all`, or a region that has metric values."""
    return region == ALL or MetricValue.objects.filter(region=region).exists()


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# --- the read caches' generations ---------------------------------------------------------------

# Answers built by another version of this code (a rolling deploy shares Redis) are never read.
_CODE_VERSION = source_version(__file__, registry_module.__file__)
VALUES_GENERATION = "metrics_values_generation"
ALERTS_GENERATION = "metrics_alerts_generation"


def _read_cache_seconds() -> float:
    return float(getattr(settings, "METRICS_READ_CACHE_SECONDS", 0))


def _generation(sequence: str) -> str:
    """The sequence's number, with the sequence's own identity: a database created anew (a test
    run, a restore) starts its numbers at 1 again while Redis may still hold older answers."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT '{sequence}'::regclass::oid, last_value + is_called::int FROM {sequence}"
        )
        oid, number = cursor.fetchone()
        return f"{oid}.{number}"


def advance_read_generations(*, values: bool = True, alerts: bool = True) -> None:
    """Retire the cached panels (`values`) and alert lists (`alerts`). Called once a write has
    committed: its statements advanced the sequences before the commit, so an answer read
    meanwhile (the old rows) may have been cached under the new number."""
    pairs = ((VALUES_GENERATION, values), (ALERTS_GENERATION, alerts))
    names = [name for name, wanted in pairs if wanted]
    if names:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(f"nextval('{name}')" for name in names))


class _Slot:
    """One cache entry that holds the answer of the generation it was read at: a reader uses it
    only at that generation. One key per answer, whatever the generation (samples move the
    values' generation every second; a key per generation would fill Redis with dead ones)."""

    def __init__(self, key: str, sequence: str) -> None:
        self.key = f"metrics:{key}:{connection.settings_dict['NAME']}:{_CODE_VERSION}"
        self.generation = _generation(sequence)

    def get(self) -> Any:
        """The answer kept at the current generation, or None."""
        try:
            entry = cache.get(self.key)
        except Exception:  # the cache is down: the database answers
            logger.warning("could not read %s from the cache", self.key, exc_info=True)
            return None
        if entry is None or entry[0] != self.generation:
            return None
        return entry[1]

    def keep(self, answer: Any) -> None:
        """Keep `answer`, read after the generation was (see the module)."""
        # Never inside a transaction: it may have written what it read (the sequence has moved
        # on already, so other readers would be served rows that may yet roll back).
        if connection.in_atomic_block:
            return
        try:
            cache.set(self.key, (self.generation, answer), _read_cache_seconds())
        except Exception:
            logger.warning("could not keep %s in the cache", self.key, exc_info=True)


# --- panels --------------------------------------------------------------------------------------


def panels_for_keys(
    keys: Iterable[PanelKey], *, parameters: dict[str, Any] | None = None
) -> dict[PanelKey, PanelData]:
    """The panel of each (metric, region, day): one query for any number of keys.

    A panel: the metric's definition, its value, baseline, delta_pct and status on the day (a day
    without a computed value is `no_data`), its thresholds, and the series of the 30 days ending
    on the day (every date present, `null` where there is no value).
    """
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    sql = """
        SELECT k.metric, k.region, k.day, v.day, v.value, v.baseline, v.delta_pct, v.status,
               v.numerator, v.denominator,
               -- only the panel's own day shows it: parsing 30 timestamps a panel costs more
               -- than the rest of the panel
               CASE WHEN v.day = k.day THEN v.computed_at END
        FROM unnest(%s::text[], %s::text[], %s::date[]) AS k(metric, region, day)
        JOIN metrics_metricvalue AS v
          ON v.metric = k.metric AND v.region = k.region
         AND v.day BETWEEN k.day - %s AND k.day
    """
    rows: dict[PanelKey, dict[date, tuple[Any, ...]]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                [k[0] for k in wanted],
                [k[1] for k in wanted],
                [k[2] for k in wanted],
                WINDOW_DAYS - 1,
            ],
        )
        for metric, region, day, row_day, *rest in cursor.fetchall():
            rows[(metric, region, day)][row_day] = tuple(rest)
    parameters = parameter_values() if parameters is None else parameters
    limits = thresholds(parameters)
    modes = alert_modes(parameters)
    panels: dict[PanelKey, PanelData] = {}
    for key in wanted:
        metric, _region, day = key
        definition = METRICS[metric]
        by_day = rows.get(key, {})
        today = by_day.get(day)
        value, baseline, delta_pct, status, numerator, denominator, computed_at = (
            today if today is not None else (None, None, None, Status.NO_DATA, None, None, None)
        )
        series: list[SeriesPoint] = []
        for offset in range(WINDOW_DAYS - 1, -1, -1):
            point_day = day - timedelta(days=offset)
            point = by_day.get(point_day)
            series.append({"date": point_day.isoformat(), "value": point[0] if point else None})
        panels[key] = {
            "key": metric,
            "name": definition.name_en,
            "name_zh": definition.name_zh,
            "category": definition.category,
            "unit": definition.unit,
            "direction": definition.direction,
            "department": definition.department,
            "value": value,
            "baseline": baseline,
            "delta_pct": delta_pct,
            "status": str(status),
            "numerator": numerator,
            "denominator": denominator,
            "warn_pct": limits[metric][0],
            "critical_pct": limits[metric][1],
            "threshold_mode": modes[metric][0],
            "warn_at": modes[metric][1],
            "critical_at": modes[metric][2],
            "computed_at": _iso(computed_at),
            "series": series,
        }
    return panels


def panels_for_day(day: date, region: str = ALL) -> list[PanelData]:
    """The fourteen panels of `region` on `day`, in registry order (business, then technical).
    One query on the values table, plus one read of the parameter cache; or, while neither the
    values nor the thresholds changed, one read of the cache (see the module)."""
    keys = [(d.key, region, day) for d in DEFINITIONS]
    if _read_cache_seconds() <= 0:
        panels = panels_for_keys(keys)
        return [panels[key] for key in keys]
    parameters = parameter_values()
    used = (thresholds(parameters), alert_modes(parameters))
    slot = _Slot(f"panels:{region}:{day.isoformat()}", VALUES_GENERATION)
    entry = slot.get()
    if entry is not None and entry[0] == used:
        return list(entry[1])
    panels = panels_for_keys(keys, parameters=parameters)
    answer = [panels[key] for key in keys]
    slot.keep((used, answer))
    return answer


def metric_series(metric: str, region: str, start: date, end: date) -> list[dict[str, Any]]:
    """Every day of [start, end] with the metric's value, baseline, deviation, status and parts
    (days never computed are `null` / `no_data`)."""
    stored = {
        row["day"]: row
        for row in MetricValue.objects.filter(
            metric=metric, region=region, day__range=(start, end)
        ).values("day", "value", "baseline", "delta_pct", "status", "numerator", "denominator")
    }
    series = []
    day = start
    while day <= end:
        row = stored.get(day)
        series.append(
            {
                "date": day.isoformat(),
                "value": row["value"] if row else None,
                "baseline": row["baseline"] if row else None,
                "delta_pct": row["delta_pct"] if row else None,
                "status": row["status"] if row else "no_data",
                "numerator": row["numerator"] if row else None,
                "denominator": row["denominator"] if row else None,
            }
        )
        day += timedelta(days=1)
    return series


def region_comparison(metric: str, day: date) -> list[dict[str, Any]]:
    """The metric on `day` in every region (`all` first), for comparing regions."""
    stored = {
        row["region"]: row
        for row in MetricValue.objects.filter(metric=metric, day=day).values(
            "region", "value", "baseline", "delta_pct", "status", "numerator", "denominator"
        )
    }
    result = []
    for region in region_list():
        row = stored.get(region)
        result.append(
            {
                "region": region,
                "value": row["value"] if row else None,
                "baseline": row["baseline"] if row else None,
                "delta_pct": row["delta_pct"] if row else None,
                "status": row["status"] if row else "no_data",
                "numerator": row["numerator"] if row else None,
                "denominator": row["denominator"] if row else None,
            }
        )
    return result


def alert_data(alert: Alert) -> AlertData:
    """An alert as the API and the sockets show it."""
    return {
        "id": alert.pk,
        "metric": alert.metric,
        "region": alert.region,
        "day": alert.day.isoformat(),
        "level": alert.level,
        "status": alert.status,
        "value": alert.value,
        "baseline": alert.baseline,
        "delta_pct": alert.delta_pct,
        "raised_at": alert.raised_at.isoformat(),
        "resolved_at": _iso(alert.resolved_at),
        "card": alert.card_id,
        "department": METRICS[alert.metric].department if alert.metric in METRICS else "",
        "acknowledged_at": _iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by.get_username() if alert.acknowledged_by else None,
        "escalated_at": _iso(alert.escalated_at),
    }


def alerts(
    *,
    status: str | None = None,
    region: str | None = None,
    metric: str | None = None,
    level: str | None = None,
    day: date | None = None,
    limit: int = 200,
) -> list[AlertData]:
    """Alerts, newest raised first (then newest day first), filtered by any of status,
    region, metric, level and day. The lists by status alone (every open alert: each dashboard
    view) are cached under the alerts' generation (see the module)."""
    return alerts_with_json(
        status=status, region=region, metric=metric, level=level, day=day, limit=limit
    )[0]


def alerts_with_json(
    *,
    status: str | None = None,
    region: str | None = None,
    metric: str | None = None,
    level: str | None = None,
    day: date | None = None,
    limit: int = 200,
) -> tuple[list[AlertData], str]:
    """`alerts` and the JSON text of the list, which a cached list carries ready: the API
    answers with it as it is and the dashboard embeds it (no `<`, `>` or `&` in it, see
    `json_for_script`)."""
    if _read_cache_seconds() > 0 and not (region or metric or level or day):
        slot = _Slot(f"alert-list:{status or 'any'}:{limit}", ALERTS_GENERATION)
        cached = slot.get()
        if cached is not None:
            return list(cached[0]), cached[1]
        answer = _alerts(status=status, limit=limit)
        text = json_for_script(answer)
        slot.keep((answer, text))
        return answer, text
    answer = _alerts(status=status, region=region, metric=metric, level=level, day=day, limit=limit)
    return answer, json_for_script(answer)


# What django.utils.html.json_script escapes, so that the text can close no <script> element.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def json_for_script(value: Any) -> str:
    """JSON text that is safe inside a <script> element as it is (and still the same JSON)."""
    text = json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)
    if "<" in text or ">" in text or "&" in text:
        text = text.translate(_SCRIPT_ESCAPES)
    return text


def _alerts(
    *,
    status: str | None = None,
    region: str | None = None,
    metric: str | None = None,
    level: str | None = None,
    day: date | None = None,
    limit: int = 200,
) -> list[AlertData]:
    rows = Alert.objects.all()
    if status:
        rows = rows.filter(status=status)
    if region:
        rows = rows.filter(region=region)
    if metric:
        rows = rows.filter(metric=metric)
    if level:
        rows = rows.filter(level=level)
    if day:
        rows = rows.filter(day=day)
    # Plain rows, not model instances: the dashboard reads every open alert on each view.
    return [
        _alert_row_data(row)
        for row in rows.order_by("-raised_at", "-day", "-id").values(
            *ALERT_FIELDS, "acknowledged_by__username"
        )[:limit]
    ]


ALERT_FIELDS = (
    "id",
    "metric",
    "region",
    "day",
    "level",
    "status",
    "value",
    "baseline",
    "delta_pct",
    "raised_at",
    "resolved_at",
    "card_id",
    "acknowledged_at",
    "escalated_at",
)


def _alert_row_data(row: dict[str, Any]) -> AlertData:
    """`alert_data` of a `.values(*ALERT_FIELDS, "acknowledged_by__username")` row."""
    metric = row["metric"]
    return {
        "id": row["id"],
        "metric": metric,
        "region": row["region"],
        "day": row["day"].isoformat(),
        "level": row["level"],
        "status": row["status"],
        "value": row["value"],
        "baseline": row["baseline"],
        "delta_pct": row["delta_pct"],
        "raised_at": row["raised_at"].isoformat(),
        "resolved_at": _iso(row["resolved_at"]),
        "card": row["card_id"],
        "department": METRICS[metric].department if metric in METRICS else "",
        "acknowledged_at": _iso(row["acknowledged_at"]),
        "acknowledged_by": row["acknowledged_by__username"],
        "escalated_at": _iso(row["escalated_at"]),
    }


def alerts_by_id(ids: Sequence[int]) -> list[AlertData]:
    rows = Alert.objects.filter(pk__in=list(ids)).select_related("acknowledged_by")
    return [alert_data(a) for a in rows.order_by("day", "id")]


def panels_snapshot(day: date, region: str) -> PanelsSnapshot:
    """What a `/ws/metrics/` socket gets first: its panels, the open alerts, the regions."""
    return {
        "type": "panels.snapshot",
        "date": day.isoformat(),
        "region": region,
        "panels": panels_for_day(day, region),
        "alerts": alerts(status=AlertStatus.OPEN, limit=1000),
        "regions": region_list(),
    }


def refresh_problems() -> list[str]:
    """The formula families whose last refresh failed, as sentences for people."""
    from metrics.models import RefreshFailure

    return [
        f"{failure.family} metrics of {failure.first_day}..{failure.last_day} not recomputed "
        f"since {timezone.localtime(failure.first_failed_at):%Y-%m-%d %H:%M} "
        f"({failure.attempts} attempts): {failure.error}"
        for failure in RefreshFailure.objects.order_by("family")
    ]


ALERT_EXPORT_COLUMNS = (
    "id",
    "metric",
    "metric_name",
    "department",
    "region",
    "day",
    "level",
    "status",
    "value",
    "baseline",
    "delta_pct",
    "raised_at",
    "resolved_at",
    "acknowledged_at",
    "acknowledged_by",
    "escalated_at",
    "card",
)


def alerts_export_rows(
    *,
    status: str | None = None,
    region: str | None = None,
    metric: str | None = None,
    level: str | None = None,
    day: date | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Every alert `alerts` would list under the same filters (no limit), in its order, as rows
    of ALERT_EXPORT_COLUMNS; the metric named in the reader's language. Read in chunks."""
    from carloan.exports import EXPORT_CHUNK_ROWS
    from carloan.i18n import is_chinese

    rows = Alert.objects.all()
    for name, value in (
        ("status", status),
        ("region", region),
        ("metric", metric),
        ("level", level),
        ("day", day),
    ):
        if value:
            rows = rows.filter(**{name: value})
    chinese = is_chinese()
    for row in (
        rows.order_by("-raised_at", "-day", "-id")
        .values_list(
            "id",
            "metric",
            "region",
            "day",
            "level",
            "status",
            "value",
            "baseline",
            "delta_pct",
            "raised_at",
            "resolved_at",
            "acknowledged_at",
            "acknowledged_by__username",
            "escalated_at",
            "card_id",
        )
        .iterator(chunk_size=EXPORT_CHUNK_ROWS)
    ):
        definition = METRICS.get(row[1])
        if definition is None:
            yield (row[0], row[1], None, None, *row[2:])
        else:
            name = definition.name_zh if chinese else definition.name_en
            yield (row[0], row[1], name, definition.department, *row[2:])
