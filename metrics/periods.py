"""Any period, and a comparison (contract section 3): the fourteen metrics over [start, end].

The same formulas as the daily values, with the whole period as the window
(`metrics.formulas.Frame.for_period`): flow metrics count what falls in the period, stock metrics
take the state on `end`, technical metrics the samples whose business day falls in the period.
Computed in SQL for every region at once (one statement per family), never by averaging daily
values; compared with the previous period (the same number of days just before `start`) or the
same dates a year earlier.

Presets are resolved against the business day (settings.TIME_ZONE). A computed period is cached
for every region together, under the loan book's generations (sequences that every write to the
loan book's tables advances, `metrics/migrations/0011`: one for the business tables, one for the
samples), so a period is recomputed only when its data have changed since;
`METRICS_SUMMARY_CACHE_SECONDS` bounds how long an answer may be kept.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, TypedDict

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from metrics.formulas import ALL, Frame, compute
from metrics.registry import DEFINITIONS, FAMILIES, METRICS, Family

Compare = Literal["previous_period", "previous_year"]
COMPARES: tuple[str, ...] = ("previous_period", "previous_year")
PRESETS: tuple[str, ...] = (
    "today",
    "7d",
    "30d",
    "90d",
    "180d",
    "365d",
    "this_month",
    "last_month",
    "this_quarter",
    "custom",
)
# "Nd": the N days ending today.
ROLLING_DAYS = {"7d": 7, "30d": 30, "90d": 90, "180d": 180, "365d": 365}
MAX_PERIOD_DAYS = 3660


@dataclass(frozen=True)
class Period:
    """A range of business days, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def preset_period(preset: str, today: date) -> Period:
    """The days of a preset, ending today (`last_month`: the whole previous calendar month)."""
    if preset == "today":
        return Period(today, today)
    if preset in ROLLING_DAYS:
        return Period(today - timedelta(days=ROLLING_DAYS[preset] - 1), today)
    if preset == "this_month":
        return Period(today.replace(day=1), today)
    if preset == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return Period(last.replace(day=1), last)
    if preset == "this_quarter":
        return Period(_quarter_start(today), today)
    raise ValueError(f"unknown preset {preset!r}")


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February: the 28th of a year without one
        return day.replace(year=day.year - 1, day=28)


def compare_period(period: Period, compare: str) -> Period:
    """`previous_period`: as many days just before `start`; `previous_year`: the same dates a
    year earlier (29 February becomes the 28th)."""
    if compare == "previous_period":
        return Period(period.start - timedelta(days=period.days), period.start - timedelta(days=1))
    if compare == "previous_year":
        return Period(_year_earlier(period.start), _year_earlier(period.end))
    raise ValueError(f"unknown comparison {compare!r}")


def delta_pct(value: float | None, against: float | None) -> float | None:
    """100 × (value − against) / |against|; null when either is null or `against` is 0."""
    if value is None or against is None or against == 0:
        return None
    return 100 * (value - against) / abs(against)


# (value, numerator, denominator) by metric, by region.
PeriodValues = dict[str, dict[str, tuple[float | None, float | None, float | None]]]

# The sequence whose value says a family's data are unchanged: samples arrive every second, so
# the technical family has its own.
GENERATION_OF: dict[Family, str] = {
    "funnel": "metrics_loanbook_generation",
    "portfolio": "metrics_loanbook_generation",
    "valuation": "metrics_loanbook_generation",
    "technical": "metrics_samples_generation",
}
SEQUENCES = tuple(dict.fromkeys(GENERATION_OF.values()))


def generations() -> dict[str, int]:
    """How many writes each part of the loan book has seen: a statement-level trigger on each
    table advances its sequence (outside transactions: a rolled-back write advances it too)."""
    parts = " UNION ALL ".join(
        f"SELECT '{name}', last_value + is_called::int FROM {name}" for name in SEQUENCES
    )
    with connection.cursor() as cursor:
        cursor.execute(parts)
        return {name: int(value) for name, value in cursor.fetchall()}


def advance_generations(*, business: bool = True, technical: bool = True) -> None:
    """Drop the cached periods of the business families, of the technical one, or both. Called
    once writes commit (an import, samples, a refresh): the writes advance the sequences before
    they commit, so a period computed meanwhile may have been cached under them."""
    names = [
        name
        for name, wanted in (
            ("metrics_loanbook_generation", business),
            ("metrics_samples_generation", technical),
        )
        if wanted
    ]
    if names:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(f"nextval('{name}')" for name in names))


def _compute(period: Period, families: Sequence[Family]) -> PeriodValues:
    values: PeriodValues = {}
    for metric, region, _day, value, numerator, denominator in compute(
        families, Frame.for_period(period.start, period.end)
    ):
        values.setdefault(metric, {})[region] = (value, numerator, denominator)
    return values


