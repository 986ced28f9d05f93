"""Reading and validating a loan book CSV file (contract section 2). Pure: no database.

`LoanbookFile(kind, stream)` reads the header at once (a bad header raises `ImportRejected`), then
`rows()` streams the good rows, normalised for `COPY`, while it collects the bad ones. After the
iteration, `errors`, `total_errors`, `rows_read`, `first_day` and `last_day` hold the outcome.

Speed matters (hundreds of thousands of rows): each column gets one converter function, built
once from `kinds.py` and the model field, and a row is one list comprehension over them. The
slow path (finding *every* bad cell of a row) runs only when a converter raises.

Normalised values are strings (or None for NULL): timestamps as ISO 8601 in UTC, decimals
rounded to the column's decimal places, choices in their canonical spelling. Because every
timestamp is UTC in the same format, comparing the strings compares the instants.

Duplicate keys within a file are found by the import service in SQL, over the staged rows
(each row carries its line number as its last element): exact, and no per-row memory here.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from math import isfinite
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings

from carloan.loanbook.kinds import KINDS, Column, Kind

MAX_REPORTED_ERRORS = 100
# Dates outside these years are typos (and the far ends overflow time zone arithmetic).
FIRST_YEAR, LAST_YEAR = 1900, 2200
PROGRESS_EVERY = 10_000
RESERVED_REGION = "all"
# The widest header read (every kind has at most 20 columns of its own), and how many ignored
# columns are named in the warnings.
MAX_COLUMNS = 200
MAX_COLUMN_WARNINGS = 20

Value = str | None
Converter = Callable[[str], Value]


class ImportRejected(Exception):
    """A file that cannot be imported: nothing of it is stored.

    `errors` lists up to 100 problems as {"line", "column", "reason"}; `total_errors` counts all.
    """

    def __init__(
        self,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        total_errors: int | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])[:MAX_REPORTED_ERRORS]
        self.total_errors = len(self.errors) if total_errors is None else total_errors
        self.warnings = list(warnings or [])
        self.run_id: int | None = None
        self.file_name = ""


class CellError(ValueError):
    """A cell's value breaks its column's rule; the message is the reason, in plain English."""


def error(line: int, column: str, reason: str) -> dict[str, Any]:
    return {"line": line, "column": column, "reason": reason}


# --- converters ---------------------------------------------------------------------------------

_DECIMAL_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_INTEGER_RE = re.compile(r"[+-]?\d+", re.ASCII)


def _model_field(kind: Kind, column: str) -> Any:
    model = next(m for m in apps.get_models() if m._meta.db_table == kind.table)
    return model._meta.get_field(column)


def _check_range(value: Any, col: Column, shown: str) -> None:
    if col.min_value is not None and value < col.min_value:
        raise CellError(f"{shown} is below the minimum {col.min_value}")
    if col.max_value is not None and value > col.max_value:
        raise CellError(f"{shown} is above the maximum {col.max_value}")


def _text(col: Column, kind: Kind) -> Converter:
    field_limit = _model_field(kind, col.name).max_length  # None for a TextField
    limit = col.max_length if field_limit is None else min(col.max_length, field_limit)
    required = col.required
    region = col.is_region

    def convert(raw: str) -> Value:
        value = raw.strip()
        if not value:
            if required:
                raise CellError("is required")
            return ""
        if len(value) > limit:
            raise CellError(f"is {len(value)} characters long; at most {limit} are allowed")
        if "\x00" in value:  # PostgreSQL text cannot hold it
            raise CellError("contains a NUL character")
        if region:
            if value.lower() == RESERVED_REGION:
                raise CellError("'all' is reserved for every region together; use a region code")
            if any(unicodedata.category(char) == "Cc" for char in value):
                raise CellError("contains a control character; use a region code")
        return value

    return convert


def _choice(col: Column) -> Converter:
    canonical = {c: c for c in col.choices} | {c.lower(): c for c in col.choices}
    allowed = ", ".join(col.choices)
    required = col.required

    def convert(raw: str) -> Value:
        value = raw.strip()
        found = canonical.get(value) or canonical.get(value.lower())
        if found is not None:
            return found
        if not value:
            if required:
                raise CellError(f"is required (one of {allowed})")
            return None
        raise CellError(f"{value!r} is not one of {allowed}")

    return convert


def _integer(col: Column) -> Converter:
    required = col.required

    def convert(raw: str) -> Value:
        value = raw.strip()
        if not value:
            if required:
                raise CellError("is required")
            return None
        if not _INTEGER_RE.fullmatch(value):
            raise CellError(f"{value!r} is not a whole number")
        if len(value) > 20:
            raise CellError(f"{value} is too large")
        number = int(value)
        _check_range(number, col, str(number))
        return str(number)

    return convert


def _decimal(col: Column, kind: Kind) -> Converter:
    field = _model_field(kind, col.name)
    places = Decimal(1).scaleb(-field.decimal_places)
    limit = Decimal(10) ** (field.max_digits - field.decimal_places)
    required = col.required

    def convert(raw: str) -> Value:
        value = raw.strip()
        if not value:
            if required:
                raise CellError("is required")
            return None
        if not _DECIMAL_RE.fullmatch(value):
            if "," in value:
                raise CellError(
                    f"{value!r} is not a number: use '.' for decimals and no thousands separators"
                )
            raise CellError(f"{value!r} is not a number")
        try:
            number = Decimal(value).quantize(places, ROUND_HALF_UP)
        except InvalidOperation:  # more digits than any decimal context holds
            raise CellError(f"{value} is too large") from None
        if abs(number) >= limit:
            raise CellError(f"{value} is too large")
        _check_range(number, col, value)
        return str(number)

    return convert


def _float(col: Column) -> Converter:
    required = col.required

    def convert(raw: str) -> Value:
        value = raw.strip()
        if not value:
            if required:
                raise CellError("is required")
            return None
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is None or "_" in value or not isfinite(number):
            if "," in value:
                raise CellError(f"{value!r} is not a number: use '.' for decimals")
            raise CellError(f"{value!r} is not a number")
        _check_range(number, col, value)
        return repr(number)

    return convert


def _date(col: Column) -> Converter:
    required = col.required

    def convert(raw: str) -> Value:
        value = raw.strip()
        if not value:
            if required:
                raise CellError("is required")
            return None
        try:
            if len(value) != 10 or value[4] != "-" or value[7] != "-":
                raise ValueError
            day = date.fromisoformat(value)
        except ValueError:
            raise CellError(f"{value!r} is not a date written YYYY-MM-DD") from None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise CellError(f"{value} is not between {FIRST_YEAR} and {LAST_YEAR}")
        return value

    return convert


def _timestamp(col: Column, zone: ZoneInfo) -> Converter:
    required = col.required
    fromisoformat = datetime.fromisoformat
    local_is_utc = zone.key == "UTC"

    def convert(raw: str) -> Value:
        value = raw.strip()
        if not value:
            if required:
                raise CellError("is required")
            return None
        try:
            # 3.11 reads 'Z', offsets, and a bare date (midnight); a naive value is local time.
            moment = fromisoformat(value)
        except ValueError:
            raise CellError(
                f"{value!r} is not an ISO 8601 timestamp (e.g. 2026-03-01T09:30:00+08:00)"
            ) from None
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise CellError(f"{value} is not between {FIRST_YEAR} and {LAST_YEAR}")
        if moment.tzinfo is None:
            if local_is_utc:
                return moment.replace(tzinfo=UTC).isoformat()
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC).isoformat()

    return convert


def _identifier(col: Column) -> Converter:
    """A person's identifier: kept only as its keyed hash and last four characters. A blacklist
    value (`by_type`) depends on its row's type: it is hashed by the row check."""
    from carloan.screening.identifiers import InvalidIdentifier, stored

    required = col.required
    kind = col.identifier

    def convert(raw: str) -> Value:
        value = raw.strip()
        if not value:
            if required:
                raise CellError("is required")
            return ""
        if kind == "by_type":
            if len(value) > 128 or "\x00" in value:
                raise CellError("is longer than 128 characters or holds a NUL character")
            return value
        try:
            return stored(kind, value)
        except InvalidIdentifier as exc:
            raise CellError(str(exc)) from None

    return convert


