"""Scale benchmark (issue 22): books of 1×, 8×, 32× and 64× the demo's volume.

    .venv/bin/python bench/scale_bench.py                   # --factors 1,8,32,64  --keep

For each factor, in a throwaway database (`carloan_scale_bench`, emptied between books) on the
PostgreSQL server of DATABASE_URL:

1. generate the book (the import benchmark's generator: six months ending 2026-06-30, six
   regions, `factor` times the volume) into CSV files;
2. the floor: bare `COPY ... FROM STDIN (FORMAT csv, HEADER)` of the same files into untyped
   (all-text) tables, no checks, in the same run;
3. the import: every kind through `loanbook_import` (refresh="none": parsing, validation,
   staging, upsert, the run's record), in a child process, whose peak resident memory is read
   from the kernel (`VmHWM`) — the import's own memory, without the generator's;
4. ANALYZE; the full recompute of every metric, region and day (`metrics_refresh` over the
   book's range) cold (empty values table) and warm (nothing changed), and the one-day
   incremental refresh a daily import triggers (`metrics_refresh` of the last day);
5. GET /api/metrics/panels/ for random days and regions (in process, signed in): p50, p95;
6. GET /api/metrics/summary/ (issue 23: any period and a comparison): the first request of a
   30-day and of a quarter-to-date period (computed), then p50 / p95 of requests mixing six
   periods, both comparisons and every region (served from the cache).

It prints a table per book and the issue's ratios: import time / COPY time (goal ≤ 5), how much
faster the full recompute grows than the book (goal ≤ 1.1: time ratio / rows ratio against the
smallest book), the one-day refresh at the largest book (goal < 1 s), panel p95 (flat), and the
import's peak memory (flat in the file's size).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_bench import (  # noqa: E402
    DEFAULT_SERVER,
    empty_loanbook,
    recreate_database,
    setup_django,
    with_database,
    write_book,
)
from metrics_bench import analyze, empty_metrics, time_panels, time_summary  # noqa: E402

BENCH_DB = "carloan_scale_bench"
END = date(2026, 6, 30)


def copy_floor(files: dict[str, tuple[Path, int]]) -> float:
    """Seconds to COPY every file into an untyped table of its own columns (the floor)."""
    from django.db import connection

    total = 0.0
    with connection.cursor() as cursor:
        for kind, (path, _) in files.items():
            with path.open(newline="", encoding="utf-8") as handle:
                header = next(csv.reader(handle))
            table = f"floor_{kind}"
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            columns = ", ".join(f'"{name}" text' for name in header)
            cursor.execute(f"CREATE UNLOGGED TABLE {table} ({columns})")
            began = time.perf_counter()
            with (
                path.open("rb") as source,
                cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER)") as copy,
            ):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            total += time.perf_counter() - began
            cursor.execute(f"DROP TABLE {table}")
    return total


def indexed_floor(files: dict[str, tuple[Path, int]]) -> float:
    """Seconds to COPY every file, typed, into a logged table shaped like its loan book table
    (same columns, defaults, constraints and indexes): what PostgreSQL itself needs to store and
    index the rows, with no checking at all."""
    from django.db import connection

    from carloan.loanbook.kinds import KINDS

    total = 0.0
    with connection.cursor() as cursor:
        for kind, (path, _) in files.items():
            with path.open(newline="", encoding="utf-8") as handle:
                header = next(csv.reader(handle))
            table = f"indexed_floor_{kind}"
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TABLE {table} (LIKE {KINDS[kind].table} INCLUDING ALL)")
            # The files leave optional cells empty (NULL to COPY) and have no `occurrence`: the
            # floor keeps every index and key, not the NOT NULLs the import fills in.
            keys = connection.introspection.get_primary_key_columns(cursor, table) or []
            for column in connection.introspection.get_table_description(cursor, table):
                if column.name not in keys:
                    name = column.name
                    cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{name}" DROP NOT NULL')
            columns = ", ".join(f'"{name}"' for name in header)
            began = time.perf_counter()
            with (
                path.open("rb") as source,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv, HEADER)") as copy,
            ):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            total += time.perf_counter() - began
            cursor.execute(f"DROP TABLE {table}")
    return total


def import_in_child(directory: Path, database_url: str) -> dict[str, Any]:
    """Run the import of every file of `directory` in a child process: seconds, rows, peak RSS."""
    env = {**os.environ, "DATABASE_URL": database_url}
    out = subprocess.run(
        [sys.executable, __file__, "--import-only", str(directory)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _resident_peak_mib() -> float:
    """This process's peak resident memory (VmHWM): unlike `ru_maxrss`, which keeps the
    parent's high-water mark across the fork and exec, it counts the import's memory only."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def _import_only(directory: Path) -> None:
    from carloan.dev.demo import IMPORT_ORDER
    from carloan.loanbook.services import loanbook_import

    before = _resident_peak_mib()
    rows, began = 0, time.perf_counter()
    for kind in IMPORT_ORDER:
        path = directory / f"{kind}.csv"
        with path.open("rb") as source:
            rows += loanbook_import(
                kind=kind, source=source, file_name=path.name, refresh="none"
            ).rows
    seconds = time.perf_counter() - began
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_mib": _resident_peak_mib(),
                      "start_mib": before}))  # fmt: skip


