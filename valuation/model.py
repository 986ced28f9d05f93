"""The twelve-factor used-vehicle valuation model: pure maths on NumPy arrays, no I/O.

    log(price / new_price) = intercept + Σ_f η_f(x)

Each η_f is the effect of one of the twelve factors of contract section 6:

- vehicle age and mileage: monotone piecewise-linear curves (ramp bases between knots placed at
  the data's own quantile range, each slope constrained to be ≤ 0 and adjacent slopes pulled
  together by a smoothness penalty), so an older car or one with more kilometres is never worth
  more, all else equal; the intercept (a new car's first-day drop) belongs to age;
- accidents, repairs, traffic violations and owners: the same monotone curves over their counts;
- condition grade: ordered steps A → E, each step ≤ 0 (a worse grade is never worth more);
- make (and the model within its make), fuel type: categorical effects with ridge shrinkage
  towards 0, so a make with few sales is pooled towards the market and an unknown make gets 0;
- new price: the price tier (log new price, centred), beyond the new price itself as baseline;
- regional supply and demand: a region effect learned from the recent price residuals of the
  region (ridge, recent sales weigh more), reported with the region's recent sales volume;
- market timing: month-of-year seasonality plus a monthly price index (a random-walk penalty
  keeps it smooth); quotes after the last sale month carry the latest level forward.

Each make's and model's age and mileage curves are the market's × (1 + tilt), the tilts pulled
towards the make's and the market's by ridge penalties (partial pooling): a model with few sales
depreciates like its make, one with many at its own pace. Recent sales weigh more: weight =
2^(-age of the sale / half-life); sales far off the rest weigh less (Huber). The fit is a
penalised weighted least-squares problem with sign constraints, solved exactly by an active-set
method on its Gram matrix (built with bincounts for the categorical blocks).

Ranges: CV+ (cross-conformal) in log space with a local difficulty σ(x): the five fold models are
kept, and every sale proposes its fold model's value of the vehicle plus σ(x) × its own scaled
out-of-fold residual; low/high are the finite-sample 10th/90th order statistics of those
proposals, so the true price falls in [low, high] about 80 % of the time.

What the sales are too thin to estimate is not fitted to noise: it is fixed at the pooled or
neutral value and reported (`support` in the parameters; `fallbacks` per vehicle).

Explanation: the factors' log effects add up to log(value / new_price); each is converted to CNY
with the logarithmic-mean (LMDI) weight (value − new_price) / log(value / new_price), so the CNY
effects add up to value − new_price exactly, whatever the order of the factors.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FACTORS: tuple[str, ...] = (
    "age",
    "mileage",
    "new_price",
    "make",
    "condition_grade",
    "accidents",
    "repairs",
    "violations",
    "owners",
    "fuel_type",
    "region",
    "market_timing",
)
GRADES = "ABCDE"
FUEL_TYPES: tuple[str, ...] = ("petrol", "diesel", "hybrid", "ev")
EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()
PARAMS_FORMAT = 2  # 2: tilts, CV+ fold models, support report

# Candidate knots; those beyond the training data are dropped (the last slope extends).
AGE_KNOTS = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0)
MILEAGE_KNOTS = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0)  # 10k km
COUNT_KNOTS: dict[str, tuple[float, ...]] = {
    "accidents": (0.0, 1.0, 2.0, 3.0),
    "repairs": (0.0, 1.0, 2.0, 3.0, 5.0, 8.0),
    "violations": (0.0, 2.0, 5.0, 10.0, 20.0, 40.0),
    "owners": (0.0, 1.0, 2.0, 3.0),  # owners beyond the first
}
RAMPS: tuple[str, ...] = ("age", "mileage", "accidents", "repairs", "violations", "owners")
GROUPS: tuple[str, ...] = (
    "make",
    "model",
    "fuel",
    "region",
    "season",
    "index",
    "age_make",
    "age_model",
    "km_make",
    "km_model",
)
# Tilt groups: (the curve they tilt, the level they belong to). A tilt t makes that make's (or
# model's) curve the market's × (1 + t): its own depreciation, pooled towards the make and market.
TILTS: dict[str, tuple[str, str]] = {
    "age_make": ("age", "make"),
    "age_model": ("age", "model"),
    "km_make": ("mileage", "make"),
    "km_model": ("mileage", "model"),
}
GROUP_FACTOR = {
    "make": "make",
    "model": "make",
    "fuel": "fuel_type",
    "region": "region",
    "season": "market_timing",
    "index": "market_timing",
    "age_make": "age",
    "age_model": "age",
    "km_make": "mileage",
    "km_model": "mileage",
}


@dataclass(frozen=True)
class FitOptions:
    """Tuning of a fit. Penalties are in units of (time-weighted) sales."""

    half_life_days: float = 365.0
    ridge_make: float = 5.0
    ridge_model: float = 15.0
    ridge_fuel: float = 5.0
    ridge_region: float = 10.0
    ridge_season: float = 30.0
    ridge_index: float = 2.0
    smooth_index: float = 30.0
    smooth_ramp: float = 20.0
    ridge_grade: float = 1.0
    ridge_tier: float = 1.0
    ridge_scale: float = 1.0  # multiplies every penalty (a test makes a deliberately poor fit)
    ridge_tilt_make: float = 0.5
    ridge_tilt_model: float = 1.0
    huber: float = 2.5  # Huber's k in robust scale units; 0: plain least squares
    rounds: int = 2  # robust, tilted refits after the pooled fit
    min_sales: int = 8  # a curve segment (or a count factor) carries at least this many sales
    min_level_sales: int = 5  # a region, fuel or grade step is estimated from this many sales
    min_tilt_sales: int = 10  # a make or model gets its own curves from this many sales
    tilts: bool = True  # per-make and per-model curves (False: one market curve, as format 1)
    folds: int = 5
    coverage: float = 0.8

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.__dict__.items()}


@dataclass
class Vehicles:
    """Vehicles as columns. `day` is the valuation day (for a sale: the day it sold) as an
    ordinal (date.toordinal())."""

    make: np.ndarray  # str objects
    model: np.ndarray
    year: np.ndarray
    new_price: np.ndarray
    mileage_km: np.ndarray
    region: np.ndarray
    grade: np.ndarray  # 0..4 for A..E
    accidents: np.ndarray
    repairs: np.ndarray
    violations: np.ndarray
    owners: np.ndarray
    fuel: np.ndarray  # index into FUEL_TYPES
    day: np.ndarray

    def __len__(self) -> int:
        return int(self.year.shape[0])

    def take(self, index: np.ndarray) -> Vehicles:
        return Vehicles(**{k: v[index] for k, v in self.__dict__.items()})

    @classmethod
    def from_records(cls, rows: Sequence[dict[str, Any]]) -> Vehicles:
        """From dicts with the quote fields (`condition_grade`, `fuel_type` as text, `day` as an
        ordinal)."""
        return cls(
            make=np.array([r["make"] for r in rows], dtype=object),
            model=np.array([r["model"] for r in rows], dtype=object),
            year=np.array([r["year"] for r in rows], dtype=np.int64),
            new_price=np.array([r["new_price"] for r in rows], dtype=np.float64),
            mileage_km=np.array([r["mileage_km"] for r in rows], dtype=np.float64),
            region=np.array([r["region"] for r in rows], dtype=object),
            grade=np.array([GRADES.index(r["condition_grade"]) for r in rows], dtype=np.int64),
            accidents=np.array([r["accidents"] for r in rows], dtype=np.float64),
            repairs=np.array([r["repairs"] for r in rows], dtype=np.float64),
            violations=np.array([r["violations"] for r in rows], dtype=np.float64),
            owners=np.array([r["owners"] for r in rows], dtype=np.float64),
            fuel=np.array([FUEL_TYPES.index(r["fuel_type"]) for r in rows], dtype=np.int64),
            day=np.array([r["day"] for r in rows], dtype=np.int64),
        )


# --- features ---------------------------------------------------------------------------------


def age_years(year: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Years from the middle of the model year to the valuation day (never negative)."""
    mid_year = (
        (np.asarray(year, dtype="int64") - 1970)
        .astype("datetime64[Y]")
        .astype("datetime64[D]")
        .astype(np.int64)
        + EPOCH_ORDINAL
        + 181
    )
    return np.maximum((np.asarray(day) - mid_year) / 365.25, 0.0)


