"""Metrics benchmark: panel reads and the full recompute, on a generated book and one 8x larger.

    .venv/bin/python bench/metrics_bench.py            # --books small,large  --keep

For each book (the import benchmark's books: six months ending 2026-06-30, six regions; the large
one eight times the volume), in a throwaway database (`carloan_metrics_bench`, emptied between
books) on the PostgreSQL server of DATABASE_URL:

1. generate and import the book (refresh="none"), then ANALYZE;
2. (b) recompute every metric, region and day of the book's range with
   `metrics.services.metrics_refresh` twice: cold (an empty values table: everything inserted,
   statuses and alerts evaluated) and warm (nothing changed: every formula still runs, nothing is
   rewritten). Each formula family's statement is timed; beside it, a single hand-written SQL
   query computing the same overdue-rate figures (every region and `all`, every day: snapshots
   joined to the days they hold on, the obvious way) runs on the same database in the same run,
   and its figures are checked against the computed ones;
3. (a) times GET /api/metrics/panels/ (in-process Django client, a signed-in user, JSON rendered)
   for random days of the range and every region: p50, p95, max.

The goals (issue 4): the larger book's panels p95 at most 1.5 times the smaller's and under
300 ms; the recompute at most 2 times the hand-written query per metric.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_bench import (  # noqa: E402
    BOOKS,
    DEFAULT_SERVER,
    empty_loanbook,
    import_book,
    recreate_database,
    setup_django,
    with_database,
    write_book,
)

BENCH_DB = "carloan_metrics_bench"
END = date(2026, 6, 30)
PANEL_REQUESTS = 300
REFERENCE_RUNS = 3

# The obvious hand-written query: every (day, active snapshot holding on that day) pair, summed
# per region and day with ROLLUP for `all`.
REFERENCE_SQL = """
WITH days AS (
    SELECT d::date AS day FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') d
),
held AS (
    SELECT l.region, s.as_of, s.status, s.dpd, s.outstanding_principal,
           coalesce(lead(s.as_of) OVER (PARTITION BY s.loan_id ORDER BY s.as_of),
                    'infinity'::date) AS until
    FROM loanbook_snapshot s JOIN loanbook_loan l ON l.loan_id = s.loan_id
)
SELECT coalesce(h.region, 'all') AS region, d.day,
       100 * coalesce(sum(h.outstanding_principal) FILTER (WHERE h.dpd >= 1), 0)
           / nullif(sum(h.outstanding_principal), 0) AS overdue_rate
