"""What the sales could carry, in words: the fit's support report (`model._support`) and each
quote's fallbacks (`ValuationMaths.fallbacks`) as sentences in the reader's language.

A factor the sales are too thin to estimate is not fitted to noise: it falls back (no effect, the
next better grade, the make's or the market's curve, the market average) and says so here, on the
valuation page, in `/api/valuations/models/` and in the quote that used it.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

STATUS_LABELS: dict[str, Any] = {
    "estimated": gettext_lazy("estimated"),
    "simplified": gettext_lazy("partly pooled"),
    "not_estimated": gettext_lazy("not estimated"),
}

SUPPORT_LABELS: dict[str, Any] = {
    "age": gettext_lazy("Vehicle age"),
    "mileage": gettext_lazy("Mileage"),
    "accidents": gettext_lazy("Accident history"),
    "repairs": gettext_lazy("Repair record"),
    "violations": gettext_lazy("Traffic violations"),
    "owners": gettext_lazy("Number of owners"),
    "condition_grade": gettext_lazy("Condition grade"),
    "fuel_type": gettext_lazy("Fuel type"),
    "region": gettext_lazy("Regional supply and demand"),
    "make_curves": gettext_lazy("Depreciation of each make"),
    "model_curves": gettext_lazy("Depreciation of each model"),
    "market_timing": gettext_lazy("Market timing"),
}

CURVES = ("age", "mileage")
COUNTS = ("accidents", "repairs", "violations", "owners")


def _names(pooled: dict[str, int]) -> str:
    return ", ".join(f"{name.replace('|', ' ')} ({count})" for name, count in pooled.items())


def support_note(row: dict[str, Any]) -> str:
    """One factor's line of the fit's support report."""
    factor, status = row["factor"], row["status"]
    values = {"sales": row["sales"], "needed": row["needed"]}
    if factor in CURVES or factor in COUNTS:
        if status == "not_estimated":
            return (
                _("Only %(sales)s sales show it (%(needed)s needed): no effect is applied.")
                % values
            )
        slopes = {"slopes": row.get("slopes", 1)}
        if status == "simplified":
            return (
                _("A simpler curve (%(slopes)s slopes): the sales are too few to carry more bends.")
                % slopes
            )
        return _("%(slopes)s slopes, from %(sales)s sales.") % {**slopes, **values}
    if factor == "condition_grade":
        if row["pooled"]:
            return _(
                "Too few sales at or around grade %(grades)s (%(needed)s needed on each side of a"
                " step): valued as the next better grade."
            ) % {"grades": ", ".join(row["pooled"]), "needed": row["needed"]}
        return _("Every step estimated.")
    if factor in ("fuel_type", "region"):
        parts = []
        if row["pooled"]:
            parts.append(
                _("Pooled with the market (fewer than %(needed)s sales): %(names)s.")
                % {"needed": row["needed"], "names": _names(row["pooled"])}
            )
        if row.get("unseen"):
            parts.append(
                _("No sales yet, valued as the market: %(names)s.")
                % {"names": ", ".join(row["unseen"])}
            )
        return " ".join(parts) or _("Every level estimated.")
    if factor in ("make_curves", "model_curves"):
        text = _("%(own)s of %(levels)s have their own age and mileage curves.") % {
            "own": row["own_curve"],
            "levels": row["levels"],
        }
        if row["pooled"]:
            whose = _("the market's") if factor == "make_curves" else _("their make's")
            text += " " + _("Fewer than %(needed)s sales, so %(whose)s curves: %(names)s.") % {
                "needed": row["needed"],
                "whose": whose,
                "names": _names(row["pooled"]),
            }
        return text
    if factor == "market_timing":
        if status == "estimated":
            return _("Season and monthly index from %(months)s months.") % row
        return (
            _(
                "%(months)s months of sales: the monthly index only; the season needs"
                " %(months_needed)s months."
            )
            % row
        )
    return ""


def support_rows(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The fit's support report with labels and sentences (empty for models fitted before it)."""
    return [
        {
            **row,
            "label": str(SUPPORT_LABELS.get(row["factor"], row["factor"])),
            "status_label": str(STATUS_LABELS.get(row["status"], row["status"])),
            "note": support_note(row),
        }
        for row in params.get("support", [])
    ]


def fallback_note(item: dict[str, Any], vehicle: dict[str, Any]) -> str:
    """Why one factor of one quote comes from a fallback, naming the vehicle's own words."""
    factor, reason = item["factor"], item["reason"]
    values = {"sales": item["sales"], "needed": item["needed"]}
    if reason == "not_estimated":
        return (
            _(
                "Only %(sales)s sales show it (%(needed)s needed): no effect is applied to this"
                " vehicle."
            )
            % values
        )
    if factor == "condition_grade":
        return _(
            "Grade %(grade)s has too few sales (%(sales)s, %(needed)s needed): valued as the"
            " grade before it."
        ) % {"grade": item["level"], **values}
    what = {
        "fuel_type": vehicle.get("fuel_type", ""),
        "region": vehicle.get("region", ""),
        "make_curves": vehicle.get("make", ""),
        "model_curves": f"{vehicle.get('make', '')} {vehicle.get('model', '')}".strip(),
    }.get(factor, item["level"])
    fallback = {
        "make_curves": _("the market's depreciation"),
        "model_curves": _("its make's depreciation"),
    }.get(factor, _("the market average"))
    if reason == "unseen":
        return _("%(what)s has no sales yet: valued with %(fallback)s.") % {
            "what": what,
            "fallback": fallback,
        }
    return _("%(what)s has only %(sales)s sales (%(needed)s needed): valued with %(fallback)s.") % {
        "what": what,
        "fallback": fallback,
        **values,
    }


def quote_fallbacks(items: list[dict[str, Any]], vehicle: dict[str, Any]) -> list[dict[str, Any]]:
    """A quote's fallbacks as the API answers them: factor, label, reason, sales, needed, note."""
    return [
        {
            "factor": item["factor"],
            "label": str(SUPPORT_LABELS.get(item["factor"], item["factor"])),
            "reason": item["reason"],
            "sales": item["sales"],
            "needed": item["needed"],
            "note": fallback_note(item, vehicle),
        }
        for item in items
    ]