def month_number(day: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of each ordinal day."""
    return (
        (np.asarray(day) - EPOCH_ORDINAL)
        .astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype(np.int64)
    )


def ramp_basis(x: np.ndarray, knots: Sequence[float]) -> np.ndarray:
    """Ramps between consecutive knots plus an open last ramp: a curve with one slope per
    segment, 0 at the first knot."""
    k = np.asarray(knots, dtype=np.float64)
    out = np.empty((x.shape[0], k.shape[0]), dtype=np.float64)
    for j in range(k.shape[0] - 1):
        out[:, j] = np.clip(x - k[j], 0.0, k[j + 1] - k[j])
    out[:, -1] = np.maximum(x - k[-1], 0.0)
    return out


def _ramp_inputs(v: Vehicles) -> dict[str, np.ndarray]:
    return {
        "age": age_years(v.year, v.day),
        "mileage": np.maximum(v.mileage_km, 0.0) / 10_000.0,
        "accidents": v.accidents,
        "repairs": v.repairs,
        "violations": v.violations,
        "owners": np.maximum(v.owners - 1.0, 0.0),
    }


def _grade_basis(grade: np.ndarray) -> np.ndarray:
    """Columns [worse than A, worse than B, worse than C, worse than D]: cumulative steps."""
    return (grade[:, None] >= np.arange(1, 5)[None, :]).astype(np.float64)


def _model_key(make: np.ndarray, model: np.ndarray) -> np.ndarray:
    return np.array(
        [
            f"{str(a).strip().lower()}|{str(b).strip().lower()}"
            for a, b in zip(make, model, strict=True)
        ],
        dtype=object,
    )


def _norm(values: np.ndarray) -> np.ndarray:
    return np.array([str(x).strip().lower() for x in values], dtype=object)


def _lookup(values: np.ndarray, levels: Sequence[str]) -> np.ndarray:
    """Index of each value among `levels`; -1 for an unknown one."""
    table = {name: i for i, name in enumerate(levels)}
    return np.fromiter((table.get(x, -1) for x in values), dtype=np.int64, count=values.shape[0])


# --- the layout of the coefficient vector -----------------------------------------------------


@dataclass
class Layout:
    """Where each block of coefficients sits, and the knots and levels that define them.

    `tilts`: whether the model has per-make and per-model tilts of the age and mileage curves
    (models fitted before they existed have none)."""

    knots: dict[str, list[float]]
    levels: dict[str, list[str]]
    first_month: int
    months: int
    tier_center: float
    tilts: bool = True
    dense: dict[str, tuple[int, int]] = field(default_factory=dict)
    groups: dict[str, tuple[int, int]] = field(default_factory=dict)
    size: int = 0

    def __post_init__(self) -> None:
        pos = 2  # 0 intercept, 1 tier
        self.dense = {"intercept": (0, 1), "tier": (1, 2)}
        for name in RAMPS:
            n = len(self.knots[name])
            self.dense[name] = (pos, pos + n)
            pos += n
        self.dense["grade"] = (pos, pos + 4)
        pos += 4
        self.dense_size = pos
        makes, models = len(self.levels["make"]), len(self.levels["model"])
        sizes = {
            "make": makes,
            "model": models,
            "fuel": len(FUEL_TYPES),
            "region": len(self.levels["region"]),
            "season": 12,
            "index": self.months,
            "age_make": makes if self.tilts else 0,
            "age_model": models if self.tilts else 0,
            "km_make": makes if self.tilts else 0,
            "km_model": models if self.tilts else 0,
        }
        for name in GROUPS:
            self.groups[name] = (pos, pos + sizes[name])
            pos += sizes[name]
        self.size = pos

    def constrained(self) -> np.ndarray:
        """Coefficients that must be ≤ 0: every ramp slope and every grade step."""
        mask = np.zeros(self.size, dtype=bool)
        for name in (*RAMPS, "grade"):
            a, b = self.dense[name]
            mask[a:b] = True
        return mask

    def as_dict(self) -> dict[str, Any]:
        return {
            "knots": self.knots,
            "levels": self.levels,
            "first_month": self.first_month,
            "months": self.months,
            "tier_center": self.tier_center,
            "tilts": self.tilts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layout:
        return cls(
            knots={k: list(v) for k, v in data["knots"].items()},
            levels={k: list(v) for k, v in data["levels"].items()},
            first_month=int(data["first_month"]),
            months=int(data["months"]),
            tier_center=float(data["tier_center"]),
            tilts=bool(data.get("tilts", False)),
        )


Basis = dict[str, np.ndarray]  # the market curve's slopes that a tilt multiplies ("age", "mileage")


@dataclass
class Design:
    """The design matrix in parts: dense columns, categorical indices (-1: none) and, for the
    tilt groups, each row's value (the market curve at the vehicle's age or mileage)."""

    dense: np.ndarray
    groups: dict[str, np.ndarray]
    ramp_x: dict[str, np.ndarray]
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def take(self, sel: np.ndarray) -> Design:
        return Design(
            dense=self.dense[sel],
            groups={g: i[sel] for g, i in self.groups.items()},
            ramp_x={},
            values={g: x[sel] for g, x in self.values.items()},
        )

    def with_basis(self, layout: Layout, basis: Basis | None) -> Design:
        """The same rows with the tilt groups' values taken from `basis` (none: zero)."""
        values: dict[str, np.ndarray] = {}
        for name, (curve, _) in TILTS.items():
            a, b = layout.dense[curve]
            if basis is None or not layout.tilts:
                values[name] = np.zeros(self.dense.shape[0])
            else:
                values[name] = self.dense[:, a:b] @ basis[curve]
        return Design(dense=self.dense, groups=self.groups, ramp_x=self.ramp_x, values=values)


