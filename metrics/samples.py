"""Samples sent as JSON (`POST /api/metrics/samples/`): validation with the rules of the `samples`
import (contract section 2), and the upsert.

Each item is an object with `metric`, `ts`, `value` and optionally `region` and `source`; the
cells are checked by the very converters the CSV import uses (`carloan.loanbook.parsing`), so a
value the import refuses is refused here with the same reason. Items are identified like imported
rows: by all they say and their occurrence among identical items of the request. Two items alike
are two measurements (two gateways reporting the same second), and sending the same batch again
stores nothing twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from carloan.loanbook.kinds import KINDS
from carloan.loanbook.parsing import (
    MAX_REPORTED_ERRORS,
    CellError,
    converter,
    sample_value_problem,
)

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
        problem = sample_value_problem(cells["metric"], float(cells["value"]))
        if problem:
            parsed.add_error(index, "value", problem)
            continue
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
    """Store the samples not stored yet, in one statement; identical rows of the batch are each
    a measurement, numbered by their occurrence. Returns (created, updated); a sample is never
    updated (a different value is another measurement), so `updated` is 0."""
    if not rows:
        return 0, 0
    seen: Counter[SampleRow] = Counter()
    occurrences = []
    for row in rows:
        occurrences.append(seen[row])
        seen[row] += 1
    columns = [list(c) for c in zip(*rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH inserted AS (
                INSERT INTO loanbook_sample AS t (metric, ts, value, region, source, occurrence)
                SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::float8[], %s::text[],
                                     %s::text[], %s::integer[])
                ORDER BY 1, 2, 4, 5, 3, 6
                ON CONFLICT (metric, ts, region, source, value, occurrence) DO NOTHING
                RETURNING 1
            )
            SELECT count(*) FROM inserted
            """,
            [*columns, occurrences],
        )
        (created,) = cursor.fetchone()
    return created, 0


def business_days(rows: list[SampleRow]) -> tuple[date, date] | None:
    """The first and last business day the samples fall on."""
    zone = ZoneInfo(settings.TIME_ZONE)
    days = [row[1].astimezone(zone).date() for row in rows]
    return (min(days), max(days)) if days else None
