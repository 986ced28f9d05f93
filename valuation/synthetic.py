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
    """Sales from a `vehicle_sales` CSV (as `carloan.demo` writes it); days in UTC."""
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
