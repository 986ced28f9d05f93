"""KPI scoring as pure functions (contract section 7): scores against hand-computed values in
both directions, the clamp, null actuals, the weighted mean, the rules of a KPI set, quarters,
colour bands, the figures and the CSV escaping. No database."""

from __future__ import annotations

import math

import pytest

from carloan.exports import escape_formula as escape_cell
from metrics.kpi import charts
from metrics.kpi.exports import flat_rows, scorecards_csv
from metrics.kpi.quarters import Quarter
from metrics.kpi.scoring import (
    KPI,
    band,
    check_kpi_set,
    kpi_score,
    score_department,
    score_departments,
)
from metrics.registry import METRIC_KEYS

KNOWN = [*METRIC_KEYS, "handoff_wait_time", "cross_department_cycle_time"]


def test_higher_is_better_scores_between_threshold_and_target() -> None:
    # target 30 %, threshold 15 %: 25 % is 10 of the 15 points between them.
    assert kpi_score(25.0, target=30.0, threshold=15.0) == pytest.approx(100 * 10 / 15)
    assert kpi_score(15.0, target=30.0, threshold=15.0) == 0.0
    assert kpi_score(30.0, target=30.0, threshold=15.0) == 100.0


def test_lower_is_better_is_a_target_below_the_threshold() -> None:
    # CAC target 2,500, threshold 4,000: 2,737.6 → 100 × (2737.6 − 4000) / (2500 − 4000).
    assert kpi_score(2737.6, target=2500.0, threshold=4000.0) == pytest.approx(84.16)
    assert kpi_score(3250.0, target=2500.0, threshold=4000.0) == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("actual", "target", "threshold", "expected"),
    [
        (40.0, 30.0, 15.0, 100.0),  # beyond the target
        (10.0, 30.0, 15.0, 0.0),  # below the threshold
        (2000.0, 2500.0, 4000.0, 100.0),  # cheaper than the target
        (5000.0, 2500.0, 4000.0, 0.0),  # dearer than the threshold
    ],
)
def test_scores_are_clamped_to_0_100(
    actual: float, target: float, threshold: float, expected: float
) -> None:
    assert kpi_score(actual, target=target, threshold=threshold) == expected


@pytest.mark.parametrize("actual", [None, math.nan, math.inf])
def test_a_null_actual_scores_0_and_is_missing(actual: float | None) -> None:
    card = score_department("risk", [KPI("npl_ratio", 0.5, 3.0, 100.0)], {"npl_ratio": actual})
    assert card["score"] == 0.0
    assert card["kpis"][0]["missing"] is True
    assert card["kpis"][0]["actual"] is None
    assert card["kpis"][0]["score"] == 0.0


def test_department_score_is_the_weighted_mean_and_keeps_missing_kpis() -> None:
    kpis = [
        KPI("lead_conversion_rate", 30.0, 15.0, 30.0),  # 25 → 66.67
        KPI("customer_acquisition_cost", 2500.0, 4000.0, 30.0),  # 3250 → 50
        KPI("approval_rate", 70.0, 50.0, 15.0),  # 80 → 100 (clamped)
        KPI("handoff_wait_time", 4.0, 48.0, 25.0, collaboration=True),  # null → 0
    ]
    actuals = {
        "lead_conversion_rate": 25.0,
        "customer_acquisition_cost": 3250.0,
        "approval_rate": 80.0,
        "handoff_wait_time": None,
    }
    card = score_department("marketing", kpis, actuals)
    expected = (100 * 10 / 15 * 30 + 50 * 30 + 100 * 15 + 0 * 25) / 100
    assert card["score"] == pytest.approx(expected)
    assert card["collaboration_weight"] == 25.0
    assert [k["metric"] for k in card["kpis"]] == [k.metric for k in kpis]  # none dropped
    assert [k["missing"] for k in card["kpis"]] == [False, False, False, True]
    assert set(card["kpis"][0]) == {
        "metric",
        "target",
        "threshold",
        "weight",
        "collaboration",
        "actual",
        "score",
        "missing",
    }


def test_departments_in_their_order() -> None:
    sets = {
        "tech": [KPI("availability", 99.9, 99.0, 100.0)],
        "marketing": [KPI("approval_rate", 70.0, 50.0, 100.0)],
    }
    cards = score_departments(sets, {"availability": 99.45, "approval_rate": 60.0})
    assert [c["department"] for c in cards] == ["marketing", "tech"]
    assert cards[1]["score"] == pytest.approx(50.0)


def _valid() -> list[KPI]:
    return [
        KPI("overdue_rate", 3.0, 8.0, 50.0),
        KPI("npl_ratio", 0.5, 3.0, 30.0),
        KPI("cross_department_cycle_time", 3.0, 14.0, 20.0, collaboration=True),
    ]


def test_a_valid_set_breaks_no_rule() -> None:
    assert check_kpi_set(_valid(), known_metrics=KNOWN, min_collaboration_weight=20) == {}


def test_weights_must_sum_to_100() -> None:
    kpis = [*_valid()[:2], KPI("cross_department_cycle_time", 3.0, 14.0, 25.0, True)]
    errors = check_kpi_set(kpis, known_metrics=KNOWN, min_collaboration_weight=20)
    assert errors == {"weight": ["The weights sum to 105; they must sum to 100."]}


