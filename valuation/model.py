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

Recent sales weigh more: weight = 2^(-age of the sale / half-life). The fit is one penalised
weighted least-squares problem with sign constraints, solved exactly by an active-set method on
its Gram matrix (built with bincounts for the categorical blocks: a 100k-sale fit takes seconds).

Ranges: five-fold cross-conformal (CV+) residuals in log space, divided by a local difficulty
σ(x) (a small regression of log |residual| on age, mileage, grade, accidents and how rare the
make is); low/high are the 10th/90th conformal quantiles of those scores, so the true price falls
in [low, high] about 80 % of the time.

Explanation: the factors' log effects add up to log(value / new_price); each is converted to CNY
with the logarithmic-mean (LMDI) weight (value − new_price) / log(value / new_price), so the CNY
effects add up to value − new_price exactly, whatever the order of the factors.
"""

from __future__ import annotations

import math
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
PARAMS_FORMAT = 1

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
GROUPS: tuple[str, ...] = ("make", "model", "fuel", "region", "season", "index")
GROUP_FACTOR = {
    "make": "make",
    "model": "make",
    "fuel": "fuel_type",
    "region": "region",
    "season": "market_timing",
    "index": "market_timing",
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
    """Where each block of coefficients sits, and the knots and levels that define them."""

    knots: dict[str, list[float]]
    levels: dict[str, list[str]]
    first_month: int
    months: int
    tier_center: float
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
        sizes = {
            "make": len(self.levels["make"]),
            "model": len(self.levels["model"]),
            "fuel": len(FUEL_TYPES),
            "region": len(self.levels["region"]),
            "season": 12,
            "index": self.months,
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
        }


@dataclass
class Design:
    """The design matrix in two parts: dense columns and categorical indices (-1: none)."""

    dense: np.ndarray
    groups: dict[str, np.ndarray]
    ramp_x: dict[str, np.ndarray]


def _design(v: Vehicles, layout: Layout) -> Design:
    ramp_x = _ramp_inputs(v)
    cols = [
        np.ones((len(v), 1)),
        (np.log(np.maximum(v.new_price, 1.0)) - layout.tier_center)[:, None],
    ]
    for name in RAMPS:
        cols.append(ramp_basis(ramp_x[name], layout.knots[name]))
    cols.append(_grade_basis(v.grade))
    month = month_number(v.day)
    groups = {
        "make": _lookup(_norm(v.make), layout.levels["make"]),
        "model": _lookup(_model_key(v.make, v.model), layout.levels["model"]),
        "fuel": np.asarray(v.fuel, dtype=np.int64),
        "region": _lookup(_norm(v.region), layout.levels["region"]),
        "season": month % 12,
        "index": np.clip(month - layout.first_month, 0, layout.months - 1),
    }
    return Design(dense=np.hstack(cols), groups=groups, ramp_x=ramp_x)


def _gram(
    design: Design, layout: Layout, w: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """X'WX and X'Wy without building the one-hot columns (bincounts instead)."""
    p = layout.size
    d = layout.dense_size
    gram = np.zeros((p, p))
    rhs = np.zeros(p)
    wd = design.dense * w[:, None]
    gram[:d, :d] = design.dense.T @ wd
    rhs[:d] = wd.T @ y
    names = list(GROUPS)
    for gi, name in enumerate(names):
        a, b = layout.groups[name]
        size = b - a
        idx = design.groups[name]
        ok = idx >= 0
        ii, ww = idx[ok], w[ok]
        gram[a:b, a:b][np.diag_indices(size)] = np.bincount(ii, ww, minlength=size)
        rhs[a:b] = np.bincount(ii, ww * y[ok], minlength=size)
        dense_ok = wd[ok]
        for k in range(d):
            col = np.bincount(ii, dense_ok[:, k], minlength=size)
            gram[a:b, k] = col
            gram[k, a:b] = col
        for name2 in names[gi + 1 :]:
            a2, b2 = layout.groups[name2]
            size2 = b2 - a2
            idx2 = design.groups[name2]
            both = ok & (idx2 >= 0)
            block = np.bincount(
                idx[both] * size2 + idx2[both], w[both], minlength=size * size2
            ).reshape(size, size2)
            gram[a:b, a2:b2] = block
            gram[a2:b2, a:b] = block.T
    return gram, rhs


def _penalty(layout: Layout, options: FitOptions) -> np.ndarray:
    """The quadratic penalty: ridge on categorical effects, smoothness on curves and index."""
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


class ValuationMaths:
    """A fitted model, rebuilt from its JSON parameters; predicts many vehicles at once."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.layout = Layout(
            knots={k: list(v) for k, v in params["layout"]["knots"].items()},
            levels={k: list(v) for k, v in params["layout"]["levels"].items()},
            first_month=int(params["layout"]["first_month"]),
            months=int(params["layout"]["months"]),
            tier_center=float(params["layout"]["tier_center"]),
        )
        self.coef = np.asarray(params["coef"], dtype=np.float64)
        self.sigma_coef = np.asarray(params["sigma"]["coef"], dtype=np.float64)
        self.q_low = float(params["sigma"]["q_low"])
        self.q_high = float(params["sigma"]["q_high"])
        self.make_counts = {k: float(v) for k, v in params["make_counts"].items()}

    def log_effects(self, v: Vehicles) -> np.ndarray:
        design = _design(v, self.layout)
        return _factor_effects(design, self.layout, self.coef)

    def sigma(self, v: Vehicles, design_x: dict[str, np.ndarray] | None = None) -> np.ndarray:
        return _sigma(v, self.sigma_coef, self.make_counts, design_x)

    def predict(self, v: Vehicles) -> Prediction:
        design = _design(v, self.layout)
        effects = _factor_effects(design, self.layout, self.coef)
        value = v.new_price * np.exp(effects.sum(axis=1))
        sig = _sigma(v, self.sigma_coef, self.make_counts, design.ramp_x)
        return Prediction(
            value=value,
            low=value * np.exp(self.q_low * sig),
            high=value * np.exp(self.q_high * sig),
            log_effects=effects,
            new_price=np.asarray(v.new_price, dtype=np.float64),
        )

    def curve(self, factor: str, xs: np.ndarray) -> np.ndarray:
        """The log effect of a monotone factor (age in years, mileage in 10k km, counts)."""
        a, b = self.layout.dense[factor]
        base = ramp_basis(np.asarray(xs, dtype=np.float64), self.layout.knots[factor])
        out = base @ self.coef[a:b]
        if factor == "age":
            out = out + self.coef[0]
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
        idx = design.groups[name]
        block = coef[a:b]
        out[:, col[GROUP_FACTOR[name]]] += np.where(idx >= 0, block[np.maximum(idx, 0)], 0.0)
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


