"""Every formula of contract section 3 as set-based SQL: one statement per family computes, for a
range of days and for every region at once (plus `all`), rows of
(metric, region, day, value, numerator, denominator).

- `Frame` says which days and windows: `Frame.daily(start, end)` gives every day d of the range
  with the window W(d) = [d-29, d] (flow metrics), the state on d (stock metrics) and the samples
  of d (technical metrics); `Frame.period(start, end)` gives one row per metric and region, keyed
  by `end`, with the whole period as the window and the state on `end` (KPI scoring, a quarter).
- `family_sql(family, frame, regions)` is the SELECT of one family (`metrics.formulas.business`,
  `metrics.formulas.technical`); `metrics.services.metrics_refresh` wraps it in one upsert.
- `metric_values_for_period(start, end)` computes every metric over a period, not stored.

Business days are read in settings.TIME_ZONE: a timestamptz `t` falls on `(t AT TIME ZONE tz)::date`
and range filters use the zone's midnights, so the indexes on the timestamps serve.
Zero denominators give a NULL value (status `no_data`); a region with no activity gets rows with
NULL values, never a missing row. A region is any region seen in the loan book (leads,
applications, loans, marketing spend, valuations, complaints, samples); vehicle sales are market
data and define none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from metrics.registry import FAMILIES, METRICS, PERIOD_METRICS, Family

WINDOW_DAYS = 30
ALL = "all"


@dataclass(frozen=True)
class Frame:
    """The days to compute and the window of each (see the module docstring)."""

    start: date
    end: date
    period: bool = False

    @classmethod
    def daily(cls, start: date, end: date) -> Frame:
        """Every business day of [start, end], each with W(d) = [d-29, d]."""
        if end < start:
            raise ValueError(f"the range ends ({end}) before it starts ({start})")
        return cls(start, end, period=False)

    @classmethod
    def for_period(cls, start: date, end: date) -> Frame:
        """One computation over the whole period [start, end]; stock metrics on `end`."""
        if end < start:
            raise ValueError(f"the period ends ({end}) before it starts ({start})")
        return cls(start, end, period=True)

    @property
    def first_day(self) -> date:
        """The first day a row is produced for (and the first stock day)."""
        return self.end if self.period else self.start

    @property
    def flow_start(self) -> date:
        """The first day a flow row (a lead, a loan...) can count in some window of the frame."""
        return self.start if self.period else self.start - timedelta(days=WINDOW_DAYS - 1)

    def params(self, regions: Sequence[str]) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "first_day": self.first_day,
            "flow_start": self.flow_start,
            "tz": settings.TIME_ZONE,
            "regions": list(regions),
        }

    def days_sql(self) -> str:
        """SELECT day: the days rows are produced for."""
        return (
            "SELECT %(first_day)s::date + i AS day "
            "FROM generate_series(0, %(end)s::date - %(first_day)s::date) AS i"
        )

    def flow_days(self, x: str) -> str:
        """A LATERAL subquery (column `day`): the frame days whose window holds business day `x`.

        Daily: d in [x, x+29] within the range. Period: the period's key day (rows are already
        filtered to the period).
        """
        if self.period:
            return "(SELECT %(end)s::date AS day)"
        return (
            f"(SELECT {x} + i AS day FROM generate_series("
            f"greatest(0, %(start)s::date - {x}), least({WINDOW_DAYS - 1}, %(end)s::date - {x})"
            ") AS i)"
        )

    def point_day(self, x: str) -> str:
        """The frame day a technical sample of business day `x` counts for."""
        return "%(end)s::date" if self.period else x


def business_day(column: str) -> str:
    """SQL: the business day (settings.TIME_ZONE) a timestamptz column falls on."""
    return f"({column} AT TIME ZONE %(tz)s)::date"


def on_days(column: str, first: str, last: str = "end") -> str:
    """SQL: the timestamptz `column` falls on a business day in [%(first)s, %(last)s]
    (written as bounds on the column itself, so its index serves)."""
    return (
        f"{column} >= (%({first})s::date::timestamp AT TIME ZONE %(tz)s) "
        f"AND {column} < ((%({last})s::date + 1)::timestamp AT TIME ZONE %(tz)s)"
    )


def grid_sql() -> str:
    """SELECT region, day: every region of the loan book and `all`, on every frame day."""
    return (
        "SELECT g.region, d.day FROM "
        "(SELECT unnest(%(regions)s::text[]) AS region UNION ALL SELECT 'all') AS g "
        "CROSS JOIN days AS d"
    )


def all_or(column: str) -> str:
    """SQL: the region of a GROUPING SETS row: `all` for the grand-total set."""
    return f"CASE WHEN grouping({column}) = 1 THEN 'all' ELSE {column} END"


# Tables whose region has a leading index: a skip scan reads one index entry per region.
_REGION_TABLES = (
    "loanbook_lead",
    "loanbook_application",
    "loanbook_loan",
    "loanbook_marketing_spend",
    "loanbook_valuation",
    "loanbook_complaint",
)


def loanbook_regions() -> list[str]:
    """Every region seen in the loan book, sorted. A skip scan per table: fast on any size."""
    parts = []
    for i, table in enumerate(_REGION_TABLES):
        parts.append(
            f"""r{i} AS (
                (SELECT region FROM {table} ORDER BY region LIMIT 1)
                UNION ALL
                SELECT n.region FROM r{i} CROSS JOIN LATERAL (
                    SELECT t.region FROM {table} t WHERE t.region > r{i}.region
                    ORDER BY t.region LIMIT 1) AS n
            )"""
        )
    # Samples are indexed by (metric, region, ts): skip over (metric, region) pairs.
    parts.append(
        """rs AS (
            (SELECT metric, region FROM loanbook_sample ORDER BY metric, region LIMIT 1)
            UNION ALL
            SELECT n.metric, n.region FROM rs CROSS JOIN LATERAL (
                SELECT t.metric, t.region FROM loanbook_sample t
                WHERE (t.metric, t.region) > (rs.metric, rs.region)
                ORDER BY t.metric, t.region LIMIT 1) AS n
        )"""
    )
    union = " UNION ".join(f"SELECT region FROM r{i}" for i in range(len(_REGION_TABLES)))
    sql = (
        f"WITH RECURSIVE {', '.join(parts)} "
        f"SELECT region FROM ({union} UNION SELECT region FROM rs) AS u "
        f"WHERE region <> '' AND region <> '{ALL}' ORDER BY region"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def tune_session(cursor: Any) -> None:
    """Settings for the formula statements, for the current transaction only.

    JIT off: the lateral day series look huge to the planner (1000 rows each by default), so it
    would JIT-compile statements that run in tens of milliseconds, for hundreds of milliseconds.
    More work_mem: the funnel and portfolio statements sort and hash a day's rows per region."""
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL work_mem = '64MB'")