def test_weights_summing_to_100_in_floats_pass() -> None:
    kpis = [
        KPI("overdue_rate", 3.0, 8.0, 33.33),
        KPI("npl_ratio", 0.5, 3.0, 33.33),
        KPI("handoff_wait_time", 4.0, 48.0, 33.34, True),
    ]
    assert check_kpi_set(kpis, known_metrics=KNOWN, min_collaboration_weight=20) == {}


def test_collaboration_must_weigh_the_minimum() -> None:
    errors = check_kpi_set(_valid(), known_metrics=KNOWN, min_collaboration_weight=25)
    assert list(errors) == ["collaboration"]
    assert "weigh 20" in errors["collaboration"][0] and "at least 25" in errors["collaboration"][0]


def test_unknown_repeated_or_flat_kpis_are_refused() -> None:
    kpis = [
        KPI("overdue_rate", 3.0, 3.0, 40.0),
        KPI("happiness", 1.0, 0.0, 20.0),
        KPI("overdue_rate", 3.0, 8.0, 20.0),
        KPI("handoff_wait_time", 4.0, 48.0, 20.0, True),
    ]
    errors = check_kpi_set(kpis, known_metrics=KNOWN, min_collaboration_weight=20)
    assert "unknown metric 'happiness'" in errors["metric"][0]
    assert "more than once" in errors["metric"][1]
    assert "must differ" in errors["target"][0]


def test_an_empty_set_or_a_bad_weight_is_refused() -> None:
    assert "kpis" in check_kpi_set([], known_metrics=KNOWN, min_collaboration_weight=20)
    bad = [KPI("overdue_rate", 3.0, 8.0, 0.0), KPI("handoff_wait_time", 4.0, 48.0, 100.0, True)]
    errors = check_kpi_set(bad, known_metrics=KNOWN, min_collaboration_weight=20)
    assert "above 0" in errors["weight"][0]


def test_bands() -> None:
    assert band(80.0) == "good"
    assert band(79.99) == "fair"
    assert band(50.0) == "fair"
    assert band(49.9) == "poor"
    assert band(0.0, missing=True) == "missing"


def test_quarters() -> None:
    q = Quarter.parse("2026Q3")
    assert (q.start.isoformat(), q.end.isoformat()) == ("2026-07-01", "2026-09-30")
    assert Quarter.parse("2026q1").end.isoformat() == "2026-03-31"
    assert Quarter.parse("2026Q4").end.isoformat() == "2026-12-31"
    assert [x.label for x in Quarter.parse("2026Q2").last(3)] == ["2025Q4", "2026Q1", "2026Q2"]
    for bad in ("2026Q5", "2026-Q3", "Q3", "", "26Q1", "2026Q0"):
        with pytest.raises(ValueError, match="is not a quarter"):
            Quarter.parse(bad)


def test_figures_are_plain_data() -> None:
    quarters = ["2026Q1", "2026Q2"]
    scores = {"marketing": [None, 60.0], "risk": [40.0, 55.0], "tech": [70.0, 90.0]}
    labels = {"marketing": "Marketing", "risk": "Risk", "tech": "Tech"}
    bars = charts.department_comparison(quarters, scores, title="t", department_labels=labels)
    assert [t["type"] for t in bars["data"]] == ["bar"] * 3
    assert bars["layout"]["barmode"] == "group"
    assert bars["data"][0]["y"] == [None, 60.0]
    trend = charts.kpi_trend(
        quarters, [1.0, 2.0], target=3.0, threshold=0.5, title="x", unit="%", labels={}
    )
    assert trend["data"][1]["y"] == [3.0, 3.0] and trend["data"][2]["y"] == [0.5, 0.5]
    one = charts.score_trend(quarters, scores, title="t", department_labels=labels, only="risk")
    assert len(one["data"]) == 1 and len(one["layout"]["shapes"]) == 3


@pytest.mark.parametrize(
    ("cell", "escaped"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("risk", "risk"),
        (-3.5, -3.5),
        (None, None),
    ],
)
def test_formula_like_cells_are_escaped(cell: object, escaped: object) -> None:
    assert escape_cell(cell) == escaped


def test_csv_escapes_text_but_keeps_numbers() -> None:
    card = score_department("=risk", [KPI("-npl", 0.5, 3.0, 100.0)], {"-npl": -1.25})
    text = scorecards_csv(flat_rows([{**card, "quarter": "2026Q3", "frozen": False}]))
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("quarter,frozen,department,department_score")
    assert lines[1].split(",")[2] == "'=risk"
    assert lines[1].split(",")[5] == "'-npl"
    assert lines[1].split(",")[10] == "-1.25"


def test_csv_keeps_negative_numbers_as_numbers_and_escapes_formula_text() -> None:
    from decimal import Decimal

    from metrics.kpi.exports import COLUMNS

    row = dict.fromkeys(COLUMNS, "")
    row.update({COLUMNS[0]: "=HYPERLINK(1)", COLUMNS[-1]: Decimal("-5"), COLUMNS[-2]: -2.5})
    text = scorecards_csv([row]).decode("utf-8-sig").splitlines()[1]
    assert text.startswith("'=HYPERLINK(1)")
    assert text.endswith(",-2.5,-5")