FROM days d
JOIN held h ON h.status = 'active' AND h.as_of <= d.day AND d.day < h.until
GROUP BY ROLLUP (d.day, h.region)
HAVING grouping(d.day) = 0
"""


def empty_metrics() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE metrics_metricvalue, metrics_alert CASCADE")  # scratch database


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def reference_overdue(start: date, end: date) -> tuple[float, dict[tuple[str, date], Any]]:
    """Median seconds of the hand-written query over REFERENCE_RUNS runs, and its figures.
    It runs with the session settings the refresh uses (JIT off, 64 MB work_mem): same footing."""
    from django.db import connection, transaction

    from metrics.formulas import tune_session

    times, rows = [], []
    for _ in range(REFERENCE_RUNS):
        with transaction.atomic(), connection.cursor() as cursor:
            tune_session(cursor)
            began = time.perf_counter()
            cursor.execute(REFERENCE_SQL, {"start": start, "end": end})
            rows = cursor.fetchall()
            times.append(time.perf_counter() - began)
    return statistics.median(times), {(r, d): v for r, d, v in rows}


def check_overdue(figures: dict[tuple[str, date], Any]) -> int:
    """Mismatches between the reference figures and the computed overdue rates."""
    from metrics.models import MetricValue

    computed = {
        (r, d): v
        for r, d, v in MetricValue.objects.filter(metric="overdue_rate").values_list(
            "region", "day", "value"
        )
    }
    mismatches = 0
    for key, expected in figures.items():
        got = computed.get(key)
        if expected is None or got is None:
            mismatches += (expected is None) != (got is None)
        elif abs(float(expected) - got) > 1e-9 * max(1.0, abs(got)):
            mismatches += 1
    return mismatches


def time_refresh(start: date, end: date) -> dict[str, Any]:
    from metrics.services import metrics_refresh

    began = time.perf_counter()
    result = metrics_refresh(start=start, end=end)
    return {"total": time.perf_counter() - began, **result.seconds, "result": result}


def time_summary(end: date) -> dict[str, float]:
    """GET /api/metrics/summary/ (any period and a comparison) on the book ending on `end`:
    the first request of a 30-day and of a quarter-to-date period (computed: both periods, every
    family), then the p50 / p95 of requests mixing six periods, both comparisons and every
    region once each period has been asked (the cache serves; it drops a family's answers
    when the loan book changes)."""
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.test import Client

    from metrics.periods import Period, cache_keys, compare_period
    from metrics.selectors import region_list

    user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True})
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    regions = region_list()
    quarter = date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    last_month = end.replace(day=1) - timedelta(days=1)
    periods = [
        (end - timedelta(days=29), end),
        (quarter, end),
        (end, end),
        (end - timedelta(days=6), end),
        (end.replace(day=1), end),
        (last_month.replace(day=1), last_month),
    ]  # fmt: skip
    for start, stop in periods:  # a clean slate: nothing cached by an earlier run
        for compare in ("previous_period", "previous_year"):
            for each in (Period(start, stop), compare_period(Period(start, stop), compare)):
                cache.delete_many(list(cache_keys(each).values()))

    def ask(start: date, stop: date, region: str, compare: str) -> float:
        began = time.perf_counter()
        answer = client.get(
            "/api/metrics/summary/",
            {"start": start.isoformat(), "end": stop.isoformat(), "region": region,
             "compare": compare},
        )  # fmt: skip
        assert answer.status_code == 200, answer.content[:200]
        return (time.perf_counter() - began) * 1000

    cold_30 = ask(*periods[0], "all", "previous_period")
    cold_quarter = ask(*periods[1], "all", "previous_period")
    for start, stop in periods:
        for compare in ("previous_period", "previous_year"):
            ask(start, stop, "all", compare)
    rng = random.Random(5)
    times = sorted(
        ask(*rng.choice(periods), rng.choice(regions),
            rng.choice(["previous_period", "previous_year"]))
        for _ in range(PANEL_REQUESTS)
    )  # fmt: skip
    return {
        "cold_30d_ms": cold_30,
        "cold_quarter_ms": cold_quarter,
        "p50": statistics.median(times),
        "p95": times[int(0.95 * (len(times) - 1))],
    }


def time_panels(start: date, end: date) -> dict[str, float]:
    from django.contrib.auth.models import User
    from django.test import Client

    from metrics.selectors import region_list

    user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True})
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    regions = region_list()
    span = (end - start).days
    rng = random.Random(4)
    for _ in range(10):  # warm up: connection, parameter cache, URL resolver
        client.get("/api/metrics/panels/", {"date": end.isoformat()})
    times = []
    for _ in range(PANEL_REQUESTS):
        day = date.fromordinal(start.toordinal() + rng.randint(0, span))
        began = time.perf_counter()
        answer = client.get(
            "/api/metrics/panels/", {"date": day.isoformat(), "region": rng.choice(regions)}
        )
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, answer.content[:200]
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[int(0.95 * (len(times) - 1))],
        "max": times[-1],
    }


def bench_book(name: str, factor: int) -> dict[str, Any]:
    from metrics.registry import FAMILIES, keys_of_families
    from metrics.services import loanbook_first_day

    with tempfile.TemporaryDirectory(prefix=f"carloan-mbench-{name}-") as tmp:
        began = time.perf_counter()
        files = write_book(Path(tmp), factor, END)
        rows = sum(n for _, n in files.values())
        print(f"\n{name} book (x{factor}): {rows:,} rows generated in "
              f"{time.perf_counter() - began:.1f} s")  # fmt: skip
        empty_loanbook()
        empty_metrics()
        began = time.perf_counter()
        import_book(files)
        print(f"  imported in {time.perf_counter() - began:.1f} s")
    analyze()
    counts = {kind: n for kind, (_, n) in files.items()}
    start = loanbook_first_day() or END
    cold = time_refresh(start, END)
    analyze()
    warm = time_refresh(start, END)
    reference, figures = reference_overdue(start, END)
    mismatches = check_overdue(figures)
    panels = time_panels(start, END)
    days = (END - start).days + 1
    result = cold["result"]
    print(f"  range {start} .. {END} ({days} days), {len(figures) // days} regions with `all`")
    print(f"  snapshots {counts['loan_snapshots']:,}, loans {counts['loans']:,}, "
          f"leads {counts['leads']:,}, samples {counts['samples']:,}")  # fmt: skip
    print(f"  values written {result.values_changed:,}, alerts raised {result.alerts_raised:,}")
    print("\n  (b) recompute, seconds        cold     warm   metrics  warm/metric  ratio*")
    for family in FAMILIES:
        n = len(keys_of_families([family]))
        per_metric = warm[family] / n
        print(f"  {family:<28}{cold[family]:>6.2f}{warm[family]:>9.2f}{n:>9}"
              f"{per_metric:>12.3f}{per_metric / reference:>9.2f}")  # fmt: skip
    print(f"  {'statuses + alerts':<28}{cold['statuses']:>6.2f}{warm['statuses']:>9.2f}")
    print(f"  {'events (after commit)':<28}{cold['events']:>6.2f}{warm['events']:>9.2f}")
    per_metric_total = warm["total"] / 14
    print(f"  {'whole refresh':<28}{cold['total']:>6.2f}{warm['total']:>9.2f}{14:>9}"
          f"{per_metric_total:>12.3f}{per_metric_total / reference:>9.2f}")  # fmt: skip
    print(f"  hand-written overdue query  {reference:>6.2f}   (median of {REFERENCE_RUNS}; "
          f"its figures vs overdue_rate: {mismatches} mismatches)")  # fmt: skip
    print("  * ratio = warm seconds per metric / the hand-written overdue query")
    print(f"\n  (a) GET /api/metrics/panels/ x{PANEL_REQUESTS}: p50 {panels['p50']:.1f} ms, "
          f"p95 {panels['p95']:.1f} ms, max {panels['max']:.1f} ms")  # fmt: skip
    return {"panels": panels, "reference": reference, "cold": cold, "warm": warm}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--books", default="small,large", help="small, large or both")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--database", default=BENCH_DB, help="name of the throwaway database")
    args = parser.parse_args(argv)

    os.environ.setdefault("METRICS_API_LATENCY", "0")  # the bench's requests must not add samples
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    print(f"Bench database: {args.database} on {urlparse(server).hostname or 'local socket'}")
    recreate_database(server, args.database)
    setup_django(with_database(server, args.database))
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results: dict[str, dict[str, Any]] = {}
    try:
        for name in [b.strip() for b in args.books.split(",") if b.strip()]:
            results[name] = bench_book(name, BOOKS[name])
        if {"small", "large"} <= set(results):
            small, large = results["small"]["panels"]["p95"], results["large"]["panels"]["p95"]
            print(f"\nPanels p95: large / small = {large / small:.2f} (goal <= 1.5); "
                  f"large {large:.1f} ms (goal < 300 ms)")  # fmt: skip
            worst = max(
                results["large"]["warm"][f] / len(_keys(f)) / results["large"]["reference"]
                for f in ("funnel", "portfolio", "valuation", "technical")
            )
            print(f"Recompute, large book: worst family per metric / hand-written query = "
                  f"{worst:.2f} (goal <= 2)")  # fmt: skip
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(server, args.database, drop_only=True)
    return 0


def _keys(family: str) -> list[str]:
    from metrics.registry import keys_of_families

    return keys_of_families([family])  # type: ignore[list-item]


if __name__ == "__main__":
    sys.exit(main())