def _design(v: Vehicles, layout: Layout, basis: Basis | None = None) -> Design:
    ramp_x = _ramp_inputs(v)
    cols = [
        np.ones((len(v), 1)),
        (np.log(np.maximum(v.new_price, 1.0)) - layout.tier_center)[:, None],
    ]
    for name in RAMPS:
        cols.append(ramp_basis(ramp_x[name], layout.knots[name]))
    cols.append(_grade_basis(v.grade))
    month = month_number(v.day)
    make = _lookup(_norm(v.make), layout.levels["make"])
    model = _lookup(_model_key(v.make, v.model), layout.levels["model"])
    groups = {
        "make": make,
        "model": model,
        "fuel": np.asarray(v.fuel, dtype=np.int64),
        "region": _lookup(_norm(v.region), layout.levels["region"]),
        "season": month % 12,
        "index": np.clip(month - layout.first_month, 0, layout.months - 1),
    }
    for name, (_, level) in TILTS.items():
        groups[name] = (make if level == "make" else model) if layout.tilts else np.full(len(v), -1)
    design = Design(dense=np.hstack(cols), groups=groups, ramp_x=ramp_x)
    return design.with_basis(layout, basis)


def _gram(
    design: Design, layout: Layout, w: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """X'WX and X'Wy without building the one-hot columns (bincounts instead); a tilt group's
    column holds the row's value where a plain group's holds 1."""
    p = layout.size
    d = layout.dense_size
    gram = np.zeros((p, p))
    rhs = np.zeros(p)
    wd = design.dense * w[:, None]
    gram[:d, :d] = design.dense.T @ wd
    rhs[:d] = wd.T @ y
    names = [g for g in GROUPS if layout.groups[g][1] > layout.groups[g][0]]
    ones = np.ones(design.dense.shape[0])
    for gi, name in enumerate(names):
        a, b = layout.groups[name]
        size = b - a
        idx = design.groups[name]
        value = design.values.get(name, ones)
        ok = idx >= 0
        ii, wv = idx[ok], w[ok] * value[ok]
        gram[a:b, a:b][np.diag_indices(size)] = np.bincount(ii, wv * value[ok], minlength=size)
        rhs[a:b] = np.bincount(ii, wv * y[ok], minlength=size)
        dense_ok = design.dense[ok] * wv[:, None]
        for k in range(d):
            col = np.bincount(ii, dense_ok[:, k], minlength=size)
            gram[a:b, k] = col
            gram[k, a:b] = col
        for name2 in names[gi + 1 :]:
            a2, b2 = layout.groups[name2]
            size2 = b2 - a2
            idx2 = design.groups[name2]
            value2 = design.values.get(name2, ones)
            both = ok & (idx2 >= 0)
            block = np.bincount(
                idx[both] * size2 + idx2[both],
                w[both] * value[both] * value2[both],
                minlength=size * size2,
            ).reshape(size, size2)
            gram[a:b, a2:b2] = block
            gram[a2:b2, a:b] = block.T
    return gram, rhs


def _penalty(layout: Layout, options: FitOptions) -> np.ndarray:
    """The quadratic penalty: ridge on categorical effects and tilts, smoothness on curves and
    the index."""
    p = layout.size
    pen = np.zeros((p, p))
    s = options.ridge_scale

    def ridge(block: tuple[int, int], lam: float) -> None:
        a, b = block
        pen[a:b, a:b] += np.eye(b - a) * lam * s

    def smooth(block: tuple[int, int], lam: float) -> None:
        a, b = block
        n = b - a
        if n < 2:
            return
        diff = np.zeros((n - 1, n))
        diff[np.arange(n - 1), np.arange(n - 1)] = -1.0
        diff[np.arange(n - 1), np.arange(1, n)] = 1.0
        pen[a:b, a:b] += lam * s * diff.T @ diff

    pen[0, 0] += 1e-6
    ridge(layout.dense["tier"], options.ridge_tier)
    for name in RAMPS:
        ridge(layout.dense[name], 1e-3)
        smooth(layout.dense[name], options.smooth_ramp)
    ridge(layout.dense["grade"], options.ridge_grade)
    ridge(layout.groups["make"], options.ridge_make)
    ridge(layout.groups["model"], options.ridge_model)
    ridge(layout.groups["fuel"], options.ridge_fuel)
    ridge(layout.groups["region"], options.ridge_region)
    ridge(layout.groups["season"], options.ridge_season)
    ridge(layout.groups["index"], options.ridge_index)
    smooth(layout.groups["index"], options.smooth_index)
    ridge(layout.groups["age_make"], options.ridge_tilt_make)
    ridge(layout.groups["age_model"], options.ridge_tilt_model)
    ridge(layout.groups["km_make"], options.ridge_tilt_make)
    ridge(layout.groups["km_model"], options.ridge_tilt_model)
    return pen


def solve_sign_constrained(
    a: np.ndarray, c: np.ndarray, nonpositive: np.ndarray, *, max_iter: int | None = None
) -> np.ndarray:
    """argmin ½ bᵀAb − cᵀb subject to b_j ≤ 0 where `nonpositive`; A positive definite.

    Lawson–Hanson active set, with the unconstrained coefficients always free:
    1. start with every constrained coefficient at 0 (on its bound);
    2. free the bound coefficient whose gradient most wants to move inside; re-solve the free
       system; if a free constrained coefficient would cross its bound, step back to the bound
       and fix it there; repeat until no bound coefficient wants to move (KKT holds).
    """
    sign = np.where(nonpositive, -1.0, 1.0)
    a2 = a * sign[:, None] * sign[None, :]
    c2 = c * sign
    cons = nonpositive.copy()
    passive = ~cons
    u = np.zeros_like(c2)

    def solve(mask: np.ndarray) -> np.ndarray:
        z = np.zeros_like(c2)
        idx = np.flatnonzero(mask)
        if idx.size:
            z[idx] = np.linalg.solve(a2[np.ix_(idx, idx)], c2[idx])
        return z

    u = solve(passive)
    tol = 1e-12 * max(1.0, float(np.abs(c2).max(initial=0.0)))
    for _ in range(max_iter or 3 * a.shape[0] + 10):
        grad = c2 - a2 @ u
        candidates = cons & ~passive
        if not candidates.any() or grad[candidates].max() <= tol:
            break
        j = int(np.flatnonzero(candidates)[np.argmax(grad[candidates])])
        passive[j] = True
        for _ in range(a.shape[0] + 5):
            z = solve(passive)
            bad = passive & cons & (z <= 0)
            if not bad.any():
                u = z
                break
            ratios = u[bad] / np.maximum(u[bad] - z[bad], 1e-300)
            alpha = float(ratios.min())
            u = u + alpha * (z - u)
            drop = passive & cons & (u <= 1e-15)
            passive[drop] = False
            u[drop] = 0.0
        else:
            u = solve(passive)
    return u * sign


# --- the fitted model -------------------------------------------------------------------------


@dataclass
class Prediction:
    """Model output for n vehicles: values, ranges and each factor's log effect (n × 12)."""

    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    log_effects: np.ndarray
    new_price: np.ndarray

    def effects_cny(self) -> np.ndarray:
        """Each factor's effect in CNY (n × 12); the rows sum to value − new_price exactly.

        LMDI: effect_f = η_f × (value − new_price) / log(value / new_price), i.e. each log effect
        times the logarithmic mean of value and new price (new price itself when they coincide).
        """
        total = self.log_effects.sum(axis=1)
        diff = self.value - self.new_price
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = np.where(np.abs(total) > 1e-12, diff / total, self.new_price)
        return self.log_effects * weight[:, None]

    def effects_pct(self) -> np.ndarray:
        """Each factor's multiplicative effect in %: 100 × (e^η − 1)."""
        return 100.0 * np.expm1(self.log_effects)


def _basis_from(params: dict[str, Any] | None) -> Basis | None:
    if not params:
        return None
    return {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}


class ValuationMaths:
    """A fitted model, rebuilt from its JSON parameters; predicts many vehicles at once."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.layout = Layout.from_dict(params["layout"])
        self.coef = np.asarray(params["coef"], dtype=np.float64)
        self.basis = _basis_from(params.get("basis"))
        self.sigma_coef = np.asarray(params["sigma"]["coef"], dtype=np.float64)
        self.make_counts = {k: float(v) for k, v in params["make_counts"].items()}
        # Format 1 (before CV+): one pair of quantiles of the scores around the final fit.
        self.q_low = float(params["sigma"].get("q_low", 0.0))
        self.q_high = float(params["sigma"].get("q_high", 0.0))
        self.cv_plus: CvPlus | None = (
            CvPlus.from_dict(params["cv_plus"]) if "cv_plus" in params else None
        )

    def log_effects(self, v: Vehicles) -> np.ndarray:
        design = _design(v, self.layout, self.basis)
        return _factor_effects(design, self.layout, self.coef)

    def sigma(self, v: Vehicles, design_x: dict[str, np.ndarray] | None = None) -> np.ndarray:
        return _sigma(v, self.sigma_coef, self.make_counts, design_x)

    def predict(self, v: Vehicles) -> Prediction:
        design = _design(v, self.layout, self.basis)
        effects = _factor_effects(design, self.layout, self.coef)
        log_value = effects.sum(axis=1)
        value = v.new_price * np.exp(log_value)
        sig = _sigma(v, self.sigma_coef, self.make_counts, design.ramp_x)
        if self.cv_plus is not None:
            log_low, log_high = self.cv_plus.interval(design, self.layout, sig)
            # the value is the full fit's; its range comes from the fold fits (CV+)
            log_low = np.minimum(log_low, log_value)
            log_high = np.maximum(log_high, log_value)
        else:
            log_low, log_high = log_value + self.q_low * sig, log_value + self.q_high * sig
        return Prediction(
            value=value,
            low=v.new_price * np.exp(log_low),
            high=v.new_price * np.exp(log_high),
            log_effects=effects,
            new_price=np.asarray(v.new_price, dtype=np.float64),
        )

    def fallbacks(self, v: Vehicles) -> list[list[dict[str, Any]]]:
        """For each vehicle, the factors its value takes from a fallback because the sales were
        too thin (see `_support`): {factor, reason (`not_estimated`: no effect applied;
        `pooled`: valued as the fallback; `unseen`: no sale at all), level, sales, needed}."""
        out: list[list[dict[str, Any]]] = [[] for _ in range(len(v))]
        support = {row["factor"]: row for row in self.params.get("support", [])}
        if not support:
            return out

        def add(i: int, factor: str, reason: str, level: str, sales: int) -> None:
            needed = support[factor]["needed"]
            out[i].append(
                {
                    "factor": factor,
                    "reason": reason,
                    "level": level,
                    "sales": sales,
                    "needed": needed,
                }
            )

        ramp = _ramp_inputs(v)
        for name in RAMPS:
            row = support.get(name)
            if row and row["status"] == "not_estimated":
                for hit in np.flatnonzero(ramp[name] > 0).tolist():
                    add(hit, name, "not_estimated", "", int(row["sales"]))
        grade = support.get("condition_grade")
        if grade and grade["pooled"]:
            steps = sorted(GRADES.index(letter) for letter in grade["pooled"])
            for i, g in enumerate(v.grade.tolist()):
                borrowed = [step for step in steps if step <= g]
                if borrowed:  # valued as the grade before its first thin step
                    letter = GRADES[borrowed[0]]
                    add(i, "condition_grade", "pooled", letter, int(grade["pooled"][letter]))
        known = {
            "fuel_type": set(FUEL_TYPES),
            "region": set(self.layout.levels["region"]),
            "make_curves": set(self.layout.levels["make"]),
            "model_curves": set(self.layout.levels["model"]),
        }
        lookups = (
            ("fuel_type", [FUEL_TYPES[int(f)] for f in v.fuel]),
            ("region", list(_norm(v.region))),
            ("make_curves", list(_norm(v.make))),
            ("model_curves", list(_model_key(v.make, v.model))),
        )
        for factor, keys in lookups:
            row = support.get(factor)
            if not row:
                continue
            unseen = set(row.get("unseen", []))
            for i, key in enumerate(keys):
                if key in row["pooled"]:
                    add(i, factor, "pooled", str(key), int(row["pooled"][key]))
                elif key in unseen or key not in known[factor]:
                    add(i, factor, "unseen", str(key), 0)
        return out

    def curve(self, factor: str, xs: np.ndarray) -> np.ndarray:
        """The market's log effect of a monotone factor (age in years, mileage in 10k km,
        counts): a make or model without a tilt of its own follows it."""
        a, b = self.layout.dense[factor]
        base = ramp_basis(np.asarray(xs, dtype=np.float64), self.layout.knots[factor])
        out = base @ self.coef[a:b]
        if factor == "age":
            out = out + self.coef[0]
        return out

    def tilt(self, factor: str, make: str, model: str = "") -> float:
        """How much steeper (> 0) or flatter (< 0) than the market's the curve of this make
        (and model) is: the model's curve is the market's × (1 + tilt) plus any difference of
        shape the fit found in the market curve itself."""
        if not self.layout.tilts or factor not in ("age", "mileage"):
            return 0.0
        prefix = "age" if factor == "age" else "km"
        out = 0.0
        make_key = str(make).strip().lower()
        if make_key in self.layout.levels["make"]:
            a, _ = self.layout.groups[f"{prefix}_make"]
            out += float(self.coef[a + self.layout.levels["make"].index(make_key)])
        model_key = f"{make_key}|{str(model).strip().lower()}"
        if model and model_key in self.layout.levels["model"]:
            a, _ = self.layout.groups[f"{prefix}_model"]
            out += float(self.coef[a + self.layout.levels["model"].index(model_key)])
        return out


def _factor_effects(design: Design, layout: Layout, coef: np.ndarray) -> np.ndarray:
    n = design.dense.shape[0]
    out = np.zeros((n, len(FACTORS)))
    col = {f: i for i, f in enumerate(FACTORS)}
    dense_factor = {
        "intercept": "age",
        "tier": "new_price",
        "age": "age",
        "mileage": "mileage",
        "accidents": "accidents",
        "repairs": "repairs",
        "violations": "violations",
        "owners": "owners",
        "grade": "condition_grade",
    }
    for name, factor in dense_factor.items():
        a, b = layout.dense[name]
        out[:, col[factor]] += design.dense[:, a:b] @ coef[a:b]
    for name in GROUPS:
        a, b = layout.groups[name]
        if b == a:
            continue
        idx = design.groups[name]
        block = coef[a:b]
        effect = np.where(idx >= 0, block[np.maximum(idx, 0)], 0.0)
        if name in design.values:
            effect = effect * design.values[name]
        out[:, col[GROUP_FACTOR[name]]] += effect
    return out


def _sigma_features(
    v: Vehicles, make_counts: dict[str, float], ramp_x: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    ramp_x = ramp_x or _ramp_inputs(v)
    counts = np.fromiter(
        (make_counts.get(m, 0.0) for m in _norm(v.make)), dtype=np.float64, count=len(v)
    )
    return np.column_stack(
        [
            np.ones(len(v)),
            np.minimum(ramp_x["age"], 20.0) / 5.0,
            np.minimum(ramp_x["mileage"], 40.0) / 10.0,
            v.grade / 4.0,
            np.minimum(v.accidents, 3.0),
            1.0 / np.sqrt(1.0 + counts),
        ]
    )


def _sigma(
    v: Vehicles,
    coef: np.ndarray,
    make_counts: dict[str, float],
    ramp_x: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    z = _sigma_features(v, make_counts, ramp_x) @ coef
    return np.exp(np.clip(z, -3.0, 3.0))


# --- ranges: CV+ ------------------------------------------------------------------------------


@dataclass
class CvPlus:
    """Cross-conformal ranges (CV+, Barber et al. 2021) with a local difficulty σ(x).

    Each sale i was predicted by the fold model that did not see it, μ₋ₖ₍ᵢ₎, giving the score
    sᵢ = (yᵢ − μ₋ₖ₍ᵢ₎(xᵢ)) / σ(xᵢ). For a new vehicle x every sale proposes
    μ₋ₖ₍ᵢ₎(x) + σ(x)·sᵢ: the range is the ⌊(α/2)(n+1)⌋-th and ⌈(1 − α/2)(n+1)⌉-th smallest of
    those n proposals (α = 1 − coverage), in log space. So the fold models themselves are kept,
    not only their residuals. Past a few hundred sales per fold a fold's scores are kept as
    `SKETCH` evenly spaced quantiles, each standing for its share of the fold's sales.
    """

    coefs: list[np.ndarray]
    bases: list[Basis | None]
    scores: list[np.ndarray]  # per fold, sorted
    weights: list[float]  # sales each kept score stands for, per fold
    n: int
    coverage: float

    SKETCH = 120

    def interval(
        self, design: Design, layout: Layout, sig: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        rows = design.dense.shape[0]
        width = max(s.size for s in self.scores)
        cand3 = np.full((rows, len(self.coefs), width), np.inf)
        weight = np.zeros((len(self.coefs), width))
        mu = self._fold_values(design, layout)
        for k, scores in enumerate(self.scores):
            cand3[:, k, : scores.size] = mu[:, k, None] + sig[:, None] * scores[None, :]
            weight[k, : scores.size] = self.weights[k]
        cand = cand3.reshape(rows, -1)
        order = np.argsort(cand, axis=1)
        cum = np.cumsum(weight.reshape(-1)[order], axis=1)
        tail = (1.0 - self.coverage) / 2.0
        k_low = max(1, math.floor(tail * (self.n + 1) + 1e-9))
        k_high = min(self.n, math.ceil((1.0 - tail) * (self.n + 1) - 1e-9))
        # the first candidate whose cumulative count reaches the rank (small tolerance for the
        # sketch's fractional weights)
        at_low = np.argmax(cum >= k_low - 1e-6, axis=1)
        at_high = np.argmax(cum >= k_high - 1e-6, axis=1)
        sorted_cand = np.take_along_axis(cand, order, axis=1)
        index = np.arange(rows)
        return sorted_cand[index, at_low], sorted_cand[index, at_high]

    def _fold_values(self, design: Design, layout: Layout) -> np.ndarray:
        """Every fold model's log value of each vehicle at once (rows × folds)."""
        coefs = np.vstack(self.coefs)  # folds × p
        d = layout.dense_size
        out = design.dense @ coefs[:, :d].T
        for name in GROUPS:
            a, b = layout.groups[name]
            if b == a:
                continue
            idx = design.groups[name]
            effect = np.where((idx >= 0)[:, None], coefs[:, a:b][:, np.maximum(idx, 0)].T, 0.0)
            if name in TILTS:
                curve = TILTS[name][0]
                ca, cb = layout.dense[curve]
                basis = np.vstack(
                    [
                        basis[curve] if basis is not None else np.zeros(cb - ca)
                        for basis in self.bases
                    ]
                )
                effect = effect * (design.dense[:, ca:cb] @ basis.T)
            out += effect
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "coefs": [[float(x) for x in c] for c in self.coefs],
            "bases": [
                {k: [float(x) for x in v] for k, v in b.items()} if b else None for b in self.bases
            ],
            "scores": [[float(x) for x in s] for s in self.scores],
            "weights": [float(x) for x in self.weights],
            "n": self.n,
            "coverage": self.coverage,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CvPlus:
        return cls(
            coefs=[np.asarray(c, dtype=np.float64) for c in data["coefs"]],
            bases=[_basis_from(b) for b in data["bases"]],
            scores=[np.asarray(s, dtype=np.float64) for s in data["scores"]],
            weights=[float(x) for x in data["weights"]],
            n=int(data["n"]),
            coverage=float(data["coverage"]),
        )

    @classmethod
    def sketch(cls, scores: np.ndarray) -> tuple[np.ndarray, float]:
        """A fold's sorted scores, or SKETCH evenly spaced quantiles of them past that many."""
        s = np.sort(scores)
        if s.size <= cls.SKETCH:
            return s, 1.0
        levels = (np.arange(cls.SKETCH) + 0.5) / cls.SKETCH
        return np.quantile(s, levels), s.size / cls.SKETCH


