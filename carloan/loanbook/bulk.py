"""Staging a loan book file in bulk: rows checked by PostgreSQL, not one by one in Python.

The row-by-row reader (`parsing.LoanbookFile.rows`) costs over 20 times what PostgreSQL's own
COPY of the same file does (issue 22). Here the file goes through three steps instead:

1. **Read and re-write as CSV in C.** Python's `csv` reader (the very parser the row-by-row path
   uses, so the two agree on every quote and line break) feeds `csv.writer` batch by batch, and
   the canonical CSV that comes out is sent to `COPY` into a raw table of text columns, one per
   header column, numbered by an identity column in file order. No Python code runs per row.
2. **Check and convert in SQL.** One `INSERT ... SELECT` fills the same typed staging table the
   row-by-row path fills: each cell, as written (one with whitespace around it is Python's to
   trim), is matched against a strict pattern of its type (dates, ISO timestamps, decimals,
   ...), range-checked and converted; the rules across a row's cells (a decision's
   `decided_at`, a sample's range) are checked too; identifiers are hashed with the same keyed
   HMAC-SHA256. A row is flagged `_ok` only when every one of its cells is *plainly* good.
3. **Python for the rest.** Rows not plainly good — bad ones, and good ones written in a rarer
   form the patterns leave to Python (a week date, an offset with seconds, a phone written
   "+86 138-0013-8000") — are read back in file order and put through the very converters of the
   row-by-row path, which word every error and normalise every value. So the messages, the
   values stored and the errors' order are the row-by-row path's, by construction; the SQL
   patterns only decide which rows may skip Python (tests hold the two to the same answers).

Anything the fast path cannot take (a row with the wrong number of fields, a blank line, bad
UTF-8 or a NUL byte, a source that cannot be read twice, the blacklist, whose values are hashed
by their row's type) is left to the row-by-row path, which reports it line by line.

Line numbers: a row's line is the header's lines plus its position, plus the line breaks inside
the quoted fields before it (counted only when the file has any).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any

import psycopg
from django.db import connection, transaction

from carloan.loanbook.kinds import Column, Kind
from carloan.loanbook.parsing import (
    FIRST_YEAR,
    LAST_YEAR,
    PROGRESS_EVERY,
    RESERVED_REGION,
    SAMPLE_RANGES,
    LoanbookFile,
    _model_field,
)

RAW = "pg_temp.loanbook_import_raw"
KEYS = "pg_temp.loanbook_import_hmac"
OK = "_ok"
ROW = "_row"
SUSPECTS_FETCHED = 2_000
# The characters Python's str.strip() removes (str.isspace).
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_DIGITS = "[0-9]"
_YEAR = "(19[0-9]{2}|2[01][0-9]{2}|2200)"
_DATE = _YEAR + "-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = "[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?"
_OFFSET = "(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)"
TIMESTAMP_PATTERN = f"^{_DATE}({_TIME}{_OFFSET}?)?$"
NAIVE_PATTERN = f"^{_DATE}({_TIME})?$"
DATE_PATTERN = f"^{_DATE}$"
INTEGER_PATTERN = "^[+-]?[0-9]{1,18}$"
DECIMAL_PATTERN = "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$"
PRINTABLE_ASCII = "^[ -~]+$"
# Identifiers already in their normal form (carloan.screening.identifiers.normalise): anything
# else (spaces, separators, a country code, lower-case VINs, other scripts) goes to Python.
NORMAL_IDENTIFIER = {
    "phone": "^1[3-9][0-9]{9}$",
    "vin": "^[A-HJ-NPR-Z0-9]{17}$",
    # (with `length <= 128` and no space at either end: a bounded repeat {0,126} here would
    # make PostgreSQL's regular expression many times slower)
    "applicant": PRINTABLE_ASCII,
    "device": PRINTABLE_ASCII,
    "dealer": PRINTABLE_ASCII,
}
assert FIRST_YEAR == 1900 and LAST_YEAR == 2200  # what _YEAR spells out


class NotInBulk(Exception):
    """The file cannot take the fast path; the row-by-row path reads it again."""


def literal(text: str) -> str:
    """`text` as a PostgreSQL string literal (an E'' string: every character spelled safely)."""
    out = []
    for char in text:
        if char == "'" or char == "\\":
            out.append("\\" + char)
        elif char.isascii() and char.isprintable():
            out.append(char)
        else:
            out.append(f"\\U{ord(char):08X}")
    return "E'" + "".join(out) + "'"


# A cell is read as written: one that begins or ends with whitespace is left to Python (which
# strips it), so no cell is trimmed here. Its first and last characters' code points:
WHITESPACE_CODES = ", ".join(str(ord(c)) for c in PYTHON_WHITESPACE)


def _bare(v: str) -> str:
    """SQL: the non-empty text `v` neither begins nor ends with whitespace (str.strip's)."""
    codes = WHITESPACE_CODES
    return f"ascii({v}) NOT IN ({codes}) AND ascii(right({v}, 1)) NOT IN ({codes})"


def can_take(parsed: LoanbookFile, source: IO[bytes]) -> bool:
    """Whether the fast path may try this file (it must be able to read it again if not)."""
    if any(col.identifier == "by_type" for col in parsed.kind.columns):
        return False
    try:
        return bool(source.seekable())
    except (AttributeError, ValueError):
        return False


@dataclass
class Staged:
    rows: int
    suspects: int


# --- step 1: the file into the raw table --------------------------------------------------------


def copy_raw(
    cursor: Any,
    parsed: LoanbookFile,
    source: IO[bytes],
    progress: Callable[[int], None] | None,
) -> tuple[int, bool]:
    """COPY the rest of `source` (after the header) into RAW; (rows, any field spans lines).

    Raises NotInBulk for what the row-by-row path must report (wrong widths, blank lines, bad
    bytes, CSV the reader rejects)."""
    width = parsed.width
    names = ", ".join(f"c{i}" for i in range(width))
    cursor.execute(f"DROP TABLE IF EXISTS {RAW}")
    cursor.execute(
        f"CREATE TEMP TABLE {RAW} ({', '.join(f'c{i} text' for i in range(width))}, "
        f"{ROW} bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP"
    )
    try:  # strict: a bad byte raises
        text = io.TextIOWrapper(source, encoding="utf-8", newline="\n")  # type: ignore[type-var]
    except (AttributeError, TypeError, ValueError) as exc:
        raise NotInBulk(f"the source cannot be read as text ({exc})") from exc
    reader = csv.reader(text)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    sent = 0
    multiline = False
    try:
        with cursor.copy(f"COPY {RAW} ({names}) FROM STDIN (FORMAT csv)") as copy:
            while True:
                batch = list(islice(reader, PROGRESS_EVERY))
                if not batch:
                    break
                if not all(batch) or set(map(len, batch)) != {width}:
                    raise NotInBulk("a blank line or a row of another width")
                writer.writerows(batch)
                chunk = buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                multiline = multiline or chunk.count("\n") != len(batch)
                copy.write(chunk)
                sent += len(batch)
                if progress is not None:
                    progress(sent)
        copied = cursor.rowcount
    except (UnicodeDecodeError, csv.Error) as exc:
        raise NotInBulk(str(exc)) from exc
    except psycopg.Error as exc:  # a NUL byte, or text PostgreSQL's CSV reader refuses
        raise NotInBulk(str(exc)) from exc
    finally:
        text.detach()
    if copied != sent:  # e.g. a row PostgreSQL read as its end-of-data marker
        raise NotInBulk(f"COPY stored {copied} rows of {sent}")
    return sent, multiline


# --- step 2: every cell checked and converted in SQL ---------------------------------------------


def _range(col: Column, value: str) -> str:
    tests = []
    if col.min_value is not None:
        tests.append(f"{value} >= {col.min_value}")
    if col.max_value is not None:
        tests.append(f"{value} <= {col.max_value}")
    return " AND ".join(tests) or "true"


def _valid_day(v: str) -> str:
    """The day of a date-shaped text exists in its month (29-31 checked on the calendar)."""
    last_day = f"extract(day from (substr({v}, 1, 7) || '-01')::date + interval '1 month - 1 day')"
    return f"(substr({v}, 9, 2) <= '28' OR substr({v}, 9, 2)::int <= {last_day})"


def _timestamp(v: str, zone: str) -> str:
    """A timestamp: with an offset as written; a naive one is local time (settings.TIME_ZONE).
    Near a change of the zone's offset (daylight saving), Python decides: it reads an ambiguous
    or skipped local time its own way (fold=0)."""
    with_offset = f"{v}::timestamptz"
    local = f"{v}::timestamp"
    if zone == "UTC":
        naive = f"{local} AT TIME ZONE 'UTC'"
    else:
        z = literal(zone)
        at = f"({local} AT TIME ZONE {z})"
        naive = (
            f"CASE WHEN (({at} - interval '3 hours') AT TIME ZONE {z}) = {local} - interval "
            f"'3 hours' AND (({at} + interval '3 hours') AT TIME ZONE {z}) = {local} + interval "
            f"'3 hours' THEN {at} END"
        )
    return (
        f"CASE WHEN {_plain_local(v)} THEN {naive} "
        f"WHEN {v} ~ '{TIMESTAMP_PATTERN}' AND {_valid_day(v)} THEN "
        f"CASE WHEN {v} ~ '{NAIVE_PATTERN}' THEN {naive} ELSE {with_offset} END END"
    )


def _plain_local(v: str) -> str:
    """SQL: `v` is a local time written YYYY-MM-DDTHH:MM:SS, the commonest form, checked without
    a regular expression (about twice as fast): the shape, digits where digits go, ranges."""
    c = 'COLLATE "C"'
    return (
        f"({v} LIKE '____-__-__T__:__:__' AND translate({v}, '0123456789', '') = '--T::' "
        f"AND substr({v}, 1, 4) {c} BETWEEN '{FIRST_YEAR}' AND '{LAST_YEAR}' "
        f"AND substr({v}, 6, 2) {c} BETWEEN '01' AND '12' "
        f"AND substr({v}, 9, 2) {c} BETWEEN '01' AND '31' AND {_valid_day(v)} "
        f"AND substr({v}, 12, 2) {c} <= '23' AND substr({v}, 15, 2) {c} <= '59' "
        f"AND substr({v}, 18, 2) {c} <= '59')"
    )


def _text_limit(col: Column, kind: Kind) -> int:
    field_limit = _model_field(kind, col.name).max_length
    return col.max_length if field_limit is None else min(col.max_length, field_limit)


def _hmac(kind: str, v: str) -> str:
    """`carloan.screening.identifiers.stored` of an identifier in its normal form: the keyed
    HMAC-SHA256 (the padded keys come from KEYS, never written in the statement) and the last
    characters."""
    message = f"convert_to({literal(kind + ':')} || {v}, 'UTF8')"
    inner, outer = f"(SELECT inner_key FROM {KEYS})", f"(SELECT outer_key FROM {KEYS})"
    digest = f"encode(sha256({outer} || sha256({inner} || {message})), 'hex')"
    shown = f"CASE WHEN length({v}) >= 10 THEN 4 ELSE length({v}) / 3 END"
    return f"{digest} || ':' || right({v}, {shown})"


def parsed_value(col: Column, kind: Kind, v: str, zone: str) -> str:
    """SQL for the converted value of a non-empty cell `v`, NULL if not plainly good
    (ranges are checked on it afterwards)."""
    if col.type == "text":
        tests = [_bare(v), f"length({v}) <= {_text_limit(col, kind)}"]
        if col.is_region:
            tests.append(f"lower({v}) <> '{RESERVED_REGION}'")
            tests.append(f"{v} !~ '[\\x01-\\x1f\\x7f-\\x9f]'")
        return f"CASE WHEN {' AND '.join(tests)} THEN {v} END"
    if col.type == "choice":
        exact = ", ".join(literal(c) for c in col.choices)
        lowered = " ".join(f"WHEN {literal(c.lower())} THEN {literal(c)}" for c in col.choices)
        return (
            f"CASE WHEN {v} IN ({exact}) THEN {v} WHEN {v} ~ '{PRINTABLE_ASCII}' "
            f"THEN CASE lower({v}) {lowered} END END"
        )
    if col.type == "integer":
        return f"CASE WHEN {v} ~ '{INTEGER_PATTERN}' THEN {v}::bigint END"
    if col.type == "decimal":
        places = _model_field(kind, col.name).decimal_places
        return (
            f"CASE WHEN length({v}) <= 40 AND {v} ~ '{DECIMAL_PATTERN}' "
            f"THEN round({v}::numeric, {places}) END"
        )
    if col.type == "float":
        # Plain decimals of up to 30 characters (no exponent: none can overflow a float8, whose
        # cast would stop the statement); anything else is Python's float().
        return f"CASE WHEN length({v}) <= 30 AND {v} ~ '{DECIMAL_PATTERN}' THEN {v}::float8 END"
    if col.type == "date":
        return f"CASE WHEN {v} ~ '{DATE_PATTERN}' AND {_valid_day(v)} THEN {v}::date END"
    if col.type == "timestamp":
        return _timestamp(v, zone)
    if col.type == "identifier":
        stored = _hmac(col.identifier, "upper(" + v + ")" if col.identifier == "applicant" else v)
        test = f"{v} ~ '{NORMAL_IDENTIFIER[col.identifier]}'"
        if col.identifier in ("applicant", "device", "dealer"):
            test += f" AND length({v}) <= 128 AND ascii({v}) <> 32 AND ascii(right({v}, 1)) <> 32"
        return f"CASE WHEN {test} THEN {stored} END"
    raise ValueError(f"column {col.name} of {kind.name} has an unknown type {col.type!r}")


def cell_ok(col: Column, kind: Kind, v: str, p: str) -> str:
    """SQL: the cell is plainly good (empty where allowed, or converted and in range)."""
    checks = [f"{p} IS NOT NULL"]
    if col.type in ("integer", "decimal", "float"):
        checks.append(_range(col, p))
    if col.type == "decimal":
        field = _model_field(kind, col.name)
        checks.append(f"abs({p}) < 1e{field.max_digits - field.decimal_places}")
    filled = " AND ".join(checks)
    if col.required:
        return f"({v} <> '' AND {filled})"
    return f"({v} = '' OR ({filled}))"


def final_value(col: Column, v: str, p: str, ok: str) -> str:
    """The stored value: the converted one (NULL in a cell that is not plainly good, so that
    nothing out of range reaches a typed column), or the empty value of an empty optional cell."""
    empty = "''" if col.type in ("text", "identifier") else "NULL"
    return f"CASE WHEN {v} = '' THEN {empty} WHEN {ok} THEN {p} END"


def row_check(kind: Kind, f: dict[str, str]) -> str:
    """SQL for the rules across a row's cells (parsing.ROW_CHECKS), on the final values."""
    if kind.name == "applications":
        return (
            f"CASE WHEN {f['decided_at']} IS NULL THEN {f['decision']} = 'pending' "
            f"ELSE {f['decided_at']} >= {f['applied_at']} END"
        )
    if kind.name == "valuations":
        return f"({f['completed_at']} IS NULL OR {f['completed_at']} >= {f['requested_at']})"
    if kind.name == "samples":
        cases = " ".join(
            f"WHEN {literal(metric)} THEN {f['value']} BETWEEN {low!r} AND {high!r}"
            for metric, (low, high, _said) in SAMPLE_RANGES.items()
        )
        return f"CASE {f['metric']} {cases} ELSE true END"
    return "true"


def _install_keys(cursor: Any) -> None:
    """The HMAC's padded keys in a temp table, sent by COPY (so the key is never in a statement
    a server log could keep)."""
    from carloan.screening.identifiers import _key

    key = _key()
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    cursor.execute(f"DROP TABLE IF EXISTS {KEYS}")
    cursor.execute(f"CREATE TEMP TABLE {KEYS} (inner_key bytea, outer_key bytea) ON COMMIT DROP")
    with cursor.copy(f"COPY {KEYS} FROM STDIN") as copy:
        copy.write_row((bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)))


