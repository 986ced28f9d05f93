"""Spreadsheet-safe exports: text that a spreadsheet would read as a formula is escaped.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets (CSV injection, OWASP). Such *text* gets a leading `'`, which the
spreadsheet shows as text and does not display. Numbers are left as numbers: `-3.5` is a value,
not a formula, and must stay one.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def escape_formula(cell: Any) -> Any:
    """`cell` with a leading `'` when it is text a spreadsheet would read as a formula."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def escape_row(cells: list[Any]) -> list[Any]:
    return [escape_formula(cell) for cell in cells]
