"""Spreadsheet-safe exports: text that a spreadsheet would read as a formula is escaped.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets (CSV injection, OWASP). Such *text* gets a leading `'`, which the
spreadsheet shows as text and does not display. Numbers are left as numbers: `-3.5` is a value,
not a formula, and must stay one.

`export_response` is the one way a table is downloaded (CSV or XLSX, written to a temporary file
from rows read in chunks, then streamed; escaped; audited);
each app's view or API builds the rows of its table and calls it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def escape_formula(cell: Any) -> Any:
    """`cell` with a leading `'` when it is text a spreadsheet would read as a formula."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def escape_row(cells: list[Any]) -> list[Any]:
    return [escape_formula(cell) for cell in cells]


def attachment_header(filename: str) -> str:
    """A `Content-Disposition: attachment` value for `filename`, whatever it holds: characters
    outside letters, digits, `.`, `-` and `_` (a region's CR/LF, quotes, slashes) become `_`,
    so the header can neither break nor name another path."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename).strip("._") or "download"
    return f'attachment; filename="{safe[:150]}"'


# --- downloads of the tables the pages show (CSV and XLSX) ---------------------------------------
#
# One way for every table: `export_response` checks `?format=`, writes the CSV (rows read in
# chunks) or the XLSX (row by row, openpyxl's write-only mode) to a temporary file, records the
# export in the audit trail, gives the database connection back and sends the file in blocks, so
# that memory stays flat whatever the size and a slow client holds no connection. Cells are typed
# the same in both formats: numbers stay numbers, text is escaped (`escape_formula`), dates and
# times are in the business time zone (ISO text in CSV, real date cells in XLSX).

EXPORT_FORMATS = ("csv", "xlsx")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_CHUNK_ROWS = 2000  # rows fetched at a time from the database (`.iterator(chunk_size=)`)
CSV_CHUNK_BYTES = 64 * 1024
XLSX_MAX_ROWS = 1_048_576  # a sheet's rows in Excel, the header included
XLSX_MAX_TEXT = 32_767  # characters of a cell in Excel
XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
XLSX_DATE_FORMAT = "yyyy-mm-dd"


class ExportFormatError(ValueError):
    """`?format=` names neither csv nor xlsx."""


@dataclass(frozen=True)
class Sheet:
    """One table of an export: its sheet's title (XLSX), its header and its rows (one sequence of
    cells per row, in the order of `columns`)."""

    title: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]


def export_format(raw: str | None) -> str:
    """`csv` (also when not given) or `xlsx`; ExportFormatError with a sentence otherwise."""
    value = (raw or "csv").strip().lower()
    if value not in EXPORT_FORMATS:
        raise ExportFormatError(
            gettext("Unknown format “%(format)s”: ask for csv or xlsx.")
            % {"format": (raw or "")[:40]}
        )
    return value


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def _joined(values: Iterable[Any]) -> str:
    return ", ".join(str(value) for value in values if value not in (None, ""))


def csv_cell(value: Any) -> str:
    """A value as CSV text: numbers as they are, times in ISO with the business time zone's
    offset, lists joined with commas, formula-like text escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return _local(value).isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return escape_formula(_joined(value))
    return escape_formula(str(value))


def xlsx_cell(value: Any) -> Any:
    """A value as an XLSX cell holds it: numbers and booleans as themselves, times as the business
    time zone's wall-clock time (Excel has no zones), text escaped and cut to Excel's limit."""
    if value is None or isinstance(value, bool | int | Decimal):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime):  # to the second, as the CSV
        return _local(value).replace(tzinfo=None, microsecond=0)
    if isinstance(value, dt.date):
        return value
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = _joined(value) if isinstance(value, list | tuple | set | frozenset) else str(value)
    return escape_formula(ILLEGAL_CHARACTERS_RE.sub("", text)[:XLSX_MAX_TEXT])


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """UTF-8 CSV (with a BOM, so spreadsheets read the UTF-8) in blocks of about 64 kB, read
    from `rows` as they come."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([csv_cell(name) for name in columns])
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
        if buffer.tell() >= CSV_CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate(0)
    yield buffer.getvalue().encode("utf-8")


def csv_file(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> IO[bytes]:
    """`csv_chunks` written to a temporary file (in memory up to 1 MiB), positioned at its
    start; closed (and deleted) with the response."""
    handle = tempfile.SpooledTemporaryFile(max_size=1 << 20, prefix="export-", suffix=".csv")  # noqa: SIM115 (closed by the response)
    try:
        for chunk in csv_chunks(columns, rows):
            handle.write(chunk)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return handle  # type: ignore[return-value]


def _sheet_title(title: str, taken: set[str]) -> str:
    base = re.sub(r"[\\/*?:\[\]]", " ", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        name = f"{base[:28]} {n}"
        n += 1
    taken.add(name.lower())
    return name


def xlsx_file(sheets: Sequence[Sheet]) -> IO[bytes]:
    """The sheets as an XLSX workbook in a temporary file (deleted when closed), positioned at
    its start. Written row by row (openpyxl's write-only mode): a bold, frozen header; a sheet
    longer than Excel's rows stops there with a last row saying so."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    bold = Font(bold=True)
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=_sheet_title(sheet.title, taken))
        for index, name in enumerate(sheet.columns, start=1):
            width = min(max(len(str(name)) + 2, 10), 40)
            worksheet.column_dimensions[get_column_letter(index)].width = width
        worksheet.freeze_panes = "A2"
        header = []
        for name in sheet.columns:
            cell = WriteOnlyCell(worksheet, value=xlsx_cell(name))
            cell.font = bold
            header.append(cell)
        worksheet.append(header)
        written = 1
        for row in sheet.rows:
            if written == XLSX_MAX_ROWS - 1:
                worksheet.append(
                    [gettext("… cut at Excel's limit of rows: download the CSV for every row.")]
                )
                break
            cells: list[Any] = []
            for value in row:
                cell_value = xlsx_cell(value)
                if isinstance(cell_value, dt.datetime | dt.date):
                    cell = WriteOnlyCell(worksheet, value=cell_value)
                    cell.number_format = (
                        XLSX_DATETIME_FORMAT
                        if isinstance(cell_value, dt.datetime)
                        else XLSX_DATE_FORMAT
                    )
                    cells.append(cell)
                else:
                    cells.append(cell_value)
            worksheet.append(cells)
            written += 1
    handle = tempfile.TemporaryFile(prefix="export-", suffix=".xlsx")  # noqa: SIM115 (closed by the response)
    try:
        workbook.save(handle)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return handle