def check_in_sql(
    cursor: Any, parsed: LoanbookFile, staging: str, line: str, multiline: bool
) -> None:
    """Fill `staging` (the target's columns, `line`, `_ok`, `_row`) from RAW in one statement."""
    kind = parsed.kind
    zone = parsed.zone.key
    q = connection.ops.quote_name
    columns = kind.columns
    trimmed, parsed_cells, oks, finals = [], [], [], {}
    for j, col in enumerate(columns):
        v, p = f"v{j}", f"p{j}"
        index = parsed.position.get(col.name)
        raw = "''" if index is None else f"coalesce(c{index}, '')"
        trimmed.append(f"{raw} AS {v}")
        parsed_cells.append(f"{v}, {parsed_value(col, kind, v, zone)} AS {p}")
        oks.append(cell_ok(col, kind, v, p))
        finals[col.name] = f"f{j}"
    lines = f"{ROW} + {parsed.header_lines}"
    if multiline:
        breaks = " + ".join(
            f"coalesce(length(c{i}) - length(replace(c{i}, E'\\n', '')), 0)"
            for i in range(parsed.width)
        )
        lines += f" + coalesce(sum({breaks}) OVER (ORDER BY {ROW} ROWS BETWEEN UNBOUNDED "
        lines += "PRECEDING AND 1 PRECEDING), 0)"
    if any(c.type == "identifier" for c in columns):
        _install_keys(cursor)
    finals_sql = ", ".join(
        f"{final_value(col, f'v{j}', f'p{j}', oks[j])} AS f{j}" for j, col in enumerate(columns)
    )
    names = ", ".join(q(c.name) for c in columns)
    cursor.execute(
        f"""
        INSERT INTO {staging} ({names}, {line}, {OK}, {ROW})
        SELECT {", ".join(finals.values())}, _line,
               coalesce(cells_ok AND ({row_check(kind, finals)}), false), {ROW}
        FROM (
            SELECT {finals_sql}, {" AND ".join(oks)} AS cells_ok, _line, {ROW}
            FROM (
                SELECT {", ".join(parsed_cells)}, _line, {ROW}
                FROM (SELECT {", ".join(trimmed)}, {lines} AS _line, {ROW} FROM {RAW}) AS t
                OFFSET 0
            ) AS p
            OFFSET 0
        ) AS f
        """
    )


