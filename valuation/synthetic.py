"""Vehicle sales for tests and benchmarks: synthetic ones with known effects, and the demo's.

Pure (no database): each returns columns ready for `valuation.model.fit`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from valuation.model import FUEL_TYPES, GRADES, Vehicles, age_years

# The truth of `synthetic_sales`, per unit (log effects).
TRUTH: dict[str, Any] = {
    "age_per_year": -0.12,
    "mileage_per_10k_km": -0.03,
    "accident": -0.08,
    "repair": -0.02,
    "violation": -0.005,
    "extra_owner": -0.04,
    "grade": (0.05, 0.0, -0.06, -0.15, -0.28),
    "fuel": (0.0, -0.03, 0.02, -0.07),
    "noise_sd": 0.06,
}
MAKES = ("Toyota", "Honda", "BYD", "Geely", "BMW", "Volkswagen", "Tesla", "NIO")
MAKE_EFFECT = (0.06, 0.05, -0.03, -0.06, -0.02, 0.0, 0.01, -0.1)
REGIONS = ("EAST-01", "NORTH-01", "SOUTH-01", "WEST-01")
REGION_EFFECT = (0.04, -0.02, 0.01, -0.05)


@dataclass
class SaleSet:
    """Sales as columns: their ids, the vehicles (each on its sale day) and prices."""

    ids: list[str]
    vehicles: Vehicles
    price: np.ndarray


def synthetic_sales(
    n: int, *, seed: int = 1, end: date = date(2026, 6, 30), days: int = 540
) -> SaleSet:
    """`n` sales over `days` days ending on `end`, priced by the log-linear TRUTH plus noise.

    Mileage is drawn apart from age (a per-car yearly distance times age, plus noise), so the
    two effects are separately identifiable, as in real markets.
    """
    rng = np.random.default_rng(seed)
    day = end.toordinal() - rng.integers(0, days, n)
    age_whole = np.clip(np.round(rng.triangular(0, 3, 12, n)), 0, 14).astype(np.int64)
    sale_year = np.array([date.fromordinal(int(d)).year for d in day])
    year = sale_year - age_whole
    age = age_years(year, day)
    mileage = np.maximum(200.0, age * rng.uniform(6_000, 28_000, n) + rng.normal(0, 8_000, n))
    mileage = np.round(mileage)
    make = rng.integers(0, len(MAKES), n)
    region = rng.integers(0, len(REGIONS), n)
    grade = rng.choice(5, n, p=[0.15, 0.35, 0.3, 0.15, 0.05])
    fuel = rng.choice(4, n, p=[0.5, 0.1, 0.2, 0.2])
    accidents = rng.poisson(0.15 + 0.03 * age)
    repairs = rng.poisson(0.3 + 0.15 * age)
    violations = np.minimum(rng.poisson(0.8 * age + 0.2), 60)
    owners = 1 + rng.poisson(0.12 * age)
    new_price = np.round(rng.lognormal(np.log(180_000), 0.35, n), -2)
    t = TRUTH
    log_ret = (
        t["age_per_year"] * age
        + t["mileage_per_10k_km"] * mileage / 10_000
        + t["accident"] * accidents
        + t["repair"] * repairs
        + t["violation"] * violations
        + t["extra_owner"] * (owners - 1)
        + np.asarray(t["grade"])[grade]
        + np.asarray(t["fuel"])[fuel]
        + np.asarray(MAKE_EFFECT)[make]
        + np.asarray(REGION_EFFECT)[region]
        + rng.normal(0, t["noise_sd"], n)
    )
    price = np.round(new_price * np.exp(log_ret), -1)
    vehicles = Vehicles(
        make=np.array([MAKES[i] for i in make], dtype=object),
        model=np.array([f"{MAKES[i]} M{i % 3}" for i in make], dtype=object),
        year=year,
        new_price=new_price.astype(np.float64),
        mileage_km=mileage,
        region=np.array([REGIONS[i] for i in region], dtype=object),
        grade=grade.astype(np.int64),
        accidents=accidents.astype(np.float64),
        repairs=repairs.astype(np.float64),
        violations=violations.astype(np.float64),
        owners=owners.astype(np.float64),
        fuel=fuel.astype(np.int64),
        day=day.astype(np.int64),
    )
    return SaleSet([f"SY{i:08d}" for i in range(n)], vehicles, price)


def sales_from_csv(data: bytes) -> SaleSet:
    """Sales from a `vehicle_sales` CSV (as `carloan.dev.demo` writes it); days in UTC."""
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    records = [
        {
            "make": r["make"],
            "model": r["model"],
            "year": int(r["year"]),
            "new_price": float(r["new_price"]),
            "mileage_km": int(r["mileage_km"]),
            "region": r["region"],
            "condition_grade": r["condition_grade"],
            "accidents": int(r["accidents"]),
            "repairs": int(r["repairs"]),
            "violations": int(r["violations"]),
            "owners": int(r["owners"]),
            "fuel_type": r["fuel_type"],
            "day": datetime.fromisoformat(r["sold_at"]).date().toordinal(),
        }
        for r in rows
    ]
    return SaleSet(
        [r["sale_id"] for r in rows],
        Vehicles.from_records(records),
        np.array([float(r["price"]) for r in rows]),
    )


def vehicle_records(sales: SaleSet, index: list[int] | None = None) -> list[dict[str, object]]:
    """Quote inputs (as `inputs.parse_vehicle` returns them) for some sales, on their sale day."""
    v = sales.vehicles
    out: list[dict[str, object]] = []
    for i in index if index is not None else range(len(sales.ids)):
        day = date.fromordinal(int(v.day[i]))
        out.append(
            {
                "make": str(v.make[i]),
                "model": str(v.model[i]),
                "year": int(v.year[i]),
                "new_price": float(v.new_price[i]),
                "mileage_km": int(v.mileage_km[i]),
                "region": str(v.region[i]),
                "condition_grade": GRADES[int(v.grade[i])],
                "accidents": int(v.accidents[i]),
                "repairs": int(v.repairs[i]),
                "violations": int(v.violations[i]),
                "owners": int(v.owners[i]),
                "fuel_type": FUEL_TYPES[int(v.fuel[i])],
                "valuation_date": day,
                "day": day.toordinal(),
                "loan_amount": None,
                "appraised_value": None,
                "application_id": "",
                "vehicle_id": "",
            }
        )
    return out


# --- public-style listings: the evaluation the model is judged on ----------------------------
#
# Not the demo generator, and deliberately not the model's own form: each market has a few makes
# and models, each model with its own depreciation *shape* (a first-day drop, then
# exp(−r·age^p)), a mileage effect that bends (heavy use costs more than light use saves), trims
# around the list price, mostly clean histories (so a 100-listing market has few accidents to
# learn from), a couple of cities, and heavy-tailed noise: Student-t(3) price scatter plus a few
# percent of gross outliers (a distressed sale, an optimistic asking price); in about a third of
# the markets the listings say nothing of condition or history (entered as grade B, no
# accidents, one owner) though the price still reflects them. The model's options
# were tuned on markets 1–3; the benchmark reports markets 1001 and up, which nothing was tuned on.

LISTING_MAKES: tuple[tuple[str, tuple[str, ...], float, str], ...] = (
    # make, models, typical list price, fuel
    ("Toyota", ("Corolla", "Camry", "RAV4", "Highlander"), 170_000, "petrol"),
    ("Honda", ("Civic", "Accord", "CR-V"), 160_000, "petrol"),
    ("Volkswagen", ("Lavida", "Sagitar", "Passat", "Tiguan L"), 150_000, "petrol"),
    ("BYD", ("Qin PLUS", "Han", "Seal", "Song PLUS"), 170_000, "ev"),
    ("Tesla", ("Model 3", "Model Y"), 260_000, "ev"),
    ("BMW", ("3 Series", "5 Series", "X3"), 380_000, "petrol"),
    ("Geely", ("Emgrand", "Boyue"), 100_000, "petrol"),
    ("Nissan", ("Sylphy", "X-Trail"), 130_000, "petrol"),
)
LISTING_CITIES = ("EAST-01", "NORTH-01", "SOUTH-01", "WEST-01")


@dataclass(frozen=True)
class ListingModel:
    make: str
    model: str
    list_price: float
    fuel: int
    first_drop: float  # log value lost on the first sale
    rate: float  # yearly depreciation rate
    shape: float  # age exponent: < 1 fast early, > 1 slow early
    km_cost: float  # log value lost per 10,000 km above the usual


@dataclass(frozen=True)
class ListingMarket:
    seed: int
    models: tuple[ListingModel, ...]
    share: tuple[float, ...]
    city_effect: tuple[float, ...]
    noise: float  # scale of the Student-t(3) log scatter
    outliers: float  # share of gross outliers
    km_per_year: float
    recorded: bool  # False: only make, model, year, km and price are listed (history unknown)


def listing_market(seed: int, *, makes: int | None = None) -> ListingMarket:
    """A market of a few makes (2–4) and their models, each with its own depreciation."""
    rng = np.random.default_rng(seed)
    count = makes or int(rng.integers(2, 5))
    chosen = rng.choice(len(LISTING_MAKES), count, replace=False)
    models: list[ListingModel] = []
    for index in chosen:
        make, names, price, fuel = LISTING_MAKES[int(index)]
        make_rate = rng.uniform(0.07, 0.13) * (1.5 if fuel == "ev" else 1.0)
        make_drop = rng.uniform(0.06, 0.16)
        for name in names[: int(rng.integers(1, len(names) + 1))]:
            models.append(
                ListingModel(
                    make=make,
                    model=name,
                    list_price=float(np.round(price * rng.lognormal(0.0, 0.3), -3)),
                    fuel=FUEL_TYPES.index(fuel),
                    first_drop=float(np.clip(make_drop + rng.normal(0, 0.03), 0.02, 0.3)),
                    rate=float(make_rate * rng.lognormal(0.0, 0.2)),
                    shape=float(rng.uniform(0.8, 1.15)),
                    km_cost=float(rng.uniform(0.015, 0.04)),
                )
            )
    share = rng.dirichlet(np.full(len(models), 1.5))
    return ListingMarket(
        seed=seed,
        models=tuple(models),
        share=tuple(float(s) for s in share),
        city_effect=tuple(float(x) for x in rng.normal(0.0, 0.03, len(LISTING_CITIES))),
        noise=float(rng.uniform(0.05, 0.08)),
        outliers=float(rng.uniform(0.02, 0.05)),
        km_per_year=float(rng.uniform(11_000, 17_000)),
        recorded=bool(rng.random() >= 0.35),
    )


def market_listings(
    market: ListingMarket, n: int, *, seed: int, end: date = date(2026, 6, 30), days: int = 365
) -> SaleSet:
    """`n` listings of `market` sold over `days` days ending on `end` (prices in CNY)."""
    rng = np.random.default_rng([market.seed, seed])
    which = rng.choice(len(market.models), n, p=np.asarray(market.share))
    m = [market.models[i] for i in which]
    day = end.toordinal() - rng.integers(0, days, n)
    age_whole = np.clip(np.round(rng.gamma(2.2, 2.0, n)), 0, 15).astype(np.int64)
    sale_year = np.array([date.fromordinal(int(d)).year for d in day])
    year = sale_year - age_whole
    age = age_years(year, day)
    usual_km = market.km_per_year * age
    mileage = np.round(np.maximum(100.0, usual_km * rng.lognormal(0.0, 0.45, n)), -2)
    trim = rng.choice([0.92, 1.0, 1.0, 1.08, 1.18], n)
    new_price = np.round(np.array([x.list_price for x in m]) * trim, -2)
    accidents = rng.poisson(0.04 + 0.015 * age)
    repairs = rng.poisson(0.1 + 0.08 * age)
    violations = np.minimum(rng.poisson(0.5 * age), 40)
    owners = 1 + rng.poisson(0.07 * age)
    wear = age / 4 + accidents + rng.normal(0, 0.7, n)
    grade = np.clip(np.floor(wear + 1), 0, 4).astype(np.int64)
    city = rng.integers(0, len(LISTING_CITIES), n)
    excess = (mileage - usual_km) / 10_000
    month = np.array([date.fromordinal(int(d)).month for d in day])
    km_cost = np.array([x.km_cost for x in m])
    log_value = (
        -np.array([x.first_drop for x in m]) * (age > 0.05)
        - np.array([x.rate for x in m]) * age ** np.array([x.shape for x in m])
        # heavy use costs more than light use saves
        - km_cost * np.where(excess > 0, excess * 1.3, excess * 0.6)
        - 0.15 * np.log1p(accidents)
        - 0.01 * repairs
        - 0.025 * (owners - 1)
        - np.array([0.0, 0.02, 0.06, 0.14, 0.3])[grade]
        - 0.04 * (trim - 1.0) * age  # options lose value faster than the car
        + np.asarray(market.city_effect)[city]
        + 0.015 * np.cos(2 * np.pi * (month - 3) / 12)
    )
    scatter = market.noise * rng.standard_t(3, n) / np.sqrt(3.0)
    outlier = rng.random(n) < market.outliers
    scatter += outlier * rng.choice([-1.0, 1.0], n, p=[0.6, 0.4]) * rng.uniform(0.2, 0.45, n)
    price = np.round(new_price * np.exp(log_value + scatter), -2)
    if not market.recorded:  # the listing says nothing of condition: entered as the defaults
        grade = np.ones(n, dtype=np.int64)
        accidents = repairs = violations = np.zeros(n, dtype=np.int64)
        owners = np.ones(n, dtype=np.int64)
    vehicles = Vehicles(
        make=np.array([x.make for x in m], dtype=object),
        model=np.array([x.model for x in m], dtype=object),
        year=year,
        new_price=new_price.astype(np.float64),
        mileage_km=mileage,
        region=np.array([LISTING_CITIES[i] for i in city], dtype=object),
        grade=grade,
        accidents=accidents.astype(np.float64),
        repairs=repairs.astype(np.float64),
        violations=violations.astype(np.float64),
        owners=owners.astype(np.float64),
        fuel=np.array([x.fuel for x in m], dtype=np.int64),
        day=day.astype(np.int64),
    )
    return SaleSet([f"PL{market.seed:04d}{seed:03d}{i:07d}" for i in range(n)], vehicles, price)