def cache_keys(period: Period, families: Sequence[Family] = FAMILIES) -> dict[Family, str]:
    """The cache key of each family's answer for `period`."""
    return {
        family: (
            f"metrics:period:{family}:{settings.TIME_ZONE}:"
            f"{period.start.isoformat()}:{period.end.isoformat()}"
        )
        for family in families
    }


def period_values(period: Period, families: Sequence[Family] = FAMILIES) -> PeriodValues:
    """The metrics of `families` (default all) over `period` for every region (and `all`).

    Each family's answer is cached for METRICS_SUMMARY_CACHE_SECONDS with the generation it was
    computed at, and used while the generation is unchanged. Samples arrive every second, so a
    technical answer also serves for METRICS_SUMMARY_SAMPLES_GRACE_SECONDS after newer samples
    (a period's percentile barely moves; the daily panels stay live to the second)."""
    seconds = int(getattr(settings, "METRICS_SUMMARY_CACHE_SECONDS", 0))
    values: PeriodValues = {d.key: {} for d in DEFINITIONS if d.family in families}
    if seconds <= 0:
        values.update(_compute(period, families))
        return values
    grace = float(getattr(settings, "METRICS_SUMMARY_SAMPLES_GRACE_SECONDS", 0))
    now = generations()
    moment = time.time()
    keys = cache_keys(period, families)
    cached = cache.get_many(list(keys.values()))
    usable: dict[Family, PeriodValues] = {}
    for family in families:
        entry = cached.get(keys[family])
        if entry is None:
            continue
        generation, computed_at, part = entry
        fresh = generation == now[GENERATION_OF[family]]
        if fresh or (family == "technical" and moment - computed_at < grace):
            usable[family] = part
    missing = [family for family in families if family not in usable]
    if missing:
        computed = _compute(period, missing)
        fresh_parts = {
            family: {k: v for k, v in computed.items() if METRICS[k].family == family}
            for family in missing
        }
        cache.set_many(
            {
                keys[family]: (now[GENERATION_OF[family]], moment, part)
                for family, part in fresh_parts.items()
            },
            seconds,
        )
        usable.update(fresh_parts)
    for part in usable.values():
        values.update(part)
    return values


# The presets a person picks most, computed ahead after the book changes (`warm_periods`).
WARM_PRESETS: tuple[str, ...] = ("today", "7d", "30d", "this_month", "last_month", "this_quarter")
BUSINESS_FAMILIES: tuple[Family, ...] = ("funnel", "portfolio", "valuation")


def warm_periods(today: date, families: Sequence[Family] = BUSINESS_FAMILIES) -> int:
    """Compute into the cache the common presets ending `today` and both their comparisons, so
    the first person to pick one after an import is answered from the cache. The number of
    distinct periods computed (those already cached cost a cache read)."""
    if int(getattr(settings, "METRICS_SUMMARY_CACHE_SECONDS", 0)) <= 0:
        return 0
    wanted: dict[Period, None] = {}
    for preset in WARM_PRESETS:
        period = preset_period(preset, today)
        wanted[period] = None
        for compare in COMPARES:
            wanted[compare_period(period, compare)] = None
    for period in wanted:
        period_values(period, families)
    return len(wanted)


class SummaryPanel(TypedDict):
    key: str
    value: float | None
    compare_value: float | None
    delta_pct: float | None
    numerator: float | None
    denominator: float | None
    compare_numerator: float | None
    compare_denominator: float | None


def _panels(current: PeriodValues, before: PeriodValues, region: str) -> list[SummaryPanel]:
    empty: tuple[None, None, None] = (None, None, None)
    panels: list[SummaryPanel] = []
    for definition in DEFINITIONS:
        if definition.key not in current:
            continue
        value, numerator, denominator = current[definition.key].get(region, empty)
        was, was_numerator, was_denominator = before[definition.key].get(region, empty)
        panels.append(
            {
                "key": definition.key,
                "value": value,
                "compare_value": was,
                "delta_pct": delta_pct(value, was),
                "numerator": numerator,
                "denominator": denominator,
                "compare_numerator": was_numerator,
                "compare_denominator": was_denominator,
            }
        )
    return panels


def period_summary(
    period: Period,
    compare: str,
    region: str = ALL,
    *,
    by_region: bool = False,
    families: Sequence[Family] = FAMILIES,
) -> dict[str, Any]:
    """The contract's answer for `region`; with `by_region`, every region's panels as well
    (`by_region`: [{"region", "panels"}], `all` first) from the same two computations.
    `families` limits the metrics (a metric's page needs its family only)."""
    against = compare_period(period, compare)
    current = period_values(period, families)
    before = period_values(against, families)
    answer: dict[str, Any] = {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "region": region,
        "compare": compare,
        "compare_start": against.start.isoformat(),
        "compare_end": against.end.isoformat(),
        "panels": _panels(current, before, region),
    }
    if by_region:
        regions = sorted(
            {r for by in (current, before) for rows in by.values() for r in rows} - {ALL}
        )
        answer["by_region"] = [
            {"region": r, "panels": _panels(current, before, r)} for r in [ALL, *regions]
        ]
    return answer
