"""The strategy's three investment pillars (the `strategy.budget.*` split): pure constants, so
the kanban's models can name them without loading anything of metrics."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

PILLARS = ("data_platform", "risk_collaboration", "agile_platform")
PILLAR_LABELS: dict[str, Any] = {
    "data_platform": _("Data platform"),
    "risk_collaboration": _("Risk-control collaboration"),
    "agile_platform": _("Agile delivery platform"),
}