def converter(col: Column, kind: Kind, zone: ZoneInfo) -> Converter:
    """The function that checks and normalises one cell of `col`."""
    if col.type == "text":
        return _text(col, kind)
    if col.type == "identifier":
        return _identifier(col)
    if col.type == "choice":
        return _choice(col)
    if col.type == "integer":
        return _integer(col)
    if col.type == "decimal":
        return _decimal(col, kind)
    if col.type == "float":
        return _float(col)
    if col.type == "date":
        return _date(col)
    if col.type == "timestamp":
        return _timestamp(col, zone)
    raise ValueError(f"column {col.name} of {kind.name} has an unknown type {col.type!r}")


# --- rules across the cells of a row ---------------------------------------------------------

RowCheck = Callable[[list[Value]], list[tuple[str, str]]]


def _applications_check(names: tuple[str, ...]) -> RowCheck:
    decision, applied, decided = (names.index(n) for n in ("decision", "applied_at", "decided_at"))

    def check(row: list[Value]) -> list[tuple[str, str]]:
        if row[decided] is None:
            if row[decision] != "pending":
                return [("decided_at", f"is required when the decision is {row[decision]}")]
            return []
        if row[decided] < row[applied]:  # type: ignore[operator]
            return [("decided_at", "is before applied_at")]
        return []

    return check


