"""Import benchmark: how fast the loan book import service takes a lender's files.

    .venv/bin/python bench/import_bench.py          # or: make bench

Generates two books with `carloan.dev.demo` (about 20k leads, 9k applications, 5k loans, 18k
snapshots and 40k samples, and one eight times larger) into temporary CSV files, creates a
throwaway database (`carloan_bench`) on the PostgreSQL server of `DATABASE_URL` (default
postgres://postgres@127.0.0.1:5432), migrates it, imports every kind through
`carloan.loanbook.services.loanbook_import` (refresh="none": the import alone is timed), and
prints rows, seconds and rows/s per kind and book. The database is dropped at the end unless
`--keep`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "carloan_bench"
LIMIT_SECONDS = 60.0

# scale, sample_scale and snapshot step tuned so the small book has about 20k leads, 9k
# applications, 5k loans, 18k snapshots and 40k samples over six months
SMALL = {"scale": 0.68, "sample_scale": 0.57, "sales_scale": 1.0}
BOOKS = {"small": 1, "large": 8}
SNAPSHOT_STEP_DAYS = 42


def with_database(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path="/" + name))


def recreate_database(server_url: str, name: str, *, drop_only: bool = False) -> None:
    """Drop (and create) `name` on the server of `server_url`, through the `postgres` database."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    parsed = urlparse(server_url)
    query = dict(part.split("=", 1) for part in parsed.query.split("&") if "=" in part)
    params = {
        "dbname": "postgres",
        "user": unquote(parsed.username or ""),
        "password": unquote(parsed.password or ""),
        "host": unquote(query.get("host", "")) or parsed.hostname or "",
        "port": str(parsed.port or ""),
    }
    conninfo = make_conninfo(**{k: v for k, v in params.items() if v})
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carloan.settings")
    import django

    django.setup()


def write_book(directory: Path, factor: int, end: date) -> dict[str, tuple[Path, int]]:
    from carloan.dev.demo import generate_book, months_before, row_counts

    book = generate_book(
        start=months_before(end, 6),
        end=end,
        scale=SMALL["scale"] * factor,
        sample_scale=SMALL["sample_scale"] * factor,
        sales_scale=SMALL["sales_scale"] * factor,
        snapshot_every_days=SNAPSHOT_STEP_DAYS,
        seed=factor,
    )
    counts = row_counts(book)
    files = {}
    for kind, data in book.items():
        path = directory / f"{kind}.csv"
        path.write_bytes(data)
        files[kind] = (path, counts[kind])
    return files


def empty_loanbook() -> None:
    from django.db import connection

    from carloan.loanbook.kinds import KINDS
    from carloan.models import ImportRun

    tables = [kind.table for kind in KINDS.values()] + [ImportRun._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")  # a scratch database


def import_book(files: dict[str, tuple[Path, int]]) -> list[tuple[str, int, float]]:
    from carloan.dev.demo import IMPORT_ORDER
    from carloan.loanbook.services import loanbook_import

    results = []
    for kind in IMPORT_ORDER:
        path, _ = files[kind]
        began = time.perf_counter()
        with path.open("rb") as source:
            result = loanbook_import(kind=kind, source=source, file_name=path.name, refresh="none")
        results.append((kind, result.rows, time.perf_counter() - began))
    return results


def print_table(name: str, results: list[tuple[str, int, float]]) -> tuple[int, float]:
    print(f"\n{name}")
    print(f"  {'kind':<16}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
    for kind, rows, seconds in results:
        print(f"  {kind:<16}{rows:>10,}{seconds:>10.2f}{rows / seconds:>12,.0f}")
    rows = sum(r for _, r, _ in results)
    seconds = sum(s for _, _, s in results)
    print(f"  {'total':<16}{rows:>10,}{seconds:>10.2f}{rows / seconds:>12,.0f}")
    return rows, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--books", default="small,large", help="small, large or both")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--database", default=BENCH_DB, help="name of the throwaway database")
    args = parser.parse_args(argv)

    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    bench_url = with_database(server, args.database)
    print(f"Bench database: {args.database} on {urlparse(server).hostname or 'local socket'}")
    recreate_database(server, args.database)
    setup_django(bench_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    end = date(2026, 6, 30)
    try:
        for name in [b.strip() for b in args.books.split(",") if b.strip()]:
            factor = BOOKS[name]
            with tempfile.TemporaryDirectory(prefix=f"carloan-bench-{name}-") as tmp:
                began = time.perf_counter()
                files = write_book(Path(tmp), factor, end)
                size = sum(p.stat().st_size for p, _ in files.values()) / 1e6
                print(
                    f"\nGenerated the {name} book ({sum(n for _, n in files.values()):,} rows, "
                    f"{size:.1f} MB of CSV) in {time.perf_counter() - began:.1f} s"
                )
                empty_loanbook()
                results = import_book(files)
            _, seconds = print_table(f"{name} book (x{factor}): import, refresh='none'", results)
            if name == "large":
                verdict = "yes" if seconds < LIMIT_SECONDS else "NO"
                print(f"\n  large book imported in under {LIMIT_SECONDS:.0f} s: {verdict}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(server, args.database, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
