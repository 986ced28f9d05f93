"""Checking a vehicle to quote: plain Python, fast enough for 5,000 vehicles in a batch.

`parse_vehicle` turns one JSON object into the fields the model needs (plus the optional loan
fields), or a dict of field errors. DRF serializers in `api.py` describe the same fields for the
OpenAPI schema; this module is what enforces them.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from valuation.model import FUEL_TYPES, GRADES

MIN_YEAR = 1980
MAX_PRICE = 100_000_000
MAX_MILEAGE = 5_000_000
COUNT_LIMITS = {"accidents": 100, "repairs": 100, "violations": 1000, "owners": 100}
TEXT_LIMITS = {"make": 64, "model": 64, "region": 32}
OPTIONAL_TEXT = {"application_id": 64, "vehicle_id": 64}
Errors = dict[str, list[str]]


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(Decimal(value.strip()))
        except (InvalidOperation, ValueError):
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def parse_vehicle(data: Any, today: date) -> tuple[dict[str, Any] | None, Errors]:
    """The quote fields of contract section 6, checked; (fields, {}) or (None, errors).

    Fields: make, model, region (text); year (1980 – the valuation year); new_price (> 0);
    mileage_km (≥ 0); condition_grade (A–E); accidents, repairs, violations, owners (≥ 0);
    fuel_type (petrol, diesel, hybrid, ev); optional valuation_date (default `today`, at most a
    year ahead), loan_amount and appraised_value (> 0), application_id and vehicle_id (text).
    """
    if not isinstance(data, dict):
        return None, {"non_field_errors": [_("Send a JSON object describing the vehicle.")]}
    errors: Errors = {}
    out: dict[str, Any] = {}
    required = _("This field is required.")

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name, limit in TEXT_LIMITS.items():
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            fail(name, required)
        elif not isinstance(value, str) or len(value.strip()) > limit:
            fail(name, _("Give a text of at most %(n)d characters.") % {"n": limit})
        elif any(unicodedata.category(char) == "Cc" for char in value.strip()):
            fail(name, _("Control characters are not allowed."))
        elif name == "region" and value.strip().lower() == "all":
            fail(name, _("'all' is every region together: give one region's code."))
        else:
            out[name] = value.strip()

    day = today
    if data.get("valuation_date") not in (None, ""):
        raw = data["valuation_date"]
        try:
            day = date.fromisoformat(raw) if isinstance(raw, str) else None  # type: ignore[assignment]
        except ValueError:
            day = None  # type: ignore[assignment]
        if day is None:
            fail("valuation_date", _("Give a date as YYYY-MM-DD."))
            day = today
        elif day.year < MIN_YEAR or day > today + timedelta(days=366):
            fail("valuation_date", _("The valuation date must be between 1980 and a year ahead."))
    out["valuation_date"] = day
    out["day"] = day.toordinal()

    year = _integer(data.get("year"))
    if data.get("year") in (None, ""):
        fail("year", required)
    elif year is None:
        fail("year", _("Give the model year as a whole number."))
    elif year < MIN_YEAR:
        fail("year", _("The model year must be %(min)d or later.") % {"min": MIN_YEAR})
    elif year > day.year:
        fail(
            "year",
            _("The model year cannot be after the valuation year (%(y)d).") % {"y": day.year},
        )
    else:
        out["year"] = year

    price = _number(data.get("new_price"))
    if data.get("new_price") in (None, ""):
        fail("new_price", required)
    elif price is None or price <= 0 or price > MAX_PRICE:
        fail("new_price", _("The new price must be a positive amount in CNY."))
    else:
        out["new_price"] = price

    mileage = _integer(data.get("mileage_km"))
    if data.get("mileage_km") in (None, ""):
        fail("mileage_km", required)
    elif mileage is None or mileage < 0 or mileage > MAX_MILEAGE:
        fail("mileage_km", _("The mileage must be a whole number of km, 0 or more."))
    else:
        out["mileage_km"] = mileage

    grade = data.get("condition_grade")
    if grade in (None, ""):
        fail("condition_grade", required)
    elif not isinstance(grade, str) or grade.strip().upper() not in GRADES:
        fail("condition_grade", _("The condition grade must be one of A, B, C, D, E."))
    else:
        out["condition_grade"] = grade.strip().upper()

    fuel = data.get("fuel_type")
    if fuel in (None, ""):
        fail("fuel_type", required)
    elif not isinstance(fuel, str) or fuel.strip().lower() not in FUEL_TYPES:
        fail("fuel_type", _("The fuel type must be one of petrol, diesel, hybrid, ev."))
    else:
        out["fuel_type"] = fuel.strip().lower()

    for name, limit in COUNT_LIMITS.items():
        count = _integer(data.get(name))
        if data.get(name) in (None, ""):
            fail(name, required)
        elif count is None or count < 0 or count > limit:
            fail(name, _("Give a whole number from 0 to %(max)d.") % {"max": limit})
        else:
            out[name] = count

    for name in ("loan_amount", "appraised_value"):
        raw = data.get(name)
        if raw in (None, ""):
            out[name] = None
            continue
        amount = _number(raw)
        if amount is None or amount <= 0 or amount > MAX_PRICE:
            fail(name, _("Give a positive amount in CNY."))
        else:
            out[name] = amount

    for name, limit in OPTIONAL_TEXT.items():
        raw = data.get(name)
        if raw in (None, ""):
            out[name] = ""
        elif not isinstance(raw, str) or len(raw.strip()) > limit:
            fail(name, _("Give a text of at most %(n)d characters.") % {"n": limit})
        else:
            out[name] = raw.strip()
    return (None, errors) if errors else (out, {})
