"""Samples sent as JSON (`POST /api/metrics/samples/`): validation with the rules of the `samples`
import (contract section 2), and the upsert.

Each item is an object with `metric`, `ts`, `value` and optionally `region` and `source`; the
cells are checked by the very converters the CSV import uses (`carloan.loanbook.parsing`), so a
value the import refuses is refused here with the same reason. Items are identified like imported
rows, by (metric, ts, region, source): sending one again changes nothing, and the same identity
twice in one request is a bad item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from carloan.loanbook.kinds import KINDS
from carloan.loanbook.parsing import MAX_REPORTED_ERRORS, CellError, converter

MAX_SAMPLES = 10_000
FIELDS = ("metric", "ts", "value", "region", "source")

SampleRow = tuple[str, datetime, float, str, str]


@dataclass
class ParsedSamples:
    """Good rows and bad items (index, field, reason) of one request."""

    rows: list[SampleRow] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    total_errors: int = 0

    def add_error(self, index: int, name: str, reason: str) -> None:
        self.total_errors += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"index": index, "field": name, "reason": reason})


def _cell(raw: Any) -> str:
    """A JSON cell as the CSV text the converters read (numbers as written, null as empty)."""
    if raw is None:
        return ""
    if isinstance(raw, bool | list | dict):
        raise CellError("must be a string or a number")
    return str(raw)


def parse_samples(items: Any) -> ParsedSamples:
    """Check every item; the result holds the good rows and every bad item (first 100 listed)."""
    parsed = ParsedSamples()
    if not isinstance(items, list):
        parsed.add_error(-1, "", "send a JSON array of sample objects")
        return parsed
    if len(items) > MAX_SAMPLES:
        parsed.add_error(
            -1, "", f"{len(items):,} samples sent; at most {MAX_SAMPLES:,} are taken per request"
        )
        return parsed
    kind = KINDS["samples"]
    zone = ZoneInfo(settings.TIME_ZONE)
    convert = {c.name: converter(c, kind, zone) for c in kind.columns}
    seen: dict[tuple[str, str, str, str], int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            parsed.add_error(index, "", "is not an object with metric, ts and value")
            continue
        cells: dict[str, Any] = {}
        bad = False
        for name in FIELDS:
            try:
                cells[name] = convert[name](_cell(item.get(name)))
            except CellError as exc:
                parsed.add_error(index, name, str(exc))
                bad = True
        if bad:
            continue
        identity = (cells["metric"], cells["ts"], cells["region"] or "", cells["source"] or "")
        if identity in seen:
            parsed.add_error(
                index, "", f"duplicate of item {seen[identity]} (same metric, ts, region, source)"
            )
            continue
        seen[identity] = index
        parsed.rows.append(
            (
                cells["metric"],
                datetime.fromisoformat(cells["ts"]),
                float(cells["value"]),
                cells["region"] or "",
                cells["source"] or "",
            )
        )
    return parsed


def samples_upsert(rows: list[SampleRow]) -> tuple[int, int]:
    """Insert or update samples in one statement (unchanged ones are not written).
    Returns (created, updated)."""
    if not rows:
        return 0, 0
    columns = list(zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH upserted AS (
                INSERT INTO loanbook_sample AS t (metric, ts, value, region, source)
                SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::float8[], %s::text[],
                                     %s::text[])
                ORDER BY 1, 2, 4, 5
                ON CONFLICT (metric, ts, region, source) DO UPDATE SET value = EXCLUDED.value
                WHERE t.value IS DISTINCT FROM EXCLUDED.value
                RETURNING (t.xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
            FROM upserted
            """,
            [list(c) for c in columns],
        )
        created, updated = cursor.fetchone()
    return created, updated


def business_days(rows: list[SampleRow]) -> tuple[date, date] | None:
    """The first and last business day the samples fall on."""
    zone = ZoneInfo(settings.TIME_ZONE)
    days = [row[1].astimezone(zone).date() for row in rows]
    return (min(days), max(days)) if days else None