def _served_asynchronously(response: StreamingHttpResponse, request: Any) -> None:
    """Under ASGI, Django reads a synchronous iterator whole into memory before sending it: hand
    it an asynchronous one that reads a block at a time in the request's thread (the database
    connection the rows are read on belongs to it)."""
    from django.core.handlers.asgi import ASGIRequest

    if not isinstance(getattr(request, "_request", request), ASGIRequest):
        return
    blocks = iter(response.streaming_content)

    def next_block() -> bytes | None:
        return next(blocks, None)

    pull = sync_to_async(next_block, thread_sensitive=True)

    async def stream() -> AsyncIterator[bytes]:
        while True:
            block = await pull()
            if block is None:
                return
            yield block

    response.streaming_content = stream()


def export_response(
    request: Any,
    request_format: str | None,
    filename_stem: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_title: str = "",
    more_sheets: Sequence[Sheet] = (),
) -> StreamingHttpResponse:
    """The download of a table as CSV or XLSX (`request_format`; ExportFormatError for another),
    recorded in the audit trail as an `export` by the requesting user, with the filters asked for.

    `rows` is read once, lazily for CSV (give a generator over `.iterator(chunk_size=...)`).
    `more_sheets` are further sheets of the XLSX (a CSV holds the first table only)."""
    from carloan.people.audit import record

    fmt = export_format(request_format)
    filename = f"{filename_stem}.{fmt}"
    filters = request.GET.copy()
    filters.pop("format", None)
    # The whole file is written first (rows read in chunks, memory flat): bad input fails before
    # any 200, and the database connection goes back to the pool before a slow client reads.
    if fmt == "csv":
        handle = csv_file(columns, rows)
        content_type = CSV_CONTENT_TYPE
    else:
        first = Sheet(sheet_title or filename_stem, columns, rows)
        handle = xlsx_file([first, *more_sheets])
        content_type = XLSX_CONTENT_TYPE
    record(
        "export", actor=getattr(request, "user", None), target=filename, detail=filters.urlencode()
    )
    if not connection.in_atomic_block:
        connection.close()  # to the pool: nothing more is read for this answer
    response: StreamingHttpResponse = FileResponse(handle, content_type=content_type)
    response.block_size = CSV_CHUNK_BYTES
    response["Content-Disposition"] = attachment_header(filename)
    response["Cache-Control"] = "no-store"
    _served_asynchronously(response, request)
    return response


def batched(rows: Iterable[Any], size: int = EXPORT_CHUNK_ROWS) -> Iterator[list[Any]]:
    """`rows` in lists of at most `size` (to read what goes with each batch in one query)."""
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- the API side: `?format=` is the export's, not DRF's renderer choice --------------------------


class ExportQueryErrorSerializer(serializers.Serializer):
    """A 400 of an export: the field named with its problems (`format`, a filter), or `detail`."""

    format = serializers.ListField(child=serializers.CharField(), required=False)
    detail = serializers.CharField(required=False)


EXPORT_FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    enum=list(EXPORT_FORMATS),
    description="`csv` (default; UTF-8 with a BOM) or `xlsx`. Another value answers 400.",
)


EXPORT_DETAIL = inline_serializer("ExportDetail", {"detail": serializers.CharField()})


def export_responses(more: dict[Any, Any] | None = None) -> dict[Any, Any]:
    """The responses an export documents: CSV or XLSX, 400 (a bad format or filter), 401, and
    `more` (a 404, say)."""
    return {
        (200, "text/csv"): OpenApiTypes.STR,
        (200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY,
        400: OpenApiResponse(
            ExportQueryErrorSerializer, description="A bad `format` or filter, named."
        ),
        401: OpenApiResponse(EXPORT_DETAIL, description="Not signed in."),
        **(more or {}),
    }


class ExportAPIView(APIView):
    """Base of the API's downloads. `?format=` would be read by DRF as a renderer's name (and an
    unknown one answered 404): here it is the export's, checked by `format_of` (400 with a
    sentence), and errors are always JSON."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @staticmethod
    def format_of(request: Request) -> str:
        try:
            return export_format(request.query_params.get("format"))
        except ExportFormatError as exc:
            raise exceptions.ValidationError({"format": [str(exc)]}) from None
