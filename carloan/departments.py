"""The three departments: their codes in order and their names in the reader's language.

The one place these are written. The model's choices (`carloan.models.Department`), the API's
choices, the pages' labels and the figures' order all read them from here; their colours are in
the chart palette (`carloan.charts.DEPARTMENT_COLOURS`). No database, no request: any module may
import it.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

MARKETING = "marketing"
RISK = "risk"
TECH = "tech"
# In the order the pages, the board's lanes and the figures show them.
DEPARTMENTS: tuple[str, ...] = (MARKETING, RISK, TECH)

DEPARTMENT_LABELS: dict[str, Any] = {
    MARKETING: _("Marketing"),
    RISK: _("Risk control"),
    TECH: _("Tech"),
}


def department_labels() -> dict[str, str]:
    """{code: name} in the active language, in the order of DEPARTMENTS."""
    return {code: str(label) for code, label in DEPARTMENT_LABELS.items()}


def department_label(code: str) -> str:
    """A department's name in the active language; an unknown code as it is."""
    return str(DEPARTMENT_LABELS.get(code, code))