# --- fitting ----------------------------------------------------------------------------------


def _knots(x: np.ndarray, candidates: Sequence[float]) -> list[float]:
    top = float(np.quantile(x, 0.995)) if x.size else 0.0
    kept = [k for k in candidates if k == candidates[0] or k < top]
    return [float(k) for k in kept]


def _layout_for(v: Vehicles, w: np.ndarray) -> Layout:
    ramp_x = _ramp_inputs(v)
    knots = {"age": _knots(ramp_x["age"], AGE_KNOTS)}
    knots["mileage"] = _knots(ramp_x["mileage"], MILEAGE_KNOTS)
    for name, candidates in COUNT_KNOTS.items():
        knots[name] = _knots(ramp_x[name], candidates)
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
    )


def time_weights(day: np.ndarray, half_life_days: float) -> np.ndarray:
    """2^(-(latest day − day) / half-life), scaled to mean 1."""
    age = (day.max() - day).astype(np.float64)
    w = np.exp(-math.log(2.0) * age / max(half_life_days, 1.0))
    return w / w.mean()


def _center(coef: np.ndarray, design: Design, layout: Layout, w: np.ndarray) -> np.ndarray:
    """Move the (weighted) mean of each categorical effect into the intercept, so such an effect
    reads against the typical car of the market (grades read against grade A, counts against
    none, age and mileage against a new car)."""
    coef = coef.copy()
    wsum = w.sum()
    for name in GROUPS:
        a, b = layout.groups[name]
        idx = design.groups[name]
        ok = idx >= 0
        mean = float((coef[a:b][idx[ok]] * w[ok]).sum() / wsum)
        coef[a:b] -= mean
        coef[0] += mean
    return coef


def _solve(gram: np.ndarray, rhs: np.ndarray, penalty: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return solve_sign_constrained(gram + penalty, rhs, mask)


def _fit_sigma(v: Vehicles, residual: np.ndarray, make_counts: dict[str, float]) -> np.ndarray:
    feats = _sigma_features(v, make_counts)
    target = np.log(np.abs(residual) + 1e-4)
    lam = np.eye(feats.shape[1]) * 1.0
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

    1. time weights (recent sales weigh more), knots and levels from the data;
    2. the Gram matrix per fold (five folds, bincounts for the categorical blocks);
    3. for each fold, the sign-constrained penalised fit on the other folds, and its predictions
       on the fold (out-of-fold log residuals);
    4. the local difficulty σ(x) from those residuals, and the conformal quantiles of
       residual / σ(x);
    5. the final fit on every sale, centred so categorical effects average 0.
    """
    options = options or FitOptions()
    n = len(v)
    if n < 10:
        raise ValueError("at least 10 sales are needed to fit the model")
    y = np.log(np.asarray(price, dtype=np.float64) / np.asarray(v.new_price, dtype=np.float64))
    w = time_weights(v.day, options.half_life_days)
    layout = _layout_for(v, w)
    design = _design(v, layout)
    penalty = _penalty(layout, options)
    mask = layout.constrained()

    folds = max(2, min(options.folds, n // 5))
    fold = np.random.default_rng(seed).permutation(n) % folds
    grams = []
    for k in range(folds):
        sel = fold == k
        sub = Design(
            dense=design.dense[sel],
            groups={g: i[sel] for g, i in design.groups.items()},
            ramp_x={},
        )
        grams.append(_gram(sub, layout, w[sel], y[sel]))
    gram_all: np.ndarray = np.sum([g for g, _ in grams], axis=0)
    rhs_all: np.ndarray = np.sum([r for _, r in grams], axis=0)

    oof = np.zeros(n)
    for k in range(folds):
        coef_k = _solve(gram_all - grams[k][0], rhs_all - grams[k][1], penalty, mask)
        sel = fold == k
        sub = Design(
            dense=design.dense[sel],
            groups={g: i[sel] for g, i in design.groups.items()},
            ramp_x={},
        )
        oof[sel] = _factor_effects(sub, layout, coef_k).sum(axis=1)
    residual = y - oof

    coef = _solve(gram_all, rhs_all, penalty, mask)
    coef = _center(coef, design, layout, w)

    make_norm = _norm(v.make)
    makes, counts = np.unique(make_norm, return_counts=True)
    make_counts = {str(m): float(c) for m, c in zip(makes, counts, strict=True)}
    sigma_coef = _fit_sigma(v, residual, make_counts)
    sig = _sigma(v, sigma_coef, make_counts)
    q_low, q_high = conformal_quantiles(residual / sig, options.coverage)

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
        "sigma": {"coef": [float(x) for x in sigma_coef], "q_low": q_low, "q_high": q_high},
        "make_counts": make_counts,
        "km_per_year": km_per_year,
        "region_recent_sales": region_volume,
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