def _valuations_check(names: tuple[str, ...]) -> RowCheck:
    requested, completed = names.index("requested_at"), names.index("completed_at")

    def check(row: list[Value]) -> list[tuple[str, str]]:
        if row[completed] is not None and row[completed] < row[requested]:  # type: ignore[operator]
            return [("completed_at", "is before requested_at")]
        return []

    return check


# Contract section 3: a sample's value is finite, shares are from 0 to 1, the rest from 0 up, and
# no latency is longer than a day. (lowest, highest, how it is said).
SAMPLE_RANGES: dict[str, tuple[float, float, str]] = {
    "availability": (0.0, 1.0, "a share from 0 (down) to 1 (up)"),
    "data_consistency": (0.0, 1.0, "a share from 0 (inconsistent) to 1 (consistent)"),
    "api_response_time": (0.0, 86_400_000.0, "milliseconds from 0 to a day (86,400,000)"),
    "credit_query_latency": (0.0, 86_400.0, "seconds from 0 to a day (86,400)"),
    "data_sync_lag": (0.0, 86_400.0, "seconds from 0 to a day (86,400)"),
    "incident_response_time": (0.0, 8_760.0, "hours from 0 to a year (8,760)"),
}


def sample_value_problem(metric: str, value: float) -> str | None:
    """Why `value` cannot be a sample of `metric` (its series' range), or None."""
    bounds = SAMPLE_RANGES.get(metric)
    if bounds is None:
        return None
    low, high, said = bounds
    if not low <= value <= high:
        return f"{value:g} is out of range for {metric}: {said}"
    return None


def _samples_check(names: tuple[str, ...]) -> RowCheck:
    metric, value = names.index("metric"), names.index("value")

    def check(row: list[Value]) -> list[tuple[str, str]]:
        problem = sample_value_problem(str(row[metric]), float(row[value]))  # type: ignore[arg-type]
        return [("value", problem)] if problem else []

    return check


def _blacklist_check(names: tuple[str, ...]) -> RowCheck:
    """The value is hashed as its type says; an entry may not expire before it was added."""
    from carloan.screening.identifiers import InvalidIdentifier, stored

    kind, value = names.index("type"), names.index("value")
    added, expires = names.index("added_at"), names.index("expires_at")

    def check(row: list[Value]) -> list[tuple[str, str]]:
        problems = []
        try:
            row[value] = stored(str(row[kind]), str(row[value]))
        except InvalidIdentifier as exc:
            problems.append(("value", f"{exc} (type {row[kind]})"))
        if row[expires] is not None and row[expires] <= row[added]:  # type: ignore[operator]
            problems.append(("expires_at", "is not after added_at"))
        return problems

    return check


ROW_CHECKS: dict[str, Callable[[tuple[str, ...]], RowCheck]] = {
    "blacklist": _blacklist_check,
    "applications": _applications_check,
    "valuations": _valuations_check,
    "samples": _samples_check,
}


# --- the file -----------------------------------------------------------------------------------


def _constant(value: Value) -> Converter:
    """The converter of a column missing from the file: every row gets its empty value."""

    def convert(_raw: str) -> Value:
        return value

    return convert


