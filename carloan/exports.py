"""Spreadsheet-safe exports: text that a spreadsheet would read as a formula is escaped.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets (CSV injection, OWASP). Such *text* gets a leading `'`, which the
spreadsheet shows as text and does not display. Numbers are left as numbers: `-3.5` is a value,
not a formula, and must stay one.
"""

from __future__ import annotations

import re
from typing import Any

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
