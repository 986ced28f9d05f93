"""The active model, kept in each process, and quotes built from it.

The active version lives in the shared cache under a small key (its version and row id); each
process keeps the parameters of the model it loaded and reloads only when that key changes. A
fit that activates a model replaces the key (at once and again on commit), so every process
moves to the new model with its next quote.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from carloan.parameters.selectors import parameter_values
from valuation.model import FACTORS, Prediction, ValuationMaths, Vehicles
from valuation.models import ValuationModel
from valuation.support import quote_fallbacks

logger = logging.getLogger(__name__)

FACTOR_LABELS: dict[str, Any] = {
    "age": _("Vehicle age"),
    "mileage": _("Mileage"),
    "new_price": _("New price (segment)"),
    "make": _("Make and model"),
    "condition_grade": _("Condition grade"),
    "accidents": _("Accident history"),
    "repairs": _("Repair record"),
    "violations": _("Traffic violations"),
    "owners": _("Number of owners"),
    "fuel_type": _("Fuel type"),
    "region": _("Regional supply and demand"),
    "market_timing": _("Market timing (season and price level)"),
}
CACHE_TIMEOUT = 24 * 3600
RECHECK_SECONDS = 1.0  # another process's activation is seen within this long


class NoModel(Exception):
    """No valuation model has been fitted yet."""

    def __init__(self) -> None:
        super().__init__(
            "No valuation model has been fitted yet: run `python manage.py fit_valuation` "
            "once vehicle sales are imported."
        )


@dataclass(frozen=True)
class LoadedModel:
    """The active model as a process keeps it."""

    version: int
    pk: int
    fitted_at: datetime
    maths: ValuationMaths

    @property
    def token(self) -> str:
        return f"{self.version}:{self.pk}"


_loaded: dict[str, LoadedModel] = {}
_checked: dict[str, float] = {}  # when each database's version key was last read
_lock = threading.Lock()


def _key() -> str:
    return f"valuation:{connection.settings_dict['NAME']}:active"


def _load(row: ValuationModel) -> LoadedModel:
    return LoadedModel(
        version=row.version,
        pk=row.pk,
        fitted_at=row.fitted_at,
        maths=ValuationMaths(row.parameters),
    )


def _active_row() -> ValuationModel | None:
    return (
        ValuationModel.objects.filter(active=True)
        .only("version", "fitted_at", "parameters")
        .first()
    )


def active_model() -> LoadedModel:
    """The active model. Raises NoModel.

    A process that holds the active model trusts it for RECHECK_SECONDS, then reads the small
    version key of the shared cache (one round trip) and reloads only when it changed.
    """
    name = connection.settings_dict["NAME"]
    held = _loaded.get(name)
    if held is not None and time.monotonic() - _checked.get(name, 0.0) < RECHECK_SECONDS:
        return held
    try:
        marker = cache.get(_key())
    except Exception:  # the cache is down: the database still knows the active model
        logger.warning("valuation: cache unavailable, reading the active model", exc_info=True)
        marker = None
    if marker is not None and held is not None and held.token == marker:
        _checked[name] = time.monotonic()
        return held
    if marker == "none":
        raise NoModel()
    with _lock:
        row = _active_row()
        if row is None:
            _loaded.pop(name, None)
            _remember("none")
            raise NoModel()
        if held is None or held.pk != row.pk:
            held = _load(row)
            _loaded[name] = held
        if marker != held.token:
            _remember(held.token)
        _checked[name] = time.monotonic()
        return held


def _remember(token: str) -> None:
    try:
        cache.set(_key(), token, timeout=CACHE_TIMEOUT)
    except Exception:
        logger.warning("valuation: could not store the active version", exc_info=True)


def forget_active_model() -> None:
    """Make every process look the active model up again (after an activation commits)."""
    try:
        cache.delete(_key())
    except Exception:
        logger.error("valuation: could not clear the active version", exc_info=True)
    _loaded.pop(connection.settings_dict["NAME"], None)
    _checked.pop(connection.settings_dict["NAME"], None)


def announce_activation() -> None:
    """Called by the fit service inside its transaction: forget now and again on commit."""
    forget_active_model()
    transaction.on_commit(forget_active_model, robust=True)


# --- quotes -----------------------------------------------------------------------------------


def limits() -> tuple[float, float]:
    """The live `risk.max_ltv_pct` and `risk.appraisal_tolerance_pct` (one cache read)."""
    values = parameter_values()
    return float(values["risk.max_ltv_pct"]), float(values["risk.appraisal_tolerance_pct"])


def loan_checks(
    value: float,
    loan_amount: float | None,
    appraised_value: float | None,
    max_ltv_pct: float,
    tolerance_pct: float,
) -> dict[str, Any]:
    """LTV and the two flags for one vehicle (pure): LTV = 100 × loan / model value, above the
    limit when it exceeds `max_ltv_pct`; an appraisal is inflated when it exceeds the model
    value by more than `tolerance_pct` %."""
    out: dict[str, Any] = {}
    flags: dict[str, bool | None] = {"ltv_above_limit": None, "inflated_appraisal": None}
    if loan_amount is not None:
        ltv = 100.0 * loan_amount / value
        out["ltv_pct"] = ltv
        flags["ltv_above_limit"] = ltv > max_ltv_pct
    if appraised_value is not None:
        excess = 100.0 * (appraised_value - value) / value
        out["appraisal_excess_pct"] = excess
        flags["inflated_appraisal"] = excess > tolerance_pct
    if loan_amount is not None or appraised_value is not None:
        out["flags"] = flags
        out["limits"] = {"max_ltv_pct": max_ltv_pct, "appraisal_tolerance_pct": tolerance_pct}
    return out


def predict(model: LoadedModel, vehicles: Sequence[dict[str, Any]]) -> Prediction:
    return model.maths.predict(Vehicles.from_records(vehicles))


def quotes(
    vehicles: Sequence[dict[str, Any]], *, model: LoadedModel | None = None
) -> list[dict[str, Any]]:
    """Quotes for checked vehicles (see inputs.parse_vehicle), one vectorised prediction.

    Each: value, low, high, baseline (the new price), factors (the twelve, with effect_cny and
    effect_pct; the effect_cny add up to value − baseline), model_version, valuation_date,
    fallbacks (the factors the sales were too thin to estimate for this vehicle), and
    with loan_amount / appraised_value: ltv_pct, appraisal_excess_pct, flags, limits.
    """
    model = model or active_model()
    if not vehicles:
        return []
    columns = Vehicles.from_records(vehicles)
    pred = model.maths.predict(columns)
    fallbacks = model.maths.fallbacks(columns)
    cny = pred.effects_cny()
    pct = pred.effects_pct()
    labels = [(name, str(FACTOR_LABELS[name])) for name in FACTORS]
    needs_limits = any(v.get("loan_amount") or v.get("appraised_value") for v in vehicles)
    max_ltv, tolerance = limits() if needs_limits else (0.0, 0.0)
    values, lows, highs = pred.value.tolist(), pred.low.tolist(), pred.high.tolist()
    cny_rows, pct_rows = cny.tolist(), pct.tolist()
    out: list[dict[str, Any]] = []
    for i, vehicle in enumerate(vehicles):
        row_cny, row_pct = cny_rows[i], pct_rows[i]
        quote: dict[str, Any] = {
            "value": values[i],
            "low": lows[i],
            "high": highs[i],
            "currency": "CNY",
            "baseline": vehicle["new_price"],
            "factors": [
                {"factor": name, "label": label, "effect_cny": row_cny[j], "effect_pct": row_pct[j]}
                for j, (name, label) in enumerate(labels)
            ],
            "model_version": model.version,
            "valuation_date": vehicle["valuation_date"].isoformat(),
            "fallbacks": quote_fallbacks(_one_curve_note(fallbacks[i]), vehicle),
        }
        if needs_limits:
            quote.update(
                loan_checks(
                    values[i],
                    vehicle.get("loan_amount"),
                    vehicle.get("appraised_value"),
                    max_ltv,
                    tolerance,
                )
            )
        out.append(quote)
    return out


def _one_curve_note(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A make on the market's curves puts its models there too: say it once."""
    if any(item["factor"] == "make_curves" for item in items):
        return [item for item in items if item["factor"] != "model_curves"]
    return items


def quote_arrays(model: LoadedModel, vehicles: Vehicles) -> Prediction:
    """The raw prediction for columnar vehicles (collateral revaluation, benchmarks)."""
    return model.maths.predict(vehicles)


def effects_sum_check(pred: Prediction) -> float:
    """Largest |Σ effect_cny − (value − new price)| (a self-check for tests and benches)."""
    return float(np.abs(pred.effects_cny().sum(axis=1) - (pred.value - pred.new_price)).max())
