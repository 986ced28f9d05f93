"""Writes to the loan book: importing files (set-based) and refreshing what an import touched.

`loanbook_import` is the one writer of loan book files; the API, the command and the demo seed
call it. `loanbook_refresh` is what runs after an import (in the worker, or at once) to make the
metric values of the touched days follow: it sends `loanbook_changed`, and the metrics app listens.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from carloan.events import IMPORTS_GROUP, import_event
from carloan.loanbook.bulk import NotInBulk, can_take
from carloan.loanbook.bulk import stage as stage_in_bulk
from carloan.loanbook.kinds import KINDS, Kind
from carloan.loanbook.parsing import (
    MAX_REPORTED_ERRORS,
    ImportRejected,
    LoanbookFile,
    error,
)
from carloan.models import ImportRun
from carloan.realtime import broadcast
from carloan.signals import loanbook_changed, loanbook_imported

logger = logging.getLogger(__name__)

__all__ = [
    "ImportRejected",
    "ImportResult",
    "loanbook_import",
    "loanbook_import_many",
    "loanbook_refresh",
]

Refresh = Literal["background", "now", "none"]
STAGING = "pg_temp.loanbook_import_staging"
LINE = "_line"


@dataclass
class ImportResult:
    """What one imported file did to the loan book."""

    kind: str
    rows: int
    created: int
    updated: int
    warnings: list[str] = field(default_factory=list)
    first_day: date | None = None
    last_day: date | None = None
    run_id: int | None = None
    file_name: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "warnings": self.warnings,
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "run_id": self.run_id,
        }


def loanbook_import(
    *,
    kind: str,
    source: IO[bytes],
    file_name: str = "",
    user: AbstractBaseUser | None = None,
    refresh: Refresh = "background",
    progress: Callable[[int], None] | None = None,
    bulk: bool = True,
) -> ImportResult:
    """Validate every row of one CSV file and upsert it, all or nothing.

    `bulk=False` checks every row in Python (the fast path's reference, for tests and benches).

    Raises `ImportRejected` (nothing stored, a rejected ImportRun recorded) on any bad row.
    After commit: `import.completed` is broadcast and the refresh runs as `refresh` says
    ("background": a Celery task; "now": before returning; "none": not at all).
    """
    try:
        with transaction.atomic():
            _lock_kinds([kind])
            result = _import_file(
                kind=kind,
                source=source,
                file_name=file_name,
                user=user,
                progress=progress,
                bulk=bulk,
            )
    except ImportRejected as exc:
        _record_rejection(exc, kind=kind, file_name=file_name, user=user)
        raise
    _after_import([result], refresh)
    return result


def loanbook_import_many(
    *,
    paths: Sequence[Path | str],
    user: AbstractBaseUser | None = None,
    refresh: Refresh = "now",
    progress: Callable[[str, int], None] | None = None,
    on_file: Callable[[ImportResult], None] | None = None,
) -> list[ImportResult]:
    """Import several files (kind = file name without `.csv`) in ONE transaction.

    All or nothing: if any file is rejected, none of them is stored, and the ImportRejected of
    that file (with `.file_name`) is raised after its rejection has been recorded.
    """
    files = [Path(p) for p in paths]
    for path in files:
        if path.stem not in KINDS:
            raise ImportRejected(
                f"{path.name}: the file name must name a kind ({', '.join(KINDS)}).",
                [error(0, "", f"unknown kind {path.stem!r}")],
            )
    results: list[ImportResult] = []
    current = files[0] if files else None
    try:
        with transaction.atomic():
            _lock_kinds([path.stem for path in files])
            for path in files:
                current = path

                def report(count: int, name: str = path.name) -> None:
                    if progress is not None:
                        progress(name, count)

                with path.open("rb") as source:
                    result = _import_file(
                        kind=path.stem,
                        source=source,
                        file_name=path.name,
                        user=user,
                        progress=report,
                    )
                results.append(result)
                if on_file is not None:
                    on_file(result)
    except ImportRejected as exc:
        assert current is not None
        exc.file_name = current.name
        _record_rejection(exc, kind=current.stem, file_name=current.name, user=user)
        raise
    _after_import(results, refresh)
    return results


def loanbook_refresh(*, run_id: int) -> ImportRun | None:
    """Recompute what an import touched: send `loanbook_changed`, then mark the run refreshed.

    Safe to run twice (the listeners recompute, they do not add). None when the run is gone.
    """
    run = ImportRun.objects.select_related("imported_by").filter(pk=run_id).first()
    if run is None:
        logger.warning("loanbook_refresh: import run %s no longer exists", run_id)
        return None
    if run.status != ImportRun.Status.SUCCEEDED:
        return run
    with transaction.atomic():
        failed: dict[str, str] = {}
        if run.rows:
            answers = loanbook_changed.send(
                sender=ImportRun,
                kind=run.kind,
                first_day=run.first_day,
                last_day=run.last_day,
                synchronous=True,
            )
            # A listener answers what it could not recompute (formula family → why).
            for _receiver, answer in answers:
                if isinstance(answer, dict):
                    failed.update({str(k): str(v) for k, v in answer.items()})
        run.refreshed_at = timezone.now()
        run.refresh_error = "; ".join(f"{family}: {why}" for family, why in sorted(failed.items()))
        ImportRun.objects.filter(pk=run.pk).update(
            refreshed_at=run.refreshed_at, refresh_error=run.refresh_error
        )
        broadcast(IMPORTS_GROUP, import_event(run, "import.refreshed"))
    return run


# --- the steps ----------------------------------------------------------------------------------


def _import_file(
    *,
    kind: str,
    source: IO[bytes],
    file_name: str,
    user: AbstractBaseUser | None,
    progress: Callable[[int], None] | None,
    bulk: bool = True,
) -> ImportResult:
    """Inside the caller's transaction: parse, stage with COPY, check duplicates, upsert, record.

    1. A TEMP staging table (the target's columns plus the line number) receives every good row
       while the file streams by: the file is never held in memory. The rows are checked in bulk
       by PostgreSQL (`bulk.py`), or one by one in Python when the fast path cannot take the
       file (or `bulk` is False, for comparisons).
    2. Any bad row, or a key present twice, raises ImportRejected, and the caller's rollback
       drops everything.
    3. One INSERT ... ON CONFLICT DO UPDATE ... WHERE IS DISTINCT FROM upserts the rows, so
       unchanged rows are not written and re-importing a file changes nothing.
    """
    parsed = LoanbookFile(kind, source, progress=progress)
    spec = parsed.kind
    columns = spec.column_names
    with connection.cursor() as cursor:
        q = connection.ops.quote_name
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(
            f"CREATE TEMP TABLE {STAGING} ON COMMIT DROP AS "
            f"SELECT {', '.join(q(c) for c in columns)}, 0::integer AS {LINE} "
            f"FROM {q(spec.table)} WITH NO DATA"
        )
        parsed = _stage(cursor, parsed, source, progress, bulk=bulk)
        # A counted kind has no duplicates: identical rows are each a measurement.
        duplicates, duplicate_total = ([], 0) if spec.counted else _duplicates(cursor, spec)
        if spec.name == "blacklist":
            from carloan.screening import services as screening

            # A value is listed once; every listed row is kept in the blacklist's history.
            listed, listed_total = screening.blacklist_staged_problems(cursor, STAGING, LINE)
            duplicates, duplicate_total = duplicates + listed, duplicate_total + listed_total
        if parsed.total_errors or duplicate_total:
            raise parsed.rejection(duplicates, duplicate_total)
        if spec.name == "blacklist":
            screening.blacklist_staged_history(cursor, STAGING, user, file_name)
        cursor.execute(f"ANALYZE {STAGING}")
        created, updated, old_days = _upsert(cursor, spec)
        cursor.execute(f"DROP TABLE {STAGING}")
    days = [d for d in (parsed.first_day, parsed.last_day, *old_days) if d is not None]
    run = ImportRun.objects.create(
        kind=spec.name,
        file_name=file_name[:255],
        imported_by=user if user is not None and user.is_authenticated else None,
        status=ImportRun.Status.SUCCEEDED,
        rows=parsed.rows_read,
        created=created,
        updated=updated,
        warnings=parsed.warnings,
        first_day=min(days, default=None),
        last_day=max(days, default=None),
    )
    broadcast(IMPORTS_GROUP, import_event(run, "import.completed"))
    return ImportResult(
        kind=spec.name,
        rows=run.rows,
        created=created,
        updated=updated,
        warnings=list(parsed.warnings),
        first_day=run.first_day,
        last_day=run.last_day,
        run_id=run.pk,
        file_name=run.file_name,
    )


def _lock_kinds(kinds: Iterable[str]) -> None:
    """One import of a kind at a time (until commit), locked in one order: so the upsert needs
    no sort by key to keep two imports from deadlocking, and none waits on a half-done one."""
    with connection.cursor() as cursor:
        for kind in sorted(set(kinds)):
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(f"carloan.import:{kind}".encode())]
            )


def _stage(
    cursor: Any,
    parsed: LoanbookFile,
    source: IO[bytes],
    progress: Callable[[int], None] | None,
    *,
    bulk: bool,
) -> LoanbookFile:
    """Fill STAGING with the file's good rows; the file as read (its errors, rows, days)."""
    if bulk and can_take(parsed, source):
        try:
            stage_in_bulk(cursor, parsed, source, STAGING, LINE, progress)
            return parsed
        except NotInBulk as why:
            logger.info("import of %s row by row: %s", parsed.kind.name, why)
            source.seek(0)
            parsed = LoanbookFile(parsed.kind.name, source, progress=progress)
    q = connection.ops.quote_name
    column_list = ", ".join([*(q(c) for c in parsed.kind.column_names), LINE])
    with cursor.copy(f"COPY {STAGING} ({column_list}) FROM STDIN") as copy:
        write_row = copy.write_row
        for row in parsed.rows():
            write_row(row)
    return parsed


def _duplicates(cursor: Any, spec: Kind) -> tuple[list[dict[str, Any]], int]:
    """Rows whose key appeared on an earlier line of the file (one hash aggregate when none)."""
    q = connection.ops.quote_name
    key = ", ".join(q(c) for c in spec.key)
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {STAGING} GROUP BY {key} HAVING count(*) > 1)")
    if not cursor.fetchone()[0]:
        return [], 0
    cursor.execute(
        f"""
        SELECT {LINE}, first_line, count(*) OVER () FROM (
            SELECT {LINE}, min({LINE}) OVER (PARTITION BY {key}) AS first_line FROM {STAGING}
        ) AS d
        WHERE {LINE} > first_line ORDER BY {LINE} LIMIT %s
        """,
        [MAX_REPORTED_ERRORS],
    )
    found = cursor.fetchall()
    named = ", ".join(spec.key)
    column = spec.key[0] if len(spec.key) == 1 else ""
    return [
        error(line, column, f"duplicate of line {first} (same {named})")
        for line, first, _total in found
    ], found[0][2]


def _upsert(cursor: Any, spec: Kind) -> tuple[int, int, list[date]]:
    """One statement: upsert staging into the table, counting created and updated rows, and
    reading the business days of the rows it changes as they were before (an update can move a
    row away from a day, which must then be recomputed too)."""
    q = connection.ops.quote_name
    table = q(spec.table)
    if spec.counted:
        return _insert_counted(cursor, spec)
    columns = [q(c) for c in spec.column_names]
    keys = [q(c) for c in spec.key]
    rest = [q(c) for c in spec.column_names if c not in spec.key]
    computed_names = [q(name) for name, _sql in spec.computed]
    computed_sql = [sql for _name, sql in spec.computed]
    day_columns = [spec.day_column, *spec.extra_days_columns]
    old_days = ", ".join(
        f"(SELECT min(t.{q(c)}) FROM changed t), (SELECT max(t.{q(c)}) FROM changed t)"
        for c in day_columns
    )
    cursor.execute(
        f"""
        WITH changed AS (
            SELECT t.* FROM {table} t JOIN {STAGING} s ON {" AND ".join(f"t.{k} = s.{k}" for k in keys)}
            WHERE ({", ".join(f"t.{c}" for c in rest)}) IS DISTINCT FROM
                  ({", ".join(f"s.{c}" for c in rest)})
        ),
        upserted AS (
            INSERT INTO {table} AS t ({", ".join([*columns, *computed_names])})
            SELECT {", ".join([*columns, *computed_sql])} FROM {STAGING}
            ON CONFLICT ({", ".join(keys)}) DO UPDATE
            SET {", ".join(f"{c} = EXCLUDED.{c}" for c in rest)}
            WHERE ({", ".join(f"t.{c}" for c in rest)}) IS DISTINCT FROM
                  ({", ".join(f"EXCLUDED.{c}" for c in rest)})
            RETURNING (t.xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted), {old_days}
        FROM upserted
        """  # noqa: E501
    )
    created, updated, *bounds = cursor.fetchone()
    zone = timezone.get_default_timezone()
    days = [
        timezone.localtime(value, zone).date() if isinstance(value, datetime) else value
        for value in bounds
        if value is not None
    ]
    return created, updated, days


def _insert_counted(cursor: Any, spec: Kind) -> tuple[int, int, list[date]]:
    """Insert the measurements of a counted kind that are not stored yet, each identical row
    of the file numbered by its `occurrence` (0 for the first, in line order). Nothing is
    updated: a row is the whole of its identity."""
    q = connection.ops.quote_name
    columns = [q(c) for c in spec.column_names]
    listed = ", ".join(columns)
    cursor.execute(
        f"""
        WITH inserted AS (
            INSERT INTO {q(spec.table)} AS t ({listed}, occurrence)
            SELECT {listed},
                   row_number() OVER (PARTITION BY {listed} ORDER BY {LINE}) - 1
            FROM {STAGING}
            ON CONFLICT ({", ".join(q(c) for c in spec.key)}) DO NOTHING
            RETURNING 1
        )
        SELECT count(*) FROM inserted
        """
    )
    return cursor.fetchone()[0], 0, []


def _record_rejection(
    exc: ImportRejected, *, kind: str, file_name: str, user: AbstractBaseUser | None
) -> None:
    """Keep a trace of a rejected file (its own transaction; none of its rows is stored)."""
    if kind not in KINDS:
        return
    with transaction.atomic():
        run = ImportRun.objects.create(
            kind=kind,
            file_name=file_name[:255],
            imported_by=user if user is not None and user.is_authenticated else None,
            status=ImportRun.Status.REJECTED,
            warnings=exc.warnings,
            errors=exc.errors,
        )
        broadcast(IMPORTS_GROUP, import_event(run, "import.completed"))
    exc.run_id = run.pk


def _after_import(results: Iterable[ImportResult], refresh: Refresh) -> None:
    """Start the refresh of each run: on commit in the worker, or here and now; and say, once
    committed, that the book changed."""
    results = list(results)
    kinds = sorted({r.kind for r in results})
    transaction.on_commit(
        lambda: loanbook_imported.send(sender=ImportResult, kinds=kinds), robust=True
    )
    run_ids = [r.run_id for r in results if r.run_id is not None]
    if refresh == "now":
        # Here the import's own transaction has committed (or, when nested in the caller's,
        # the refresh joins that transaction and sees the rows).
        for run_id in run_ids:
            loanbook_refresh(run_id=run_id)
    elif refresh == "background":
        from carloan.tasks import loanbook_refresh as refresh_task

        for run_id in run_ids:
            transaction.on_commit(lambda run_id=run_id: refresh_task.delay(run_id), robust=True)