# --- step 3: the rows SQL left to Python ---------------------------------------------------------


def settle_suspects(cursor: Any, parsed: LoanbookFile, staging: str, line: str) -> int:
    """Put every row not plainly good through the row-by-row converters, in file order: errors
    are recorded on `parsed`, good rows replace their staged row. Returns how many there were."""
    cursor.execute(f"SELECT count(*) FROM {staging} WHERE {OK} IS NOT TRUE")
    (count,) = cursor.fetchone()
    if not count:
        return 0
    q = connection.ops.quote_name
    names = ", ".join(q(c.name) for c in parsed.kind.columns)
    raw_columns = ", ".join(f"r.c{i}" for i in range(parsed.width))
    reading = connection.connection.cursor(name="loanbook_import_suspects")
    reading.itersize = SUSPECTS_FETCHED
    reading.execute(
        f"SELECT s.{line}, {raw_columns} FROM {staging} s JOIN {RAW} r USING ({ROW}) "
        f"WHERE s.{OK} IS NOT TRUE ORDER BY s.{ROW}"
    )
    try:
        while batch := reading.fetchmany(SUSPECTS_FETCHED):
            good: list[tuple[Any, ...]] = []
            for found_line, *fields in batch:
                converted = parsed.convert_row([f or "" for f in fields], found_line)
                if converted is not None:
                    good.append((*converted, found_line, True, None))
            if good:
                with cursor.copy(
                    f"COPY {staging} ({names}, {line}, {OK}, {ROW}) FROM STDIN"
                ) as copy:
                    for row in good:
                        copy.write_row(row)
    finally:
        reading.close()
    cursor.execute(f"DELETE FROM {staging} WHERE {OK} IS NOT TRUE")
    return count