def refresh_seconds(start: date, end: date) -> float:
    from metrics.services import metrics_refresh

    began = time.perf_counter()
    metrics_refresh(start=start, end=end)
    return time.perf_counter() - began


def bench_factor(factor: int, database_url: str) -> dict[str, Any]:
    from metrics.services import loanbook_first_day

    with tempfile.TemporaryDirectory(prefix=f"carloan-scale-{factor}-") as tmp:
        began = time.perf_counter()
        files = write_book(Path(tmp), factor, END)
        rows = sum(n for _, n in files.values())
        print(f"\nx{factor}: {rows:,} rows generated in {time.perf_counter() - began:.1f} s",
              flush=True)  # fmt: skip
        empty_loanbook()
        empty_metrics()
        floor = copy_floor(files)
        indexed = indexed_floor(files)
        imported = import_in_child(Path(tmp), database_url)
    analyze()
    start = loanbook_first_day() or END
    cold = refresh_seconds(start, END)
    analyze()
    warm = refresh_seconds(start, END)
    one_day = min(refresh_seconds(END, END) for _ in range(3))
    panels = time_panels(start, END)
    periods = time_summary(END)
    result = {
        "factor": factor,
        "rows": rows,
        "copy": floor,
        "indexed_copy": indexed,
        "import": imported["seconds"],
        "peak_mib": imported["peak_mib"],
        "cold": cold,
        "warm": warm,
        "one_day": one_day,
        "panel_p50": panels["p50"],
        "panel_p95": panels["p95"],
        **{f"summary_{k}": v for k, v in periods.items()},
    }
    seconds = result["import"]
    print(f"  COPY floor {floor:.2f} s ({rows / floor:,.0f} rows/s); COPY into indexed tables "
          f"{indexed:.2f} s; import {seconds:.2f} s ({rows / seconds:,.0f} rows/s) = "
          f"{seconds / floor:.1f}× COPY, {seconds / indexed:.1f}× indexed COPY; "
          f"import peak memory {result['peak_mib']:.0f} MiB")  # fmt: skip
    print(f"  full recompute cold {cold:.2f} s, warm {warm:.2f} s; one-day refresh "
          f"{one_day:.3f} s; panels p50 {panels['p50']:.1f} ms, p95 {panels['p95']:.1f} ms",
          flush=True)  # fmt: skip
    print(f"  summary (any period): first 30-day {periods['cold_30d_ms']:.0f} ms, first quarter "
          f"{periods['cold_quarter_ms']:.0f} ms; asked again p50 {periods['p50']:.1f} ms, "
          f"p95 {periods['p95']:.1f} ms", flush=True)  # fmt: skip
    return result


def summary(results: list[dict[str, Any]]) -> None:
    base = results[0]
    print(
        "\n factor        rows   COPY s  indexed s  import s  ×COPY  ×indexed  peak MiB"
        "  recompute s  growth*  one-day s  panel p95 ms  summary 1st/p95 ms"
    )
    for r in results:
        growth = (r["warm"] / base["warm"]) / (r["rows"] / base["rows"])
        print(f" {r['factor']:>5}× {r['rows']:>11,} {r['copy']:>8.2f} {r['indexed_copy']:>10.2f}"
              f" {r['import']:>9.2f} {r['import'] / r['copy']:>6.1f}"
              f" {r['import'] / r['indexed_copy']:>9.1f} {r['peak_mib']:>9.0f} {r['warm']:>12.2f}"
              f" {growth:>8.2f} {r['one_day']:>10.3f} {r['panel_p95']:>13.1f}"
              f" {r['summary_cold_30d_ms']:>8.0f}/{r['summary_p95']:.1f}")  # fmt: skip
    print(
        " * growth = (warm recompute / the smallest book's) / (rows / the smallest book's);"
        " 1.0 is linear;\n   indexed = COPY of the same files, typed, into logged tables with"
        " the loan book's columns, constraints and indexes (PostgreSQL's own cost of storing them)"
    )
    top = results[-1]
    print(
        f"\nGoals: import ≤ 5× COPY (worst {max(r['import'] / r['copy'] for r in results):.1f}×);"
        f" recompute growth ≤ 1.1 (worst {max((r['warm'] / base['warm']) / (r['rows'] / base['rows']) for r in results):.2f});"  # noqa: E501
        f" one-day refresh < 1 s at {top['factor']}× ({top['one_day']:.3f} s);"
        f" panel p95 flat ({base['panel_p95']:.0f} → {top['panel_p95']:.0f} ms)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factors", default="1,8,32,64", help="book sizes, × the demo's")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--database", default=BENCH_DB, help="name of the throwaway database")
    parser.add_argument("--import-only", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.import_only:
        setup_django(os.environ["DATABASE_URL"])
        _import_only(Path(args.import_only))
        return 0
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    bench_url = with_database(server, args.database)
    recreate_database(server, args.database)
    setup_django(bench_url)
    import logging

    from django.core.management import call_command

    logging.getLogger("metrics").setLevel(logging.WARNING)  # the refreshes' own log lines

    call_command("migrate", verbosity=0)
    try:
        results = [bench_factor(int(f), bench_url) for f in args.factors.split(",")]
        summary(results)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(server, args.database, drop_only=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
