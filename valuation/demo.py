"""Demo data of the valuation app (development tooling, like `carloan.dev.demo`): the demo
book's loans carry only a vehicle id and an appraisal, so `valuation_seed_collateral` describes
their vehicles. Only that command and the tests import this module."""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from carloan.dev.demo import FUEL_EFFECT, GRADE_EFFECT, VEHICLE_MODELS, depreciation
from carloan.models import Loan
from valuation.models import CollateralVehicle


def collateral_seed_demo(*, seed: int = 20260601) -> int:
    """Describe the vehicle of every demo loan that has none (the demo book only gives a vehicle
    id and an appraised value). Deterministic per vehicle id: a make and model from the demo's
    catalogue, an age of 0–6 years at funding, mileage, history and grade as the demo's sales
    generator draws them, and a new price chosen so that the demo's own pricing would value the
    car near its appraisal (one appraisal in ten is inflated by 15–35 %). Returns how many
    vehicles were added."""
    have = set(
        CollateralVehicle.objects.exclude(vehicle_id="").values_list("vehicle_id", flat=True)
    )
    loans = (
        Loan.objects.exclude(vehicle_id="")
        .exclude(vehicle_id__in=have)
        .values_list("vehicle_id", "application_id", "region", "funded_at", "appraised_value")
    )
    new: list[CollateralVehicle] = []
    seen: set[str] = set()
    for vehicle_id, application_id, region, funded_at, appraised in loans.iterator():
        if vehicle_id in seen:
            continue
        seen.add(vehicle_id)
        rng = random.Random(f"{seed}:collateral:{vehicle_id}")
        make, model_name, _, fuels, make_effect = rng.choice(VEHICLE_MODELS)
        fuel = fuels[0] if len(fuels) == 1 or rng.random() < 0.7 else rng.choice(fuels[1:])
        funded = timezone.localdate(funded_at) if isinstance(funded_at, datetime) else funded_at
        age_whole = min(6, max(0, round(rng.triangular(0, 6, 2))))
        age = max(0.1, age_whole + rng.random() * 0.8)
        mileage = max(300, round(age * rng.gauss(17_000, 5_000)))
        accidents = 1 if rng.random() < 0.08 else 0
        repairs = int(rng.random() < 0.25 + 0.1 * age)
        violations = min(60, int(rng.expovariate(1 / (0.9 * age + 0.1))))
        owners = 1 + int(rng.random() < 0.16 * age)
        wear = age / 3 + accidents * 0.8 + rng.gauss(0, 0.8)
        grade = "ABCDE"[min(4, max(0, int(wear)))]
        retained = depreciation(age) * make_effect * FUEL_EFFECT[fuel] * GRADE_EFFECT[grade]
        retained *= 0.93**accidents * 0.985**repairs * 0.97 ** (owners - 1)
        appraisal = float(appraised or 150_000)
        inflation = rng.uniform(1.15, 1.35) if rng.random() < 0.1 else rng.lognormvariate(0, 0.05)
        new_price = round(appraisal / inflation / retained, -2)
        new.append(
            CollateralVehicle(
                vehicle_id=vehicle_id,
                application_id=application_id,
                region=region,
                make=make,
                model=model_name,
                year=funded.year - age_whole,
                new_price=Decimal(str(new_price)),
                mileage_km=mileage,
                recorded_on=funded,
                condition_grade=grade,
                accidents=accidents,
                repairs=repairs,
                violations=violations,
                owners=owners,
                fuel_type=fuel,
                source=CollateralVehicle.Source.DEMO,
            )
        )
    CollateralVehicle.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    return len(new)