class LoanbookFile:
    """One CSV file of one kind, read as a stream.

    1. The constructor reads the header: unknown kind, empty file or a missing required column
       raise `ImportRejected`; extra columns become warnings.
    2. `rows()` yields each good row as a tuple in `kind.column_names` order plus its line number,
       and records each bad cell in `errors` (the first 100, in line order) and `total_errors`.
    """

    def __init__(
        self,
        kind: str,
        source: IO[bytes],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ImportRejected(
                f"Unknown kind {kind!r}; expected one of: {', '.join(KINDS)}.",
                [error(0, "", f"unknown kind {kind!r}")],
            )
        self.kind = KINDS[kind]
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.progress = progress
        self.warnings: list[str] = []
        self.errors: list[dict[str, Any]] = []
        self.total_errors = 0
        self.rows_read = 0
        self.first_day: date | None = None
        self.last_day: date | None = None
        self._source = source
        self._reader = csv.reader(self._lines())
        self._read_header()

    # Lines are decoded one by one so that a bad byte is reported with its line number.
    def _lines(self) -> Iterator[str]:
        readline = self._source.readline
        raw = readline()
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        number = 0
        while raw:
            number += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self._add(
                    error(
                        number,
                        "",
                        f"is not valid UTF-8 (byte {raw[exc.start]:#04x} at "
                        f"position {exc.start + 1}); save the file as UTF-8",
                    )
                )
                text = raw.decode("utf-8", "replace")
            if "\x00" in text:
                self._add(error(number, "", "contains a NUL character"))
                text = text.replace("\x00", "")
            yield text
            raw = readline()

    def _add(self, item: dict[str, Any]) -> None:
        self.total_errors += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(item)

    def _reject_header(self, reason: str, column: str = "") -> None:
        raise ImportRejected(
            f"The file cannot be imported as {self.kind.name}: {reason}.",
            [error(1, column, reason)],
            warnings=self.warnings,
        )

    def _read_header(self) -> None:
        try:
            header = next(self._reader, None)
        except csv.Error as exc:
            self._reject_header(f"the header row cannot be read ({exc})")
        if header is None:
            raise ImportRejected("The file is empty.", [error(0, "", "the file is empty")])
        if self.errors:  # a bad byte in the header
            raise ImportRejected(
                "The header row is not valid UTF-8.", self.errors, self.total_errors
            )
        if len(header) > MAX_COLUMNS:
            self._reject_header(
                f"the header has {len(header):,} columns; at most {MAX_COLUMNS} are read"
            )
        names = [name.strip().lower() for name in header]
        if not any(names):
            self._reject_header("the first line must be the header row, and it is empty")
        known = set(self.kind.column_names)
        position: dict[str, int] = {}
        ignored: list[str] = []
        for index, name in enumerate(names):
            if name in position:
                self._reject_header(f"column {name!r} appears twice", name)
            if name in known:
                position[name] = index
            elif name:
                ignored.append(
                    f"Column {header[index].strip()[:64]!r} is not a column of {self.kind.name}; "
                    "it was ignored."
                )
            else:
                ignored.append(f"Column {index + 1} has no name; it was ignored.")
        # Each ignored column is named, up to a few; the rest are counted (a file with thousands
        # of stray columns must not weigh on every later listing of imports).
        self.warnings.extend(ignored[:MAX_COLUMN_WARNINGS])
        if len(ignored) > MAX_COLUMN_WARNINGS:
            self.warnings.append(
                f"... and {len(ignored) - MAX_COLUMN_WARNINGS:,} more columns were ignored."
            )
        missing = [c.name for c in self.kind.columns if c.required and c.name not in position]
        if missing:
            self._reject_header(
                "the required column"
                + ("s " if len(missing) > 1 else " ")
                + ", ".join(repr(m) for m in missing)
                + (" are" if len(missing) > 1 else " is")
                + " missing from the header",
                missing[0],
            )
        self.width = len(header)
        self.position = position  # column name -> its index in the CSV row
        self.header_lines = self._reader.line_num
        # (index in the CSV row, converter); an absent optional column always gives its default.
        self._plan: list[tuple[int, Converter]] = []
        for col in self.kind.columns:
            convert = converter(col, self.kind, self.zone)
            if col.name in position:
                self._plan.append((position[col.name], convert))
            else:
                self._plan.append((0, _constant(convert(""))))
        names_out = self.kind.column_names
        make_check = ROW_CHECKS.get(self.kind.name)
        self._check = make_check(names_out) if make_check else None
        day_names = (self.kind.day_column, *self.kind.extra_days_columns)
        self._day_columns = [(names_out.index(n), self.kind.column(n).type) for n in day_names]

    def rows(self) -> Iterator[tuple[Value | int, ...]]:
        """The good rows, normalised, each ending with its line number (for error messages)."""
        reader = self._reader
        width = self.width
        day_indexes = [index for index, _type in self._day_columns]
        lows: list[Value] = [None] * len(day_indexes)
        highs: list[Value] = [None] * len(day_indexes)
        next_progress = PROGRESS_EVERY
        last_line = reader.line_num
        count = 0
        while True:
            errors_before = self.total_errors
            try:
                fields = next(reader, None)
            except csv.Error as exc:
                # The csv module cannot resume after this (e.g. a quote never closed).
                self._add(error(last_line + 1, "", f"cannot be read as CSV ({exc})"))
                break
            if fields is None:
                break
            line = last_line + 1
            last_line = reader.line_num
            if not fields:  # a blank line
                continue
            count += 1
            if count >= next_progress:
                next_progress += PROGRESS_EVERY
                if self.progress is not None:
                    self.progress(count)
            if self.total_errors != errors_before:
                continue  # a bad byte or a NUL on this row's lines: already reported
            if len(fields) != width:
                if len(fields) == 1 and not fields[0].strip():
                    count -= 1  # a line of spaces only
                    continue
                self._add(error(line, "", f"has {len(fields)} fields, the header has {width}"))
                continue
            row = self.convert_row(fields, line)
            if row is None:
                continue
            for slot, index in enumerate(day_indexes):
                value = row[index]
                if value is not None:
                    if lows[slot] is None or value < lows[slot]:  # type: ignore[operator]
                        lows[slot] = value
                    if highs[slot] is None or value > highs[slot]:  # type: ignore[operator]
                        highs[slot] = value
            row.append(line)  # type: ignore[arg-type]
            yield tuple(row)
        self.rows_read = count
        if self.progress is not None and count % PROGRESS_EVERY:
            self.progress(count)
        days = [
            self._business_day(value, type_)
            for (_index, type_), low, high in zip(self._day_columns, lows, highs, strict=True)
            for value in (low, high)
            if value is not None
        ]
        self.first_day = min(days, default=None)
        self.last_day = max(days, default=None)

    def convert_row(self, fields: list[str], line: int) -> list[Value] | None:
        """One row's cells (in CSV order) checked and normalised in `kind.column_names` order;
        None when it is bad, its every problem recorded in `errors`."""
        try:
            row = [convert(fields[index]) for index, convert in self._plan]
        except CellError:
            bad = self._bad_row(fields, line)
            if bad is None:
                return None
            row = bad
        if self._check is not None:
            problems = self._check(row)
            if problems:
                for column, reason in problems:
                    self._add(error(line, column, reason))
                return None
        return row

    def _bad_row(self, fields: list[str], line: int) -> list[Value] | None:
        """Every bad cell of a row that has one; None when the row is bad, else the row."""
        row: list[Value] = []
        bad = False
        for col, (index, convert) in zip(self.kind.columns, self._plan, strict=True):
            try:
                row.append(convert(fields[index]))
            except CellError as exc:
                self._add(error(line, col.name, str(exc)))
                bad = True
        return None if bad else row

    def _business_day(self, value: str, type_: str) -> date:
        if type_ == "date":
            return date.fromisoformat(value)
        return datetime.fromisoformat(value).astimezone(self.zone).date()

    def read_all(self) -> list[tuple[Value | int, ...]]:
        """All good rows at once (for tests and small files); raises if any row is bad."""
        rows = list(self.rows())
        self.raise_if_bad()
        return rows

    def raise_if_bad(self) -> None:
        if self.total_errors:
            raise self.rejection()

    def rejection(
        self, more: list[dict[str, Any]] | None = None, more_total: int = 0
    ) -> ImportRejected:
        """The rejection of this file: its errors, plus `more` found elsewhere (duplicates)."""
        count = self.total_errors + more_total
        return ImportRejected(
            f"The file has {count} error{'s' if count != 1 else ''} "
            "(see errors); nothing of it was imported.",
            sorted(self.errors + (more or []), key=lambda e: e["line"])[:MAX_REPORTED_ERRORS],
            count,
            self.warnings,
        )