def family_sql(family: Family, frame: Frame) -> str:
    """The SELECT (metric, region, day, value, numerator, denominator) of one family."""
    from metrics.formulas import business, technical

    builders = {
        "funnel": business.funnel_sql,
        "portfolio": business.portfolio_sql,
        "valuation": business.valuation_sql,
        "technical": technical.technical_sql,
    }
    return builders[family](frame)


def prepare_family(cursor: Any, family: Family, frame: Frame, regions: Sequence[str]) -> None:
    """What a family's statement reads besides the loan book, made first in the same
    transaction: the valuation family's window medians (`metrics.formulas.medians`)."""
    if family == "valuation":
        from metrics.formulas.medians import prepare_cycle_medians

        prepare_cycle_medians(cursor, frame, regions)


def compute(
    families: Sequence[Family], frame: Frame, regions: Sequence[str] | None = None
) -> list[tuple[str, str, date, float | None, float | None, float | None]]:
    """Run the families' SELECTs (not stored) and return their rows."""
    regions = loanbook_regions() if regions is None else regions
    rows: list[Any] = []
    with transaction.atomic(), connection.cursor() as cursor:
        tune_session(cursor)
        for family in families:
            prepare_family(cursor, family, frame, regions)
            cursor.execute(family_sql(family, frame), frame.params(regions))
            rows.extend(cursor.fetchall())
    return rows


def metric_values_for_period(
    start: date, end: date, *, metrics: Sequence[str] | None = None
) -> dict[str, dict[str, float | None]]:
    """Every metric over the period [start, end], by metric then region (`all` included).

    Flow metrics take the whole period as their window, stock metrics the state on `end`,
    technical metrics the samples of the whole period (contract section 3: "over a quarter
    instead of W(d), stock metrics on the quarter's last day"). Metrics registered by other apps
    (`register_period_metric`) are given for `all` only. Computed on demand, not stored.
    """
    wanted = list(metrics) if metrics is not None else [*METRICS, *PERIOD_METRICS]
    families = [f for f in FAMILIES if any(METRICS[k].family == f for k in wanted if k in METRICS)]
    result: dict[str, dict[str, float | None]] = {k: {} for k in wanted}
    for metric_key, region, _day, value, _num, _den in compute(
        families, Frame.for_period(start, end)
    ):
        if metric_key in result:
            result[metric_key][region] = value
    for key in wanted:
        if key in PERIOD_METRICS:
            result[key][ALL] = PERIOD_METRICS[key](start, end)
    return result