def day_bounds(cursor: Any, parsed: LoanbookFile, staging: str) -> None:
    """The first and last business day the staged rows touch, onto `parsed`."""
    kind = parsed.kind
    q = connection.ops.quote_name
    zone = literal(parsed.zone.key)
    bounds = []
    for name in (kind.day_column, *kind.extra_days_columns):
        column = q(name)
        if kind.column(name).type == "timestamp":
            bounds += [f"(min({column}) AT TIME ZONE {zone})::date"]
            bounds += [f"(max({column}) AT TIME ZONE {zone})::date"]
        else:
            bounds += [f"min({column})", f"max({column})"]
    cursor.execute(f"SELECT {', '.join(bounds)} FROM {staging}")
    days = [d for d in cursor.fetchone() if d is not None]
    parsed.first_day = min(days, default=None)
    parsed.last_day = max(days, default=None)


def stage(
    cursor: Any,
    parsed: LoanbookFile,
    source: IO[bytes],
    staging: str,
    line: str,
    progress: Callable[[int], None] | None,
) -> Staged:
    """Stage the file's rows in `staging` through the fast path, or raise NotInBulk (after
    undoing all of it). Bad rows are recorded on `parsed` as the row-by-row path records them."""
    savepoint = transaction.savepoint()
    try:
        cursor.execute(f"ALTER TABLE {staging} ADD COLUMN {OK} boolean, ADD COLUMN {ROW} bigint")
        rows, multiline = copy_raw(cursor, parsed, source, progress)
        check_in_sql(cursor, parsed, staging, line, multiline)
    except NotInBulk:
        transaction.savepoint_rollback(savepoint)
        raise
    transaction.savepoint_commit(savepoint)
    suspects = settle_suspects(cursor, parsed, staging, line)
    cursor.execute(f"DROP TABLE {RAW}")
    parsed.rows_read = rows
    day_bounds(cursor, parsed, staging)
    return Staged(rows=rows, suspects=suspects)