# --- fitting ----------------------------------------------------------------------------------


def _segment_knots(x: np.ndarray, candidates: Sequence[float], need: int) -> list[float]:
    """The candidate knots the data can carry: beyond the first, a knot is kept only where the
    segment it closes and the open segment after the last knot each hold at least `need` sales
    (and no knot past the data's 99.5th percentile). Fewer knots, straighter curve: with thin
    data a curve falls back to one slope."""
    if x.size == 0:
        return [float(candidates[0])]
    top = float(np.quantile(x, 0.995))
    xs = np.sort(x)
    kept = [float(candidates[0])]

    def count(lo: float, hi: float) -> int:
        return int(np.searchsorted(xs, hi, "left") - np.searchsorted(xs, lo, "left"))

    for k in candidates[1:]:
        if k >= top:
            break
        if count(kept[-1], k) >= need:
            kept.append(float(k))
    while len(kept) > 1 and count(kept[-1], math.inf) < need:
        kept.pop()
    return kept


def _layout_for(v: Vehicles, w: np.ndarray, options: FitOptions) -> Layout:
    ramp_x = _ramp_inputs(v)
    need = max(options.min_sales, min(len(v) // 50, 200))
    knots = {"age": _segment_knots(ramp_x["age"], AGE_KNOTS, need)}
    knots["mileage"] = _segment_knots(ramp_x["mileage"], MILEAGE_KNOTS, need)
    for name, candidates in COUNT_KNOTS.items():
        knots[name] = _segment_knots(ramp_x[name], candidates, need)
    month = month_number(v.day)
    levels = {
        "make": sorted(set(_norm(v.make))),
        "model": sorted(set(_model_key(v.make, v.model))),
        "region": sorted(set(_norm(v.region))),
    }
    tier_center = float(np.average(np.log(np.maximum(v.new_price, 1.0)), weights=w))
    return Layout(
        knots=knots,
        levels=levels,
        first_month=int(month.min()),
        months=int(month.max() - month.min() + 1),
        tier_center=tier_center,
        tilts=options.tilts,
    )


def _status(thin: int, levels: int) -> str:
    return "estimated" if not thin else "simplified" if thin < levels else "not_estimated"


def _support(
    v: Vehicles, design: Design, layout: Layout, options: FitOptions
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Which coefficients the sales are too thin to estimate, fixed at 0 (the pooled or neutral
    value), and the report of every factor's support: status `estimated`, `simplified` (fewer
    knots, or some levels pooled) or `not_estimated` (no effect applied), the sales that carry it
    and the sales needed."""
    fixed = np.zeros(layout.size, dtype=bool)
    report: list[dict[str, Any]] = []
    need = max(options.min_sales, min(len(v) // 50, 200))
    n = len(v)

    def note(factor: str, status: str, sales: int, needed: int | None, **extra: Any) -> None:
        report.append(
            {"factor": factor, "status": status, "sales": sales, "needed": needed, **extra}
        )

    ramp_factor = {
        "age": "age",
        "mileage": "mileage",
        "accidents": "accidents",
        "repairs": "repairs",
        "violations": "violations",
        "owners": "owners",
    }
    for name, factor in ramp_factor.items():
        x = design.ramp_x[name]
        carrying = int((x > layout.knots[name][0]).sum())
        a, b = layout.dense[name]
        candidates = (
            AGE_KNOTS
            if name == "age"
            else MILEAGE_KNOTS
            if name == "mileage"
            else (COUNT_KNOTS[name])
        )
        usable = [k for k in candidates if k < float(np.quantile(x, 0.995)) or k == candidates[0]]
        if carrying < need:
            fixed[a:b] = True
            note(factor, "not_estimated", carrying, need)
        elif len(layout.knots[name]) < len(usable):
            note(factor, "simplified", carrying, need, slopes=b - a)
        else:
            note(factor, "estimated", carrying, need, slopes=b - a)

    # grade steps: each needs sales on both sides
    a, _ = layout.dense["grade"]
    thin_steps: dict[str, int] = {}
    for step in range(1, 5):
        worse = int((v.grade >= step).sum())
        if worse < options.min_level_sales or n - worse < options.min_level_sales:
            fixed[a + step - 1] = True
            thin_steps[GRADES[step]] = min(worse, n - worse)
    note(
        "condition_grade",
        _status(len(thin_steps), 4),
        int((v.grade > 0).sum()),
        options.min_level_sales,
        pooled=thin_steps,
    )

    def levels(factor: str, group: str, keys: np.ndarray, names: list[str], needed: int) -> None:
        a, _ = layout.groups[group]
        counts = np.bincount(keys[keys >= 0], minlength=len(names))
        fixed[a + np.flatnonzero(counts < needed)] = True
        thin = {names[i]: int(counts[i]) for i in np.flatnonzero((counts > 0) & (counts < needed))}
        note(
            factor,
            _status(len(thin), int((counts > 0).sum())),
            int(counts[counts >= needed].sum()),
            needed,
            pooled=thin,
            unseen=[names[i] for i in np.flatnonzero(counts == 0)],
        )

    levels("fuel_type", "fuel", design.groups["fuel"], list(FUEL_TYPES), options.min_level_sales)
    levels(
        "region",
        "region",
        design.groups["region"],
        layout.levels["region"],
        options.min_level_sales,
    )
    # makes and models keep their ridge (partial pooling); their own curves need more sales
    for level in ("make", "model"):
        names = layout.levels[level]
        counts = np.bincount(design.groups[level][design.groups[level] >= 0], minlength=len(names))
        thin = np.flatnonzero(counts < options.min_tilt_sales)
        for prefix in ("age", "km"):
            a, b = layout.groups[f"{prefix}_{level}"]
            if b > a:
                fixed[a + thin] = True
        note(
            f"{level}_curves",
            "estimated" if not thin.size else "simplified",
            int(counts[counts >= options.min_tilt_sales].sum()),
            options.min_tilt_sales,
            levels=len(names),
            own_curve=int(len(names) - thin.size),
            pooled={names[i]: int(counts[i]) for i in thin[:50]},
        )
    # market timing: the monthly index needs a few months, the season two years
    months = layout.months
    if months < 3:
        a, b = layout.groups["index"]
        fixed[a:b] = True
    if months < 24:
        a, b = layout.groups["season"]
        fixed[a:b] = True
    note(
        "market_timing",
        "estimated" if months >= 24 else "simplified" if months >= 3 else "not_estimated",
        n,
        None,
        months=months,
        months_needed=24,
    )
    return fixed, report


def time_weights(day: np.ndarray, half_life_days: float) -> np.ndarray:
    """2^(-(latest day − day) / half-life), scaled to mean 1."""
    age = (day.max() - day).astype(np.float64)
    w = np.exp(-math.log(2.0) * age / max(half_life_days, 1.0))
    return w / w.mean()


def huber_weights(residual: np.ndarray, w: np.ndarray, k: float) -> np.ndarray:
    """Huber's robustness weights min(1, k·s / |r|), s the (weighted) median absolute residual
    × 1.4826: a listing far off the rest (a distressed sale, a typing slip) pulls the fit less."""
    absr = np.abs(residual)
    order = np.argsort(absr)
    cum = np.cumsum(w[order])
    mad = float(absr[order][np.searchsorted(cum, cum[-1] / 2.0)])
    scale = max(1.4826 * mad, 1e-3)
    return np.minimum(1.0, k * scale / np.maximum(absr, 1e-12))


def _center(coef: np.ndarray, design: Design, layout: Layout, w: np.ndarray) -> np.ndarray:
    """Move the (weighted) mean of each categorical effect into the intercept, so such an effect
    reads against the typical car of the market (grades read against grade A, counts against
    none, age and mileage against a new car). Tilts stay as they are: they scale a curve."""
    coef = coef.copy()
    wsum = w.sum()
    for name in GROUPS:
        if name in TILTS:
            continue
        a, b = layout.groups[name]
        idx = design.groups[name]
        ok = idx >= 0
        mean = float((coef[a:b][idx[ok]] * w[ok]).sum() / wsum)
        coef[a:b] -= mean
        coef[0] += mean
    return coef


def _solve(
    gram: np.ndarray, rhs: np.ndarray, penalty: np.ndarray, mask: np.ndarray, fixed: np.ndarray
) -> np.ndarray:
    free = np.flatnonzero(~fixed)
    out = np.zeros(rhs.shape[0])
    sub = np.ix_(free, free)
    out[free] = solve_sign_constrained((gram + penalty)[sub], rhs[free], mask[free])
    return out


def _keep_monotone(coef: np.ndarray, layout: Layout, basis: Basis) -> np.ndarray:
    """A tilt may flatten a curve but never make it rise: each make's (and model's) slopes
    s_j + t·b_j stay ≤ 0, raising a too-negative tilt t to the bound."""
    coef = coef.copy()
    model_make = [key.split("|", 1)[0] for key in layout.levels["model"]]
    make_index = {m: i for i, m in enumerate(layout.levels["make"])}
    for curve, prefix in (("age", "age"), ("mileage", "km")):
        a, b = layout.dense[curve]
        s, base = coef[a:b], basis[curve]
        ratio = np.where(base < -1e-12, s / np.where(base < -1e-12, base, -1.0), np.inf)
        lowest = -float(ratio.min()) if np.isfinite(ratio).any() else -1.0
        ma, mb = layout.groups[f"{prefix}_make"]
        coef[ma:mb] = np.maximum(coef[ma:mb], lowest)
        oa, _ = layout.groups[f"{prefix}_model"]
        for j, make in enumerate(model_make):
            make_tilt = coef[ma + make_index[make]] if make in make_index else 0.0
            coef[oa + j] = max(coef[oa + j], lowest - make_tilt)
    return coef


def _fit_rows(
    design: Design,
    layout: Layout,
    y: np.ndarray,
    w: np.ndarray,
    penalty: np.ndarray,
    mask: np.ndarray,
    fixed: np.ndarray,
    options: FitOptions,
) -> tuple[np.ndarray, Basis | None, np.ndarray]:
    """One model on some sales: (coefficients, tilt basis, robustness weights).

    1. the pooled fit: one age and one mileage curve for the market;
    2. robustness weights from its residuals (Huber);
    3. the tilted fit: each make's and model's age and mileage curves are the market curve of
       step 1 × (1 + tilt), the tilts pulled towards the make (models) and the market (makes)
       by ridge penalties: partial pooling, so a model with few sales keeps close to its make
       and the market, one with many gets its own depreciation;
    4. robustness weights again, and the tilted fit once more.
    """
    base = design.with_basis(layout, None)
    gram, rhs = _gram(base, layout, w, y)
    coef = _solve(gram, rhs, penalty, mask, fixed)
    robust = np.ones_like(w)
    basis: Basis | None = None
    for _ in range(options.rounds):
        residual = y - _factor_effects(base, layout, coef).sum(axis=1)
        robust = huber_weights(residual, w, options.huber) if options.huber > 0 else robust
        if layout.tilts and basis is None:
            basis = {c: coef[slice(*layout.dense[c])].copy() for c in ("age", "mileage")}
            base = design.with_basis(layout, basis)
        gram, rhs = _gram(base, layout, w * robust, y)
        coef = _solve(gram, rhs, penalty, mask, fixed)
    if basis is not None:
        coef = _keep_monotone(coef, layout, basis)
    return coef, basis, robust


def _fit_sigma(v: Vehicles, residual: np.ndarray, make_counts: dict[str, float]) -> np.ndarray:
    feats = _sigma_features(v, make_counts)
    target = np.log(np.abs(residual) + 1e-4)
    # more sales, more freedom for the local difficulty; few sales keep it near constant
    lam = np.eye(feats.shape[1]) * max(1.0, 400.0 / max(len(v), 1))
    lam[0, 0] = 1e-6
    coef = np.linalg.solve(feats.T @ feats + lam, feats.T @ target)
    # scale so that the median training sigma is 1 (only the shape matters for the scores)
    coef[0] -= float(np.median(feats @ coef))
    return coef


def conformal_quantiles(scores: np.ndarray, coverage: float) -> tuple[float, float]:
    """Split-conformal lower and upper quantiles of signed scores for a two-sided interval
    holding the truth with probability ≥ `coverage` (each tail (1 − coverage) / 2)."""
    s = np.sort(np.asarray(scores, dtype=np.float64))
    n = s.size
    tail = (1.0 - coverage) / 2.0
    k_high = math.ceil((n + 1) * (1.0 - tail) - 1e-9)
    k_low = math.floor((n + 1) * tail + 1e-9)
    high = s[min(k_high, n) - 1]
    low = s[max(k_low, 1) - 1]
    return float(low), float(high)


def fit(
    v: Vehicles, price: np.ndarray, *, options: FitOptions | None = None, seed: int = 7
) -> dict[str, Any]:
    """Fit the model on sales (`v` with each sale's day, and its price); JSON-ready parameters.

    1. time weights (recent sales weigh more), knots and levels from the data, and what the data
       is too thin to estimate (fixed at the pooled or neutral value, and reported);
    2. for each of five folds, the model fitted on the other folds (`_fit_rows`) and its
       predictions on the fold: out-of-fold log residuals;
    3. the local difficulty σ(x) from those residuals; the fold models and their scores are
       kept for the CV+ ranges;
    4. the final model on every sale, centred so categorical effects average 0.
    """
    options = options or FitOptions()
    n = len(v)
    if n < 10:
        raise ValueError("at least 10 sales are needed to fit the model")
    y = np.log(np.asarray(price, dtype=np.float64) / np.asarray(v.new_price, dtype=np.float64))
    w = time_weights(v.day, options.half_life_days)
    layout = _layout_for(v, w, options)
    design = _design(v, layout)
    penalty = _penalty(layout, options)
    mask = layout.constrained()
    fixed, support = _support(v, design, layout, options)

    folds = max(2, min(options.folds, n // 5))
    fold = np.random.default_rng(seed).permutation(n) % folds
    oof = np.zeros(n)
    fold_models: list[tuple[np.ndarray, Basis | None]] = []
    for k in range(folds):
        train, held = fold != k, fold == k
        coef_k, basis_k, _ = _fit_rows(
            design.take(train), layout, y[train], w[train], penalty, mask, fixed, options
        )
        fold_models.append((coef_k, basis_k))
        held_design = design.take(held).with_basis(layout, basis_k)
        oof[held] = _factor_effects(held_design, layout, coef_k).sum(axis=1)
    residual = y - oof

    coef, basis, robust = _fit_rows(design, layout, y, w, penalty, mask, fixed, options)
    coef = _center(coef, design.with_basis(layout, basis), layout, w)

    make_norm = _norm(v.make)
    makes, counts = np.unique(make_norm, return_counts=True)
    make_counts = {str(m): float(c) for m, c in zip(makes, counts, strict=True)}
    sigma_coef = _fit_sigma(v, residual, make_counts)
    sig = _sigma(v, sigma_coef, make_counts)
    scores = residual / sig
    sketches = [CvPlus.sketch(scores[fold == k]) for k in range(folds)]
    cv_plus = CvPlus(
        coefs=[c for c, _ in fold_models],
        bases=[b for _, b in fold_models],
        scores=[s for s, _ in sketches],
        weights=[wt for _, wt in sketches],
        n=n,
        coverage=options.coverage,
    )

    ramp_x = design.ramp_x
    km_per_year = (
        float(np.median(v.mileage_km[ramp_x["age"] > 0.5] / ramp_x["age"][ramp_x["age"] > 0.5]))
        if (ramp_x["age"] > 0.5).any()
        else 15_000.0
    )
    month = month_number(v.day)
    recent = v.day >= v.day.max() - 90
    region_norm = _norm(v.region)
    region_volume = {r: int(((region_norm == r) & recent).sum()) for r in layout.levels["region"]}
    return {
        "format": PARAMS_FORMAT,
        "layout": layout.as_dict(),
        "coef": [float(x) for x in coef],
        "basis": {k: [float(x) for x in b] for k, b in basis.items()} if basis else None,
        "sigma": {"coef": [float(x) for x in sigma_coef]},
        "cv_plus": cv_plus.as_dict(),
        "make_counts": make_counts,
        "km_per_year": km_per_year,
        "region_recent_sales": region_volume,
        "support": support,
        "downweighted_sales": int((robust < 0.5).sum()),
        "names": {
            "regions": sorted({str(r) for r in v.region}),
            "makes": sorted({str(m) for m in v.make}),
            "models": sorted({f"{m}|{d}" for m, d in zip(v.make, v.model, strict=True)}),
        },
        "options": options.as_dict(),
        "sales": n,
        "first_day": int(v.day.min()),
        "last_day": int(v.day.max()),
        "last_month": int(month.max()),
        "oof_rmse": float(np.sqrt(np.mean(residual**2))),
    }


# --- accuracy ---------------------------------------------------------------------------------

HOLDOUT_SALT = b"valuation-holdout:"
HOLDOUT_BUCKETS = 5  # one in five sales is held out, by a hash of its id: the same ones always


def is_held_out(sale_id: str) -> bool:
    """Whether a sale belongs to the held-out fifth (stable across fits: no model trains on it)."""
    return zlib.crc32(HOLDOUT_SALT + sale_id.encode()) % HOLDOUT_BUCKETS == 0


def accuracy(
    predicted: np.ndarray, actual: np.ndarray, low: np.ndarray, high: np.ndarray
) -> dict[str, float | int | None]:
    """AVM accuracy on sales the model did not see: PPE10 (% within ±10 % of the price), MAPE
    (%), median signed error (%, positive: the model values above the price) and the share of
    prices inside [low, high] (%)."""
    n = int(actual.shape[0])
    if n == 0:
        return {"n": 0, "ppe10": None, "mape": None, "median_error_pct": None, "coverage": None}
    err = (predicted - actual) / actual
    return {
        "n": n,
        "ppe10": float(100.0 * np.mean(np.abs(err) <= 0.10)),
        "mape": float(100.0 * np.mean(np.abs(err))),
        "median_error_pct": float(100.0 * np.median(err)),
        "coverage": float(100.0 * np.mean((actual >= low) & (actual <= high))),
    }
