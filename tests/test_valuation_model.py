"""The valuation model's maths, without a database: it recovers known effects, stays monotone,
its ranges hold the price about 80 % of the time, and its explanation adds up."""

from __future__ import annotations

import numpy as np
import pytest

from valuation import model as M
from valuation.synthetic import TRUTH, synthetic_sales


@pytest.fixture(scope="module")
def fitted() -> tuple[M.ValuationMaths, object]:
    sales = synthetic_sales(12_000, seed=11)
    train = np.arange(12_000) < 6_000
    params = M.fit(sales.vehicles.take(np.flatnonzero(train)), sales.price[train])
    return M.ValuationMaths(params), (sales, train)


def _slope(maths: M.ValuationMaths, factor: str, a: float, b: float) -> float:
    curve = maths.curve(factor, np.array([a, b]))
    return float((curve[1] - curve[0]) / (b - a))


def test_recovers_depreciation_and_mileage_within_ten_percent(fitted) -> None:
    maths, _ = fitted
    age = _slope(maths, "age", 1.0, 8.0)
    mileage = _slope(maths, "mileage", 2.0, 12.0)  # per 10,000 km
    assert age == pytest.approx(TRUTH["age_per_year"], rel=0.10)
    assert mileage == pytest.approx(TRUTH["mileage_per_10k_km"], rel=0.10)


def test_recovers_history_effects(fitted) -> None:
    maths, _ = fitted
    assert _slope(maths, "accidents", 0, 1) == pytest.approx(TRUTH["accident"], rel=0.2)
    assert _slope(maths, "repairs", 0, 3) == pytest.approx(TRUTH["repair"], rel=0.2)
    assert _slope(maths, "violations", 0, 10) == pytest.approx(TRUTH["violation"], rel=0.25)
    assert _slope(maths, "owners", 0, 1) == pytest.approx(TRUTH["extra_owner"], rel=0.2)


def test_curves_never_rise(fitted) -> None:
    maths, _ = fitted
    grid = {
        "age": np.linspace(0, 30, 301),
        "mileage": np.linspace(0, 60, 601),
        "accidents": np.arange(0, 10.0),
        "repairs": np.arange(0, 20.0),
        "violations": np.arange(0, 80.0),
        "owners": np.arange(0, 10.0),
    }
    for factor, xs in grid.items():
        assert np.all(np.diff(maths.curve(factor, xs)) <= 1e-12), factor
    a, b = maths.layout.dense["grade"]
    assert np.all(maths.coef[a:b] <= 0), "a worse grade is never worth more"


def test_older_or_more_km_never_worth_more_all_else_equal(fitted) -> None:
    maths, (sales, _) = fitted
    v = sales.vehicles.take(np.arange(300))
    base = maths.predict(v).value
    older = v.take(np.arange(300))
    older.year = older.year - 1
    more_km = v.take(np.arange(300))
    more_km.mileage_km = more_km.mileage_km + 15_000
    worse = v.take(np.arange(300))
    worse.grade = np.minimum(worse.grade + 1, 4)
    crashed = v.take(np.arange(300))
    crashed.accidents = crashed.accidents + 1
    for changed in (older, more_km, worse, crashed):
        assert np.all(maths.predict(changed).value <= base + 1e-6)


def test_ranges_hold_the_price_about_80_percent_of_the_time(fitted) -> None:
    maths, (sales, train) = fitted
    test = sales.vehicles.take(np.flatnonzero(~train))
    pred = maths.predict(test)
    scores = M.accuracy(pred.value, sales.price[~train], pred.low, pred.high)
    assert 75.0 <= scores["coverage"] <= 85.0
    assert np.all(pred.low < pred.value) and np.all(pred.value < pred.high)
    # not a fixed ±%: the width follows the local difficulty
    width = pred.high / pred.low
    assert width.std() > 0


def test_effects_add_up_to_the_value(fitted) -> None:
    maths, (sales, _) = fitted
    pred = maths.predict(sales.vehicles.take(np.arange(500)))
    cny = pred.effects_cny()
    assert cny.shape == (500, len(M.FACTORS)) == (500, 12)
    assert np.allclose(cny.sum(axis=1), pred.value - pred.new_price, atol=1e-6)
    assert np.allclose(np.exp(pred.log_effects.sum(axis=1)) * pred.new_price, pred.value)
    # each CNY effect has the sign of its log effect (LMDI never flips a sign)
    assert np.all(np.sign(cny) == np.sign(pred.log_effects))
    assert np.allclose(pred.effects_pct(), 100 * np.expm1(pred.log_effects))


def test_value_equal_to_new_price_splits_by_log_effects() -> None:
    pred = M.Prediction(
        value=np.array([100.0]),
        low=np.array([90.0]),
        high=np.array([110.0]),
        log_effects=np.array([[0.1, -0.1] + [0.0] * 10]),
        new_price=np.array([100.0]),
    )
    cny = pred.effects_cny()
    assert cny.sum() == pytest.approx(0.0, abs=1e-9)
    assert cny[0, 0] == pytest.approx(10.0)


def test_fifty_sales_are_enough() -> None:
    sales = synthetic_sales(1_050, seed=5)
    train = np.arange(1_050) < 50
    params = M.fit(sales.vehicles.take(np.flatnonzero(train)), sales.price[train])
    maths = M.ValuationMaths(params)
    pred = maths.predict(sales.vehicles.take(np.flatnonzero(~train)))
    scores = M.accuracy(pred.value, sales.price[~train], pred.low, pred.high)
    assert np.all(np.isfinite(pred.value)) and np.all(pred.value > 0)
    assert scores["mape"] < 12.0
    assert scores["coverage"] > 65.0
    assert np.all(np.diff(maths.curve("age", np.linspace(0, 20, 50))) <= 1e-12)


def test_unknown_make_and_region_get_the_pooled_effect(fitted) -> None:
    maths, (sales, _) = fitted
    v = sales.vehicles.take(np.arange(5))
    v.make = np.array(["Never Heard Of"] * 5, dtype=object)
    v.region = np.array(["MARS-01"] * 5, dtype=object)
    effects = maths.log_effects(v)
    assert np.all(effects[:, M.FACTORS.index("make")] == 0.0)
    assert np.all(effects[:, M.FACTORS.index("region")] == 0.0)


def test_parameters_round_trip_through_json(fitted) -> None:
    import json

    maths, (sales, _) = fitted
    again = M.ValuationMaths(json.loads(json.dumps(maths.params)))
    v = sales.vehicles.take(np.arange(50))
    assert np.allclose(again.predict(v).value, maths.predict(v).value)


def test_sign_constrained_solver_meets_kkt() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8))
    y = x @ np.array([1.0, -2.0, 0.5, 3.0, -1.0, 0.2, -0.3, 2.0]) + rng.normal(size=200)
    a, c = x.T @ x + np.eye(8) * 1e-6, x.T @ y
    mask = np.array([True, True, True, True, False, False, True, False])
    b = M.solve_sign_constrained(a, c, mask)
    assert np.all(b[mask] <= 1e-12)
    grad = c - a @ b  # KKT: free coefficients at 0 gradient, bound ones push outwards only
    assert np.allclose(grad[~mask], 0, atol=1e-6)
    inside = mask & (b < -1e-9)
    assert np.allclose(grad[inside], 0, atol=1e-6)
    assert np.all(grad[mask & ~inside] >= -1e-6)


def test_conformal_quantiles_cover() -> None:
    scores = np.arange(1, 100, dtype=float)  # 99 scores
    low, high = M.conformal_quantiles(scores, 0.8)
    assert (low, high) == (10.0, 90.0)
