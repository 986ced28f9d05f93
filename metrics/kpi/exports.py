"""Exports of the scorecards and of the quarterly review: CSV, XLSX and PDF.

- CSV and XLSX hold one row per KPI with its department's score, the same numbers as
  `GET /api/kpi/scorecards/` (not rounded). Text cells that a spreadsheet could read as a
  formula (starting with =, +, -, @, a tab or a carriage return) are prefixed with `'`.
- The PDF is the print rendering of the review (`templates/kpi_review_print.html`: one page per
  department with its charts, the filters it was made with) printed by the system Chromium in a
  subprocess, with plotly.js read from the installed plotly package: no network is needed.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings

from carloan.exports import escape_formula

COLUMNS = (
    "quarter",
    "frozen",
    "department",
    "department_score",
    "collaboration_weight",
    "metric",
    "target",
    "threshold",
    "weight",
    "collaboration",
    "actual",
    "score",
    "missing",
)
PDF_TIMEOUT_SECONDS = 90
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def flat_rows(scorecards: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per KPI of every department's scorecard (the contract list, as the API gives it)."""
    rows = []
    for card in scorecards:
        for kpi in card["kpis"]:
            rows.append(
                {
                    "quarter": card.get("quarter", ""),
                    "frozen": card.get("frozen", False),
                    "department": card["department"],
                    "department_score": card["score"],
                    "collaboration_weight": card["collaboration_weight"],
                    "metric": kpi["metric"],
                    "target": kpi["target"],
                    "threshold": kpi["threshold"],
                    "weight": kpi["weight"],
                    "collaboration": kpi["collaboration"],
                    "actual": kpi["actual"],
                    "score": kpi["score"],
                    "missing": kpi["missing"],
                }
            )
    return rows


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):  # a number, never escaped: -5 stays -5
        return repr(value) if isinstance(value, float) else str(value)
    return escape_formula(str(value))


def scorecards_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    """The flat rows as UTF-8 CSV with a header (a BOM, so that spreadsheets read the UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_csv_value(row.get(c)) for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


ACTION_COLUMNS = ("quarter", "title", "department", "owner", "due_date", "status", "metric", "card")
SPLIT_COLUMNS = ("pillar", "target_pct", "actual_pct", "cards")


def table_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Any table as UTF-8 CSV with a header (a BOM for spreadsheets), formula-like text escaped."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row.get(c)) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def split_rows(allocation: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The allocation (`GET /api/kpi/allocation/`) as one row per pillar."""
    return [
        {
            "pillar": pillar,
            "target_pct": allocation["target"].get(pillar),
            "actual_pct": allocation["actual"].get(pillar),
            "cards": allocation["cards"],
        }
        for pillar in allocation["target"]
    ]


def scorecards_xlsx(
    rows: Sequence[dict[str, Any]],
    *,
    title: str = "Scorecards",
    actions: Sequence[Mapping[str, Any]] | None = None,
    allocation: Mapping[str, Any] | None = None,
) -> bytes:
    """The flat rows as an XLSX workbook: a header row, numbers as numbers, text escaped; with
    the review's actions and strategy split as two more sheets when given."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([escape_formula(row.get(c)) for c in COLUMNS])
    sheet.freeze_panes = "A2"
    for column, width in zip(
        "ABCDEFGHIJKLM", (9, 7, 11, 16, 19, 28, 10, 10, 8, 13, 16, 14, 9), strict=True
    ):
        sheet.column_dimensions[column].width = width
    extra: list[tuple[str, Sequence[str], list[Mapping[str, Any]]]] = []
    if actions is not None:
        extra.append(("Actions", ACTION_COLUMNS, list(actions)))
    if allocation is not None:
        extra.append(
            ("Strategy split", SPLIT_COLUMNS, list[Mapping[str, Any]](split_rows(allocation)))
        )
    for name, columns, items in extra:
        more = workbook.create_sheet(name)
        more.append(list(columns))
        for cell in more[1]:
            cell.font = Font(bold=True)
        for item in items:
            more.append([escape_formula(item.get(c)) for c in columns])
        more.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- PDF ----------------------------------------------------------------------------------------


class PDFUnavailable(RuntimeError):
    """The PDF could not be made (no Chromium, or it failed or timed out)."""


def chromium_path() -> str | None:
    """The system Chromium: settings.CHROMIUM_PATH, $CHROMIUM, or the first on PATH."""
    configured = getattr(settings, "CHROMIUM_PATH", "") or os.environ.get("CHROMIUM", "")
    if configured and Path(configured).exists():
        return configured
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def plotly_js_path() -> Path:
    """plotly.min.js of the installed plotly package (the same file /static/plotly/ serves)."""
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def html_to_pdf(html: str, *, timeout: float = PDF_TIMEOUT_SECONDS) -> bytes:
    """Print `html` to PDF with headless Chromium (A4, backgrounds on). The HTML is written to a
    temporary folder and opened as a file; Chromium gets no network-facing features."""
    browser = chromium_path()
    if browser is None:
        raise PDFUnavailable("No Chromium found to print the PDF (set CHROMIUM).")
    with tempfile.TemporaryDirectory(prefix="kpi-review-") as folder:
        source = Path(folder) / "review.html"
        target = Path(folder) / "review.pdf"
        source.write_text(html, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--allow-file-access-from-files",
            f"--user-data-dir={Path(folder) / 'profile'}",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--window-size=1123,794",  # A4 landscape at 96 dpi: charts are laid out at print width
            "--virtual-time-budget=15000",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            result = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PDFUnavailable(f"Chromium did not finish the PDF within {timeout:g} s.") from exc
        if not target.exists() or target.stat().st_size == 0:
            tail = result.stderr.decode("utf-8", "replace")[-800:]
            raise PDFUnavailable(f"Chromium made no PDF (exit {result.returncode}): {tail}")
        return target.read_bytes()


def pdf_page_count(data: bytes) -> int:
    """Pages of a PDF by its page objects (`/Type /Page`, not `/Pages`): enough for our own."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
